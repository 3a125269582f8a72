RED.nodes.registerType('aci-controller', {
  category: 'config',
  // dce:defaults version=2 {
  hosts: {
    value: '',
    required: true,
    validate: function (v) {
      return !!(v || '').trim();
    },
  },
  authType: { value: 'password' },
  // dce:tls-defaults legacy=yes
  // }
  // dce:login-credentials {
  privateKey: { type: 'password' },
  certificateName: { type: 'text' },
  // }
  paletteLabel: 'aci controller',
  label: function () {
    if (this.name) return this.name;
    var first = (this.hosts || '').split(/[,\s]+/).filter(Boolean)[0];
    return first ? 'APIC ' + first.replace(/^https?:\/\//, '') : 'aci controller';
  },
  oneditprepare: function () {
    var node = this;
    var dialog = window.DcEventsDialog;
    dialog.connectionRows(node, 'aci-controller', ['password', 'certificate']);
    dialog.warnCleartext('#node-config-input-hosts', '#aci-controller-cleartext-warning', function () {
      return String($('#node-config-input-hosts').val() || '').split(/[,\s]+/);
    });
    dialog.testConnection(
      node,
      'aci-controller',
      ['hosts', 'authType', 'username', 'password', 'privateKey', 'certificateName'],
      function (r) {
        var lines = (r.hosts || []).map(function (h) {
          return h.ok
            ? node._('aci-controller.test.hostOk', { host: h.host, version: h.version || '?' })
            : node._('aci-controller.test.hostFail', {
                host: h.host,
                category: node._('aci-controller.test.category.' + h.category),
                message: h.message,
              });
        });
        if (r.ok)
          return (
            node._('aci-controller.test.ok', { user: r.user, version: r.version || '?' }) +
            '\n' +
            lines.join('\n')
          );
        return dialog.failure(node, 'aci-controller', r) + (lines.length > 1 ? '\n' + lines.join('\n') : '');
      },
    );
  },
  oneditsave: function () {
    window.DcEventsDialog.dropLegacyTls(this, 'node-config-input');
  },
});
