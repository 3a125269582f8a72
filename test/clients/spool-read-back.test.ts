/**
 * What the spool reads back from disk: records that are whole but hold no
 * event (skipped and counted, never sent, never a crash, also when a drop for
 * room meets one), an event written without meta, a read that fails while the
 * spool feeds the delivery (a warning, tried again at the next event), and how
 * many events one read hands to the delivery (the memory window, exactly).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload, toStructured } from '../../nodes/events/cloudevent-model';
import { Delivery, type DeliveryOptions } from '../../nodes/events/delivery';
import { SegmentLog } from '../../nodes/events/spool/segment-log';
import {
  type SpoolOptions,
  type SpooledEvent,
  SpooledDelivery,
} from '../../nodes/events/spool/spooled-delivery';
import { SinkSimulator } from '../../sim/sink';
import { FaultyDisk } from '../support/faulty-disk';
import { waitFor } from '../support/wait';

const event = (n: number, data: unknown = { n }): CloudEvent =>
  fromPayload(data, { type: 'com.example.test', source: '/tests', id: `e-${n}` });

/** A record as the spool writes it. */
const spooled = (ce: CloudEvent, meta: object = {}) =>
  Buffer.from(`{"ce":${toStructured(ce)},"meta":${JSON.stringify(meta)}}`);

describe('spooled delivery: what it reads back from disk', () => {
  let sink: SinkSimulator;
  let dir: string;
  const open: SpooledDelivery[] = [];
  const disk = new FaultyDisk();

  beforeEach(async () => {
    sink = await SinkSimulator.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-read-'));
  });
  afterEach(async () => {
    disk.restore();
    disk.beforeRead = undefined;
    await Promise.all(open.splice(0).map((s) => s.close()));
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What an earlier run left in the spool folder. */
  async function leftBehind(payloads: Buffer[]): Promise<void> {
    const log = await SegmentLog.open(dir, { limitBytes: 1024 * 1024 });
    for (const p of payloads) await log.append(p);
    await log.close();
  }

  async function start(options: Partial<SpoolOptions> = {}, delivery: Partial<DeliveryOptions> = {}) {
    const d = new Delivery({
      url: `${sink.url}/events`,
      tls: { ca: sink.cert },
      retry: { initialMs: 20, maxMs: 100, budgetMs: 60_000 },
      closeGraceMs: 0,
      concurrency: 1,
      ...delivery,
    });
    const spool = await SpooledDelivery.open(d, {
      dir,
      limitBytes: 1024 * 1024,
      window: 10,
      onFull: 'wait',
      ...options,
    });
    open.push(spool);
    const seen = {
      delivered: [] as SpooledEvent[],
      failed: [] as string[],
      damaged: [] as string[],
      warnings: [] as string[],
    };
    spool.on('delivered', (e: SpooledEvent) => seen.delivered.push(e));
    spool.on('failed', (e: SpooledEvent, err: CodedError) => seen.failed.push(`${e.ce.id} ${err.code}`));
    spool.on('damaged', (lost: number, err: CodedError) => seen.damaged.push(`${lost} ${err.code}`));
    spool.on('warning', (text: string) => seen.warnings.push(text));
    return { spool, seen };
  }

  it('skips whole records that hold no event, counted as dropped; an event written without meta is sent with none', async () => {
    const bare = Buffer.from(`{"ce":${toStructured(event(2))}}`);
    await leftBehind([
      Buffer.from('{"ce":null,"meta":{}}'),
      Buffer.from('{"ce":"e-0","meta":{}}'),
      Buffer.from('{"meta":{"topic":"t"}}'),
      Buffer.from('null'),
      spooled(event(1), { topic: 't' }),
      bare,
    ]);
    const { spool, seen } = await start();
    await waitFor(() => seen.delivered.length === 2, 'the two events');
    assert.deepEqual(
      seen.delivered.map((e) => [e.ce.id, e.meta]),
      [
        ['e-1', { topic: 't' }],
        ['e-2', {}],
      ],
    );
    assert.deepEqual(seen.damaged, Array<string>(4).fill('1 CE_SPOOL_DAMAGED'));
    assert.deepEqual(seen.failed, []);
    assert.deepEqual(seen.warnings, []);
    await waitFor(() => spool.stats.spooled === 0, 'an empty spool');
    assert.equal(spool.stats.dropped, 4);
    assert.deepEqual(
      sink.received.map((r) => r.event.id),
      ['e-1', 'e-2'],
    );
  });

  it('drop-oldest: a record that holds no event is dropped for room as damage, not as an event', async () => {
    await leftBehind([spooled(event(1)), Buffer.from(`{"ce":null,"pad":"${'x'.repeat(2000)}"}`)]);
    sink.setDown(true);
    const { spool, seen } = await start({ limitBytes: 4096, window: 1, onFull: 'drop-oldest' });
    await waitFor(() => spool.stats.queued + spool.stats.inFlight === 1, 'the first event out for sending');
    await spool.take(event(2, 'y'.repeat(2000)), {});
    assert.deepEqual(seen.damaged, ['1 CE_SPOOL_DAMAGED']);
    assert.deepEqual(seen.failed, [], 'no event was dropped');
    assert.deepEqual([spool.stats.spooled, spool.stats.dropped], [2, 1]);
  });

  it('a read that fails while it feeds the delivery is a warning; the next event tries again, nothing lost', async () => {
    sink.setDown(true);
    const { spool, seen } = await start({ window: 1 });
    for (let n = 1; n <= 3; n++) await spool.take(event(n), {});
    await disk.install();
    let failures = 1;
    disk.beforeRead = () => {
      if (failures-- > 0) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    };
    sink.setDown(false);
    await waitFor(() => seen.warnings.length > 0, 'the warning');
    assert.deepEqual(seen.warnings, ['The spool could not be read: EIO: i/o error, read']);
    assert.deepEqual(
      seen.delivered.map((e) => e.ce.id),
      ['e-1'],
      'the read stopped at the failure',
    );
    await spool.take(event(4), {});
    await waitFor(() => seen.delivered.length === 4, 'every event');
    assert.deepEqual(
      seen.delivered.map((e) => e.ce.id),
      ['e-1', 'e-2', 'e-3', 'e-4'],
    );
    assert.deepEqual([seen.damaged, seen.failed, seen.warnings.length], [[], [], 1]);
  });

  it('hands the delivery as many events as the window, never more, as sends settle', async () => {
    await leftBehind(Array.from({ length: 20 }, (_, i) => spooled(event(i + 1))));
    let outstanding = 0;
    let most = 0;
    // Sends are counted from the first one on: the spool starts feeding as it opens.
    const original = Delivery.prototype.send;
    Delivery.prototype.send = function (this: Delivery, ce: CloudEvent) {
      most = Math.max(most, ++outstanding);
      return original.call(this, ce).finally(() => outstanding--);
    };
    try {
      const { spool, seen } = await start({ window: 3 });
      await waitFor(() => seen.delivered.length === 20, 'every event');
      assert.equal(most, 3);
      assert.deepEqual(
        seen.delivered.map((e) => e.ce.id),
        Array.from({ length: 20 }, (_, i) => `e-${i + 1}`),
      );
      assert.equal(spool.stats.spooled, 0);
    } finally {
      Delivery.prototype.send = original;
    }
  });
});
