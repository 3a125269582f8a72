RED.nodes.registerType('aci-subscribe', {
  // dce:palette color=#87C9C2 icon=aci.svg
  // dce:defaults version=1 {
  // dce:uses field=controller node=aci-controller
  subscriptions: {
    value: 'fvTenant\nfvBD\nfvAEPg\nfaultInst',
    required: true,
    validate: function (v) {
      return (v || '').split(/\r?\n/).some(function (l) {
        return l.trim() && l.trim()[0] !== '#';
      });
    },
  },
  refreshTimeout: {
    value: 900,
    validate: function (v) {
      // Whole seconds, 5 to 3600 (the runtime would clamp anything else); empty means 900.
      if (v === '' || v === undefined || v === null) return true;
      var n = Number(v);
      return Number.isInteger(n) && n >= 5 && n <= 3600;
    },
  },
  initial: { value: 'skip' },
  output: { value: 'object' },
  // }
  label: function () {
    if (this.name) return this.name;
    var lines = (this.subscriptions || '').split(/\r?\n/).filter(function (l) {
      return l.trim() && l.trim()[0] !== '#';
    });
    return lines.length === 1 ? 'aci ' + lines[0].trim() : 'aci ' + lines.length + ' subscriptions';
  },
  inputLabels: 'msg.subscribe / msg.unsubscribe',
  outputLabels: function () {
    return this.output === 'event' ? 'InfraEvent' : 'managed object';
  },
  oneditprepare: function () {
    var node = this;
    var classes = [
      'fvTenant',
      'fvBD',
      'fvAEPg',
      'fvAp',
      'fvCtx',
      'fvSubnet',
      'fvCEp',
      'l3extOut',
      'vzBrCP',
      'faultInst',
      'healthInst',
      'aaaModLR',
      'eventRecord',
      'faultRecord',
      'aaaActiveUserSession',
      'fabricNode',
      'topSystem',
    ];
    var select = $('#aci-subscribe-common');
    classes.forEach(function (c) {
      $('<option>')
        .val(c)
        .text(c + ': ' + node._('aci-subscribe.classes.' + c))
        .appendTo(select);
    });
    $('#aci-subscribe-add').on('click', function () {
      var c = select.val();
      var area = $('#node-input-subscriptions');
      var lines = area
        .val()
        .split(/\r?\n/)
        .map(function (l) {
          return l.trim();
        });
      if (c && lines.indexOf(c) === -1) {
        area.val((area.val().replace(/\s+$/, '') + '\n' + c).replace(/^\n/, ''));
      }
    });
  },
});
