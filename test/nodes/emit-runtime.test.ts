/**
 * cloudevent emit against messages and sinks that would take a runtime down:
 * data that is not JSON, and a sink that never answers while messages keep coming.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import { SinkSimulator } from '../../sim/sink';
import { liveHeap } from '../support/heap';
import { helper } from '../support/red';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;

function flowWith(node: Msg, secondOutput = true): Msg[] {
  return [
    { id: 'tab', type: 'tab' },
    { ...node, id: 'n', z: 'tab', wires: [['out'], secondOutput ? ['out2'] : []] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'out2', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

async function load(flow: Msg[]) {
  await helper.load([cloudeventEmit, catchNode], flow);
  const got = { out: [] as Msg[], out2: [] as Msg[], caught: [] as Msg[] };
  for (const k of ['out', 'out2', 'caught'] as const)
    helper.getNode(k).on('input', (m: Msg) => got[k].push(m));
  return got;
}

const code = (m: Msg | undefined) => (m?.error as { code?: string } | undefined)?.code;

function circular(): Msg {
  const o: Msg = { name: 'loop' };
  o.self = o;
  return o;
}

const infra = (id: string, data: unknown) => ({
  id,
  source: 'https://vcd.example.com',
  type: 'com.vmware.vcloud.event.vm.create',
  summary: 'vm created',
  origin: 'vcd',
  data,
});

/** Events whose data has no JSON form. */
const BAD: [string, () => Msg][] = [
  ['a circular payload with msg.cloudevent.id', () => ({ payload: circular(), cloudevent: { id: 'c-1' } })],
  ['a BigInt payload with msg.cloudevent.id', () => ({ payload: { n: 10n }, cloudevent: { id: 'b-1' } })],
  ['an InfraEvent with circular data', () => ({ payload: infra('i-1', circular()) })],
  ['an InfraEvent with BigInt data', () => ({ payload: infra('i-2', [1n]) })],
];
/** Without an id, the id is a hash of the data: no event can be made at all, and the message leaves as it came. */
const NO_EVENT = () => ({ payload: circular() });

describe('cloudevent emit: a message never stops the runtime', () => {
  let sink: SinkSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sink = await SinkSimulator.start({ tls: false });
  });
  afterEach(async () => {
    await helper.unload();
    await sink.stop();
  });

  const emitter = (mode: string): Msg => ({
    type: 'cloudevent-emit',
    url: `${sink.url}/events`,
    mode,
    ceType: 'com.example.test',
    ceSource: '/test',
    retryBudget: 1,
  });

  for (const mode of ['binary', 'structured', 'batch']) {
    it(`${mode}: data with no JSON form leaves by output 2 with CE_DATA_UNSERIALIZABLE; the flow goes on`, async () => {
      const got = await load(flowWith({ ...emitter(mode), lingerMs: 0 }));
      const node = helper.getNode('n');
      for (const [, bad] of BAD) node.receive(bad());
      node.receive(NO_EVENT());
      node.receive({ payload: { ok: true }, cloudevent: { id: 'good-1' } });
      await waitFor(() => got.out2.length === BAD.length + 1 && got.out.length === 1, 'all answered').catch(
        (err) => {
          throw new Error(`${err}: ${JSON.stringify([got.out2.map(code), got.out.length])}`);
        },
      );
      assert.deepEqual(
        got.out2.map(code),
        [...BAD, NO_EVENT].map(() => 'CE_DATA_UNSERIALIZABLE'),
      );
      assert.deepEqual(
        sink.received.map((r) => r.event.id),
        ['good-1'],
        'only the good event reaches the sink',
      );
      assert.ok(
        got.out2.some((m) => (m.payload as Msg).name === 'loop' && (m.payload as Msg).self === m.payload),
        'the message that makes no event leaves as it came',
      );
      assert.deepEqual(got.caught, []);
    });
  }

  it('with nothing wired to output 2, or without a URL, the error reaches Catch with its code', async () => {
    for (const node of [
      emitter('binary'),
      { ...emitter('binary'), url: '' },
      { ...emitter('batch'), url: '' },
    ]) {
      const got = await load(flowWith(node, false));
      for (const [, bad] of BAD) helper.getNode('n').receive(bad());
      helper.getNode('n').receive(NO_EVENT());
      helper.getNode('n').receive({ payload: 'fine', cloudevent: { id: 'good-2' } });
      await waitFor(() => got.caught.length === BAD.length + 1 && got.out.length === 1, 'all answered');
      assert.deepEqual(
        got.caught.map(code),
        [...BAD, NO_EVENT].map(() => 'CE_DATA_UNSERIALIZABLE'),
        JSON.stringify(node.url),
      );
      await helper.unload();
    }
  });

  it('a complete node hears of every event once it has left, delivered or not', async () => {
    const flow = [
      ...flowWith(emitter('binary')),
      { id: 'completer', type: 'complete', z: 'tab', scope: ['n'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper', z: 'tab' },
    ];
    await helper.load([cloudeventEmit, catchNode, completeNode], flow);
    const completed: Msg[] = [];
    helper.getNode('completed').on('input', (m: Msg) => completed.push(m));
    helper.getNode('n').receive({ payload: { ok: 1 }, cloudevent: { id: 'good-3' } });
    helper.getNode('n').receive(BAD[0]![1]());
    await waitFor(() => completed.length === 2, 'two completions');
    assert.deepEqual(completed.map((m) => (m.cloudevent as { id: string }).id).sort(), ['c-1', 'good-3']);
  });

  it('attributes that are not JSON (a BigInt extension or subject) are refused with a code, on output 2', async () => {
    const got = await load(flowWith(emitter('binary')));
    const node = helper.getNode('n');
    node.receive({ payload: 1, cloudevent: { extensions: { big: 5n } } });
    node.receive({ payload: 1, cloudevent: { subject: 5n } });
    node.receive({ payload: 1, cloudevent: { id: 'x', time: 5n } });
    await waitFor(() => got.out2.length === 3, 'three refused');
    assert.deepEqual(got.out2.map(code), ['CE_INVALID_ATTRIBUTE', 'CE_DATA_UNSERIALIZABLE', 'CE_INVALID']);
    assert.deepEqual(got.caught, []);
  });
});

