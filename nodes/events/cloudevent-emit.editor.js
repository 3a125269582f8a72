RED.nodes.registerType('cloudevent-emit', {
  // dce:palette color=#E2D96E icon=cloudevent.svg outputs=2
  // dce:defaults version=3 {
  // dce:uses field=sink node=cloudevent-sink required=false
  mode: { value: 'binary' },
  batchSize: { value: 10, validate: RED.validators.number(true) },
  lingerMs: { value: 50, validate: RED.validators.number(true) },
  ceType: { value: '' },
  ceSource: { value: '' },
  ceSubject: { value: '' },
  extensions: { value: '' },
  retryBudget: { value: 300, validate: RED.validators.number(true) },
  queueLimit: { value: 1000, validate: RED.validators.number(true) },
  concurrency: { value: 4, validate: RED.validators.number(true) },
  onFull: { value: 'wait' },
  spool: { value: 'memory' },
  spoolLimit: {
    value: 100,
    validate: function (v) {
      return v === undefined || v === '' || (/^\d+$/.test(String(v)) && Number(v) >= 1);
    },
  },
  // Saved by version 2 and earlier, which kept the sink's settings in the node: read while no sink is chosen.
  url: { value: '' },
  authType: { value: 'none' },
  headers: { value: '' },
  tlsInsecure: { value: false },
  ca: { value: '' },
  timeout: { value: 10 },
  handshake: { value: false },
  // }
  // Only nodes saved by version 2 and earlier have them (their sink's); a sink config node holds them now.
  // dce:login-credentials {
  token: { type: 'password' },
  secretHeader: { type: 'password' },
  // }
  align: 'right',
  label: function () {
    if (this.name) return this.name;
    var sink = this.sink && RED.nodes.node(this.sink);
    if (sink) return 'cloudevent → ' + RED.utils.getNodeLabel(sink, 'sink');
    if (this.url) return 'cloudevent → ' + this.url.replace(/^https?:\/\//, '');
    return 'cloudevent emit';
  },
  inputLabels: function () {
    return this._('cloudevent-emit.port.input');
  },
  outputLabels: function (i) {
    return this._(i === 0 ? 'cloudevent-emit.port.result' : 'cloudevent-emit.port.failed');
  },
  oneditprepare: function () {
    var node = this;
    var tabs = RED.tabs.create({
      id: 'ce-emit-tabs',
      onchange: function (tab) {
        $('#ce-emit-tabs-content').children().hide();
        $('#' + tab.id).show();
      },
    });
    ['sink', 'event', 'delivery', 'spool'].forEach(function (name) {
      tabs.addTab({ id: 'ce-emit-tab-' + name, label: node._('cloudevent-emit.tab.' + name) });
    });
    // A node saved before the spool existed runs in memory: say so when it is opened.
    if (!this.spool) $('#node-input-spool').val('memory');
    if (!this.spoolLimit) $('#node-input-spoolLimit').val(100);
    var legacy = !this.sink && !!(this.url || '').trim();
    $('#ce-emit-legacy-text').text(node._('cloudevent-emit.legacy.sink', { url: this.url }));
    var sync = function () {
      var id = $('#node-input-sink').val();
      var chosen = !!id && id !== '_ADD_';
      $('#ce-emit-legacy').toggle(legacy && !chosen);
      $('.ce-emit-no-sink').toggle(!chosen && !legacy);
      $('.ce-emit-batch').toggle($('#node-input-mode').val() === 'batch');
      $('.ce-emit-spool-disk').toggle($('#node-input-spool').val() === 'disk');
    };
    $('#node-input-sink, #node-input-mode, #node-input-spool').on('input change', sync);
    sync();
  },
  oneditsave: function () {
    var id = $('#node-input-sink').val();
    if (!id || id === '_ADD_' || !this.url) return;
    // With a sink chosen, the settings and credentials the node kept itself go: the sink holds them now.
    this.url = '';
    this.authType = 'none';
    this.headers = '';
    this.tlsInsecure = false;
    this.ca = '';
    this.timeout = 10;
    this.handshake = false;
    $('#node-input-token, #node-input-username, #node-input-password, #node-input-secretHeader').val('');
  },
});
