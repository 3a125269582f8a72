/**
 * alert gate and alert store in the Node-RED runtime (node-red-node-test-helper):
 * what a user wires before a Webex or e-mail node.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import alertGate from '../../nodes/alerts/alert-gate';
import alertStore from '../../nodes/alerts/alert-store';
import { metricsFor, retain } from '../../nodes/common/metrics';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { helper, loggedText, record } from '../support/red';
import { TestRedis, needRedis } from '../support/redis';
import { delay, waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;

const event = (id: string, extra: Partial<InfraEvent> = {}): InfraEvent => ({
  id,
  source: 'https://vcd.example.com',
  type: 'com.vmware.vcloud.event.vm.deploy',
  time: '2026-11-22T10:04:00Z',
  subject: `urn:vcloud:vm:${id}`,
  summary: `vm ${id} deployed: failed`,
  origin: 'vcd',
  data: {},
  ...extra,
});

/** A faultInst change of one fault, as aci subscribe sends it with output "event". */
const flap = (n: number): InfraEvent => {
  const dn = 'uni/tn-prod/BD-bd-app/fault-F1527';
  const lc = n % 2 === 0 ? 'raised' : 'retaining';
  return event(`modified:${dn}@${n}`, {
    source: 'https://apic1.example.com',
    type: 'com.cisco.aci.faultInst.modified',
    subject: dn,
    summary: `major fault F1527 ${lc} on uni/tn-prod/BD-bd-app`,
    origin: 'aci',
    aci: {
      className: 'faultInst',
      dn,
      status: 'modified',
      attributes: { lc, severity: lc === 'raised' ? 'major' : 'cleared' },
    },
  });
};

