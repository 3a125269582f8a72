RED.nodes.registerType('vcd-request', {
  // dce:palette color=#8DB4E2 icon=vcd.svg
  // dce:defaults version=1 {
  // dce:uses field=login node=vcd-login
  method: {
    value: 'GET',
    validate: function (v) {
      var writes = ['POST', 'PUT', 'PATCH', 'DELETE'].indexOf(v) !== -1;
      // A method that changes things needs "changes too" (the runtime refuses it otherwise).
      return !writes || this.methods === 'write';
    },
  },
  path: {
    value: '',
    validate: function (v) {
      return !v || /^\/(api|cloudapi)\//.test(v);
    },
  },
  methods: { value: 'read' },
  paging: { value: 'none' },
  output: { value: 'parsed' },
  followTask: { value: true },
  // }
  label: function () {
    return this.name || (this.method === 'msg' ? '' : this.method + ' ') + (this.path || 'vcd request');
  },
  outputLabels: 'the answer',
});
