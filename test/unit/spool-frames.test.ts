/**
 * One spool record at a time: which records the reader takes and which it
 * calls damage (each bound of length, type and sequence number), where the
 * damage it reports starts and ends, and what the cursor says it cost.
 * A record taken wrongly is an event sent twice or one that was never spooled;
 * one refused wrongly is an event lost.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { DamageTally } from '../../nodes/events/spool/damage';
import {
  ACK,
  ENTRY,
  HEADER,
  MAX_BODY,
  MAX_PAYLOAD,
  SegmentReader,
  ackRecord,
  entryRecord,
  parseFrame,
  sealEntry,
  writeSeq,
  type Damage,
  type Frame,
} from '../../nodes/events/spool/records';
import { SeqSet } from '../../nodes/events/spool/seq-set';

const LIMIT = 100;

function entry(seq: number, payload = 'event'): Buffer {
  const record = entryRecord(Buffer.from(payload));
  sealEntry(record, seq);
  return record;
}

/** A record with any type byte and length field, and a checksum that matches its body. */
function forged(type: number, seq: number, extra = Buffer.alloc(0)): Buffer {
  const record = Buffer.alloc(HEADER + 9 + extra.length);
  record.writeUInt32BE(record.length - HEADER, 0);
  record[HEADER] = type;
  writeSeq(record, seq, HEADER + 1);
  extra.copy(record, HEADER + 9);
  record.writeUInt32BE(crc32(record.subarray(HEADER)), 4);
  return record;
}

function frame(found: Frame | string): Frame {
  assert.notEqual(typeof found, 'string', `refused: ${String(found)}`);
  return found as Frame;
}

describe('spool records: one record', () => {
  it('takes sequence numbers 1 to the limit - 1 and refuses 0 and the limit, though their checksums match', () => {
    assert.equal(frame(parseFrame(entry(1), 0, LIMIT)).seq, 1);
    assert.equal(frame(parseFrame(entry(LIMIT - 1), 0, LIMIT)).seq, LIMIT - 1);
    assert.equal(parseFrame(entry(0), 0, LIMIT), 'a sequence number out of range');
    assert.equal(parseFrame(entry(LIMIT), 0, LIMIT), 'a sequence number out of range');
  });

  it('reads a sequence number past 2^32 as written', () => {
    const seq = 2 ** 32 + 5;
    const got = frame(parseFrame(entry(seq), 12, 2 ** 40));
    assert.deepEqual(
      [got.seq, got.type, got.offset, got.body.subarray(9).toString()],
      [seq, ENTRY, 12, 'event'],
    );
  });

  it('refuses a type it does not know, and a length no writer makes; takes the shortest entry', () => {
    assert.equal(parseFrame(forged(3, 1), 0, LIMIT), 'a record of unknown type');
    const short = Buffer.alloc(HEADER + 8);
    short.writeUInt32BE(8, 0);
    short[HEADER] = ENTRY;
    assert.equal(parseFrame(short, 0, LIMIT), 'an impossible record length');
    const long = entry(1);
    long.writeUInt32BE(MAX_BODY + 1, 0);
    assert.equal(parseFrame(long, 0, LIMIT), 'an impossible record length');
    const largest = entryRecord(Buffer.alloc(MAX_PAYLOAD));
    sealEntry(largest, 1);
    assert.equal(
      frame(parseFrame(largest, 0, LIMIT)).size,
      HEADER + MAX_BODY,
      'the largest entry a writer makes',
    );
    const empty = frame(parseFrame(entry(7, ''), 0, LIMIT));
    assert.deepEqual([empty.seq, empty.size], [7, HEADER + 9]);
  });

  it('refuses a record whose length field says more than its bytes hold', () => {
    const cut = entry(1);
    cut.writeUInt32BE(cut.length - HEADER + 1, 0);
    assert.equal(typeof parseFrame(cut, 0, LIMIT), 'string');
  });

  it('takes an ack whose every number is in range, and refuses one with a number out of range or a torn number', () => {
    const ack = frame(parseFrame(ackRecord([1, 50, LIMIT - 1]), 0, LIMIT));
    assert.deepEqual([ack.type, ack.seq, ack.body.length], [ACK, 1, 1 + 3 * 8]);
    assert.equal(parseFrame(ackRecord([1, LIMIT]), 0, LIMIT), 'a sequence number out of range');
    assert.equal(parseFrame(ackRecord([1, 0]), 0, LIMIT), 'a sequence number out of range');
    assert.equal(typeof parseFrame(forged(ACK, 1, Buffer.from([0, 0, 0, 2])), 0, LIMIT), 'string');
  });
});

