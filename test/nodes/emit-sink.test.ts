/**
 * cloudevent emit and its sink as an operator lives with them: a failing sink
 * looks failing within seconds (status, state, Catch) and green again once a
 * delivery succeeds; emits that send to one broker share one sink config node,
 * its pool and its one copy of the secret.
 */
import assert from 'node:assert/strict';
import { metricsFor } from '../../nodes/common/metrics';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import cloudeventSink from '../../nodes/events/cloudevent-sink';
import { prometheusRegistry } from '../../nodes/operations/prometheus';
import { parseExposition, valueOf } from '../support/prometheus';
import { SinkSimulator } from '../../sim/sink';
import { catchAll, catchNode, collectCaught, helper, loggedText, record } from '../support/red';
import { delay, waitFor } from '../support/wait';

type Msg = Record<string, unknown>;
const SECRET = 'Sh4red-S1nk-T0ken';

describe('cloudevent emit and its sink', function () {
  let sink: SinkSimulator;

  before(async () => {
    await helper.startServer();
    sink = await SinkSimulator.start({ tls: false });
  });
  after(async () => {
    await helper.stopServer();
    await sink.stop();
  });
  afterEach(async () => {
    await helper.unload();
    sink.reset();
  });

  const sinkNode = (extra: Msg = {}): Msg => ({
    id: 'sinkcfg',
    type: 'cloudevent-sink',
    url: `${sink.url}/events`,
    authType: 'bearer',
    ...extra,
  });
  const emit = (id: string, extra: Msg = {}): Msg => ({
    id,
    type: 'cloudevent-emit',
    z: 'tab',
    sink: 'sinkcfg',
    mode: 'binary',
    ceType: 'com.example.test',
    ceSource: '/test',
    concurrency: 1,
    wires: [[`${id}-out`], []],
    ...extra,
  });
  const out = (id: string): Msg => ({ id: `${id}-out`, type: 'helper', z: 'tab' });

  async function load(
    nodes: Msg[],
    creds: Record<string, Record<string, string>> = { sinkcfg: { token: SECRET } },
  ) {
    await helper.load(
      [cloudeventSink, cloudeventEmit, catchNode],
      [{ id: 'tab', type: 'tab' }, ...nodes, ...catchAll('tab')],
      creds,
    );
    return collectCaught();
  }

  const send = (id: string, event: string) =>
    helper.getNode(id).receive({ payload: { n: event }, cloudevent: { id: event } });

  describe('a failing sink looks failing', () => {
    /** The 0/1 series of one of node a's states at /dcevents/metrics. */
    const stateSeries = async (state: string) =>
      valueOf(parseExposition(await prometheusRegistry().metrics()), 'dcevents_state', {
        node_id: 'a',
        state,
      });
    const code = (m: Msg) => (m.error as { code: string }).code;
    const status = (m: Msg) => m.statusCode;

    it('"retrying · offline", then "retrying · 503", state retrying, each failure at Catch once; green after a delivery', async () => {
      sink.setDown(true);
      const caught = await load([sinkNode(), emit('a'), out('a')]);
      const node = helper.getNode('a');
      const rec = record(node);
      const metrics = metricsFor(node as never);
      const sentAt = Date.now();
      send('a', 'e-1');

      // Within seconds of the first failed attempt, not when the event finally fails (5 minutes later).
      await waitFor(
        () => rec.statuses.some((s) => s.text === 'retrying · offline'),
        'retrying · offline',
        5000,
      );
      assert.ok(Date.now() - sentAt < 5000);
      const shown = rec.statuses.find((s) => s.text === 'retrying · offline');
      assert.deepEqual([shown?.fill, shown?.shape], ['yellow', 'ring']);
      assert.equal(metrics.state, 'retrying');
      assert.equal(await stateSeries('retrying'), 1);
      assert.equal(await stateSeries('idle'), 0);
      // More attempts fail the same way: Catch heard of it once.
      await waitFor(() => metrics.retried >= 3, 'three more attempts', 10_000);
      assert.deepEqual(caught.map(code), ['CONNECT_FAILED']);

      // The sink comes back answering 503: a different failure, told once more.
      sink.failNext(1, 503);
      sink.setDown(false);
      await waitFor(() => rec.statuses.some((s) => s.text === 'retrying · 503'), 'retrying · 503', 15_000);
      assert.equal(metrics.state, 'retrying');
      await waitFor(() => sink.received.length === 1, 'the delivery', 15_000);
      assert.deepEqual(caught.map(code), ['CONNECT_FAILED', 'CE_DELIVERY_FAILED']);
      assert.equal(status(caught[1]!), 503);

      // The first success turns it green again.
      await waitFor(() => rec.statuses.at(-1)?.fill === 'green', 'green again');
      assert.match(rec.statuses.at(-1)!.text!, /sent 1$/);
      assert.equal(metrics.state, 'idle');
      assert.equal(await stateSeries('idle'), 1);
      assert.equal(await stateSeries('retrying'), 0);
    });

    it('after a recovery, the same failure is told again', async () => {
      sink.failNext(1, 503);
      const caught = await load([sinkNode(), emit('a'), out('a')]);
      send('a', 'e-1');
      await waitFor(() => sink.received.length === 1, 'the first delivery', 10_000);
      sink.failNext(1, 503);
      send('a', 'e-2');
      await waitFor(() => sink.received.length === 2, 'the second delivery', 10_000);
      assert.deepEqual(caught.map(code), ['CE_DELIVERY_FAILED', 'CE_DELIVERY_FAILED']);
    });
  });

  describe('two emits, one sink config node', () => {
    it('share its pool and its one copy of the secret; each keeps its own mode', async () => {
      await load([sinkNode(), emit('a'), out('a'), emit('b', { mode: 'structured' }), out('b')]);
      const outputs = { a: [] as Msg[], b: [] as Msg[] };
      helper.getNode('a-out').on('input', (m: Msg) => outputs.a.push(m));
      helper.getNode('b-out').on('input', (m: Msg) => outputs.b.push(m));
      for (let i = 0; i < 5; i++) {
        // One after the other, each once the last has left the connection: a shared pool needs only one.
        send('a', `a-${i}`);
        await waitFor(() => outputs.a.length === i + 1, `a-${i}`);
        await delay(20);
        send('b', `b-${i}`);
        await waitFor(() => outputs.b.length === i + 1, `b-${i}`);
        await delay(20);
      }
      assert.deepEqual(
        sink.received.map((r) => `${String(r.event.id)} ${r.mode}`),
        [0, 1, 2, 3, 4].flatMap((i) => [`a-${i} binary`, `b-${i} structured`]),
      );
      // Ten requests taking turns from two nodes went over one keep-alive connection.
      assert.equal(sink.connections, 1);
      assert.ok(sink.log.every((l) => l.authorization === `Bearer ${SECRET}`));
      // The secret is the sink's alone: the emits hold none.
      const tokenOf = (id: string) =>
        (helper.getNode(id) as unknown as { credentials: Msg }).credentials.token;
      for (const id of ['a', 'b']) assert.equal(tokenOf(id), undefined);
      assert.equal(tokenOf('sinkcfg'), SECRET);
      assert.ok(!loggedText().includes(SECRET));
    });

    it('one emit stopping (a changed node redeployed) leaves the pool to the other', async () => {
      const nodes = [sinkNode(), emit('a'), out('a'), emit('b'), out('b')];
      await load(nodes);
      const got: Msg[] = [];
      helper.getNode('b-out').on('input', (m: Msg) => got.push(m));
      send('a', 'a-1');
      await waitFor(() => sink.received.length === 1, 'a-1');
      await helper.setFlows(
        [
          { id: 'tab', type: 'tab' },
          ...nodes.filter((n) => n.id !== 'a' && n.id !== 'a-out'),
          ...catchAll('tab'),
        ],
        'nodes',
      );
      send('b', 'b-1');
      await waitFor(() => got.length === 1, 'b-1 after a left');
      assert.equal((got[0]!.payload as { status: number }).status, 202);
    });

    it("settings of the sink that cannot work are each emit's setting error, at its Catch", async () => {
      const caught = await load([sinkNode({ url: 'ftp://sink' }), emit('a'), out('a'), emit('b'), out('b')]);
      await waitFor(() => caught.length === 2, 'both emits');
      assert.deepEqual(
        caught
          .map((m) => [(m.error as { source: { id: string } }).source.id, (m.error as { code: string }).code])
          .sort(),
        [
          ['a', 'CE_CONFIG_INVALID'],
          ['b', 'CE_CONFIG_INVALID'],
        ],
      );
    });

    it('a sink config node that is not deployed is a setting error of the emit', async () => {
      const caught = await load([emit('a', { sink: 'gone' }), out('a')], {});
      await waitFor(() => caught.length === 1, 'the error');
      assert.equal((caught[0]!.error as { code: string }).code, 'CONFIG_NODE_MISSING');
    });
  });
});
