/**
 * The CloudEvents project's conformance data through a real Node-RED, as a user
 * would wire it: http in → event decode → cloudevent emit → a strict sink. The
 * HTTP answer says the verdict (a Complete node answers 202 for what decode
 * took, a Catch node 400 with the code for what it refused); what was taken
 * must reach the sink as it came, and the sink must never refuse what cloudevent
 * emit sends. The sink's own verdicts are checked against the data too: it is
 * the strict receiver the other tests rely on.
 */
import assert from 'node:assert/strict';
import type { FlowNode } from '../../sim/nodered';
import { SinkSimulator } from '../../sim/sink';
import { CONFORMANCE, type ConformanceCase, type Json, sentOn } from '../support/conformance';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

function flow(sinkUrl: string): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'conformance' },
    { id: 'in', type: 'http in', z: 'tab', url: '/in', method: 'post', wires: [['decode']] },
    { id: 'decode', type: 'event-decode', z: 'tab', format: 'auto', errors: 'catch', wires: [['emit']] },
    { id: 'emit', type: 'cloudevent-emit', z: 'tab', url: sinkUrl, mode: 'structured', wires: [[], []] },
    { id: 'taken', type: 'complete', z: 'tab', scope: ['decode'], uncaught: false, wires: [['accepted']] },
    { id: 'accepted', type: 'http response', z: 'tab', statusCode: '202', headers: {} },
    { id: 'refused', type: 'catch', z: 'tab', scope: ['decode'], uncaught: false, wires: [['code']] },
    {
      id: 'code',
      type: 'change',
      z: 'tab',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'error.code', tot: 'msg' }],
      wires: [['answer']],
    },
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '400', headers: {} },
  ];
}

describe('CloudEvents conformance data through a real Node-RED (http in → event decode → cloudevent emit → sink)', function () {
  this.timeout(120_000);
  let sink: SinkSimulator;
  let red: RunningNodeRed;

  before(async () => {
    sink = await SinkSimulator.start({ tls: false });
    red = await runNodeRed({ flows: flow(`${sink.url}/events`) });
  });
  after(async () => {
    await red?.stop();
    await sink?.stop();
  });

  const post = async (url: string, type: string, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': type },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  /** Posts one case; valid: taken, and what reaches the sink is what came; invalid: refused with a code. */
  async function check(c: ConformanceCase, valid: boolean): Promise<void> {
    const before = sink.received.length;
    const { status, text } = await post(`${red.base}/in`, c.batch ? BATCH : STRUCTURED, c.batch ?? c.event);
    if (!valid) {
      assert.deepEqual({ status, text }, { status: 400, text: 'DECODE_WRONG_SHAPE' }, c.id);
      assert.equal(sink.received.length, before, `${c.id}: nothing reaches the sink`);
      return;
    }
    assert.equal(status, 202, `${c.id}: ${text}`);
    const expected = (c.batch ?? [c.event]).map((e) => sentOn(e as Json));
    await waitFor(() => sink.received.length >= before + expected.length, `${c.id} at the sink`, 20_000);
    assert.deepEqual(
      sink.received.slice(before).map((r) => r.event),
      expected,
      c.id,
    );
  }

  it('takes every valid case and sends it on as it came; refuses every invalid one with a code', async () => {
    for (const c of CONFORMANCE.validEvents) await check(c, true);
    for (const c of CONFORMANCE.invalidEvents) await check(c, false);
    for (const c of CONFORMANCE.validBatches) await check(c, true);
    for (const c of CONFORMANCE.invalidBatches) await check(c, false);
    assert.deepEqual(sink.rejected, [], 'the strict sink refused nothing cloudevent emit sent');
    assert.doesNotMatch(red.log(), /\[error\]/);
  });

  it('the sink itself gives every case its verdict (it is the strict receiver the tests rely on)', async () => {
    const verdict = async (body: unknown, type: string) =>
      (await post(`${sink.url}/direct`, type, body)).status;
    for (const c of CONFORMANCE.validEvents) assert.equal(await verdict(c.event, STRUCTURED), 202, c.id);
    for (const c of CONFORMANCE.invalidEvents) assert.equal(await verdict(c.event, STRUCTURED), 400, c.id);
    for (const c of CONFORMANCE.validBatches) assert.equal(await verdict(c.batch, BATCH), 202, c.id);
    for (const c of CONFORMANCE.invalidBatches) assert.equal(await verdict(c.batch, BATCH), 400, c.id);
  });
});