describe('spool records: the damage a reader reports', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-frames-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Every item the reader gives for `bytes`, as [seq] for a record and [offset, size, why] for damage. */
  async function readAll(bytes: Buffer, end = bytes.length): Promise<(number | string)[][]> {
    const file = path.join(dir, 'segment');
    fs.writeFileSync(file, bytes);
    const handle = await fsp.open(file, 'r');
    try {
      const reader = new SegmentReader(handle, 0, end, LIMIT);
      const items: (number | string)[][] = [];
      for (let item = await reader.next(); item; item = await reader.next())
        items.push('why' in item ? [item.offset, item.size, item.why] : [(item as Frame).seq]);
      return items;
    } finally {
      await handle.close();
    }
  }

  it('reports foreign bytes between two records as one stretch, from where they start to the next record', async () => {
    const [a, b] = [entry(1), entry(2)];
    const junk = Buffer.alloc(50, 0xff);
    assert.deepEqual(await readAll(Buffer.concat([a, junk, b])), [
      [1],
      [a.length, 50, 'an impossible record length'],
      [2],
    ]);
  });

  it('a record-like stretch with a wrong checksum inside the damage does not split it', async () => {
    const [a, b] = [entry(1), entry(3)];
    const fake = entry(2, 'looks whole');
    fake[fake.length - 1]! ^= 0x01;
    const junk = Buffer.concat([Buffer.alloc(7, 0xff), fake, Buffer.alloc(5, 0xff)]);
    assert.deepEqual(await readAll(Buffer.concat([a, junk, b])), [
      [1],
      [a.length, junk.length, 'an impossible record length'],
      [3],
    ]);
  });

  it('finds the shortest record (an ack of one entry) right at the end, after damage', async () => {
    const ack = ackRecord([1]);
    // One foreign byte: the search starts with exactly one record's worth of bytes left.
    const items = await readAll(Buffer.concat([entry(1), Buffer.alloc(1, 0xff), ack]));
    assert.deepEqual(items, [[1], [entry(1).length, 1, 'an impossible record length'], [1]]);
  });

  it('reports a cut-off last record, and a tail too short to hold a header, up to the end', async () => {
    const [a, b] = [entry(1), entry(2, 'x'.repeat(40))];
    assert.deepEqual(await readAll(Buffer.concat([a, b.subarray(0, 30)])), [
      [1],
      [a.length, 30, 'a cut-off record'],
    ]);
    assert.deepEqual(await readAll(Buffer.concat([a, b.subarray(0, 5)])), [
      [1],
      [a.length, 5, 'a cut-off record'],
    ]);
  });

  it('reads records longer than one read brings in, and the ones around them', async () => {
    const big = entry(2, 'y'.repeat(300 * 1024));
    const bytes = Buffer.concat([
      entry(1),
      big,
      entry(3),
      Buffer.alloc(20, 0xff),
      entry(4, 'z'.repeat(260 * 1024)),
    ]);
    assert.deepEqual(await readAll(bytes), [
      [1],
      [2],
      [3],
      [entry(1).length + big.length + entry(3).length, 20, 'an impossible record length'],
      [4],
    ]);
  });

  it('tries a failed read again twice, then counts the rest of the file as damage', async () => {
    const a = entry(1);
    const file = path.join(dir, 'short');
    fs.writeFileSync(file, a.subarray(0, 20));
    const handle = await fsp.open(file, 'r');
    try {
      // The file claims more than it holds: every read of the record comes up short.
      const reader = new SegmentReader(handle, 0, a.length, LIMIT);
      await assert.rejects(reader.next(), /bytes expected at 0/);
      await assert.rejects(reader.next(), /bytes expected at 0/);
      const damage = (await reader.next()) as Damage;
      assert.deepEqual([damage.offset, damage.size], [0, a.length]);
      assert.match(damage.why, /^bytes that cannot be read/);
      assert.equal(await reader.next(), undefined);
    } finally {
      await handle.close();
    }
  });
});

describe('spool damage: what the cursor passed cost', () => {
  const damage = (size: number, why = 'a checksum that does not match'): Damage => ({ offset: 0, size, why });

  it('counts the numbers between the entries around the damage that were not finished with', () => {
    const tally = new DamageTally();
    const done = new SeqSet();
    done.add(3);
    assert.equal(tally.met(1, done), undefined, 'no damage before the first entry');
    tally.passed(damage(40), 'seg-1 at 100', false);
    const gap = tally.met(5, done);
    assert.deepEqual(
      gap,
      {
        lost: 2,
        known: false,
        text:
          'The spool could not read 40 bytes (seg-1 at 100: a checksum that does not match); ' +
          '2 events in them were skipped, the records after them are kept.',
      },
      'numbers 2 and 4 lost, 3 was finished with',
    );
    assert.equal(done.missingIn(2, 4), 0, 'the lost numbers count as done: they can never be met again');
    assert.equal(done.missingIn(1, 5), 2, 'the entries around the damage are not');
  });

  it('sums damage stretches in a row, names the first, and counts it known only when every stretch was', () => {
    const tally = new DamageTally();
    tally.met(1, new SeqSet());
    tally.passed(damage(10, 'a cut-off record'), 'seg-1 at 10', true);
    tally.passed(damage(5), 'seg-1 at 30', false);
    assert.deepEqual(tally.met(3, new SeqSet()), {
      lost: 1,
      known: false,
      text:
        'The spool could not read 15 bytes (seg-1 at 10: a cut-off record); ' +
        '1 event in them was skipped, the records after them are kept.',
    });
    tally.passed(damage(10), 'seg-2 at 0', true);
    tally.passed(damage(10), 'seg-2 at 10', true);
    assert.equal(tally.met(4, new SeqSet())?.known, true);
  });

  it('a copy moved forward (an older number) closes no gap: the next entry in place does', () => {
    const tally = new DamageTally();
    tally.met(5, new SeqSet());
    tally.passed(damage(8), 'seg-3 at 0', false);
    assert.equal(tally.met(2, new SeqSet()), undefined, 'an older number');
    assert.equal(tally.met(5, new SeqSet()), undefined, 'the same number again');
    assert.equal(tally.met(7, new SeqSet())?.lost, 1);
  });
});
