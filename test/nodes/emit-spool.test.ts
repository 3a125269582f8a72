import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import { metricsFor } from '../../nodes/common/metrics';
import { NodeFiles } from '../../nodes/common/node-files';
import { SinkSimulator } from '../../sim/sink';
import { helper, record } from '../support/red';
import { holdSpool, spoolFlow } from '../support/spool';
import { delay, waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;

describe('cloudevent emit with a spool on disk', () => {
  let sink: SinkSimulator;
  let userDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sink = await SinkSimulator.start({ tls: false });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-spool-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sink.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (emit: Msg = {}): Msg[] => spoolFlow(`${sink.url}/events`, emit);

  async function load(flowJson: Msg[]) {
    await helper.load([cloudeventEmit, catchNode], flowJson);
    const got = { out: [] as Msg[], failed: [] as Msg[], caught: [] as Msg[] };
    for (const k of ['out', 'failed', 'caught'] as const)
      helper.getNode(k).on('input', (m: Msg) => got[k].push(m));
    return got;
  }

  /** Sends events from..to with ids e-from..e-to (the node takes them in the order they arrive). */
  function send(from: number, to: number): void {
    const node = helper.getNode('n');
    for (let i = from; i <= to; i++)
      node.receive({ payload: { i }, topic: `t${i}`, cloudevent: { id: `e-${i}` } });
  }

  /** Events the spool holds, as the node counts them (its status says "retrying" while the sink is down). */
  const inSpool = () => metricsFor(helper.getNode('n') as never).queueDepth;
  const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `e-${from + i}`);
  const spoolDir = () => new NodeFiles(userDir, 'spool').pathOf('n', '.d');
  const received = () => sink.received.map((r) => String(r.event.id));

  it('after a restart with the same node id, sends what the sink had not acknowledged first, in order', async () => {
    sink.setDown(true);
    await load(flow());
    const rec = record(helper.getNode('n'));
    send(1, 12);
    await waitFor(() => inSpool() === 12, '12 spooled events');
    assert.ok(fs.existsSync(spoolDir()), 'the spool lives under <userDir>/dcevents/spool');
    const m = metricsFor(helper.getNode('n') as never);
    assert.ok(
      m.spoolBytes > 12 * 100 && m.spoolBytes < m.spoolLimitBytes,
      'the spool in bytes, under its limit',
    );
    await waitFor(
      () => rec.statuses.some((st) => st.text === 'retrying · offline'),
      'the status of a sink that is down',
    );
    await helper.unload();

    sink.setDown(false);
    const got = await load(flow());
    send(13, 14);
    await waitFor(() => got.out.length === 14, '14 results', 15_000);
    assert.deepEqual(received(), ids(1, 14));
    assert.deepEqual(
      got.out.map((m) => (m.cloudevent as { id: string }).id),
      ids(1, 14),
    );
    // What an output message keeps of its input: topic (and _msgid), plus the result.
    assert.equal(got.out[0]!.topic, 't1');
    assert.equal((got.out[0]!.payload as { status: number }).status, 202);
  });

  it('a full spool drops its oldest waiting events to output 2 (drop-oldest), each counted', async () => {
    sink.setDown(true);
    const got = await load(flow({ spoolLimit: 1, queueLimit: 1, onFull: 'drop-oldest' }));
    const rec = record(helper.getNode('n'));
    const big = 'x'.repeat(200_000);
    for (let i = 1; i <= 8; i++)
      helper.getNode('n').receive({ payload: big, topic: `t${i}`, cloudevent: { id: `e-${i}` } });
    await waitFor(() => got.failed.length === 3, 'three events dropped');
    // e-1 is being sent (retrying); the oldest of the others made room for the newest.
    assert.deepEqual(
      got.failed.map((m) => [(m.cloudevent as { id: string }).id, (m.error as { code: string }).code]),
      [
        ['e-2', 'CE_DROPPED'],
        ['e-3', 'CE_DROPPED'],
        ['e-4', 'CE_DROPPED'],
      ],
    );
    assert.equal((got.failed[0]!.payload as { data: string }).data, big, 'the dropped event itself');
    // The spool's counts follow its outputs a moment later.
    await waitFor(() => metricsFor(helper.getNode('n') as never).dropped === 3, 'each drop counted');
    await waitFor(() => inSpool() === 5, 'five left in the spool');
    assert.equal(rec.statuses.at(-1)?.fill, 'yellow', 'never green');
  });

  it('a redeploy sends what the spool kept; deleting the node removes the spool and what is in it', async () => {
    sink.setDown(true);
    await load(flow());
    const taken = (n: number) => waitFor(() => inSpool() === n, `${n} spooled`);
    let spooled = taken(3);
    send(1, 3);
    await spooled;
    await helper.setFlows(flow({ name: 'renamed' }), 'full');
    sink.setDown(false);
    await waitFor(() => received().length === 3, 'the kept events after the redeploy');
    assert.deepEqual(received(), ids(1, 3));

    sink.setDown(true);
    spooled = taken(2);
    send(4, 5);
    await spooled;
    await helper.setFlows(
      flow().filter((n) => n.id !== 'n'),
      'full',
    );
    await waitFor(() => !fs.existsSync(spoolDir()), 'the spool of the deleted node to go');
    sink.setDown(false);
    await delay(300);
    assert.deepEqual(received(), ids(1, 3));
  });

  it('a disabled node keeps its spool and sends it once enabled again', async () => {
    sink.setDown(true);
    await load(flow());
    send(1, 3);
    await waitFor(() => inSpool() === 3, '3 spooled');
    await helper.setFlows(flow({ d: true }), 'full');
    await delay(100);
    assert.ok(fs.existsSync(spoolDir()), 'kept while disabled');
    sink.setDown(false);
    await helper.setFlows(flow(), 'full');
    await waitFor(() => received().length === 3, 'the kept events once enabled');
    assert.deepEqual(received(), ids(1, 3));
  });

  it('an event whose data has no JSON form is refused before the spool, by output 2, as in memory', async () => {
    const got = await load(flow());
    helper.getNode('n').receive({ payload: { n: 1n }, cloudevent: { id: 'big' } });
    await waitFor(() => got.failed[0], 'the refusal');
    assert.equal((got.failed[0]!.error as { code: string }).code, 'CE_DATA_UNSERIALIZABLE');
    send(1, 1);
    await waitFor(() => received().length === 1, 'the next event');
    assert.deepEqual(received(), ['e-1'], 'nothing of the refused event was kept');
  });

  it('a flow saved before the spool existed deploys unchanged: memory, nothing on disk', async () => {
    const old = flow();
    const emit = old[1]!;
    delete emit.spool;
    delete emit.spoolLimit;
    const got = await load(old);
    helper.getNode('n').receive({ payload: { i: 1 }, cloudevent: { id: 'e-1' }, keep: 'me' });
    await waitFor(() => got.out[0], 'the result');
    assert.equal(got.out[0]!.keep, 'me', 'the memory queue keeps the whole message');
    assert.equal(fs.existsSync(path.join(userDir, 'dcevents', 'spool')), false);
  });

  it('a spool that cannot be opened is an error with a code that reaches Catch', async () => {
    // Something that is not the spool's folder stands where it belongs.
    fs.mkdirSync(path.dirname(spoolDir()), { recursive: true });
    fs.writeFileSync(spoolDir(), 'not a folder');
    const got = await load(flow());
    await waitFor(() => got.caught[0], 'the error');
    assert.equal((got.caught[0]!.error as { code: string }).code, 'CE_SPOOL_FAILED');
  });

  it('without a user directory, a disk spool is a setting error that reaches Catch', async () => {
    helper.settings({ userDir: undefined });
    const got = await load(flow());
    await waitFor(() => got.caught[0], 'the setup error');
    assert.equal((got.caught[0]!.error as { code: string }).code, 'CE_CONFIG_INVALID');
  });

  it('another process on the spool folder: said once (status, Catch), events refused, the folder taken once free', async function () {
    this.timeout(60_000);
    const other = await holdSpool(spoolDir());
    try {
      const got = await load(flow());
      await waitFor(() => got.caught[0], 'the error in Catch');
      assert.equal((got.caught[0]!.error as { code: string }).code, 'CE_SPOOL_LOCKED');
      assert.match(
        String((got.caught[0]!.error as { message: string }).message),
        new RegExp(`process ${other.child.pid} `),
      );
      assert.equal(metricsFor(helper.getNode('n') as never).status.text, 'spool locked');
      send(1, 1);
      await waitFor(() => got.failed[0], 'the refused event on output 2');
      assert.equal((got.failed[0]!.error as { code: string }).code, 'CE_SPOOL_LOCKED');
      await delay(2500);
      assert.equal(got.caught.length, 1, 'said once, not at every try');
    } finally {
      await other.kill();
    }
    await waitFor(
      async () => {
        send(2, 2);
        await delay(300);
        return received().includes('e-2');
      },
      'an event taken once the folder is free',
      20_000,
    );
    assert.ok(!received().includes('e-1'), 'the refused event was not kept');
  });

  it("deleting the node leaves alone a spool that another process has: its files are that process's", async () => {
    const other = await holdSpool(spoolDir());
    try {
      const got = await load(flow());
      await waitFor(() => got.caught[0], 'the error in Catch');
      await helper.setFlows(
        flow().filter((n) => n.id !== 'n'),
        'full',
      );
      await delay(300);
      assert.ok(
        fs.readdirSync(spoolDir()).some((name) => name.startsWith('lock.')),
        "the other's lock is kept",
      );
    } finally {
      await other.kill();
    }
  });

  it('a record it cannot read: Catch hears of it, the status counts it, the events after it are delivered', async () => {
    sink.setDown(true);
    await load(flow());
    send(1, 6);
    await waitFor(() => inSpool() === 6, '6 spooled');
    await helper.unload();
    const segment = fs.readdirSync(spoolDir()).find((n) => n.endsWith('.seg'))!;
    const file = path.join(spoolDir(), segment);
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('"e-3"') + 2]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    sink.setDown(false);
    const got = await load(flow());
    const rec = record(helper.getNode('n'));
    await waitFor(() => got.out.length === 5, '5 results', 15_000);
    assert.deepEqual(received(), ['e-1', 'e-2', 'e-4', 'e-5', 'e-6']);
    await waitFor(() => got.caught[0], 'the error in Catch');
    assert.equal((got.caught[0]!.error as { code: string }).code, 'CE_SPOOL_DAMAGED');
    assert.deepEqual(got.caught[0]!.payload, { lost: 1 });
    await waitFor(() => rec.statuses.some((s) => /lost 1/.test(s.text ?? '')), 'the loss in the status');
    assert.equal(metricsFor(helper.getNode('n') as never).dropped, 1, 'and in the metrics');
  });
});
