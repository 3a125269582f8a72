/**
 * The spool log's compaction, to the byte: when an old segment is removed,
 * when the entry still out in it is copied forward (more than two segments'
 * worth of dead bytes on disk, and the segment at most half live), and that
 * only the entry the index names is copied. Disk use after each step is
 * asserted exactly, so a threshold moved either way shows.
 *
 * Sizes: segments of 100 bytes; a record is 17 bytes of framing plus its
 * payload; an ack of one entry is 17 bytes. A segment takes writes until it
 * holds 100 bytes or more, then the next write starts a new one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SegmentLog } from '../../nodes/events/spool/segment-log';
import { ackRecord, entryRecord, sealEntry } from '../../nodes/events/spool/records';
import { withSegmentLogs } from '../support/segment-logs';

const SEGMENT = 100;

describe('spool segment log: compaction', () => {
  const logs = withSegmentLogs('spool-compact', { segmentBytes: SEGMENT });
  const { disk } = logs;
  const openLog = logs.open;

  /** Segment files by number, with their sizes on disk: `{ 1: 140, 2: 100 }`. */
  function files(): Record<number, number> {
    const found: Record<number, number> = {};
    for (const name of fs.readdirSync(logs.dir).filter((n) => n.endsWith('.seg')))
      found[Number(name.slice(0, 12))] = fs.statSync(path.join(logs.dir, name)).size;
    return found;
  }

  /** An entry that is written, handed out and finished: its record and its ack are dead bytes. */
  async function passThrough(log: SegmentLog, payloadBytes: number): Promise<number> {
    const seq = await log.append(Buffer.alloc(payloadBytes, 0x2e));
    const [entry] = await log.next(1);
    assert.equal(entry?.seq, seq, 'the cursor gives the entry just written');
    log.ack(seq);
    await log.idle();
    return seq;
  }

  /**
   * A slow entry (40 bytes, its record 57) stays out in segment 1 while entries
   * pass: the first (`first` bytes) fills segment 1, the second (`second` bytes)
   * lands in segment 2 after the first one's ack, and its own ack starts segment 3.
   */
  async function pinned(first: number, second: number, log?: SegmentLog) {
    log ??= await openLog();
    const slow = await log.append(Buffer.alloc(40, 0x31));
    await log.next(1);
    const passed = [await passThrough(log, first), await passThrough(log, second)];
    return { log, slow, passed };
  }

  async function payloadsAfterRestart(log: SegmentLog, warnings: string[] = []): Promise<string[]> {
    await log.close();
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    return (await again.next(100)).map((e) => e.payload.toString());
  }

  it('copies the entry out forward once the files hold more than twice a segment of dead bytes, not at exactly twice', async () => {
    // Dead bytes: 140 + (34 + 66) + 17 on disk - 57 live = 200: the old segment stays.
    const at = await pinned(66, 66);
    assert.deepEqual(files(), { 1: 140, 2: 100, 3: 17 });
    assert.equal(at.log.diskBytes, 257);
    await at.log.close();
    fs.rmSync(logs.dir, { recursive: true });
    fs.mkdirSync(logs.dir);
    // One byte more (201 dead): the slow entry's record goes to segment 3, and segment 1 goes.
    const over = await pinned(66, 67);
    assert.deepEqual(files(), { 2: 101, 3: 17 + 57 });
    assert.equal(over.log.diskBytes, 175);
    assert.equal(over.log.count, 1);
    const again = await (async () => {
      await over.log.close();
      return openLog();
    })();
    const entries = await again.next(10);
    assert.deepEqual(
      entries.map((e) => [e.seq, e.payload.toString()]),
      [[over.slow, '1'.repeat(40)]],
      'the copy is the entry, with its own number',
    );
  });

  it('copies an old segment whose live share is half, not one whose share is a byte more than half', async () => {
    // Segment 1: the slow record (57) and a first one of 57: half live. 208 dead bytes.
    const half = await pinned(40, 100);
    assert.deepEqual(files(), { 2: 134, 3: 17 + 57 });
    await half.log.close();
    fs.rmSync(logs.dir, { recursive: true });
    fs.mkdirSync(logs.dir);
    // A first one of 56: 57 of 113 bytes live. 207 dead bytes, and the segment stays.
    const more = await pinned(39, 100);
    assert.deepEqual(files(), { 1: 113, 2: 134, 3: 17 });
    assert.equal(more.log.diskBytes, 264);
  });

  it('copies only the entries of the old segment: one out in a newer segment stays where it is', async () => {
    const log = await openLog();
    const slow = await log.append(Buffer.alloc(40, 0x31));
    await log.next(1);
    await passThrough(log, 66);
    // Out in segment 2, not finished: 27 more live bytes, so the next one must be a byte longer to pass the mark.
    await log.append(Buffer.alloc(10, 0x5a));
    await log.next(1);
    await passThrough(log, 67);
    assert.deepEqual(files(), { 2: 17 + 27 + 84, 3: 17 + 57 });
    assert.equal(log.count, 2);
    const again = await (async () => {
      await log.close();
      return openLog();
    })();
    assert.deepEqual(
      (await again.next(10)).map((e) => [e.seq, e.payload.toString()]),
      [
        [slow + 2, 'Z'.repeat(10)],
        [slow, '1'.repeat(40)],
      ],
    );
  });

  it('removes an old segment nothing in it is out once the cursor is past it, also with only two segments and few dead bytes', async () => {
    const log = await openLog();
    const first = await log.append(Buffer.alloc(83, 0x41));
    await log.append(Buffer.alloc(10, 0x42));
    assert.deepEqual(files(), { 1: 100, 2: 27 });
    await log.next(2);
    log.ack(first);
    await log.idle();
    assert.deepEqual(files(), { 2: 27 + 17 });
    assert.equal(log.diskBytes, 44);
    assert.deepEqual(await payloadsAfterRestart(log), ['B'.repeat(10)]);
  });

  it('keeps the segment the cursor still reads, though nothing in it is out', async () => {
    const log = await openLog();
    const first = await log.append(Buffer.alloc(40, 0x41));
    await log.append(Buffer.alloc(40, 0x42));
    await log.append(Buffer.alloc(10, 0x43));
    await log.next(1);
    log.ack(first);
    await log.idle();
    assert.deepEqual(files(), { 1: 114, 2: 27 + 17 });
    assert.deepEqual(
      (await log.next(10)).map((e) => e.payload.toString()),
      ['B'.repeat(40), 'C'.repeat(10)],
    );
  });

  it('does not copy a copy again while its segment is mostly out', async () => {
    const { log } = await pinned(66, 67);
    assert.deepEqual(files(), { 2: 101, 3: 74 });
    // A second entry stays out in segment 3 beside the copy: 104 of its 121 bytes are out.
    await log.append(Buffer.alloc(30, 0x5a));
    await log.next(1);
    await passThrough(log, 66);
    await passThrough(log, 66);
    // 321 bytes on disk, 104 live: past the dead-bytes mark, but segment 3 is mostly out.
    assert.deepEqual(files(), { 3: 121, 4: 100, 5: 100 });
  });

  it('an entry acked while the disk is full, after its copy, is finished on disk once the disk has room', async () => {
    const { log, slow } = await pinned(66, 67, await openLog({ onWarning: () => undefined }));
    assert.deepEqual(files(), { 2: 101, 3: 74 });
    await disk.install();
    disk.full = true;
    log.ack(slow);
    await log.idle();
    disk.full = false;
    await log.append(Buffer.from('after'));
    assert.deepEqual(await payloadsAfterRestart(log), ['after'], 'the slow entry does not come back');
  });

  it('an ack that lands while the copy is read leaves the books as the files are', async () => {
    const log = await openLog();
    const slow = await log.append(Buffer.alloc(40, 0x31));
    await log.next(1);
    await passThrough(log, 40);
    await disk.install();
    disk.beforeRead = (_position, length) => {
      if (length === 57) log.ack(slow);
    };
    await passThrough(log, 100);
    disk.beforeRead = undefined;
    assert.equal(log.count, 0);
    const sizes = files();
    assert.equal(
      log.diskBytes,
      Object.values(sizes).reduce((a, b) => a + b, 0),
    );
    await log.append(Buffer.from('after'));
    const warnings: string[] = [];
    assert.deepEqual(await payloadsAfterRestart(log, warnings), ['after']);
    assert.deepEqual(warnings, []);
  });

  it('an entry lost to damage at the end of a segment removed before the next entry is met is still counted as lost', async () => {
    const lost: number[] = [];
    const warnings: string[] = [];
    const log = await openLog({ onDamage: (n) => lost.push(n), onWarning: (w) => warnings.push(w) });
    const first = await log.append(Buffer.alloc(40, 0x41));
    await log.append(Buffer.alloc(60, 0x42));
    const file = path.join(logs.dir, `${'1'.padStart(12, '0')}.seg`);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const [entry] = await log.next(10);
    assert.equal(entry?.seq, first);
    log.ack(first);
    await log.idle();
    // The cursor moves on into segment 2 (only the ack there): segment 1 goes with the next write.
    assert.deepEqual(await log.next(10), []);
    await log.append(Buffer.from('after'));
    await log.idle();
    assert.deepEqual(Object.keys(files()), ['2']);
    assert.deepEqual(
      (await log.next(10)).map((e) => e.payload.toString()),
      ['after'],
    );
    assert.deepEqual(lost, [1], warnings.join('\n'));
  });

  describe('a record that is not the entry the index names is not copied forward', () => {
    /** Writes `record` over the slow entry's record (57 bytes at the start of segment 1). */
    function replaceSlow(record: Buffer): void {
      assert.equal(record.length, 57);
      const fd = fs.openSync(path.join(logs.dir, `${'1'.padStart(12, '0')}.seg`), 'r+');
      try {
        fs.writeSync(fd, record, 0, record.length, 0);
      } finally {
        fs.closeSync(fd);
      }
    }

    /** Segment 1 is half live and the dead bytes pass the mark with the second entry (as above): a copy is due. */
    async function damagedThenDue(damage: (slow: number, first: number) => void) {
      const log = await openLog({ onWarning: () => undefined, onDamage: () => undefined });
      const slow = await log.append(Buffer.alloc(40, 0x31));
      await log.next(1);
      const first = await passThrough(log, 40);
      damage(slow, first);
      await passThrough(log, 100);
      assert.deepEqual(files(), { 1: 114, 2: 134, 3: 17 }, 'not copied: segment 1 stays');
      // The cursor moves on into segment 3: segment 2 stays behind segment 1, which is still pinned.
      await passThrough(log, 10);
      assert.deepEqual(Object.keys(files()), ['1', '2', '3']);
      return { log, slow };
    }

    it('a damaged record (its checksum)', async () => {
      const { log, slow } = await damagedThenDue(() => {
        const bytes = fs.readFileSync(path.join(logs.dir, `${'1'.padStart(12, '0')}.seg`)).subarray(0, 57);
        bytes[30]! ^= 0x01;
        replaceSlow(Buffer.from(bytes));
      });
      log.ack(slow);
      await log.idle();
      assert.deepEqual(Object.keys(files()), ['3'], 'once acknowledged, the old segments go');
    });

    it('an ack record in its place', async () => {
      await damagedThenDue((slow) => replaceSlow(ackRecord(Array<number>(6).fill(slow))));
    });

    it('another entry in its place (an event already delivered): it never comes back', async () => {
      const { log } = await damagedThenDue((_slow, first) => {
        const other = entryRecord(Buffer.alloc(40, 0x2e));
        sealEntry(other, first);
        replaceSlow(other);
      });
      assert.deepEqual(await payloadsAfterRestart(log), []);
    });
  });
});
