import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload } from '../../nodes/events/cloudevent-model';
import type { DeliveryOptions } from '../../nodes/events/delivery';
import {
  type SpoolOptions,
  type SpooledEvent,
  SpooledDelivery,
} from '../../nodes/events/spool/spooled-delivery';
import { SegmentLog } from '../../nodes/events/spool/segment-log';
import { FaultyDisk } from '../support/faulty-disk';
import { withSink } from '../support/sink';
import { waitFor } from '../support/wait';

const event = (n: number): CloudEvent =>
  fromPayload({ n }, { type: 'com.example.test', source: '/tests', id: `e-${n}` });

describe('spooled delivery (spool on disk, against the sink simulator)', () => {
  const rig = withSink({ retry: { initialMs: 20, maxMs: 100, budgetMs: 60_000 }, closeGraceMs: 200 });
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(
    options: Partial<SpoolOptions> = {},
    delivery: Partial<DeliveryOptions> = {},
  ): Promise<{
    spool: SpooledDelivery;
    delivered: string[];
    failed: { id: string; code: string }[];
    damaged: CodedError[];
  }> {
    const spool = await SpooledDelivery.open(rig.open(delivery), {
      dir,
      limitBytes: 1024 * 1024,
      window: 10,
      onFull: 'wait',
      ...options,
    });
    rig.closeAfter(spool);
    const delivered: string[] = [];
    const failed: { id: string; code: string }[] = [];
    const damaged: CodedError[] = [];
    spool.on('delivered', (e: SpooledEvent) => delivered.push(e.ce.id));
    spool.on('failed', (e: SpooledEvent, err: CodedError) => failed.push({ id: e.ce.id, code: err.code }));
    spool.on('damaged', (_lost: number, err: CodedError) => damaged.push(err));
    return { spool, delivered, failed, damaged };
  }

  const receivedIds = () => rig.sink.received.map((r) => String(r.event.id));

  it('delivers taken events and empties the spool as the sink acknowledges them', async () => {
    const { spool, delivered } = await start();
    for (let n = 1; n <= 30; n++) await spool.take(event(n), { topic: 't' });
    await waitFor(() => delivered.length === 30, '30 deliveries');
    assert.deepEqual(receivedIds().sort(), Array.from({ length: 30 }, (_, i) => `e-${i + 1}`).sort());
    await waitFor(() => spool.stats.spooled === 0, 'an empty spool');
  });

  it('after a restart sends what the sink had not acknowledged first, in order, then new events', async () => {
    rig.sink.setDown(true);
    const first = await start({ window: 5 }, { concurrency: 1 });
    for (let n = 1; n <= 40; n++) await first.spool.take(event(n), {});
    assert.equal(first.spool.stats.spooled, 40);
    await first.spool.close();
    rig.sink.setDown(false);
    const second = await start({ window: 5 }, { concurrency: 1 });
    await second.spool.take(event(41), {});
    await waitFor(() => second.delivered.length === 41, '41 deliveries');
    assert.deepEqual(
      receivedIds(),
      Array.from({ length: 41 }, (_, i) => `e-${i + 1}`),
    );
  });

  it('holds only the window in memory; the rest is read back from disk, in order', async () => {
    rig.sink.setDown(true);
    const { spool, delivered } = await start({ window: 3 }, { concurrency: 1 });
    for (let n = 1; n <= 30; n++) await spool.take(event(n), {});
    const held = spool as unknown as { fresh: Map<number, unknown>; handed: number };
    assert.ok(held.fresh.size <= 3 && held.handed <= 3, `${held.fresh.size} + ${held.handed} in memory`);
    rig.sink.setDown(false);
    await waitFor(() => delivered.length === 30, '30 deliveries', 15_000);
    assert.deepEqual(
      receivedIds(),
      Array.from({ length: 30 }, (_, i) => `e-${i + 1}`),
    );
  });

  it('an event the sink refuses leaves by failure and is not sent again after a restart', async () => {
    const { spool, failed } = await start({}, { retry: { initialMs: 20, budgetMs: 0 } });
    rig.sink.failNext(1, 400);
    await spool.take(event(1), {});
    await waitFor(() => failed.length === 1, 'the failure');
    assert.equal(failed[0]!.code, 'CE_DELIVERY_REJECTED');
    await spool.close();
    const again = await start();
    assert.equal(again.spool.stats.spooled, 0);
  });

  it('reject-new: a full spool refuses the new event and counts it', async () => {
    rig.sink.setDown(true);
    const { spool } = await start({ onFull: 'reject-new', limitBytes: 1000, window: 1 });
    let taken = 0;
    let refused: CodedError | undefined;
    for (let n = 1; n <= 20 && !refused; n++) {
      await spool.take(event(n), {}).then(
        () => taken++,
        (err: CodedError) => (refused = err),
      );
    }
    assert.ok(taken >= 2 && taken < 20, `${taken} taken`);
    assert.equal(refused?.code, 'CE_QUEUE_FULL');
    assert.equal(spool.stats.dropped, 1);
  });

  it('drop-oldest: a full spool drops its oldest waiting event, which leaves as failed', async () => {
    rig.sink.setDown(true);
    const { spool, failed } = await start({ onFull: 'drop-oldest', limitBytes: 1000, window: 1 });
    for (let n = 1; n <= 20; n++) await spool.take(event(n), {});
    assert.ok(failed.length > 0);
    assert.ok(failed.every((f) => f.code === 'CE_DROPPED'));
    // e-1 is in the delivery (retrying); the next oldest ones were dropped, in order.
    assert.deepEqual(
      failed.map((f) => f.id),
      Array.from({ length: failed.length }, (_, i) => `e-${i + 2}`),
    );
    assert.equal(spool.stats.dropped, failed.length);
    rig.sink.setDown(false);
    await waitFor(() => spool.stats.spooled === 0, 'the rest delivered');
    assert.equal(receivedIds().length, 20 - failed.length);
  });

  it('wait: an event waits for room and is taken once the sink acknowledged older ones', async () => {
    rig.sink.setDown(true);
    const { spool, delivered } = await start({ onFull: 'wait', limitBytes: 1000, window: 2 });
    let n = 0;
    let waiting: Promise<void>;
    // Take events until one has to wait for room.
    for (;;) {
      waiting = spool.take(event(++n), {});
      await new Promise((r) => setImmediate(r));
      if (spool.stats.waiting > 0) break;
      await waiting;
    }
    let taken = false;
    void waiting.then(() => (taken = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(taken, false, 'no room yet');
    assert.ok(n > 2);
    rig.sink.setDown(false);
    await waiting;
    await waitFor(() => delivered.length === n, 'every event delivered');
  });

  /** Flips one bit in the spooled record of event `id` (its checksum no longer matches). */
  function damage(id: string): void {
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
      const file = path.join(dir, name);
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf(`"id":"${id}"`);
      if (at < 0) continue;
      bytes[at + 2]! ^= 0x01;
      fs.writeFileSync(file, bytes);
      return;
    }
    throw new Error(`event ${id} is in no segment`);
  }
  const ids = (from: number, to: number, but: number[] = []) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i)
      .filter((n) => !but.includes(n))
      .map((n) => `e-${n}`);

  it('after a restart, a bad record in the middle costs only itself: every event after it is delivered', async () => {
    rig.sink.setDown(true);
    const first = await start({ window: 5 }, { concurrency: 1 });
    for (let n = 1; n <= 100; n++) await first.spool.take(event(n), {});
    await first.spool.close();
    damage('e-2');
    rig.sink.setDown(false);
    const second = await start({ window: 5 }, { concurrency: 1 });
    await waitFor(() => second.delivered.length === 99, '99 deliveries', 20_000);
    assert.deepEqual(receivedIds(), ids(1, 100, [2]), 'in order, all but the damaged one');
    assert.equal(second.damaged.length, 1);
    assert.equal(second.damaged[0]!.code, 'CE_SPOOL_DAMAGED');
    assert.equal(second.spool.stats.dropped, 1, 'counted as dropped');
    await waitFor(() => second.spool.stats.spooled === 0, 'an empty spool');
  });

  it('after a restart, damage to the first event in the spool is counted as dropped: every event after it is delivered', async () => {
    rig.sink.setDown(true);
    const first = await start({ window: 5 }, { concurrency: 1 });
    for (let n = 1; n <= 10; n++) await first.spool.take(event(n), {});
    await first.spool.close();
    damage('e-1');
    rig.sink.setDown(false);
    const second = await start({ window: 5 }, { concurrency: 1 });
    await waitFor(() => second.delivered.length === 9, '9 deliveries', 20_000);
    assert.deepEqual(receivedIds(), ids(2, 10));
    assert.deepEqual(
      second.damaged.map((e) => [e.code, (e.details as { lost: number }).lost]),
      [['CE_SPOOL_DAMAGED', 1]],
    );
    assert.match(second.damaged[0]!.message, /1 event in them was skipped/);
    assert.equal(second.spool.stats.dropped, 1, 'counted as dropped');
    await waitFor(() => second.spool.stats.spooled === 0, 'an empty spool');
  });

  it('a record damaged while events wait on disk is skipped and counted, never retried: delivery goes on', async () => {
    rig.sink.setDown(true);
    const { spool, delivered, damaged } = await start({ window: 2 }, { concurrency: 1 });
    for (let n = 1; n <= 20; n++) await spool.take(event(n), {});
    damage('e-10');
    rig.sink.setDown(false);
    await waitFor(() => delivered.length === 19, '19 deliveries', 20_000);
    assert.deepEqual(receivedIds(), ids(1, 20, [10]));
    assert.equal(damaged.length, 1);
    assert.equal(spool.stats.dropped, 1);
    await spool.take(event(21), {});
    await waitFor(() => delivered.length === 20, 'the next event');
    assert.equal(spool.stats.spooled, 0);
  });

  it('a whole record that holds no event is skipped and counted', async () => {
    const log = await SegmentLog.open(dir, { limitBytes: 1024 * 1024 });
    await log.append(Buffer.from('{"not":"an event"}'));
    await log.close();
    const { spool, delivered, damaged } = await start();
    await spool.take(event(1), {});
    await waitFor(() => delivered.length === 1, 'the next event');
    assert.equal(damaged.length, 1);
    assert.match(damaged[0]!.message, /holds no event/);
    assert.equal(spool.stats.dropped, 1);
  });

  describe('on a full disk', () => {
    const disk = new FaultyDisk();
    afterEach(() => {
      disk.restore();
      disk.full = false;
    });

    it('opens after a restart, drains to the sink and frees its files; new events wait for space', async () => {
      rig.sink.setDown(true);
      // About 1 KB each in 256 KiB segments (a quarter of the limit): the spool spans three files.
      const padded = (n: number) =>
        fromPayload(
          { n, pad: 'x'.repeat(1000) },
          { type: 'com.example.test', source: '/tests', id: `e-${n}` },
        );
      const first = await start({ window: 5, limitBytes: 1024 * 1024 }, { concurrency: 2 });
      for (let n = 1; n <= 600; n++) await first.spool.take(padded(n), {});
      await first.spool.close();
      const segmentBytes = () =>
        fs
          .readdirSync(dir)
          .filter((n) => n.endsWith('.seg'))
          .reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
      const before = segmentBytes();
      await disk.install();
      disk.full = true;
      rig.sink.setDown(false);
      const second = await start({ window: 5, limitBytes: 1024 * 1024 }, { concurrency: 2 });
      await waitFor(() => second.delivered.length === 600, '600 deliveries from a full disk', 30_000);
      assert.deepEqual(receivedIds().sort(), ids(1, 600).sort());
      await assert.rejects(second.spool.take(event(601), {}), { code: 'CE_SPOOL_WRITE_FAILED' });
      assert.ok(segmentBytes() < before / 2, `files freed: ${before} -> ${segmentBytes()} bytes`);
      disk.full = false;
      await second.spool.take(event(602), {});
      await waitFor(() => second.delivered.length === 601, 'an event once there is space');
    });
  });
});
