RED.nodes.registerType('cloudevent-sink', {
  category: 'config',
  // dce:defaults version=1 {
  // dce:env-url field=url pattern='/^https?:\/\/\S+$/'
  authType: { value: 'none' },
  headers: { value: '' },
  timeout: { value: 10, validate: RED.validators.number(true) },
  handshake: { value: false },
  // dce:tls-defaults
  // }
  // dce:login-credentials {
  token: { type: 'password' },
  secretHeader: { type: 'password' },
  // }
  paletteLabel: 'cloudevent sink',
  label: function () {
    return this.name || (this.url ? this.url.replace(/^https?:\/\//, '') : 'cloudevent sink');
  },
  oneditprepare: function () {
    var node = this;
    var dialog = window.DcEventsDialog;
    dialog.connectionRows(node, 'cloudevent-sink', ['bearer', 'basic']);
    dialog.warnCleartext(
      '#node-config-input-url, #node-config-input-authType, #node-config-input-secretHeader',
      '#cloudevent-sink-cleartext-warning',
      function () {
        return [$('#node-config-input-url').val()];
      },
      function () {
        return (
          $('#node-config-input-authType').val() !== 'none' || !!$('#node-config-input-secretHeader').val()
        );
      },
    );
  },
});