describe('cloudevent emit: a sink that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let requests = 0;

  before(async () => {
    await helper.startServer();
    server = createServer(() => requests++);
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await helper.stopServer();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  afterEach(() => helper.unload());

  const LIMIT = 100;
  const CONCURRENCY = 2;

  // "wait" is the policy that held every message before; the others are checked with fewer.
  for (const [onFull, MESSAGES] of [
    ['wait', 50_000],
    ['reject-new', 5000],
    ['drop-oldest', 5000],
  ] as const) {
    it(`${onFull}: of ${MESSAGES} messages it holds at most the queue limit (and as many waiting); the rest leave by output 2`, async function () {
      this.timeout(180_000);
      requests = 0;
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
      await helper.load(
        [cloudeventEmit, catchNode],
        flowWith({
          type: 'cloudevent-emit',
          url,
          mode: 'binary',
          ceType: 'com.example.test',
          ceSource: '/test',
          timeout: 600,
          queueLimit: LIMIT,
          concurrency: CONCURRENCY,
          onFull,
        }),
      );
      // Counts only: keeping 50,000 messages here would blur the memory the node holds.
      const refused = { count: 0, codes: new Set<string | undefined>(), ids: new Set<string>() };
      let delivered = 0;
      helper.getNode('out').on('input', () => delivered++);
      helper.getNode('out2').on('input', (m: Msg) => {
        refused.count++;
        refused.codes.add(code(m));
        refused.ids.add((m.payload as { id: string }).id);
      });
      const node = helper.getNode('n');
      const statuses: string[] = [];
      node.on('call:status', (call: { args: { text?: string }[] }) =>
        statuses.push(call.args[0]?.text ?? ''),
      );
      const heapBefore = liveHeap();
      for (let i = 0; i < MESSAGES; i++) {
        node.receive({ payload: { i, pad: 'x'.repeat(200) }, cloudevent: { id: `e-${i}` } });
        // Let the runtime run now and then, as a real flow would.
        if (i % 1000 === 999) {
          // The test helper's spies keep every call; a real runtime keeps none.
          (helper as unknown as { _sandbox: { resetHistory(): void } })._sandbox.resetHistory();
          await new Promise((r) => setImmediate(r));
        }
      }
      const held = onFull === 'wait' ? CONCURRENCY + 2 * LIMIT : CONCURRENCY + LIMIT;
      await waitFor(() => refused.count === MESSAGES - held, `${MESSAGES - held} events refused`, 150_000);
      const heapGrowth = liveHeap() - heapBefore;
      assert.deepEqual([...refused.codes], [onFull === 'drop-oldest' ? 'CE_DROPPED' : 'CE_QUEUE_FULL']);
      assert.equal(delivered, 0);
      assert.equal(requests, CONCURRENCY, 'only the first events went out');
      // drop-oldest keeps the newest events; the others keep the first ones.
      const keptNewest = !refused.ids.has(`e-${MESSAGES - 1}`) && refused.ids.has(`e-${CONCURRENCY}`);
      assert.equal(keptNewest, onFull === 'drop-oldest');
      // The status counts what was lost, and is never green.
      await waitFor(() => statuses.some((t) => /lost \d+(\.\d)?k/.test(t)), 'the losses in the status', 5000);
      // What is still reachable once collected: the held events and the refused ids kept above
      // (a few MB); 50,000 events kept in memory would take far more (each holds its message).
      assert.ok(heapGrowth < 40 * 1024 * 1024, `heap grew by ${Math.round(heapGrowth / 1048576)} MB`);
    });
  }
});
