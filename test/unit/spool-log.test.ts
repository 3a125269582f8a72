import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { RECORD_OVERHEAD, SegmentLog, type SegmentLogOptions } from '../../nodes/events/spool/segment-log';
import { liveHeap } from '../support/heap';
import { holdSpool } from '../support/spool';
import { waitFor } from '../support/wait';
import { withSegmentLogs } from '../support/segment-logs';

describe('spool segment log', () => {
  const logs = withSegmentLogs('spool');
  const { disk } = logs;
  const openLog = logs.open;

  /** Closes `log` and opens the folder again, as a restart does. */
  async function reopen(log: SegmentLog, options: Partial<SegmentLogOptions> = {}): Promise<SegmentLog> {
    await log.close();
    return openLog(options);
  }

  /** Every live entry's payload, in the order the cursor gives them (they are out from then on). */
  async function payloads(log: SegmentLog): Promise<string[]> {
    const entries = await log.next(1_000_000);
    return entries.map((e) => e.payload.toString('utf8'));
  }

  const segments = () =>
    fs
      .readdirSync(logs.dir)
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
    assert.equal(log.ack(seqs[3]!), false, 'only an entry handed out can be acknowledged');
    assert.deepEqual(
      (await log.next(10)).map((e) => e.seq),
      seqs,
    );
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
    fs.appendFileSync(path.join(logs.dir, file!), torn);
    const warnings: string[] = [];
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /12 bytes at the end of 000000000001\.seg .*cut off/);
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
    const file = path.join(logs.dir, segments()[0]!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('third') + 2] = 0x58; // same length, other content
    fs.writeFileSync(file, bytes);
    const warnings: string[] = [];
    const again = await openLog({ onWarning: (w) => warnings.push(w) });
    assert.match(warnings.join(), /checksum/);
    assert.deepEqual(await payloads(again), ['first', 'second']);
    assert.match(warnings.join(), /cut off/, 'the last record: a torn tail');
  });

  it('a damaged older segment does not block the segments after it', async () => {
    const log = await openLog({ segmentBytes: 64 });
    for (const p of ['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)]) await log.append(Buffer.from(p));
    await log.close();
    assert.equal(segments().length, 3);
    const first = path.join(logs.dir, segments()[0]!);
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
    await log.next(1);
    log.ack(seqs[0]!);
    assert.ok(log.fits(entry));
    assert.equal(log.count, 2);
  });

  it('rolls over to new segments and removes old ones once nothing in them is live', async () => {
    const log = await openLog({ segmentBytes: 256 });
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(await log.append(Buffer.from(`entry ${i}`.padEnd(50))));
    assert.ok(segments().length >= 8, `${segments().length} segments`);
    await log.next(38);
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
    await log.next(1);
    for (let i = 0; i < 60; i++) {
      const seq = await log.append(Buffer.from(`entry ${i}`.padEnd(50)));
      await log.next(1);
      log.ack(seq);
    }
    const newest = await log.append(Buffer.from('newest'));
    await log.idle();
    assert.ok(log.diskBytes < 5 * 256, `${log.diskBytes} bytes on disk for 2 live entries`);
    const again = await reopen(log, { segmentBytes: 256 });
    const entries = await again.next(10);
    assert.deepEqual(
      entries.map((e) => [e.seq, e.payload.toString()]).sort(),
      [
        [first, 'the slow one'],
        [newest, 'newest'],
      ].sort(),
      'both kept, each with its own sequence number',
    );
  });

  it('keeps a copied entry once, also when the old copy survives a crash', async () => {
    const log = await openLog({ segmentBytes: 128 });
    await log.append(Buffer.from('kept'));
    for (let i = 0; i < 3; i++) await log.append(Buffer.from(`x${i}`.padEnd(100)));
    await log.close();
    // The old copy's segment, as if the crash came between the copy and the removal.
    const [oldest] = segments();
    const copy = fs.readFileSync(path.join(logs.dir, oldest!));
    fs.writeFileSync(path.join(logs.dir, '999999999999.seg'), copy);
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
    assert.equal(fs.existsSync(logs.dir), false);
  });

  it('is deleted without an error when its folder was already removed by hand', async () => {
    const log = await openLog();
    await log.append(Buffer.from('a'));
    await log.close();
    fs.rmSync(logs.dir, { recursive: true });
    await log.destroy();
    assert.equal(fs.existsSync(logs.dir), false);
  });

  /** Flips one bit inside the record whose payload holds `text` (its checksum no longer matches). */
  function flipInside(text: string): void {
    for (const name of segments()) {
      const file = path.join(logs.dir, name);
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf(text);
      if (at < 0) continue;
      bytes[at + 1]! ^= 0x01;
      fs.writeFileSync(file, bytes);
      return;
    }
    throw new Error(`${text} is in no segment`);
  }

  describe('one record, one disk, one other process', () => {
    it('a bad record in the middle loses only itself at a restart: every good record after it is kept', async () => {
      const log = await openLog();
      for (let i = 1; i <= 100; i++) await log.append(Buffer.from(`payload-${i}`));
      await log.close();
      flipInside('payload-2');
      const warnings: string[] = [];
      const lost: number[] = [];
      const again = await openLog({ onWarning: (w) => warnings.push(w), onDamage: (n) => lost.push(n) });
      assert.equal(again.count, 99);
      assert.deepEqual(
        await payloads(again),
        Array.from({ length: 100 }, (_, i) => `payload-${i + 1}`).filter((p) => p !== 'payload-2'),
      );
      assert.deepEqual(lost, [1], 'the one record, counted once when the cursor passed it');
      assert.match(warnings.join(), /checksum that does not match.*the records after them are kept/);
      assert.doesNotMatch(warnings.join(), /crash/, 'damage in the middle is not blamed on a crash');
    });

    it('a record damaged while the log runs is skipped and counted; the cursor goes on past it', async () => {
      const lost: CodedError[] = [];
      const log = await openLog({ onDamage: (_n, err) => lost.push(err) });
      for (let i = 1; i <= 10; i++) await log.append(Buffer.from(`payload-${i}`));
      flipInside('payload-5');
      const entries = await log.next(100);
      assert.equal(entries.length, 9);
      assert.equal(lost.length, 1);
      assert.equal(lost[0]!.code, 'CE_SPOOL_DAMAGED');
      assert.equal(log.count, 9, 'the lost record is not counted as live');
      for (const e of entries) log.ack(e.seq);
      assert.equal(log.count, 0);
      await log.append(Buffer.from('after'));
      assert.deepEqual(await payloads(await reopen(log)), ['after'], 'nothing comes back, nothing is wedged');
    });

    it('finds the next record after a stretch of foreign bytes', async () => {
      const log = await openLog();
      for (let i = 1; i <= 3; i++) await log.append(Buffer.from(`before-${i}`));
      await log.close();
      const file = path.join(logs.dir, segments()[0]!);
      fs.appendFileSync(file, Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 0xff)));
      const again = await openLog();
      for (let i = 1; i <= 3; i++) await again.append(Buffer.from(`after-${i}`));
      const third = await reopen(again);
      assert.deepEqual(await payloads(third), [
        'before-1',
        'before-2',
        'before-3',
        'after-1',
        'after-2',
        'after-3',
      ]);
    });

    it('refuses an entry larger than a reader takes, and goes on with the next', async () => {
      const log = await openLog({ limitBytes: 200 * 1024 * 1024 });
      await assert.rejects(log.append(Buffer.alloc(64 * 1024 * 1024)), { code: 'CE_SPOOL_WRITE_FAILED' });
      await log.append(Buffer.from('next'));
      assert.deepEqual(await payloads(await reopen(log)), ['next']);
    });

    it('a second open of one folder in this process is refused with CE_SPOOL_LOCKED', async () => {
      const log = await openLog();
      await assert.rejects(openLog(), (err: CodedError) => {
        assert.equal(err.code, 'CE_SPOOL_LOCKED');
        assert.match(err.message, new RegExp(`process ${process.pid} .*\\(this one\\)`));
        return true;
      });
      await log.close();
      await openLog();
    });

    it('another process on the folder is refused; once it is killed, the folder is free at once', async function () {
      this.timeout(30_000);
      const other = await holdSpool(logs.dir);
      try {
        await assert.rejects(openLog(), (err: CodedError) => {
          assert.equal(err.code, 'CE_SPOOL_LOCKED');
          assert.match(err.message, new RegExp(`process ${other.child.pid} on `));
          return true;
        });
      } finally {
        await other.kill();
      }
      const log = await openLog();
      await log.append(Buffer.from('mine'));
      assert.deepEqual(await payloads(await reopen(log)), ['mine']);
    });

    it('a log whose folder another process took over (this one frozen) writes nothing more', async () => {
      const lost: CodedError[] = [];
      const log = await openLog({ lockHeartbeatMs: 50, onLockLost: (err) => lost.push(err) });
      await log.append(Buffer.from('before'));
      // What a process elsewhere leaves once it judged this one's lock stale.
      fs.writeFileSync(path.join(logs.dir, 'lock.2'), JSON.stringify({ pid: 1, host: 'the-other-host' }));
      await waitFor(() => lost.length > 0, 'the loss');
      assert.equal(lost[0]!.code, 'CE_SPOOL_LOCKED');
      await assert.rejects(log.append(Buffer.from('after')), { code: 'CE_SPOOL_LOCKED' });
      const [entry] = await log.next(1);
      log.ack(entry!.seq);
      await log.idle();
      assert.equal(
        segments().reduce((n, name) => n + fs.statSync(path.join(logs.dir, name)).size, 0),
        RECORD_OVERHEAD + 'before'.length,
        'not even an ack was written',
      );
    });

    it('keeps no memory per spooled event (no Map entry per event: none can reach 2^24)', async function () {
      this.timeout(120_000);
      const entries = 200_000;
      const before = liveHeap();
      const log = await openLog({ limitBytes: 1024 * 1024 * 1024 });
      const payload = Buffer.from('{"n":1}');
      for (let i = 0; i < entries; i += 2000)
        await Promise.all(Array.from({ length: 2000 }, () => log.append(payload)));
      const written = (liveHeap() - before) / entries;
      const again = await reopen(log, { limitBytes: 1024 * 1024 * 1024 });
      assert.equal(again.count, entries);
      const reopened = (liveHeap() - before) / entries;
      // 86 bytes each before (a Map entry and a location object per event); now a few numbers per segment.
      assert.ok(written < 10, `${written.toFixed(1)} bytes per event after writing`);
      assert.ok(reopened < 10, `${reopened.toFixed(1)} bytes per event after a reopen`);
    });

    it('opens on a full disk without writing, and delivering frees the space', async () => {
      // Written with large segments, opened with small ones: the files hold dead bytes a compaction would copy.
      const log = await openLog({ segmentBytes: 4096 });
      const slow = await log.append(Buffer.alloc(100, 0x31));
      await log.next(1);
      for (let i = 0; i < 60; i++) {
        const seq = await log.append(Buffer.alloc(100, 0x32));
        await log.next(1);
        log.ack(seq);
      }
      for (let i = 0; i < 20; i++) await log.append(Buffer.from(`waiting-${i}`.padEnd(100)));
      await log.close();
      await disk.install();
      disk.full = true;
      const warnings: string[] = [];
      const full = await openLog({ segmentBytes: 256, onWarning: (w) => warnings.push(w) });
      assert.equal(full.count, 21);
      const before = full.diskBytes;
      const entries = await full.next(100);
      assert.equal(entries.length, 21);
      assert.equal(entries[0]!.seq, slow);
      for (const e of entries) full.ack(e.seq);
      await full.idle();
      assert.equal(full.count, 0);
      assert.ok(full.diskBytes < before / 2, `${before} -> ${full.diskBytes} bytes on disk`);
      assert.equal(warnings.filter((w) => /ENOSPC/.test(w)).length, 1, 'the failed write told once');
      await assert.rejects(full.append(Buffer.from('no room')), { code: 'CE_SPOOL_WRITE_FAILED' });
      disk.full = false;
      await full.append(Buffer.from('room again'));
      assert.deepEqual(await payloads(await reopen(full, { segmentBytes: 256 })), ['room again']);
    });

    it('an ack that lands while its entry is copied forward leaves no ghost', async () => {
      const log = await openLog({ segmentBytes: 256 });
      const slow = await log.append(Buffer.from('the slow one'));
      await log.next(1);
      await disk.install();
      let acked = false;
      // The copy reads the entry's record (and only it) back first: acknowledge it right then.
      disk.beforeRead = (_position, length) => {
        if (!acked && length === RECORD_OVERHEAD + 'the slow one'.length) acked = log.ack(slow);
      };
      for (let i = 0; i < 60; i++) {
        const seq = await log.append(Buffer.from(`entry ${i}`.padEnd(50)));
        await log.next(1);
        log.ack(seq);
      }
      disk.beforeRead = undefined;
      await log.idle();
      assert.ok(acked, 'the ack came during a copy');
      assert.equal(log.count, 0, 'no ghost entry');
      assert.deepEqual(await payloads(await reopen(log, { segmentBytes: 256 })), []);
    });

    it('never follows a link in its folder: a linked segment is left alone, the folder itself may not be a link', async () => {
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
      try {
        const victim = path.join(outside, 'victim.json');
        fs.writeFileSync(victim, '{"precious":true}');
        fs.symlinkSync(victim, path.join(logs.dir, '000000000001.seg'));
        fs.linkSync(victim, path.join(logs.dir, '000000000002.seg'));
        const warnings: string[] = [];
        const log = await openLog({ onWarning: (w) => warnings.push(w) });
        await log.append(Buffer.from('a'));
        assert.deepEqual(await payloads(await reopen(log)), ['a']);
        assert.equal(fs.readFileSync(victim, 'utf8'), '{"precious":true}');
        assert.match(warnings.join(), /left files alone.*000000000001\.seg.*000000000002\.seg/);
        const linked = path.join(outside, 'linked-folder');
        fs.symlinkSync(outside, linked);
        await assert.rejects(SegmentLog.open(linked, { limitBytes: 1024 }), { code: 'CE_SPOOL_FAILED' });
        assert.deepEqual(fs.readdirSync(outside).sort(), ['linked-folder', 'victim.json']);
      } finally {
        fs.rmSync(outside, { recursive: true, force: true });
      }
    });
  });
});
