/**
 * The spool log's counts, which the node shows and the spool's room is
 * decided on: live entries and bytes while they are written, out and
 * acknowledged, after a failed write and after damage; the limit's exact
 * bound; and the largest entry a writer makes, read back whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import {
  MAX_PAYLOAD,
  RECORD_OVERHEAD,
  SegmentLog,
  type SegmentLogOptions,
} from '../../nodes/events/spool/segment-log';
import { FaultyDisk } from '../support/faulty-disk';

describe('spool segment log: counts and bounds', () => {
  let dir: string;
  const open: SegmentLog[] = [];
  const disk = new FaultyDisk();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-counts-'));
  });
  afterEach(async () => {
    disk.restore();
    disk.full = false;
    await Promise.all(open.splice(0).map((log) => log.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openLog(options: Partial<SegmentLogOptions> = {}): Promise<SegmentLog> {
    const log = await SegmentLog.open(dir, { limitBytes: 1024 * 1024, ...options });
    open.push(log);
    return log;
  }

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
    const [segment] = fs.readdirSync(dir).filter((n) => n.endsWith('.seg'));
    const file = path.join(dir, segment!);
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
    const [segment] = fs.readdirSync(dir).filter((n) => n.endsWith('.seg'));
    const file = path.join(dir, segment!);
    const bytes = fs.readFileSync(file);
    for (const i of [2, 3]) bytes[bytes.indexOf(`payload-${i}`)]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const entries = await log.next(1);
    assert.equal(entries[0]!.payload.toString(), 'payload-1');
    assert.equal(log.unread, 5);
    const rest = await log.next(1);
    assert.equal(rest[0]!.payload.toString(), 'payload-4');
    assert.deepEqual([log.unread, log.count], [2, 4], 'two lost, one more out');
    assert.deepEqual(
      errors.map((e) => [e.code, (e.details as { lost: number }).lost]),
      [['CE_SPOOL_DAMAGED', 2]],
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
});
