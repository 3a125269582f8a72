/**
 * GET /dcevents/metrics as Prometheus reads it: names and labels by its
 * guidelines, a series only for what applies to a node (from zero), states as
 * 0/1, names only in the info metric, the build, and the delivery latency
 * histogram, all read from the nodes' counters at each scrape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { metricsFor, retain, type NodeMetrics } from '../../nodes/common/metrics';
import { prometheusRegistry } from '../../nodes/operations/prometheus';
import { parseExposition, valueOf, type Sample } from '../support/prometheus';

const ROOT = path.resolve(__dirname, '../../..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** A flow as the nodes' own helpers declare it: a subscribe node, a decoder, an emit with a spool, a login. */
function deployed(): Record<string, NodeMetrics> {
  const login = metricsFor({ id: 'l1', type: 'vcd-login', name: 'acme' }).holdsConnection().uses('logins');
  login.setState('connected');
  login.logins = 2;
  const sub = metricsFor({ id: 's1', type: 'vcd-subscribe', name: 'VCD "events"', z: 'tab1' })
    .showsConnection()
    .uses('received', 'sent', 'errors', 'recovered', 'paused');
  sub.setState('connected');
  sub.received = 12;
  sub.sent = 12;
  sub.error('VCD_AUTH_FAILED');
  sub.setProgress('recovering', 1200, 5000);
  const decode = metricsFor({ id: 'd1', type: 'event-decode', name: 'decode', z: 'tab1' }).uses(
    'inputs',
    'sent',
    'errors',
    'decoded',
  );
  decode.inputs = 12;
  decode.decoded = 12;
  const emit = metricsFor({ id: 'e1', type: 'cloudevent-emit', name: '', z: 'tab2' })
    .uses(
      'inputs',
      'sent',
      'errors',
      'delivered',
      'retried',
      'deadLettered',
      'dropped',
      'queue',
      'latency',
      'spool',
    )
    .canBe('idle', 'sink gone');
  emit.fromDelivery({
    ...{ queued: 4, inFlight: 0, waiting: 0, delivered: 9, failed: 1, dropped: 2, retries: 3 },
    ...{ spooled: 4, spooledBytes: 2048 },
  });
  emit.spoolLimitBytes = 1024 * 1024;
  for (const s of [0.003, 0.02, 0.02, 7]) emit.deliveryLatency.observe(s);
  return { login, sub, decode, emit };
}

