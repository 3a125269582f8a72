RED.nodes.registerType('alert-gate', {
  // dce:palette color=#E2D96E icon=event.svg
  // dce:defaults version=1 {
  doubles: { value: true },
  doublesWindow: { value: 60, validate: RED.validators.number(true) },
  remember: { value: 100000, validate: RED.validators.number(true) },
  storms: { value: true },
  stormWindow: { value: 5, validate: RED.validators.number(true) },
  stormBy: { value: 'subject' },
  stormProperty: { value: 'topic' },
  passClears: { value: false },
  // dce:uses field=store node=alert-store required=false
  // }
  label: function () {
    return this.name || 'alert gate';
  },
  outputLabels: ['events and storm summaries'],
  oneditprepare: function () {
    function follow() {
      $('.alert-gate-doubles-row').toggle($('#node-input-doubles').is(':checked'));
      $('.alert-gate-storms-row').toggle($('#node-input-storms').is(':checked'));
      $('.alert-gate-property-row').toggle(
        $('#node-input-storms').is(':checked') && $('#node-input-stormBy').val() === 'property',
      );
    }
    $('#node-input-doubles, #node-input-storms, #node-input-stormBy').on('change', follow);
    follow();
  },
});
