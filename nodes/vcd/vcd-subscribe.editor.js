(function () {
  var PRESETS = {
    mine: 'publish/{org}/{user}',
    org: 'publish/{org}/+',
    all: 'publish/#',
    metrics: 'metrics/#',
  };
  RED.nodes.registerType('vcd-subscribe', {
    // dce:palette color=#8DB4E2 icon=vcd.svg
    // dce:defaults version=3 {
    // dce:uses field=login node=vcd-login
    topic: {
      value: 'publish/{org}/+',
      validate: function (v) {
        // With topics set by messages the node has none of its own.
        if (this.dynamic === true) return true;
        var levels = (v || '').trim().split('/');
        if (!v || !v.trim()) return false;
        for (var i = 0; i < levels.length; i++) {
          var l = levels[i];
          if (l.indexOf('#') !== -1 && (l !== '#' || i !== levels.length - 1)) return false;
          if (l.indexOf('+') !== -1 && l !== '+') return false;
          if (l === '*') return false;
        }
        return true;
      },
    },
    qos: { value: '1' },
    output: { value: 'envelope' },
    catchUp: { value: false },
    catchUpMaxAge: {
      value: 24,
      validate: function (v) {
        var n = Number(v);
        return v === '' || v === undefined || (isFinite(n) && n >= 0.1 && n <= 8760);
      },
    },
    dynamic: { value: false },
    // }
    label: function () {
      return this.name || (this.dynamic ? 'vcd subscribe' : 'vcd ' + (this.topic || 'subscribe'));
    },
    inputLabels: 'msg.action',
    outputLabels: function () {
      return this.output === 'event' ? 'InfraEvent' : 'VCD envelope';
    },
    oneditprepare: function () {
      var preset = $('#vcd-subscribe-preset');
      var topic = $('#node-input-topic');
      var dynamic = $('#node-input-dynamic');
      var match = Object.keys(PRESETS).filter(function (k) {
        return PRESETS[k] === topic.val();
      })[0];
      preset.val(dynamic.is(':checked') ? 'dynamic' : match || 'custom');
      var sync = function () {
        var p = preset.val();
        if (PRESETS[p]) topic.val(PRESETS[p]);
        topic.prop('readonly', p !== 'custom');
        // Topics set by messages: no topic of its own, so nothing to recover for it either.
        dynamic.prop('checked', p === 'dynamic');
        $('#vcd-subscribe-topic-row, #vcd-subscribe-tip, #vcd-subscribe-catchup-row').toggle(p !== 'dynamic');
        showMaxAge();
      };
      var catchUp = $('#node-input-catchUp');
      var showMaxAge = function () {
        $('#vcd-subscribe-maxage-row').toggle(catchUp.is(':checked') && preset.val() !== 'dynamic');
      };
      preset.on('change', sync);
      sync();
      catchUp.on('change', showMaxAge);
    },
  });
})();
