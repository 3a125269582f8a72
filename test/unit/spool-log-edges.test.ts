/**
 * The spool log's edges: its counts, which the node shows and the spool's
 * room is decided on (live entries and bytes while they are written, out and
 * acknowledged, after a failed write and after damage), the limit's exact
 * bound, the largest entry a writer makes, a restart over many segments, damage at the end of an older
 * segment, short writes, a disk that takes no byte, a failed open, acks a full
 * disk refused written again without a stop, and nothing written after a stop.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { MAX_PAYLOAD, RECORD_OVERHEAD, SegmentLog } from '../../nodes/events/spool/segment-log';
import { waitFor } from '../support/wait';
import { withSegmentLogs } from '../support/segment-logs';

describe('spool segment log: edges', () => {
  const logs = withSegmentLogs('spool-edges');
  const { disk } = logs;
  const openLog = logs.open;

  it('counts an entry and its bytes from the moment it is appended, through out, to its ack', async () => {
    const log = await openLog();
    const sizes = [10, 200, 3000].map((n) => n + RECORD_OVERHEAD);
    const appended = [10, 200, 3000].map((n) => log.append(Buffer.alloc(n, 0x41)));
    assert.deepEqual([log.count, log.bytes], [3, sizes[0]! + sizes[1]! + sizes[2]!], 'still being written');
    const seqs = await Promise.all(appended);
    assert.deepEqual(
      [log.count, log.unread, log.bytes],
      [3, 3, sizes[0]! + sizes[1]! + sizes[2]!],
      'on disk',
    );
    const entries = await log.next(2);
    assert.deepEqual(
      entries.map((e) => e.seq),
      seqs.slice(0, 2),
    );
    assert.deepEqual(
      [log.count, log.unread, log.bytes],
      [3, 1, sizes[0]! + sizes[1]! + sizes[2]!],
      'two out',
    );
    assert.equal(log.ack(seqs[1]!), true);
    assert.equal(log.ack(seqs[1]!), false, 'an entry is finished once');
    assert.deepEqual([log.count, log.bytes], [2, sizes[0]! + sizes[2]!]);
    log.ack(seqs[0]!);
    assert.deepEqual([log.count, log.bytes], [1, sizes[2]!]);
  });

  it('an entry fits while the live bytes stay at or under the limit, not a byte over', async () => {
    const log = await openLog({ limitBytes: 1000 });
    assert.equal(log.fits(1000 - RECORD_OVERHEAD), true);
    assert.equal(log.fits(1001 - RECORD_OVERHEAD), false);
    await log.append(Buffer.alloc(100));
    assert.equal(log.fits(900 - 2 * RECORD_OVERHEAD), true);
    assert.equal(log.fits(901 - 2 * RECORD_OVERHEAD), false);
  });

  it('a failed write gives its room back: the entries it refused are not counted', async () => {
    const log = await openLog({ limitBytes: 1000, onWarning: () => undefined });
    await log.append(Buffer.alloc(100));
    await disk.install();
    disk.full = true;
    await assert.rejects(log.append(Buffer.alloc(500)), { code: 'CE_SPOOL_WRITE_FAILED' });
    assert.deepEqual([log.count, log.bytes], [1, 100 + RECORD_OVERHEAD]);
    disk.full = false;
    assert.equal(log.fits(900 - 2 * RECORD_OVERHEAD), true);
  });

  it('a log that never held an entry gives none, and counts acks as no commit of entries', async () => {
    const log = await openLog();
    assert.deepEqual(await log.next(5), []);
    const seq = await log.append(Buffer.from('one'));
    assert.equal(log.commits, 1);
    await log.next(1);
    log.ack(seq);
    await log.idle();
    assert.equal(log.commits, 1, 'the write of an ack alone carries no entry');
  });

  it('damage whose entries were all finished with is a warning, not a loss', async () => {
    const warnings: string[] = [];
    const lost: number[] = [];
    const log = await openLog();
    const seqs = [await log.append(Buffer.from('first')), await log.append(Buffer.from('middle'))];
    await log.append(Buffer.from('last'));
    await log.next(3);
    log.ack(seqs[1]!);
    await log.close();
    const [segment] = fs.readdirSync(logs.dir).filter((n) => n.endsWith('.seg'));
    const file = path.join(logs.dir, segment!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('middle')]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const again = await openLog({ onWarning: (w) => warnings.push(w), onDamage: (n) => lost.push(n) });
    assert.deepEqual([again.count, again.unread], [2, 2]);
    const entries = await again.next(10);
    assert.deepEqual(
      entries.map((e) => e.payload.toString()),
      ['first', 'last'],
    );
    assert.deepEqual(lost, []);
    assert.match(warnings.join('\n'), /could not read \d+ bytes.*0 events in them were skipped/);
    assert.deepEqual([again.count, again.unread], [2, 0]);
  });

  it('damage passed while the log runs takes its lost entries out of the count, and no more', async () => {
    const errors: CodedError[] = [];
    const log = await openLog({ onDamage: (_n, err) => errors.push(err) });
    for (let i = 1; i <= 6; i++) await log.append(Buffer.from(`payload-${i}`));
    const [segment] = fs.readdirSync(logs.dir).filter((n) => n.endsWith('.seg'));
    const file = path.join(logs.dir, segment!);
    const bytes = fs.readFileSync(file);
    for (const i of [2, 3]) bytes[bytes.indexOf(`payload-${i}`)]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const entries = await log.next(1);
    assert.equal(entries[0]!.payload.toString(), 'payload-1');
    assert.equal(log.unread, 5);
    const rest = await log.next(1);
    assert.equal(rest[0]!.payload.toString(), 'payload-4');
    assert.deepEqual([log.unread, log.count], [2, 4], 'two lost, one more out');
    assert.equal(log.bytes, 4 * (RECORD_OVERHEAD + 'payload-1'.length), 'nor their bytes');
    assert.deepEqual(
      errors.map((e) => [e.code, (e.details as { lost: number }).lost]),
      [['CE_SPOOL_DAMAGED', 2]],
    );
  });

  const segmentFiles = () =>
    fs
      .readdirSync(logs.dir)
      .filter((n) => n.endsWith('.seg'))
      .sort();

  it('after a restart over many segments, counts every entry and its bytes, and gives them in order', async () => {
    const log = await openLog({ segmentBytes: 100 });
    for (let i = 1; i <= 12; i++) await log.append(Buffer.from(`entry-${i}`.padEnd(60, '.')));
    await log.close();
    assert.ok(segmentFiles().length >= 6, `${segmentFiles().length} segments`);
    const again = await openLog({ segmentBytes: 100 });
    assert.deepEqual([again.count, again.unread, again.bytes], [12, 12, 12 * (RECORD_OVERHEAD + 60)]);
    const entries = await again.next(100);
    assert.deepEqual(
      entries.map((e) => e.payload.toString()),
      Array.from({ length: 12 }, (_, i) => `entry-${i + 1}`.padEnd(60, '.')),
    );
  });

  it('damage at the end of an older segment is counted as lost, not cut off as a crash would be', async () => {
    const log = await openLog({ segmentBytes: 100 });
    for (let i = 1; i <= 6; i++) await log.append(Buffer.from(`entry-${i}`.padEnd(60, '.')));
    await log.close();
    const [first] = segmentFiles();
    const file = path.join(logs.dir, first!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const warnings: string[] = [];
    const lost: number[] = [];
    const again = await openLog({
      segmentBytes: 100,
      onWarning: (w) => warnings.push(w),
      onDamage: (n) => lost.push(n),
    });
    assert.equal(fs.statSync(file).size, bytes.length, 'the older segment is not cut');
    const entries = await again.next(100);
    assert.equal(entries.length, 5);
    assert.deepEqual(lost, [1]);
    assert.doesNotMatch(warnings.join('\n'), /cut off/);
  });

  it('writes every byte when the disk takes only part of each write', async () => {
    const log = await openLog();
    await disk.install();
    disk.short = true;
    try {
      for (let i = 1; i <= 5; i++) await log.append(Buffer.from(`entry-${i}`.repeat(20)));
    } finally {
      disk.short = false;
    }
    await log.close();
    const again = await openLog();
    const entries = await again.next(100);
    assert.deepEqual(
      entries.map((e) => e.payload.toString()),
      [1, 2, 3, 4, 5].map((i) => `entry-${i}`.repeat(20)),
    );
  });

  it('refuses an entry when the disk takes no byte of the rest of a write, cuts it off, and goes on once it takes them', async () => {
    const log = await openLog();
    await disk.install();
    disk.short = true;
    disk.stalled = true;
    try {
      await assert.rejects(log.append(Buffer.from('refused')), {
        code: 'CE_SPOOL_WRITE_FAILED',
        message: 'The spool could not be written: the disk took no more bytes',
      });
    } finally {
      disk.short = false;
      disk.stalled = false;
    }
    await log.append(Buffer.from('next'));
    await log.close();
    const warnings: string[] = [];
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    assert.deepEqual(
      (await again.next(10)).map((e) => e.payload.toString()),
      ['next'],
    );
    assert.deepEqual(warnings, []);
  });

  it('tells a disk that stays full once, however many writes it refuses', async () => {
    const warnings: string[] = [];
    const log = await openLog({ onWarning: (w) => warnings.push(w) });
    await disk.install();
    disk.full = true;
    for (let i = 0; i < 3; i++)
      await assert.rejects(log.append(Buffer.from(`e-${i}`)), { code: 'CE_SPOOL_WRITE_FAILED' });
    assert.equal(warnings.filter((w) => /ENOSPC/.test(w)).length, 1);
  });

  it('a folder it cannot read at open is refused and let go: the next open reads it whole', async () => {
    const log = await openLog();
    for (let i = 1; i <= 3; i++) await log.append(Buffer.from(`entry-${i}`));
    await log.close();
    await disk.install();
    let failures = 1;
    disk.beforeRead = () => {
      if (failures-- > 0) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    };
    await assert.rejects(openLog(), /EIO/);
    const again = await openLog();
    assert.deepEqual(
      (await again.next(10)).map((e) => e.payload.toString()),
      ['entry-1', 'entry-2', 'entry-3'],
    );
  });

  it('writes nothing after a stop: an entry finished then comes back at the next start', async () => {
    const log = await openLog();
    const seq = await log.append(Buffer.from('late'));
    await log.next(1);
    await log.close();
    const before = segmentFiles().map((n) => fs.statSync(path.join(logs.dir, n)).size);
    log.ack(seq);
    await log.idle();
    assert.deepEqual(
      segmentFiles().map((n) => fs.statSync(path.join(logs.dir, n)).size),
      before,
    );
    const again = await openLog();
    assert.deepEqual(
      (await again.next(10)).map((e) => e.payload.toString()),
      ['late'],
    );
  });

  it('writes and reads back the largest entry a record may hold', async function () {
    this.timeout(60_000);
    const log = await openLog({ limitBytes: 200 * 1024 * 1024 });
    const payload = Buffer.alloc(MAX_PAYLOAD, 0x5a);
    await log.append(payload);
    const again = await (async () => {
      await log.close();
      return openLog({ limitBytes: 200 * 1024 * 1024 });
    })();
    const [entry] = await again.next(1);
    assert.equal(entry?.payload.length, MAX_PAYLOAD);
    assert.ok(entry.payload.equals(payload));
  });

  it('writes the acks a full disk refused again a moment later, with no other write: a crash then does not bring those events back', async () => {
    const log = await openLog();
    for (const name of ['a', 'b']) await log.append(Buffer.from(name));
    const entries = await log.next(2);
    const sizes = () => segmentFiles().map((n) => fs.statSync(path.join(logs.dir, n)).size);
    const before = sizes();
    await disk.install();
    disk.full = true;
    for (const e of entries) log.ack(e.seq);
    await log.idle();
    disk.full = false;
    // No append, no stop: only the retry writes them (a process that dies now would lose nothing else).
    await waitFor(() => sizes().some((size, i) => size > (before[i] ?? 0)), 'the refused acks written');
    const crashed = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-crashed-'));
    try {
      for (const n of segmentFiles()) fs.copyFileSync(path.join(logs.dir, n), path.join(crashed, n));
      const again = await SegmentLog.open(crashed, { limitBytes: 1024 * 1024 });
      try {
        assert.deepEqual(await again.next(10), []);
      } finally {
        await again.close();
      }
    } finally {
      fs.rmSync(crashed, { recursive: true, force: true });
    }
  });
});
