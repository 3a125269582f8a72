RED.nodes.registerType('event-decode', {
  // dce:palette color=#E2D96E icon=event.svg
  // dce:defaults version=2 {
  format: { value: 'auto' },
  source: { value: '' },
  keepOriginal: { value: false },
  errors: { value: 'catch' },
  maxSize: { value: 1, validate: RED.validators.number(true) },
  outputs: { value: 1 },
  // }
  label: function () {
    return this.name || 'event decode';
  },
  outputLabels: ['InfraEvent', 'decoding errors'],
  oneditprepare: function () {
    // The formats are the runtime's decoders table (RED.settings.eventDecodeFormats), listed by their labels.
    var node = this;
    var formats = RED.settings.eventDecodeFormats || { names: [], renamed: {} };
    var select = $('#node-input-format');
    formats.names
      .map(function (name) {
        return { name: name, label: node._('event-decode.format.' + name) };
      })
      .sort(function (a, b) {
        return a.label.localeCompare(b.label);
      })
      .forEach(function (f) {
        $('<option>').val(f.name).text(f.label).appendTo(select);
      });
    // A flow from an older version may still name a format by its former name.
    select.val(formats.renamed[this.format] || this.format || 'auto');
  },
  oneditsave: function () {
    this.outputs = $('#node-input-errors').val() === 'output' ? 2 : 1;
  },
});
