/** Credentials that would cross the network in clear text draw a warning when the node is deployed. */
import assert from 'node:assert/strict';
import aciController from '../../nodes/aci/aci-controller';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import vcdLogin from '../../nodes/vcd/vcd-login';
import { helper } from '../support/red';

/** The warnings each node logged that speak of plain http://. */
function cleartextWarnings(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of helper.log().getCalls()) {
    const entry = call.args[0] as { level?: number; id?: string; msg?: unknown };
    if (entry?.level === 30 && /plain http:\/\//.test(String(entry.msg))) {
      counts.set(String(entry.id), (counts.get(String(entry.id)) ?? 0) + 1);
    }
  }
  return counts;
}

describe('security: credentials over plain http://', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('warns once per node at deploy when a password, token or key would go over http://', async () => {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'vcd-http', type: 'vcd-login', url: 'http://127.0.0.1:9', org: 'acme', authType: 'password' },
      { id: 'vcd-https', type: 'vcd-login', url: 'https://127.0.0.1:9', org: 'acme', authType: 'password' },
      {
        id: 'apic-http',
        type: 'aci-controller',
        hosts: '127.0.0.1:9, http://127.0.0.1:10',
        authType: 'password',
      },
      {
        id: 'apic-https',
        type: 'aci-controller',
        hosts: '127.0.0.1:9, https://127.0.0.1:10',
        authType: 'password',
      },
      {
        id: 'sink-basic',
        type: 'cloudevent-emit',
        z: 'tab',
        url: 'http://127.0.0.1:9/e',
        authType: 'basic',
        wires: [],
      },
      {
        id: 'sink-header',
        type: 'cloudevent-emit',
        z: 'tab',
        url: 'http://127.0.0.1:9/e',
        authType: 'none',
        wires: [],
      },
      {
        id: 'sink-open',
        type: 'cloudevent-emit',
        z: 'tab',
        url: 'http://127.0.0.1:9/e',
        authType: 'none',
        wires: [],
      },
    ];
    const creds = {
      'vcd-http': { username: 'u', password: 'p' },
      'vcd-https': { username: 'u', password: 'p' },
      'apic-http': { username: 'u', password: 'p' },
      'apic-https': { username: 'u', password: 'p' },
      'sink-basic': { username: 'u', password: 'p' },
      'sink-header': { secretHeader: 'X-Api-Key: k' },
    };
    await helper.load([vcdLogin, aciController, cloudeventEmit], flow, creds);
    const warned = cleartextWarnings();
    assert.deepEqual([...warned.entries()].sort(), [
      ['apic-http', 1],
      ['sink-basic', 1],
      ['sink-header', 1],
      ['vcd-http', 1],
    ]);
  });
});
