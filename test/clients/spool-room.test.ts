/**
 * The spool's answers when it has no room, and when the flow stops: which
 * events are refused (and how the refusal reads), which wait, and what a stop
 * reports. A wrong answer here is an event lost without a word, or a flow that
 * hangs on an event that can never fit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload, toStructured } from '../../nodes/events/cloudevent-model';
import { RECORD_OVERHEAD } from '../../nodes/events/spool/records';
import { type SpoolOptions, SpooledDelivery } from '../../nodes/events/spool/spooled-delivery';
import { withSink } from '../support/sink';
import { waitFor } from '../support/wait';

const event = (n: number, data: unknown = { n }): CloudEvent =>
  fromPayload(data, { type: 'com.example.test', source: '/tests', id: `e-${n}` });

/** The bytes the spool keeps for an event with empty meta. */
const payloadBytes = (ce: CloudEvent) => Buffer.byteLength(`{"ce":${toStructured(ce)},"meta":{}}`);

const outcome = (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'taken',
    (err: CodedError) => err.code,
  );

describe('spooled delivery: no room, and a stop', () => {
  const rig = withSink({
    retry: { initialMs: 20, maxMs: 100, budgetMs: 60_000 },
    closeGraceMs: 0,
    concurrency: 1,
  });
  let dir: string;

  beforeEach(() => {
    rig.sink.setDown(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-room-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(options: Partial<SpoolOptions>): Promise<SpooledDelivery> {
    const spool = await SpooledDelivery.open(rig.open(), {
      dir,
      limitBytes: 100_000,
      window: 2,
      onFull: 'wait',
      ...options,
    });
    return rig.closeAfter(spool);
  }

  it('refuses at once an event larger than the whole spool, whatever the policy; one that just fits is taken', async () => {
    const limitBytes = 4096;
    const probe = event(1, 'x');
    const room = limitBytes - RECORD_OVERHEAD - payloadBytes(probe);
    const fits = event(1, 'x'.repeat(1 + room));
    assert.equal(payloadBytes(fits) + RECORD_OVERHEAD, limitBytes);
    const tooBig = event(2, 'x'.repeat(2 + room));
    for (const onFull of ['wait', 'drop-oldest', 'reject-new'] as const) {
      const spool = await start({ limitBytes, onFull });
      const refused = await spool.take(tooBig, {}).catch((err: CodedError) => err);
      assert.equal((refused as CodedError).code, 'CE_QUEUE_FULL', onFull);
      assert.equal(
        (refused as CodedError).message,
        'The spool is full (0 MB): event e-2 is larger than the whole spool.',
      );
      await spool.take(fits, {});
      assert.deepEqual([spool.stats.spooled, spool.stats.dropped], [1, 1], onFull);
      await spool.destroy();
      fs.mkdirSync(dir);
    }
  });

  it('wait: an event exactly as large as the spool waits for the spool to empty, it is not refused', async () => {
    const limitBytes = 4096;
    const fits = event(2, 'x'.repeat(1 + limitBytes - RECORD_OVERHEAD - payloadBytes(event(2, 'x'))));
    const spool = await start({ limitBytes });
    await spool.take(event(1), {});
    const waiting = outcome(spool.take(fits, {}));
    await waitFor(() => spool.stats.waiting === 1, 'the large event waiting');
    assert.equal(spool.stats.dropped, 0);
    assert.equal((await spool.close()).lost, 1);
    assert.equal(await waiting, 'CE_DELIVERY_CLOSED');
  });

  it('refuses an event with no JSON form before it reaches the disk', async () => {
    const spool = await start({});
    const circle: Record<string, unknown> = {};
    circle.self = circle;
    assert.equal(await outcome(spool.take({ ...event(1), data: circle }, {})), 'CE_DATA_UNSERIALIZABLE');
    assert.deepEqual([spool.stats.spooled, spool.stats.spooledBytes], [0, 0]);
  });

  it('says how large the full spool is, to a tenth of a MB', async () => {
    const spool = await start({ limitBytes: 1_300_000, onFull: 'reject-new' });
    const big = 'x'.repeat(300_000);
    let refused: CodedError | undefined;
    for (let n = 1; n <= 10 && !refused; n++)
      await spool.take(event(n, big), {}).catch((err: CodedError) => (refused = err));
    assert.match(refused?.message ?? '', /^The spool is full \(1\.2 MB\): event e-\d+ refused\.$/);
  });

  it('wait: as many events wait for room as the window, the next one is refused; a stop fails the waiting ones and counts them', async () => {
    const spool = await start({ limitBytes: 1000, window: 2 });
    const takes: Promise<string>[] = [];
    for (let n = 1; spool.stats.waiting < 2; n++) {
      takes.push(outcome(spool.take(event(n), {})));
      await new Promise((r) => setImmediate(r));
      assert.ok(n < 50, 'the spool never filled');
    }
    const refused = await spool.take(event(99), {}).catch((err: CodedError) => err);
    assert.equal((refused as CodedError).code, 'CE_QUEUE_FULL');
    assert.match((refused as CodedError).message, /event e-99 refused \(too many events wait for room\)\.$/);
    const kept = spool.stats.spooled;
    assert.deepEqual(await spool.close(), { kept, lost: 2 });
    const outcomes = await Promise.all(takes);
    assert.deepEqual(outcomes.slice(-2), ['CE_DELIVERY_CLOSED', 'CE_DELIVERY_CLOSED']);
    assert.ok(outcomes.slice(0, -2).every((o) => o === 'taken'));
    assert.equal(
      await outcome(spool.take(event(100), {})),
      'CE_DELIVERY_CLOSED',
      'nothing is taken after a stop',
    );
    assert.deepEqual(await spool.close(), { kept, lost: 0 }, 'a second stop');
  });

  it('drop-oldest: when every event in the spool is out for sending, a new one is refused, none dropped', async () => {
    const spool = await start({ limitBytes: 1000, window: 100, onFull: 'drop-oldest' });
    const dropped: string[] = [];
    spool.on('failed', (e: { ce: CloudEvent }) => dropped.push(e.ce.id));
    let refused: CodedError | undefined;
    for (let n = 1; n <= 50 && !refused; n++) {
      await spool.take(event(n), {}).catch((err: CodedError) => (refused = err));
      await waitFor(
        () => spool.stats.queued + spool.stats.inFlight === spool.stats.spooled,
        'every event out',
      );
    }
    assert.match(refused?.message ?? '', /refused \(every event in it is being sent\)\.$/);
    assert.deepEqual(dropped, []);
  });
});
