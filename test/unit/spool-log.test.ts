import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECORD_OVERHEAD, SegmentLog, type SegmentLogOptions } from '../../nodes/events/spool/segment-log';

const text = (b: Buffer | undefined) => b?.toString('utf8');

describe('spool segment log', () => {
  let dir: string;
  const open: SegmentLog[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openLog(options: Partial<SegmentLogOptions> = {}): Promise<SegmentLog> {
    const log = await SegmentLog.open(dir, { limitBytes: 1024 * 1024, ...options });
    open.push(log);
    return log;
  }

  /** Closes `log` and opens the folder again, as a restart does. */
  async function reopen(log: SegmentLog, options: Partial<SegmentLogOptions> = {}): Promise<SegmentLog> {
    await log.close();
    return openLog(options);
  }

  async function payloads(log: SegmentLog): Promise<string[]> {
    const seqs = log.sequence();
    const read = await log.read(seqs);
    return seqs.map((seq) => text(read.get(seq)) ?? `missing ${seq}`);
  }

  const segments = () =>
    fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.seg'))
      .sort();

  it('gives back every entry after a reopen, in the order appended', async () => {
    const log = await openLog();
    const seqs = await Promise.all(['a', 'b', 'c', 'd'].map((p) => log.append(Buffer.from(p))));
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    assert.deepEqual(await payloads(await reopen(log)), ['a', 'b', 'c', 'd']);
  });

  it('writes entries that arrive together with one write and one sync (group commit)', async () => {
    const log = await openLog();
    await log.append(Buffer.from('first'));
    const before = log.commits;
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(Buffer.from(`e${i}`))));
    assert.equal(log.commits - before, 1);
    assert.equal((await payloads(await reopen(log))).length, 201);
  });

  it('forgets acknowledged entries, in any order, across a reopen; new entries come after the old ones', async () => {
    const log = await openLog();
    const seqs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((p) => log.append(Buffer.from(p))));
    log.ack(seqs[3]!);
    log.ack(seqs[0]!);
    assert.equal(log.ack(seqs[0]!), false, 'an entry is acknowledged once');
    const again = await reopen(log);
    assert.deepEqual(await payloads(again), ['b', 'c', 'e']);
    const next = await again.append(Buffer.from('f'));
    assert.ok(next > seqs[4]!, 'sequence numbers go on after a reopen');
    assert.deepEqual(await payloads(await reopen(again)), ['b', 'c', 'e', 'f']);
  });

  it('cuts a torn tail away with one warning and keeps every entry before it', async () => {
    const log = await openLog();
    for (const p of ['a', 'b', 'c']) await log.append(Buffer.from(p));
    await log.close();
    // A crash in the middle of the next write: a header that promises more bytes than came.
    const [file] = segments();
    const torn = Buffer.alloc(12);
    torn.writeUInt32BE(500, 0);
    fs.appendFileSync(path.join(dir, file!), torn);
    const warnings: string[] = [];
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /12 bytes skipped/);
    assert.deepEqual(await payloads(again), ['a', 'b', 'c']);
    // What is written after the cut is readable, and the damage is not reported twice.
    await again.append(Buffer.from('d'));
    const third = await reopen(again, { onWarning: (w) => warnings.push(w) });
    assert.deepEqual(await payloads(third), ['a', 'b', 'c', 'd']);
    assert.equal(warnings.length, 1);
  });

  it('detects a record whose bytes were damaged by its checksum', async () => {
    const log = await openLog();
    for (const p of ['first', 'second', 'third']) await log.append(Buffer.from(p));
    await log.close();
    const file = path.join(dir, segments()[0]!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('third') + 2] = 0x58; // same length, other content
    fs.writeFileSync(file, bytes);
    const warnings: string[] = [];
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    assert.match(warnings.join(), /checksum/);
    assert.deepEqual(await payloads(again), ['first', 'second']);
  });

  it('a damaged older segment does not block the segments after it', async () => {
    const log = await openLog({ segmentBytes: 64 });
    for (const p of ['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)]) await log.append(Buffer.from(p));
    await log.close();
    assert.equal(segments().length, 3);
    const first = path.join(dir, segments()[0]!);
    fs.truncateSync(first, fs.statSync(first).size - 5);
    const warnings: string[] = [];
    const again = await openLog({ segmentBytes: 64, onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.deepEqual(await payloads(again), ['b'.repeat(60), 'c'.repeat(60)]);
  });

  it('holds at most the limit of live bytes; acknowledging makes room', async () => {
    const entry = 100;
    const log = await openLog({ limitBytes: 3 * (entry + RECORD_OVERHEAD) });
    const seqs: number[] = [];
    while (log.fits(entry)) seqs.push(await log.append(Buffer.alloc(entry)));
    assert.equal(seqs.length, 3);
    assert.equal(log.bytes, 3 * (entry + RECORD_OVERHEAD));
    log.ack(seqs[0]!);
    assert.ok(log.fits(entry));
    assert.equal(log.count, 2);
  });

  it('rolls over to new segments and removes old ones once nothing in them is live', async () => {
    const log = await openLog({ segmentBytes: 256 });
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(await log.append(Buffer.from(`entry ${i}`.padEnd(50))));
    assert.ok(segments().length >= 8, `${segments().length} segments`);
    for (const seq of seqs.slice(0, 38)) log.ack(seq);
    await log.append(Buffer.from('last'));
    await log.idle();
    assert.ok(segments().length <= 3, `old segments removed (${segments().join(', ')})`);
    assert.deepEqual(await payloads(await reopen(log, { segmentBytes: 256 })), [
      'entry 38'.padEnd(50),
      'entry 39'.padEnd(50),
      'last',
    ]);
  });

  it('copies a long-lived entry forward so it does not pin the segments behind it', async () => {
    const log = await openLog({ segmentBytes: 256 });
    const first = await log.append(Buffer.from('the slow one'));
    for (let i = 0; i < 60; i++) log.ack(await log.append(Buffer.from(`entry ${i}`.padEnd(50))));
    await log.append(Buffer.from('newest'));
    await log.idle();
    assert.ok(log.diskBytes < 5 * 256, `${log.diskBytes} bytes on disk for 2 live entries`);
    const again = await reopen(log, { segmentBytes: 256 });
    assert.deepEqual(await payloads(again), ['the slow one', 'newest']);
    assert.equal(again.sequence()[0], first, 'the entry keeps its place (and sequence number)');
  });

  it('keeps a copied entry once, also when the old copy survives a crash', async () => {
    const log = await openLog({ segmentBytes: 128 });
    await log.append(Buffer.from('kept'));
    for (let i = 0; i < 3; i++) await log.append(Buffer.from(`x${i}`.padEnd(100)));
    await log.close();
    // The old copy's segment, as if the crash came between the copy and the removal.
    const [oldest] = segments();
    const copy = fs.readFileSync(path.join(dir, oldest!));
    fs.writeFileSync(path.join(dir, '999999999999.seg'), copy);
    assert.deepEqual(await payloads(await openLog({ segmentBytes: 128 })), [
      'kept',
      ...[0, 1, 2].map((i) => `x${i}`.padEnd(100)),
    ]);
  });

  it('refuses appends after close and removes its folder on destroy', async () => {
    const log = await openLog();
    await log.append(Buffer.from('a'));
    await log.close();
    await assert.rejects(log.append(Buffer.from('b')), { code: 'CE_SPOOL_CLOSED' });
    await log.destroy();
    assert.equal(fs.existsSync(dir), false);
  });
});
