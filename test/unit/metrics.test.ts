/**
 * The one set of counters: rates and history from the sampler, and the
 * Prometheus text made from exactly those counters.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { messageCount } from '../../nodes/common/glue';
import { NodeMetrics, allMetrics, metricsFor, retain } from '../../nodes/common/metrics';
import { prometheusRegistry } from '../../nodes/operations/prometheus';

const MINUTE = 60_000;

/** Prometheus text → "name{labels}" → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('metrics', () => {
  afterEach(() => retain(() => false));

  it('counts events per rolling minute and per clock minute, and notes when the last came', () => {
    const m = new NodeMetrics('n1', 'vcd-subscribe', 'sub', 'tab');
    const t0 = 100 * MINUTE; // the start of a clock minute
    m.sample(t0);
    assert.equal(m.lastEventAt, undefined);
    m.received += 5;
    m.sample(t0 + 1000);
    assert.equal(m.lastEventAt, t0 + 1000);
    assert.equal(m.perMinuteNow, 5);
    for (let s = 2; s <= 61; s++) m.sample(t0 + s * 1000);
    // Sixty seconds later the five have left the rolling minute, but stay in their clock minute.
    assert.equal(m.perMinuteNow, 0);
    assert.deepEqual(m.perMinute, [5, 0]);
    assert.equal(m.lastEventAt, t0 + 1000);
    m.received += 3;
    m.sample(t0 + 4 * MINUTE); // two minutes without a sample (a busy event loop) count as zero
    assert.deepEqual(m.perMinute, [5, 0, 0, 0, 3]);
  });

  it('keeps thirty minutes of history', () => {
    const m = new NodeMetrics('n1', 'event-decode', '', undefined);
    for (let i = 0; i < 45; i++) {
      m.received += i;
      m.sample(i * MINUTE);
    }
    assert.equal(m.perMinute.length, 30);
    assert.equal(m.perMinute[29], 44);
  });

  it('counts a drop from connected as a reconnect, not every retry after it', () => {
    const m = new NodeMetrics('n1', 'vcd-login', '', undefined);
    for (const s of ['connecting', 'connected', 'reconnecting', 'reconnecting', 'connected', 'reconnecting'])
      m.setState(s);
    assert.equal(m.reconnects, 2);
  });

  it('takes queue, retries, dead letters and drops from a delivery', () => {
    const m = new NodeMetrics('n1', 'cloudevent-emit', '', undefined);
    m.fromDelivery({ queued: 3, inFlight: 2, waiting: 1, delivered: 10, failed: 2, dropped: 1, retries: 4 });
    assert.deepEqual(
      [m.queueDepth, m.delivered, m.deadLettered, m.dropped, m.retried, m.spoolDepth],
      [6, 10, 2, 1, 4, 0],
    );
  });

  it('gives the sidebar a snapshot of the counters, the rate and the history, apart from the live metrics', () => {
    const m = new NodeMetrics('n1', 'cloudevent-emit', 'emit', 'tab');
    m.received = 4;
    m.delivered = 3;
    m.deadLettered = 1;
    m.setState('connected');
    m.sample(0);
    const snap = m.snapshot();
    assert.deepEqual(
      [snap.id, snap.type, snap.name, snap.z, snap.state, snap.received, snap.delivered, snap.deadLettered],
      ['n1', 'cloudevent-emit', 'emit', 'tab', 'connected', 4, 3, 1],
    );
    assert.deepEqual([snap.perMinute, snap.history], [4, [4]]);
    m.received++;
    m.sample(1000);
    assert.deepEqual([snap.received, snap.history], [4, [4]], 'a snapshot does not move with the node');
  });

  it('keeps a redeployed node\u2019s counters and forgets nodes no longer deployed', () => {
    const a = metricsFor({ id: 'a', type: 'event-decode', name: 'one' });
    a.received = 7;
    assert.equal(metricsFor({ id: 'a', type: 'event-decode', name: 'renamed' }), a);
    assert.equal(a.name, 'renamed');
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

  it('serves the counters in the Prometheus text format, labelled by node id, name and type', async () => {
    const sub = metricsFor({ id: 's1', type: 'vcd-subscribe', name: 'VCD "events"' });
    sub.received = 12;
    sub.sent = 11;
    sub.decoded = 11;
    sub.setState('connected');
    sub.error('VCD_AUTH_FAILED');
    sub.setProgress('recovering', 1200, 5000);
    const emit = metricsFor({ id: 'e1', type: 'cloudevent-emit', name: '' });
    emit.fromDelivery({
      queued: 4,
      inFlight: 0,
      waiting: 0,
      delivered: 9,
      failed: 1,
      dropped: 2,
      retries: 3,
    });
    const registry = prometheusRegistry();
    const text = await registry.metrics();
    assert.match(text, /# TYPE dcevents_received_total counter/);
    assert.match(text, /# TYPE dcevents_queue_depth gauge/);
    const values = parse(text);
    const s = 'id="s1",name="VCD \\"events\\"",type="vcd-subscribe"';
    const e = 'id="e1",name="",type="cloudevent-emit"';
    assert.equal(values.get(`dcevents_received_total{${s}}`), 12);
    assert.equal(values.get(`dcevents_sent_total{${s}}`), 11);
    assert.equal(values.get(`dcevents_decoded_total{${s}}`), 11);
    assert.equal(values.get(`dcevents_errors_total{${s}}`), 1);
    assert.equal(values.get(`dcevents_state{${s},state="connected"}`), 1);
    assert.equal(values.get(`dcevents_progress_done{${s}}`), 1200);
    assert.equal(values.get(`dcevents_progress_total{${s}}`), 5000);
    assert.ok(
      (values.get(`dcevents_last_error_timestamp_seconds{${s},code="VCD_AUTH_FAILED"}`) ?? 0) > 1.7e9,
    );
    assert.equal(values.get(`dcevents_delivered_total{${e}}`), 9);
    assert.equal(values.get(`dcevents_dead_lettered_total{${e}}`), 1);
    assert.equal(values.get(`dcevents_dropped_total{${e}}`), 2);
    assert.equal(values.get(`dcevents_retries_total{${e}}`), 3);
    assert.equal(values.get(`dcevents_queue_depth{${e}}`), 4);
    // A scrape reads the counters as they are now.
    sub.received = 20;
    assert.equal(parse(await registry.metrics()).get(`dcevents_received_total{${s}}`), 20);
    // Not prom-client's global registry, which other packages in the same Node-RED fill.
    const { register } = await import('prom-client');
    assert.doesNotMatch(await register.metrics(), /dcevents_/);
  });

  it('documents every metric it serves, and the Grafana dashboard asks only for those', async () => {
    const docs = path.resolve(__dirname, '../../../docs');
    const served = (await prometheusRegistry().getMetricsAsJSON()).map((m) => m.name);
    const listed = fs.readFileSync(path.join(docs, 'operations.md'), 'utf8');
    for (const name of served) assert.ok(listed.includes(`\`${name}\``), `${name} in docs/operations.md`);
    const grafana = fs.readFileSync(path.join(docs, 'grafana-dashboard.json'), 'utf8');
    const asked = new Set(grafana.match(/dcevents_[a-z_]+/g));
    assert.ok(asked.size > 5);
    for (const name of asked) assert.ok(served.includes(name), `${name} (Grafana) is served`);
  });
});
