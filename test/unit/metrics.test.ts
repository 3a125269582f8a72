/**
 * The one set of counters: what applies to a node, rates and history from the
 * sampler, what a redeploy keeps, and what the sidebar tab receives.
 */
import assert from 'node:assert/strict';
import { messageCount } from '../../nodes/common/glue';
import { Histogram, NodeMetrics, allMetrics, metricsFor, retain } from '../../nodes/common/metrics';

const MINUTE = 60_000;

describe('metrics', () => {
  afterEach(() => retain(() => false));

  it('counts events per rolling minute and per clock minute, and notes when the last came', () => {
    const m = new NodeMetrics('n1', 'event-decode', 'decode', 'tab').uses('inputs');
    const t0 = 100 * MINUTE; // the start of a clock minute
    m.sample(t0);
    assert.equal(m.lastEventAt, undefined);
    m.inputs += 5;
    m.sample(t0 + 1000);
    assert.equal(m.lastEventAt, t0 + 1000);
    assert.equal(m.perMinuteNow, 5);
    for (let s = 2; s <= 61; s++) m.sample(t0 + s * 1000);
    // Sixty seconds later the five have left the rolling minute, but stay in their clock minute.
    assert.equal(m.perMinuteNow, 0);
    assert.deepEqual(m.perMinute, [5, 0]);
    assert.equal(m.lastEventAt, t0 + 1000);
    m.inputs += 3;
    m.sample(t0 + 4 * MINUTE); // two minutes without a sample (a busy event loop) count as zero
    assert.deepEqual(m.perMinute, [5, 0, 0, 0, 3]);
  });

  it('keeps thirty minutes of history', () => {
    const m = new NodeMetrics('n1', 'event-decode', '', undefined);
    for (let i = 0; i < 45; i++) {
      m.inputs += i;
      m.sample(i * MINUTE);
    }
    assert.equal(m.perMinute.length, 30);
    assert.equal(m.perMinute[29], 44);
  });

  it('takes, for a node that receives events from a system, those events, not the commands on its input', () => {
    const m = new NodeMetrics('s1', 'aci-subscribe', '', undefined).uses('received', 'inputs');
    m.sample(0);
    m.inputs += 2; // msg.subscribe, msg.action
    m.received += 7;
    m.sample(1000);
    assert.equal(m.perMinuteNow, 7);
  });

  it('counts a drop from connected as a reconnect where the node holds the connection, not every retry after it', () => {
    const states = ['connecting', 'connected', 'reconnecting', 'reconnecting', 'connected', 'reconnecting'];
    const holder = new NodeMetrics('n1', 'vcd-login', '', undefined).holdsConnection();
    const user = new NodeMetrics('n2', 'vcd-subscribe', '', undefined).showsConnection();
    for (const s of states) {
      holder.setState(s);
      user.setState(s);
    }
    assert.equal(holder.reconnects, 2);
    assert.equal(user.reconnects, 0, 'the node using the connection: the same drop is not counted twice');
    assert.deepEqual(holder.counters(), ['reconnects', 'errors']);
    assert.deepEqual(user.counters(), ['errors']);
  });

  it('serves only what applies to a node, and a counter that moved whoever forgot to say so', () => {
    const m = new NodeMetrics('n1', 'event-decode', '', undefined).uses(
      'inputs',
      'sent',
      'errors',
      'decoded',
    );
    assert.deepEqual(m.counters(), ['inputs', 'decoded', 'sent', 'errors']);
    assert.equal(m.applies('queue'), false);
    m.dropped = 1;
    assert.deepEqual(m.counters(), ['inputs', 'decoded', 'sent', 'dropped', 'errors']);
  });

  it('serves the states a node can be in, and the one it is in even if unforeseen', () => {
    const m = new NodeMetrics('n1', 'vcd-subscribe', '', undefined).showsConnection();
    assert.deepEqual(m.states().sort(), [
      'auth-failed',
      'bad settings',
      'closed',
      'connected',
      'connecting',
      'idle',
      'reconnecting',
    ]);
    m.setState('retrying');
    assert.ok(m.states().includes('retrying'));
    const decode = new NodeMetrics('d', 'event-decode', '', undefined);
    assert.deepEqual(decode.states(), [], 'a node without states');
    decode.setState('bad settings');
    assert.deepEqual(decode.states(), ['bad settings']);
  });

  it('takes the queue, retries, dead letters and drops from a delivery; with a spool, the queue is what it holds', () => {
    const m = new NodeMetrics('n1', 'cloudevent-emit', '', undefined);
    m.fromDelivery({ queued: 3, inFlight: 2, waiting: 1, delivered: 10, failed: 2, dropped: 1, retries: 4 });
    assert.deepEqual(
      [m.queueDepth, m.delivered, m.deadLettered, m.dropped, m.retried, m.spoolBytes],
      [6, 10, 2, 1, 4, 0],
    );
    m.fromDelivery({
      ...{ queued: 3, inFlight: 2, waiting: 1, delivered: 10, failed: 2, dropped: 1, retries: 4 },
      spooled: 40,
      spooledBytes: 12_345,
    });
    assert.deepEqual(
      [m.queueDepth, m.spoolBytes],
      [41, 12_345],
      'spooled (queued and in flight among them) + waiting',
    );
  });

  it('counts latencies into buckets: a value on a bound is in it, just above is in the next', () => {
    const h = new Histogram([0.01, 0.1, 1]);
    for (const s of [0.01, 0.0101, 0.1, 0.5, 3]) h.observe(s);
    assert.deepEqual(h.counts, [1, 2, 1, 1]);
    assert.equal(h.count, 5);
    assert.ok(Math.abs(h.sum - 3.6201) < 1e-9);
  });

  it('gives the sidebar what applies to a node as it is now, apart from the live metrics', () => {
    const m = new NodeMetrics('n1', 'cloudevent-emit', 'emit', 'tab').uses(
      'inputs',
      'delivered',
      'deadLettered',
      'queue',
    );
    m.inputs = 4;
    m.delivered = 3;
    m.deadLettered = 1;
    m.queueDepth = 2;
    m.setProgress('reading', 20, 50, 'fvBD');
    m.sample(0);
    const snap = m.snapshot();
    assert.deepEqual(
      [snap.id, snap.type, snap.name, snap.z, snap.state, snap.spool],
      ['n1', 'cloudevent-emit', 'emit', 'tab', 'idle', undefined],
    );
    assert.deepEqual(snap.counts, { inputs: 4, delivered: 3, deadLettered: 1 });
    assert.deepEqual(snap.progress, { work: 'reading', done: 20, total: 50, subject: 'fvBD' });
    assert.deepEqual([snap.perMinute, snap.history], [4, [4]]);
    m.inputs++;
    m.sample(1000);
    assert.deepEqual([snap.counts.inputs, snap.history], [4, [4]], 'a snapshot does not move with the node');
  });

  it('keeps a redeployed node\u2019s counters, forgets what it was, and forgets nodes no longer deployed', () => {
    const a = metricsFor({ id: 'a', type: 'vcd-login', name: 'one' }).holdsConnection();
    a.logins = 7;
    a.setState('auth-failed');
    a.setProgress('recovering', 1, 2);
    a.restart(); // deployed again
    assert.equal(metricsFor({ id: 'a', type: 'vcd-login', name: 'renamed' }), a);
    assert.deepEqual([a.name, a.logins, a.state, a.progress], ['renamed', 7, 'idle', undefined]);
    assert.deepEqual(a.counters(), ['logins'], 'what applies is said again by the new node');
    metricsFor({ id: 'b', type: 'event-decode' });
    retain((id) => id === 'b');
    assert.deepEqual(
      allMetrics().map((m) => m.id),
      ['b'],
    );
  });

  it('counts the messages of a send: one, or one per output and list entry', () => {
    assert.equal(messageCount({ payload: 1 }), 1);
    assert.equal(messageCount([{}, null]), 1);
    assert.equal(messageCount([[{}, {}, {}], null]), 3);
    assert.equal(messageCount([null, null]), 0);
  });
});
