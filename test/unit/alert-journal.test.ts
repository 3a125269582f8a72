import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { Journal } from '../../nodes/alerts/journal';

describe('alert gate journal: expiring keys kept in the user directory', () => {
  let userDir: string;
  let files: NodeFiles;
  const file = () => files.pathOf('gate-1', '.journal');
  const open = (max = 100, now = 1000) => {
    const journal = new Journal(files, 'gate-1');
    const seen = journal.space<never>('seen', max);
    const storms = journal.space<{ n: number }>('storm', 10);
    journal.load(now);
    return { journal, seen, storms };
  };

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
    files = new NodeFiles(userDir, 'alert-gate');
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('keeps keys and values across a restart, the last write of a key winning, deletions included', () => {
    const a = open();
    a.seen.set('k1', 5000);
    a.seen.set('k2', 5000);
    a.storms.set('s1', 9000, { n: 1 });
    a.storms.set('s1', 9000, { n: 2 });
    a.seen.delete('k2');
    assert.equal(a.journal.flush(1000), undefined);
    assert.equal(fs.readFileSync(file(), 'utf8').split('\n').length - 1, 5, 'one line per change');

    const b = open();
    assert.ok(b.seen.get('k1', 1000));
    assert.equal(b.seen.get('k2', 1000), undefined);
    assert.deepEqual(b.storms.get('s1', 1000)?.value, { n: 2 });
    assert.equal(b.journal.skipped, 0);
  });

  it('forgets what expired, in memory and at the next start', () => {
    const a = open();
    a.seen.set('old', 2000);
    a.seen.set('new', 9000);
    a.journal.flush(1000);
    assert.ok(a.seen.get('old', 1999));
    assert.equal(a.seen.get('old', 2000), undefined, 'expired at its time');
    const b = open(100, 5000);
    assert.equal(b.seen.get('old', 5000), undefined);
    assert.ok(b.seen.get('new', 5000));
    assert.equal(b.seen.entries.size, 1);
  });

  it('writes nothing before flush: what is queued is on disk only after it', () => {
    const a = open();
    a.seen.set('k1', 5000);
    assert.equal(fs.existsSync(file()), false);
    assert.equal(a.journal.dirty, true);
    a.journal.flush(1000);
    assert.equal(a.journal.dirty, false);
    assert.ok(open().seen.get('k1', 1000));
  });

  it('skips a line a crash cut short and damaged lines, keeps every good line after them, and rewrites the file', () => {
    const a = open();
    for (const k of ['a', 'b', 'c']) a.seen.set(k, 5000);
    a.journal.flush(1000);
    const good = fs.readFileSync(file(), 'utf8').split('\n');
    // A damaged line in the middle, a line of zeros (a torn block), and a cut-off last line.
    fs.writeFileSync(
      file(),
      `${good[0]}\n{"not":"a line"}\n\u0000\u0000\u0000\n${good[1]}\n${good[2]}\n["seen","d",50`,
    );
    const b = open();
    assert.deepEqual([...b.seen.entries.keys()].sort(), ['a', 'b', 'c']);
    assert.equal(b.journal.skipped, 3);
    assert.equal(b.journal.dirty, true, 'the damaged file is rewritten at the next flush');
    b.journal.flush(1000);
    assert.equal(fs.readFileSync(file(), 'utf8').split('\n').length - 1, 3);
    assert.equal(open().journal.skipped, 0);
  });

  it('is bounded: a full space forgets its oldest entries (counted), and the file is rewritten before it holds more than about twice what is live', () => {
    const a = open(50);
    for (let i = 0; i < 3000; i++) {
      a.seen.set(`k${i}`, 1_000_000);
      if (i % 10 === 0) a.journal.flush(1000);
    }
    a.journal.flush(1000);
    assert.equal(a.seen.entries.size, 50);
    assert.equal(a.seen.evicted, 2950);
    assert.ok(a.seen.get('k2999', 1000) && !a.seen.get('k2949', 1000) && a.seen.get('k2950', 1000));
    const lines = fs.readFileSync(file(), 'utf8').split('\n').length - 1;
    assert.ok(lines >= 50 && lines <= 2 * 50 + 1000 + 10, `${lines} lines`);
    const b = open(50);
    assert.deepEqual(
      [...b.seen.entries.keys()],
      [...a.seen.entries.keys()],
      'the same 50, in the same order',
    );
  });

  it('a smaller bound at the next start keeps the newest entries', () => {
    const a = open(100);
    for (let i = 0; i < 100; i++) a.seen.set(`k${i}`, 1_000_000);
    a.journal.flush(1000);
    const b = open(10);
    assert.deepEqual(
      [...b.seen.entries.keys()],
      Array.from({ length: 10 }, (_, i) => `k${90 + i}`),
    );
  });

  it('a failed write stays queued and is written by the next flush', () => {
    const a = open();
    a.seen.set('k1', 5000);
    // The folder cannot be made: a file stands where it should be.
    fs.mkdirSync(path.join(userDir, 'dcevents'), { recursive: true });
    fs.writeFileSync(path.join(userDir, 'dcevents', 'alert-gate'), 'in the way');
    assert.ok(a.journal.flush(1000) instanceof Error);
    assert.equal(a.journal.dirty, true);
    fs.rmSync(path.join(userDir, 'dcevents', 'alert-gate'));
    assert.equal(a.journal.flush(1000), undefined);
    assert.ok(open().seen.get('k1', 1000));
  });

  it('remove deletes the file; without a user directory it is a memory of this process only', () => {
    const a = open();
    a.seen.set('k1', 5000);
    a.journal.flush(1000);
    a.journal.remove();
    assert.equal(fs.existsSync(file()), false);
    const memory = new Journal(undefined, 'gate-1');
    const seen = memory.space<never>('seen', 10);
    memory.load(1000);
    seen.set('k1', 5000);
    assert.equal(memory.flush(1000), undefined);
    assert.equal(memory.dirty, false);
    assert.ok(seen.get('k1', 1000));
  });
});