describe('Prometheus metrics', () => {
  afterEach(() => retain(() => false));

  const scrape = async (context = {}) => parseExposition(await prometheusRegistry(context).metrics());
  const of = (samples: Sample[], name: string, id?: string) =>
    samples.filter((s) => s.name === name && (id === undefined || s.labels.node_id === id));
  const value = valueOf;

  it('names metrics and labels by the guidelines: snake case, counters _total, units in the name, no rates', async () => {
    deployed();
    const text = await prometheusRegistry().metrics();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.ok(types.size > 20);
    for (const [name, type] of types) {
      assert.match(name as string, /^dcevents_[a-z][a-z0-9_]*[a-z]$/, name);
      assert.equal(
        (name as string).endsWith('_total'),
        type === 'counter',
        `${name}: _total if and only if a counter`,
      );
      if (type === 'gauge' && /timestamp|latency|seconds/.test(name as string))
        assert.match(name as string, /_seconds$/);
    }
    assert.ok(
      ![...types.keys()].some((n) => /per_minute|rate/.test(n as string)),
      'no rate computed in the package',
    );
    assert.match(text, /^# HELP dcevents_delivery_latency_seconds .+$/m);
    assert.equal(types.get('dcevents_delivery_latency_seconds'), 'histogram');
  });

  it('labels node series by node_id and type only: the editable name is in dcevents_node_info alone', async () => {
    deployed();
    const samples = await scrape({
      flowName: (z: string | undefined) => ({ tab1: 'VCD events' })[z ?? ''] ?? '',
    });
    const allowed = new Set(['node_id', 'type', 'state', 'code', 'work', 'le']);
    for (const s of samples) {
      if (s.name === 'dcevents_node_info' || s.name === 'dcevents_build_info') continue;
      for (const label of Object.keys(s.labels)) assert.ok(allowed.has(label), `${s.name}: label ${label}`);
      assert.ok(s.labels.node_id && s.labels.type, `${s.name}: node_id and type`);
    }
    assert.deepEqual(
      of(samples, 'dcevents_node_info', 's1').map((s) => [s.labels, s.value]),
      [[{ node_id: 's1', type: 'vcd-subscribe', name: 'VCD "events"', flow: 'VCD events' }, 1]],
    );
    assert.equal(of(samples, 'dcevents_node_info').length, 4, 'one per node');
    assert.equal(value(samples, 'dcevents_node_info', { node_id: 'l1' }), 1);
    assert.equal(of(samples, 'dcevents_node_info', 'l1')[0]?.labels.flow, '', 'a config node is on no flow');
  });

  it('serves a counter only where it applies, from zero, each with one meaning', async () => {
    const { sub } = deployed();
    const samples = await scrape();
    const counters = (id: string) =>
      samples
        .filter((s) => s.labels.node_id === id && s.name.endsWith('_total'))
        .map((s) => `${s.name}=${s.value}`)
        .sort();
    assert.deepEqual(counters('s1'), [
      'dcevents_errors_total=1',
      'dcevents_output_messages_total=12',
      'dcevents_received_events_total=12',
      'dcevents_recovered_events_total=0',
      'dcevents_recoveries_paused_total=0',
    ]);
    assert.deepEqual(counters('d1'), [
      'dcevents_decoded_events_total=12',
      'dcevents_errors_total=0',
      'dcevents_input_messages_total=12',
      'dcevents_output_messages_total=0',
    ]);
    assert.deepEqual(counters('l1'), [
      'dcevents_errors_total=0',
      'dcevents_logins_total=2',
      'dcevents_reconnects_total=0',
    ]);
    assert.deepEqual(counters('e1'), [
      'dcevents_dead_letters_total=1',
      'dcevents_delivered_events_total=9',
      'dcevents_delivery_retries_total=3',
      'dcevents_dropped_events_total=2',
      'dcevents_errors_total=0',
      'dcevents_input_messages_total=0',
      'dcevents_output_messages_total=0',
    ]);
    // One event from VCD through decode: received once (by the subscribe node), not once per node it passed.
    const received = of(samples, 'dcevents_received_events_total').reduce((n, s) => n + s.value, 0);
    assert.equal(received, 12);
    // A scrape reads the counters as they are now.
    sub.received = 20;
    assert.equal(value(await scrape(), 'dcevents_received_events_total', { node_id: 's1' }), 20);
  });

  it('serves each state a node can be in as 0 or 1, with label values without spaces', async () => {
    const { sub, emit } = deployed();
    const samples = await scrape();
    const states = (id: string) =>
      Object.fromEntries(of(samples, 'dcevents_state', id).map((s) => [s.labels.state, s.value]));
    assert.deepEqual(states('s1'), {
      idle: 0,
      connecting: 0,
      connected: 1,
      reconnecting: 0,
      auth_failed: 0,
      closed: 0,
      bad_settings: 0,
    });
    assert.deepEqual(states('e1'), { idle: 1, sink_gone: 0 });
    assert.deepEqual(states('d1'), {}, 'a node without states: none');
    sub.setState('auth-failed');
    emit.setState('sink gone');
    const after = await scrape();
    assert.equal(value(after, 'dcevents_state', { node_id: 's1', state: 'auth_failed' }), 1);
    assert.equal(value(after, 'dcevents_state', { node_id: 's1', state: 'connected' }), 0);
    assert.equal(value(after, 'dcevents_state', { node_id: 'e1', state: 'sink_gone' }), 1);
    for (const s of of(after, 'dcevents_state')) assert.match(s.labels.state as string, /^[a-z0-9_]+$/);
  });

  it('serves the queue and spool of an emit, the last error with its code and long work under way', async () => {
    deployed();
    const samples = await scrape();
    assert.equal(value(samples, 'dcevents_queued_events', { node_id: 'e1' }), 4);
    assert.equal(value(samples, 'dcevents_spool_bytes', { node_id: 'e1' }), 2048);
    assert.equal(value(samples, 'dcevents_spool_limit_bytes', { node_id: 'e1' }), 1024 * 1024);
    assert.deepEqual(
      of(samples, 'dcevents_queued_events').map((s) => s.labels.node_id),
      ['e1'],
      'an emit only',
    );
    const at = value(samples, 'dcevents_last_error_timestamp_seconds', {
      node_id: 's1',
      code: 'VCD_AUTH_FAILED',
    });
    assert.ok(at !== undefined && Math.abs(at - Date.now() / 1000) < 60, 'seconds since the epoch, now');
    assert.equal(value(samples, 'dcevents_progress_done_items', { node_id: 's1', work: 'recovering' }), 1200);
    assert.equal(
      value(samples, 'dcevents_progress_target_items', { node_id: 's1', work: 'recovering' }),
      5000,
    );
    assert.equal(of(samples, 'dcevents_progress_done_items').length, 1, 'absent where no work runs');
  });

  it('serves the delivery latency as a cumulative histogram per emit', async () => {
    deployed();
    const samples = await scrape();
    const bucket = (le: string) =>
      value(samples, 'dcevents_delivery_latency_seconds_bucket', { node_id: 'e1', le });
    // 3 ms, 20 ms twice, 7 s
    assert.deepEqual(['0.005', '0.01', '0.025', '5', '10', '300', '+Inf'].map(bucket), [1, 1, 3, 3, 4, 4, 4]);
    assert.equal(value(samples, 'dcevents_delivery_latency_seconds_count', { node_id: 'e1' }), 4);
    assert.ok(
      Math.abs((value(samples, 'dcevents_delivery_latency_seconds_sum', { node_id: 'e1' }) ?? 0) - 7.043) <
        1e-9,
    );
    assert.deepEqual(
      [...new Set(of(samples, 'dcevents_delivery_latency_seconds_bucket').map((s) => s.labels.node_id))],
      ['e1'],
    );
  });

  it('serves the versions of the package, Node-RED and Node.js', async () => {
    const samples = await scrape({ nodered: '4.1.15' });
    assert.deepEqual(
      of(samples, 'dcevents_build_info').map((s) => [s.labels, s.value]),
      [[{ version: VERSION, nodered: '4.1.15', nodejs: process.versions.node }, 1]],
    );
  });

  it('keeps to a registry of its own, not prom-client\u2019s global one', async () => {
    deployed();
    const { register } = await import('prom-client');
    assert.doesNotMatch(await register.metrics(), /dcevents_/);
  });
});
