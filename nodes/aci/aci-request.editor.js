RED.nodes.registerType('aci-request', {
  // dce:palette color=#87C9C2 icon=aci.svg
  // dce:defaults version=1 {
  // dce:uses field=controller node=aci-controller
  method: {
    value: 'GET',
    validate: function (v) {
      // A configuration post needs "changes too" (the runtime refuses it otherwise).
      return v !== 'POST' || this.methods === 'write';
    },
  },
  target: {
    value: '',
    validate: function (v) {
      return !v || !/^\/?api\//.test(v.trim());
    },
  },
  methods: { value: 'read' },
  paging: { value: 'all' },
  // }
  label: function () {
    return this.name || (this.method === 'POST' ? 'post ' : '') + (this.target || 'aci request');
  },
  outputLabels: 'objects, or the answer to a post',
});