describe('alert gate node', function () {
  this.timeout(30_000);
  let userDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-gate-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    retain(() => false); // each test counts from zero
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (gate: Msg = {}, extra: Msg[] = []): Msg[] => [
    { id: 'tab', type: 'tab' },
    { id: 'gate', type: 'alert-gate', z: 'tab', version: 1, ...gate, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    ...extra,
  ];

  async function load(flowJson: Msg[]) {
    await helper.load([alertGate, alertStore, catchNode], flowJson);
    const got = { out: [] as Msg[], caught: [] as Msg[] };
    helper.getNode('out').on('input', (m: Msg) => got.out.push(m));
    helper.getNode('caught').on('input', (m: Msg) => got.caught.push(m));
    return { got, gate: helper.getNode('gate'), rec: record(helper.getNode('gate')) };
  }

  const ids = (msgs: Msg[]) => msgs.map((m) => (m.payload as InfraEvent).id);

  let markers = 0;
  /**
   * The ids the gate passed of what it was sent: a new event sent after them passes too, in order, so once it
   * is out every earlier one has been decided (no sleep that a slow machine outlasts). The marker is taken off.
   */
  async function passed(gate: ReturnType<typeof helper.getNode>, got: { out: Msg[] }): Promise<string[]> {
    const marker = event(`marker-${++markers}`);
    gate.receive({ payload: marker });
    await waitFor(() => ids(got.out).includes(marker.id), 'the marker sent behind them');
    assert.equal(ids(got.out).at(-1), marker.id, 'nothing after the marker');
    got.out.pop();
    return ids(got.out);
  }

  it('passes each event once, through a full redeploy and a restart on the same user directory', async () => {
    let { got, gate } = await load(flow({ storms: false }));
    for (const id of ['e1', 'e2', 'e1', 'e3', 'e2']) gate.receive({ payload: event(id), topic: 'x' });
    assert.deepEqual(await passed(gate, got), ['e1', 'e2', 'e3']);
    assert.equal(got.out[0]!.topic, 'x', 'the message as it came');
    const m = metricsFor(gate);
    assert.deepEqual([m.passed, m.doubles, m.held], [4, 2, 0], 'the marker passed too');
    await waitFor(() => fs.existsSync(path.join(userDir, 'dcevents', 'alert-gate')), 'the saved ids');

    // Redeploy (the same node): the sources send their last events again.
    await helper.unload();
    ({ got, gate } = await load(flow({ storms: false })));
    for (const id of ['e2', 'e3', 'e4']) gate.receive({ payload: event(id) });
    assert.deepEqual(await passed(gate, got), ['e4']);
  });

  it('a fault flapping 50 times: one alert, then one summary with what was held; the status counts', async () => {
    const { got, gate, rec } = await load(flow({ doubles: true, storms: true, stormWindow: 0.05 }));
    for (let i = 0; i < 50; i++) gate.receive({ payload: flap(i) });
    await waitFor(() => got.out.length === 2, 'the alert and the summary', 15_000);
    const [alert, summary] = got.out as [Msg, Msg];
    assert.equal((alert.payload as InfraEvent).id, flap(0).id);
    const s = summary.payload as InfraEvent;
    assert.equal(s.type, 'dcevents.storm.summary');
    assert.equal(summary.topic, 'dcevents.storm.summary');
    assert.match(
      s.summary,
      /^49 more since \d\d:\d\d: cleared 25, raised 24 · major fault F1527 retaining on /,
    );
    assert.equal((summary.storm as { held: number }).held, 49);
    const m = metricsFor(gate);
    assert.deepEqual([m.passed, m.doubles, m.held, m.summaries], [1, 0, 49, 1]);
    await waitFor(
      () => rec.statuses.some((st) => st.text === '1 ok, 0 dup, 49 held'),
      'the counts in the status',
    );
    await delay(3500);
    assert.equal(got.out.length, 2, 'a quiet window ends the storm without a word');
  });

  it('by a message property: events with the same msg.topic are one storm', async () => {
    const { got, gate } = await load(flow({ stormBy: 'property', stormProperty: 'topic', stormWindow: 60 }));
    gate.receive({ payload: event('a'), topic: 'room-1' });
    gate.receive({ payload: event('b'), topic: 'room-1' });
    gate.receive({ payload: event('c'), topic: 'room-2' });
    gate.receive({ payload: event('d') });
    assert.deepEqual(await passed(gate, got), ['a', 'c', 'd'], 'no topic: no storm');
  });

  it('what is not an event goes to Catch with ALERT_NOT_AN_EVENT and the message; the stream goes on', async () => {
    const { got, gate } = await load(flow());
    gate.receive({ payload: 'just text' });
    gate.receive({ payload: { id: 'x' } });
    gate.receive({ payload: { id: 'x'.repeat(9000), source: 's' } });
    gate.receive({ payload: event('fine') });
    await waitFor(() => got.caught.length === 3 && got.out.length === 1, 'three errors and the event');
    for (const c of got.caught) assert.equal((c.error as { code: string }).code, 'ALERT_NOT_AN_EVENT');
    assert.equal(got.caught[0]!.payload, 'just text');
  });

  it('deleting the node deletes its saved ids', async () => {
    const { gate } = await load(flow());
    gate.receive({ payload: event('e1') });
    const dir = path.join(userDir, 'dcevents', 'alert-gate');
    await waitFor(() => fs.existsSync(dir) && fs.readdirSync(dir).length === 1, 'the file');
    // A deploy without the node: Node-RED closes it with removed = true.
    await (gate as unknown as { close(removed: boolean): Promise<void> }).close(true);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a shared store that is not deployed is a setup error reaching Catch; events still pass', async () => {
    const { got, gate } = await load(flow({ store: 'missing' }));
    await waitFor(() => got.caught.length === 1, 'the setup error');
    assert.equal((got.caught[0]!.error as { code: string }).code, 'ALERT_CONFIG_INVALID');
    gate.receive({ payload: event('e1') });
    await waitFor(() => got.out.length === 1, 'passed');
  });

  describe('with a shared store (Redis)', () => {
    let redis: TestRedis;
    before(async function () {
      needRedis(this);
      redis = await TestRedis.start({ password: 'redis-pa55' });
    });
    after(async () => {
      await redis?.stop();
    });

    const pair = (): Msg[] => [
      { id: 'tab', type: 'tab' },
      { id: 'store', type: 'alert-store', url: redis.url, prefix: `t${Date.now()}:`, version: 1 },
      ...['gate', 'gate2'].map((id) => ({
        id,
        type: 'alert-gate',
        z: 'tab',
        store: 'store',
        storms: false,
        version: 1,
        wires: [['out']],
      })),
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];

    it('two gates on one store let each event through once; the password is a credential, never logged', async () => {
      await helper.load([alertGate, alertStore, catchNode], pair(), { store: { password: 'redis-pa55' } });
      const out: Msg[] = [];
      helper.getNode('out').on('input', (m: Msg) => out.push(m));
      const [a, b] = [helper.getNode('gate'), helper.getNode('gate2')];
      await waitFor(() => metricsFor(helper.getNode('store')).state === 'connected', 'the store connected');
      for (const id of ['e1', 'e2', 'e3']) {
        a.receive({ payload: event(id) });
        b.receive({ payload: event(id) });
      }
      // Each of the six is either passed or dropped once the store has answered for it.
      const doubles = () => metricsFor(a).doubles + metricsFor(b).doubles;
      await waitFor(() => out.length + doubles() === 6, 'every event passed or dropped');
      assert.deepEqual(ids(out).sort(), ['e1', 'e2', 'e3']);
      assert.equal(metricsFor(a).doubles + metricsFor(b).doubles, 3);
      assert.doesNotMatch(loggedText(), /redis-pa55/);
    });

    it('when the store is down the gate fails open, says so once (yellow, Catch), and still drops its own doubles', async () => {
      await helper.load([alertGate, alertStore, catchNode], pair(), { store: { password: 'redis-pa55' } });
      const out: Msg[] = [];
      const caught: Msg[] = [];
      helper.getNode('out').on('input', (m: Msg) => out.push(m));
      helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
      const gate = helper.getNode('gate');
      const rec = record(gate);
      await waitFor(() => metricsFor(helper.getNode('store')).state === 'connected', 'the store connected');
      await redis.down();
      try {
        await waitFor(() => caught.length >= 2, 'the failure reported (by each gate)');
        for (const id of ['d1', 'd2', 'd1']) gate.receive({ payload: event(id) });
        await waitFor(() => out.length === 2, 'passed unchecked');
        await delay(1500);
        assert.deepEqual(ids(out), ['d1', 'd2']);
        const codes = caught.map((c) => (c.error as { code: string }).code);
        assert.deepEqual(
          codes,
          ['ALERT_STORE_DOWN', 'ALERT_STORE_DOWN'],
          'once per gate, not at every retry',
        );
        assert.ok(
          rec.statuses.some((s) => s.fill === 'yellow' && /store down/.test(String(s.text))),
          JSON.stringify(rec.statuses),
        );
      } finally {
        await redis.up();
      }
      await waitFor(() => metricsFor(gate).state === 'connected', 'connected again', 20_000);
      await waitFor(() => rec.statuses.at(-1)?.fill === 'green', 'green again');
    });
  });
});
