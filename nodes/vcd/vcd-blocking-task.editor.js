RED.nodes.registerType('vcd-blocking-task', {
  // dce:palette color=#8DB4E2 icon=vcd.svg
  // dce:defaults version=1 {
  // dce:uses field=login node=vcd-login
  reason: { value: '' },
  // }
  label: function () {
    return this.name || 'vcd blocking task';
  },
  inputLabels: 'blocking task (+ msg.decision)',
  outputLabels: 'what the approver needs, or the outcome',
});
