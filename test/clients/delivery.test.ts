import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload } from '../../nodes/events/cloudevent';
import { Delivery, type DeliveryOptions, type DeliveryResult } from '../../nodes/events/delivery';
import { SinkSimulator } from '../../sim/sink';
import { delay, waitFor } from '../support/wait';

const event = (n: number, extra: Partial<CloudEvent> = {}): CloudEvent => ({
  ...fromPayload({ n }, { type: 'com.example.test', source: '/tests', subject: `item ${n}` }),
  ...extra,
});

type Outcome = { ok: true; result: DeliveryResult } | { ok: false; error: CodedError };
const settle = (p: Promise<DeliveryResult>): Promise<Outcome> =>
  p.then(
    (result) => ({ ok: true as const, result }),
    (error: CodedError) => ({ ok: false as const, error }),
  );

describe('CloudEvents delivery (against the sink simulator)', () => {
  let sink: SinkSimulator;
  const deliveries: Delivery[] = [];

  beforeEach(async () => {
    sink = await SinkSimulator.start();
  });
  afterEach(async () => {
    await Promise.all(deliveries.splice(0).map((d) => d.close()));
    await sink.stop();
  });

  function open(options: Partial<DeliveryOptions> = {}): Delivery {
    const d = new Delivery({
      url: `${sink.url}/events`,
      tls: { ca: sink.cert },
      retry: { initialMs: 20, maxMs: 200, budgetMs: 10_000 },
      ...options,
    });
    deliveries.push(d);
    return d;
  }

  it('binary mode: the sink validates and reads every attribute, a non-ASCII subject included', async () => {
    const d = open();
    const ce = event(1, { subject: 'vApp "lab-é-ü" 100%', time: '2026-11-22T13:45:12.123456+01:00' });
    const result = await d.send(ce);
    assert.deepEqual(
      { status: result.status, attempts: result.attempts, events: result.events },
      { status: 202, attempts: 1, events: 1 },
    );
    const got = sink.received[0]!;
    assert.equal(got.mode, 'binary');
    assert.equal(got.event.subject, 'vApp "lab-é-ü" 100%');
    assert.equal(got.event.time, '2026-11-22T13:45:12.123456+01:00');
    assert.deepEqual(got.event.data, { n: 1 });
    assert.deepEqual(sink.rejected, []);
  });

  it('structured mode', async () => {
    const d = open({ mode: 'structured' });
    await d.send(event(1));
    assert.equal(sink.received[0]!.mode, 'structured');
    assert.equal(sink.received[0]!.event.id, event(1).id);
  });

  it('batch mode: full batches at once, the rest after the linger time', async () => {
    const d = open({ mode: 'batch', batchSize: 10, lingerMs: 100, concurrency: 1 });
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => d.send(event(i))));
    assert.equal(sink.requests, 3);
    assert.deepEqual(
      results.map((r) => r.events),
      [...Array(20).fill(10), ...Array(5).fill(5)],
    );
    assert.deepEqual(
      sink.received.map((r) => (r.event.data as { n: number }).n),
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.ok(sink.received.every((r) => r.mode === 'batch'));
  });

  it('retries 503 and succeeds', async () => {
    const d = open();
    sink.failNext(2, 503);
    const result = await d.send(event(1));
    assert.equal(result.attempts, 3);
    assert.equal(sink.requests, 3);
    assert.equal(sink.received.length, 1);
    assert.equal(d.stats.retries, 2);
  });

  it('honours Retry-After on 429', async () => {
    const d = open();
    sink.failNext(1, 429, '1');
    const result = await d.send(event(1));
    assert.equal(result.attempts, 2);
    const [first, second] = sink.log;
    assert.ok(second!.at - first!.at >= 900, `waited ${second!.at - first!.at} ms, Retry-After said 1 s`);
  });

  it('does not retry 400', async () => {
    const d = open();
    sink.failNext(1, 400);
    const out = await settle(d.send(event(1)));
    assert.ok(!out.ok);
    assert.equal(out.error.code, 'CE_DELIVERY_REJECTED');
    assert.equal(out.error.details?.status, 400);
    assert.equal(sink.requests, 1);
  });

  it('stops at 410 Gone: this and every later event fail without another request', async () => {
    const d = open({ concurrency: 1 });
    sink.faults.gone = true;
    const outcomes = await Promise.all([1, 2, 3].map((n) => settle(d.send(event(n)))));
    assert.deepEqual(
      outcomes.map((o) => !o.ok && o.error.code),
      ['CE_SINK_GONE', 'CE_SINK_GONE', 'CE_SINK_GONE'],
    );
    const later = await settle(d.send(event(4)));
    assert.ok(!later.ok && later.error.code === 'CE_SINK_GONE');
    assert.equal(sink.requests, 1);
    assert.match(outcomes[0]!.ok ? '' : outcomes[0]!.error.message, /410/);
  });

  it('delivers every event after the sink was down for a while, each exactly once', async () => {
    const d = open({ concurrency: 4 });
    sink.setDown(true);
    const pending = Array.from({ length: 50 }, (_, i) => settle(d.send(event(i))));
    await waitFor(() => d.stats.retries >= 4, 'retries while the sink is down');
    sink.setDown(false);
    const outcomes = await Promise.all(pending);
    assert.ok(
      outcomes.every((o) => o.ok),
      'every event delivered',
    );
    const counts = sink.counts();
    assert.equal(counts.size, 50);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      'none twice: the sink never answered while down',
    );
  });

  it('a duplicate happens only where a retry explains it (timeout while the sink was slow)', async () => {
    const d = open({ timeoutMs: 150 });
    sink.faults.slowMs = 400;
    const pending = settle(d.send(event(1)));
    await delay(250);
    sink.faults.slowMs = 0;
    const out = await pending;
    assert.ok(out.ok);
    await waitFor(() => sink.log.every((l) => l.status !== 0), 'the slow requests to finish at the sink');
    const copies = sink.counts().get(`/tests ${event(1).id}`) ?? 0;
    assert.ok(
      copies >= 1 && copies <= out.result.attempts,
      `${copies} copies for ${out.result.attempts} attempts`,
    );
  });

  it('gives up when the retry budget is spent, with the last answer', async () => {
    const d = open({ retry: { initialMs: 20, maxMs: 50, budgetMs: 300 } });
    sink.failNext(1000, 503);
    const out = await settle(d.send(event(1)));
    assert.ok(!out.ok);
    assert.equal(out.error.code, 'CE_DELIVERY_FAILED');
    assert.match(out.error.message, /503.*retries ran out/);
  });

  describe('queue full', () => {
    async function fill(policy: DeliveryOptions['onFull']): Promise<Outcome[]> {
      const d = open({ queueLimit: 2, concurrency: 1, onFull: policy });
      sink.faults.slowMs = 150;
      const sends = [1, 2, 3, 4, 5].map((n) => settle(d.send(event(n))));
      if (policy === 'wait') await waitFor(() => d.stats.waiting > 0, 'events waiting for room');
      const outcomes = await Promise.all(sends);
      assert.ok(d.stats.queued <= 2);
      return outcomes;
    }
    const delivered = () => sink.received.map((r) => (r.event.data as { n: number }).n);

    it('reject-new refuses new events and counts them', async () => {
      const outcomes = await fill('reject-new');
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
        ['ok', 'ok', 'ok', 'CE_QUEUE_FULL', 'CE_QUEUE_FULL'],
      );
      assert.deepEqual(delivered(), [1, 2, 3]);
      assert.equal(deliveries[0]!.stats.dropped, 2);
    });

    it('drop-oldest drops the oldest queued events for the new ones', async () => {
      const outcomes = await fill('drop-oldest');
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
        ['ok', 'CE_DROPPED', 'CE_DROPPED', 'ok', 'ok'],
      );
      assert.deepEqual(delivered(), [1, 4, 5]);
      assert.equal(deliveries[0]!.stats.dropped, 2);
    });

    it('wait holds new events back until there is room, and loses none', async () => {
      const outcomes = await fill('wait');
      assert.ok(outcomes.every((o) => o.ok));
      assert.deepEqual(delivered(), [1, 2, 3, 4, 5]);
      assert.equal(deliveries[0]!.stats.dropped, 0);
    });
  });

  it('sends bearer and basic credentials', async () => {
    await open({ auth: { type: 'bearer', token: 't0ken-Secret' } }).send(event(1));
    await open({ auth: { type: 'basic', username: 'nr', password: 'pw-Secret' } }).send(event(2));
    assert.equal(sink.log[0]!.authorization, 'Bearer t0ken-Secret');
    assert.equal(sink.log[1]!.authorization, `Basic ${Buffer.from('nr:pw-Secret').toString('base64')}`);
  });

  it('does the webhook handshake once, and refuses to send when the origin is not allowed', async () => {
    const d = open({ handshake: true, origin: 'nr-test' });
    await d.send(event(1));
    await d.send(event(2));
    assert.equal(sink.received.length, 2);
    sink.faults.allowOrigin = 'someone-else';
    const refused = await settle(open({ handshake: true, origin: 'nr-test' }).send(event(3)));
    assert.ok(!refused.ok && refused.error.code === 'CE_HANDSHAKE_FAILED');
    assert.equal(sink.received.length, 2);
  });

  it('refuses an untrusted certificate at once, and accepts it with the CA', async () => {
    const out = await settle(open({ tls: {} }).send(event(1)));
    assert.ok(!out.ok && out.error.code === 'TLS_UNTRUSTED');
    await open({ tls: { insecure: true } }).send(event(2));
    assert.equal(sink.received.length, 1);
  });

  it('on close, queued events fail with CE_DELIVERY_CLOSED instead of vanishing', async () => {
    const d = open({ concurrency: 1 });
    sink.faults.slowMs = 200;
    const sends = [1, 2, 3].map((n) => settle(d.send(event(n))));
    await delay(50);
    await d.close();
    const outcomes = await Promise.all(sends);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
      ['ok', 'CE_DELIVERY_CLOSED', 'CE_DELIVERY_CLOSED'],
    );
  });
});
