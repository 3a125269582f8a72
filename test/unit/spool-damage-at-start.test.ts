/**
 * Damage at the start of a segment, found when the spool opens: the events in
 * it that were never acknowledged are counted as lost (onDamage, once), one
 * that was acknowledged is not (it was delivered), and every entry after the
 * damage is given. At the start of the folder's first segment nothing lay
 * before the damage, so its count is exact; once older segments were removed
 * (their acks with them), how many events it held cannot be told, and the
 * warning says so rather than "0 events", and an entry copied forward with a
 * number below the damage is still given. Damage after the first entry in place
 * is counted as lost there too.
 *
 * Sizes: with segments of 100 bytes and payloads of 60 (records of 77), a
 * segment takes two entries; acks go to the newest segment.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import {
  RECORD_OVERHEAD,
  type SegmentLog,
  type SegmentLogOptions,
} from '../../nodes/events/spool/segment-log';
import { withSegmentLogs } from '../support/segment-logs';

const entry = (n: number) => `entry-${n}`.padEnd(60, '.');

describe('spool segment log: damage at the start of a segment', () => {
  const logs = withSegmentLogs('spool-start');

  /** What the log told at open and while reading: warnings, losses, and the entries it gave. */
  async function reopen(options: Partial<SegmentLogOptions> = {}) {
    const seen = { warnings: [] as string[], lost: [] as number[], errors: [] as CodedError[] };
    const log = await logs.open({
      onWarning: (w) => seen.warnings.push(w),
      onDamage: (n, err) => (seen.lost.push(n), seen.errors.push(err)),
      ...options,
    });
    const atOpen = { count: log.count, unread: log.unread };
    const given = (await log.next(1000)).map((e) => e.payload.toString().replace(/\.+$/, ''));
    return { ...seen, log, atOpen, given, warning: seen.warnings.join('\n') };
  }

  async function write(count: number, options: Partial<SegmentLogOptions> = {}): Promise<SegmentLog> {
    const log = await logs.open(options);
    for (let n = 1; n <= count; n++) await log.append(Buffer.from(entry(n)));
    return log;
  }

  const stop = logs.stop;

  const segmentFile = (no: number) => path.join(logs.dir, `${String(no).padStart(12, '0')}.seg`);

  /** Flips one bit inside the payload of entry `n` (its checksum no longer matches). */
  function flip(n: number): void {
    for (const name of fs.readdirSync(logs.dir).filter((f) => f.endsWith('.seg'))) {
      const file = path.join(logs.dir, name);
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf(`entry-${n}.`);
      if (at < 0) continue;
      bytes[at + 1]! ^= 0x01;
      fs.writeFileSync(file, bytes);
      return;
    }
    throw new Error(`entry ${n} is in no segment`);
  }

  const ways: [string, () => void][] = [
    ['a flipped bit in its payload', () => flip(1)],
    [
      'its first 12 bytes zeroed (a torn page)',
      () => {
        const bytes = fs.readFileSync(segmentFile(1));
        bytes.fill(0, 0, 12);
        fs.writeFileSync(segmentFile(1), bytes);
      },
    ],
  ];
  for (const [how, damage] of ways)
    it(`an event never acknowledged whose record starts the first segment is counted as lost: ${how}`, async () => {
      await stop(await write(5));
      assert.equal(
        fs.readFileSync(segmentFile(1)).indexOf('entry-1.'),
        RECORD_OVERHEAD,
        'it starts the file',
      );
      damage();
      const seen = await reopen();
      assert.deepEqual(seen.atOpen, { count: 4, unread: 4 });
      assert.deepEqual(seen.given, ['entry-2', 'entry-3', 'entry-4', 'entry-5']);
      assert.deepEqual(seen.lost, [1]);
      assert.deepEqual(
        seen.errors.map((e) => [e.code, (e.details as { lost: number }).lost]),
        [['CE_SPOOL_DAMAGED', 1]],
      );
      assert.match(seen.errors[0]!.message, /000000000001\.seg at 0: .*1 event in them was skipped/);
      assert.deepEqual([seen.log.count, seen.log.unread], [4, 0], 'the lost one is not counted as live');
    });

  it('of two damaged records at the start, only the one never acknowledged is counted as lost', async () => {
    const log = await write(4);
    const [first] = await log.next(1);
    log.ack(first!.seq);
    await stop(log);
    flip(1);
    flip(2);
    const seen = await reopen();
    assert.deepEqual(seen.given, ['entry-3', 'entry-4']);
    assert.deepEqual(seen.lost, [1]);
    assert.match(seen.errors[0]!.message, /1 event in them was skipped/);
  });

  it('damage at the start over an event already acknowledged is a warning, not a loss', async () => {
    const log = await write(3);
    const [first] = await log.next(1);
    log.ack(first!.seq);
    await stop(log);
    flip(1);
    const seen = await reopen();
    assert.deepEqual(seen.atOpen, { count: 2, unread: 2 });
    assert.deepEqual(seen.given, ['entry-2', 'entry-3']);
    assert.deepEqual(seen.lost, []);
    assert.match(
      seen.warning,
      /could not read \d+ bytes \(000000000001\.seg at 0: .*0 events in them were skipped/,
    );
  });

  it('damage at the start of a later segment costs the event in it, and no other', async () => {
    await stop(await write(6, { segmentBytes: 100 }));
    assert.equal(fs.readFileSync(segmentFile(2)).indexOf('entry-3.'), RECORD_OVERHEAD, 'it starts segment 2');
    flip(3);
    const seen = await reopen({ segmentBytes: 100 });
    assert.deepEqual(seen.given, ['entry-1', 'entry-2', 'entry-4', 'entry-5', 'entry-6']);
    assert.deepEqual(seen.lost, [1]);
    assert.match(seen.errors[0]!.message, /000000000002\.seg at 0: .*1 event in them was skipped/);
  });

  it('once older segments were removed, damage at the start of the oldest is told as uncounted, not as 0 lost', async () => {
    const log = await write(6, { segmentBytes: 100 });
    const out = await log.next(3);
    log.ack(out[0]!.seq);
    log.ack(out[1]!.seq);
    await log.idle();
    assert.equal(fs.existsSync(segmentFile(1)), false, 'segment 1 was removed');
    await stop(log); // entry 3 is out and never acknowledged: live
    flip(3);
    const seen = await reopen({ segmentBytes: 100 });
    assert.deepEqual(seen.atOpen, { count: 3, unread: 3 });
    assert.deepEqual(seen.given, ['entry-4', 'entry-5', 'entry-6']);
    assert.deepEqual(seen.lost, [], 'no number is claimed');
    assert.match(seen.warning, /000000000002\.seg at 0: .*how many events were in them cannot be told/);
    assert.doesNotMatch(seen.warning, /0 events/);
  });

  it('once older segments were removed, damage after the first entry of the oldest is counted as lost as anywhere', async () => {
    const log = await write(6, { segmentBytes: 100 });
    const out = await log.next(3); // the cursor leaves segment 1
    log.ack(out[0]!.seq);
    log.ack(out[1]!.seq);
    await log.idle();
    assert.equal(fs.existsSync(segmentFile(1)), false, 'segment 1 was removed');
    await stop(log);
    flip(4); // the second entry of segment 2: entry 3 before it is in place
    const seen = await reopen({ segmentBytes: 100 });
    assert.deepEqual(seen.given, ['entry-3', 'entry-5', 'entry-6']);
    assert.deepEqual(seen.lost, [1]);
    assert.match(seen.errors[0]!.message, /000000000002\.seg at 77: .*1 event in them was skipped/);
    assert.doesNotMatch(seen.warning, /cannot be told/);
  });

  it('an event copied forward, whose number lies below damage at the start of the oldest segment, is still given', async () => {
    const log = await logs.open({ segmentBytes: 100 });
    const slow = await log.append(Buffer.from(entry(1)));
    await log.next(1); // out and never acknowledged: copied forward once segment 1 is mostly dead
    await log.append(Buffer.from(entry(2)));
    await log.append(Buffer.from('entry-3'.padEnd(90, '.'))); // fills segment 2 alone: never copied
    for (const e of await log.next(2)) if (e.seq !== 3) log.ack(e.seq);
    for (let n = 4; n <= 7; n++) {
      const seq = await log.append(Buffer.from(entry(n)));
      await log.next(1);
      log.ack(seq);
      await log.idle();
    }
    assert.equal(fs.existsSync(segmentFile(1)), false, 'segment 1 was removed, its entry copied forward');
    assert.equal(
      fs.readFileSync(segmentFile(2)).indexOf('entry-3.'),
      RECORD_OVERHEAD,
      'entry 3 starts segment 2',
    );
    await stop(log);
    flip(3);
    const seen = await reopen({ segmentBytes: 100 });
    assert.deepEqual(seen.given, ['entry-1'], `entry ${slow}, the copy, is given`);
    assert.deepEqual(seen.lost, []);
    assert.match(seen.warning, /000000000002\.seg at 0: .*cannot be told/);
  });
});
