RED.nodes.registerType('vcd-login', {
  category: 'config',
  // dce:defaults version=2 {
  // dce:env-url field=url pattern='/^https?:\/\/[^\s/?#]+\/?$/'
  org: { value: '', required: true },
  authType: { value: 'password' },
  // dce:tls-defaults legacy=yes
  // }
  // dce:login-credentials {
  apiToken: { type: 'password' },
  // }
  paletteLabel: 'vcd login',
  label: function () {
    if (this.name) return this.name;
    if (this.url) return (this.org || '?') + ' @ ' + this.url.replace(/^https?:\/\//, '').replace(/\/$/, '');
    return 'vcd login';
  },
  oneditprepare: function () {
    var node = this;
    var dialog = window.DcEventsDialog;
    dialog.connectionRows(node, 'vcd-login', ['password', 'apiToken']);
    dialog.warnCleartext('#node-config-input-url', '#vcd-login-cleartext-warning', function () {
      return [$('#node-config-input-url').val()];
    });
    dialog.testConnection(
      node,
      'vcd-login',
      ['url', 'org', 'authType', 'username', 'password', 'apiToken'],
      function (r) {
        // A token typed into the dialog was spent by the test: VCD gave its successor.
        if (r.rotatedToken) $('#node-config-input-apiToken').val(r.rotatedToken);
        var rotated = r.rotatedToken ? ' ' + node._('vcd-login.test.rotated') : '';
        if (!r.ok) return dialog.failure(node, 'vcd-login', r) + rotated;
        var roles = (r.roles || []).join(', ') || '-';
        return (
          node._('vcd-login.test.ok', { user: r.user, org: r.org, version: r.apiVersion, roles: roles }) +
          rotated
        );
      },
    );
  },
  oneditsave: function () {
    window.DcEventsDialog.dropLegacyTls(this, 'node-config-input');
  },
});
