/**
 * What a delivery tells the flow about its queue and its failures: the room
 * for events waiting behind a full queue (and the refusal past it), the events
 * a stop lost (counted all, named the first five), the stats, and the
 * `retrying` / `recovered` signals the node's status follows.
 */
import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload } from '../../nodes/events/cloudevent-model';
import { Delivery, type DeliveryResult } from '../../nodes/events/delivery';
import { Sink } from '../../nodes/events/delivery/sink';
import { withSink } from '../support/sink';
import { waitFor } from '../support/wait';

const event = (n: number): CloudEvent =>
  fromPayload({ n }, { type: 'com.example.test', source: '/tests', subject: `item ${n}` });

const outcome = (p: Promise<DeliveryResult>): Promise<string> =>
  p.then(
    () => 'ok',
    (error: CodedError) => error.code,
  );

describe('CloudEvents delivery: queue, stop and failure signals', () => {
  const rig = withSink({ retry: { initialMs: 20, maxMs: 100, budgetMs: 10_000 } });

  /** One request in flight that never ends by itself, `queued` events behind it. */
  async function stalled(d: Delivery, count: number, queued: number): Promise<Promise<string>[]> {
    rig.sink.faults.slowMs = 60_000;
    const sends = Array.from({ length: count }, (_, i) => outcome(d.send(event(i + 1))));
    await waitFor(
      () => rig.sink.log.length === 1 && d.stats.queued === queued,
      'one request in flight, the queue full',
    );
    return sends;
  }

  it('wait: as many events may wait for room as the wait limit says, the next one is refused', async () => {
    const d = rig.open({ concurrency: 1, queueLimit: 2, waitLimit: 3, closeGraceMs: 0 });
    const sends = await stalled(d, 6, 2);
    assert.equal(d.stats.waiting, 3);
    const refused = await d.send(event(7)).catch((err: CodedError) => err);
    assert.equal((refused as CodedError).code, 'CE_QUEUE_FULL');
    assert.match((refused as CodedError).message, /^The queue is full \(2\) and 3 more events wait for room/);
    assert.deepEqual([d.stats.waiting, d.stats.dropped], [3, 1]);
    await d.close();
    assert.deepEqual(await Promise.all(sends), Array(6).fill('CE_DELIVERY_CLOSED'));
  });

  it('wait: without a wait limit, as many events wait as the queue holds', async () => {
    const d = rig.open({ concurrency: 1, queueLimit: 2, closeGraceMs: 0 });
    const sends = await stalled(d, 5, 2);
    assert.equal(d.stats.waiting, 2);
    assert.equal(await outcome(d.send(event(6))), 'CE_QUEUE_FULL');
    await d.close();
    await Promise.all(sends);
  });

  it('a stop counts every event it lost and names the first five; a second stop loses nothing more', async () => {
    const d = rig.open({ concurrency: 1, queueLimit: 10, closeGraceMs: 0 });
    const sends = await stalled(d, 8, 7);
    const report = await d.close();
    assert.equal(report.lost, 8);
    assert.equal(report.ids.length, 5);
    const all = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((n) => event(n).id));
    assert.ok(report.ids.every((id) => all.has(id)));
    assert.deepEqual(await d.close(), { lost: 0, ids: [] });
    assert.deepEqual(await Promise.all(sends), Array(8).fill('CE_DELIVERY_CLOSED'));
  });

  it('a stop waits, within its grace, for the one request still in flight', async () => {
    const d = rig.open({ concurrency: 1, closeGraceMs: 20_000 });
    rig.sink.faults.slowMs = 300;
    const sending = outcome(d.send(event(1)));
    await waitFor(() => rig.sink.log.length === 1, 'the request in flight');
    assert.deepEqual(await d.close(), { lost: 0, ids: [] });
    assert.equal(await sending, 'ok');
  });

  it('batch mode: a full batch goes at once, without its linger time; a partial one goes at a stop', async () => {
    const d = rig.open({ mode: 'batch', batchSize: 3, lingerMs: 600_000, closeGraceMs: 20_000 });
    assert.deepEqual(await Promise.all([1, 2, 3].map((n) => outcome(d.send(event(n))))), ['ok', 'ok', 'ok']);
    assert.equal(rig.sink.log.length, 1, 'one request');
    const partial = [4, 5].map((n) => outcome(d.send(event(n))));
    assert.deepEqual(await d.close(), { lost: 0, ids: [] });
    assert.deepEqual(await Promise.all(partial), ['ok', 'ok']);
    assert.equal(rig.sink.log.length, 2);
  });

  it('wait: events move from waiting into the queue only as far as its limit', async () => {
    const d = rig.open({ concurrency: 1, queueLimit: 2, waitLimit: 10 });
    let most = 0;
    d.on('change', () => (most = Math.max(most, d.stats.queued)));
    rig.sink.faults.slowMs = 30;
    const sends = [1, 2, 3, 4, 5, 6, 7].map((n) => outcome(d.send(event(n))));
    assert.deepEqual(await Promise.all(sends), Array(7).fill('ok'));
    assert.equal(most, 2);
  });

  it('deliveries sharing one sink: a stop of one leaves the sink to the others, and still counts its request in flight', async () => {
    const shared = new Sink({ url: `${rig.sink.url}/events`, tls: { ca: rig.sink.cert } });
    const one = new Delivery({ closeGraceMs: 0 }, shared);
    const other = rig.closeAfter(new Delivery({}, shared));
    rig.sink.faults.slowMs = 60_000;
    const cut = outcome(one.send(event(1)));
    await waitFor(() => rig.sink.log.length === 1, 'the request in flight');
    assert.deepEqual(await one.close(), { lost: 1, ids: [event(1).id] });
    assert.equal(await cut, 'CE_DELIVERY_CLOSED');
    rig.sink.faults.slowMs = 0;
    assert.equal(await outcome(other.send(event(2))), 'ok');
    await other.close();
    await shared.close();
  });

  it('delivers without retry settings of its own, and gives up with the last status and the attempts made', async () => {
    assert.equal(await outcome(rig.open({ retry: undefined }).send(event(1))), 'ok');
    const d = rig.open({ retry: { initialMs: 20, maxMs: 20, budgetMs: 150 } });
    rig.sink.failNext(1000, 503);
    const err = await d.send(event(2)).catch((e: CodedError) => e);
    assert.equal((err as CodedError).code, 'CE_DELIVERY_FAILED');
    assert.deepEqual((err as CodedError).details, { status: 503, attempts: rig.sink.log.length - 1 });
  });

  it('an event that cannot be encoded is refused and counted as failed', async () => {
    const d = rig.open();
    const circle: Record<string, unknown> = {};
    circle.self = circle;
    const ce = { ...event(1), data: circle };
    assert.equal(await outcome(d.send(ce)), 'CE_DATA_UNSERIALIZABLE');
    assert.deepEqual([d.stats.failed, d.stats.queued, rig.sink.log.length], [1, 0, 0]);
  });

  it('counts what it delivered and reports each request’s latency, at most the time it took', async () => {
    const d = rig.open({ concurrency: 1 });
    const started = Date.now();
    const results = [await d.send(event(1)), await d.send(event(2))];
    const took = Date.now() - started;
    for (const r of results)
      assert.ok(r.latencyMs >= 0 && r.latencyMs <= took, `latency ${r.latencyMs} of ${took}`);
    assert.deepEqual([d.stats.delivered, d.stats.failed, d.stats.gone], [2, 0, false]);
  });

  it('signals each retry, and once the sink answers again, that it recovered and after how long', async () => {
    const d = rig.open();
    const signals: string[] = [];
    let failedMs = -1;
    d.on('retrying', (err: CodedError) => signals.push(`retrying ${err.code}`));
    d.on('recovered', (ms: number) => {
      signals.push('recovered');
      failedMs = ms;
    });
    rig.sink.failNext(2, 503);
    assert.equal(d.failing, false);
    const started = Date.now();
    const sending = d.send(event(1));
    await waitFor(() => signals.length > 0, 'the first retry');
    assert.equal(d.failing, true);
    await sending;
    const took = Date.now() - started;
    assert.equal(d.failing, false);
    assert.deepEqual(signals, ['retrying CE_DELIVERY_FAILED', 'retrying CE_DELIVERY_FAILED', 'recovered']);
    assert.ok(failedMs >= 0 && failedMs <= took, `failed for ${failedMs} of ${took} ms`);
    await d.send(event(2));
    assert.equal(signals.length, 3, 'a success after a success recovers from nothing');
  });
});
