/**
 * The "one sink, many emits" example as shipped, in a real Node-RED with its
 * address from the environment: events posted to it reach the sink through
 * both emit nodes and their one sink configuration, each emit in its mode.
 */
import assert from 'node:assert/strict';
import { exampleFlow } from '../../sim/nodered';
import { SinkSimulator } from '../../sim/sink';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

const event = (id: string, type: string) => ({
  specversion: '1.0',
  id,
  source: 'https://apic1.example.com',
  type,
  time: '2026-11-22T13:45:12.345Z',
  datacontenttype: 'application/json',
  data: { dn: 'uni/tn-prod' },
});

describe('example one-sink-many-emits in a real Node-RED', function () {
  this.timeout(60_000);
  let sink: SinkSimulator;
  let red: RunningNodeRed | undefined;

  before(async () => {
    sink = await SinkSimulator.start({ tls: false });
  });
  after(async () => {
    await red?.stop();
    await sink.stop();
  });

  it('delivers every event in batches and the faults one by one, both through the one sink', async () => {
    const flow = exampleFlow('one-sink-many-emits.json');
    assert.equal(flow.filter((n) => n.type === 'cloudevent-sink').length, 1, 'one sink configuration');
    assert.equal(flow.filter((n) => n.type === 'cloudevent-emit').length, 2);
    red = await runNodeRed({ flows: flow, env: { SINK_URL: `${sink.url}/events` } });
    for (const e of [
      event('ok-1', 'com.cisco.aci.fvBD.modified'),
      event('f-1', 'com.cisco.aci.faultInst.created'),
    ]) {
      const res = await fetch(`${red.base}/infra-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(e),
      });
      assert.equal(res.status, 202);
    }
    await waitFor(() => sink.received.length === 3, 'three deliveries', 20_000);
    const got = sink.received.map((r) => `${String(r.event.id)} ${r.mode}`).sort();
    assert.deepEqual(got, ['f-1 batch', 'f-1 binary', 'ok-1 batch']);
  });
});
