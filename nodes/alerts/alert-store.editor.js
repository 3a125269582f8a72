RED.nodes.registerType('alert-store', {
  category: 'config',
  // dce:defaults version=1 {
  url: {
    value: 'redis://127.0.0.1:6379',
    required: true,
    validate: function (v) {
      // ${VAR}: set from the environment when the flows start.
      var url = String(v || '').trim();
      return /^\$\{\w+\}$/.test(url) || /^rediss?:\/\/[^\s@/]+(\/\d{0,2})?$/.test(url);
    },
  },
  tls: { value: false },
  tlsInsecure: { value: false },
  ca: { value: '' },
  prefix: { value: 'dcevents:alerts:' },
  // }
  // dce:login-credentials
  paletteLabel: 'alert store',
  label: function () {
    return this.name || String(this.url || 'alert store').replace(/^rediss?:\/\//, 'redis ');
  },
  oneditprepare: function () {
    var dialog = window.DcEventsDialog;
    dialog.warnWhenChecked('#node-config-input-tlsInsecure', '#alert-store-insecure-warning');
    dialog.follow('#node-config-input-tls, #node-config-input-url', function () {
      var secure =
        $('#node-config-input-tls').is(':checked') ||
        /^rediss:/.test(String($('#node-config-input-url').val()));
      $('.alert-store-tls-row').toggle(secure);
    });
  },
});
