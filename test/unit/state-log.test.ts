import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { StateLog } from '../../nodes/common/state-log';

const isNumber = (v: unknown): v is number => typeof v === 'number';
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('a state kept as a log (what changed, not the whole state)', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-log-'));
    files = new NodeFiles(userDir, 'state-log-test');
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  const open = async () => {
    const log = new StateLog(files, 'node', { isValue: isNumber });
    await log.load();
    return log;
  };
  const snapshot = (log: StateLog<number>) =>
    Object.fromEntries([...log.spaces].map(([name, space]) => [name, Object.fromEntries(space)]));
  /** Waits for a rewrite under way to end: close waits for it. */
  const settled = async (log: StateLog<number>) => {
    await log.close();
  };

  it('reads back what was set, deleted and dropped, the last line of a key winning', async () => {
    const log = await open();
    log.set('a', 'x', 1);
    log.set('a', 'y', 2);
    log.set('b', 'z', 3);
    assert.equal(await log.flush(), undefined);
    log.set('a', 'x', 4);
    log.delete('a', 'y');
    log.drop('b');
    log.set('c', 'w', 5);
    log.delete('c', 'nothing'); // not there: no line
    assert.equal(log.pendingLines, 4);
    assert.equal(await log.flush(), undefined);
    assert.deepEqual(snapshot(await open()), { a: { x: 4 }, c: { w: 5 } });
  });

  it('appends only what changed: one change of a large state writes one line', async () => {
    const log = await open();
    for (let i = 0; i < 20_000; i++) log.set('objects', `uni/tn-x/BD-${i}`, i);
    await log.flush();
    const before = log.bytesWritten;
    const size = fs.statSync(files.pathOf('node', '.log')).size;
    assert.equal(before, size);
    log.set('objects', 'uni/tn-x/BD-7', 70);
    await log.flush();
    const line = `${JSON.stringify(['objects', 'uni/tn-x/BD-7', 70])}\n`;
    assert.equal(log.bytesWritten - before, Buffer.byteLength(line), 'exactly the line of the change');
    assert.equal(fs.statSync(files.pathOf('node', '.log')).size, size + Buffer.byteLength(line));
    assert.equal((await open()).get('objects', 'uni/tn-x/BD-7'), 70);
  });

  it('skips a torn last line and damaged ones, keeps the rest, and writes on after them', async () => {
    const log = await open();
    log.set('a', 'x', 1);
    log.set('a', 'y', 2);
    await log.flush();
    const file = files.pathOf('node', '.log');
    fs.appendFileSync(file, '["a","z",{"not":"a number"}]\nnot json\n["a","w",3');
    const again = await open();
    assert.equal(again.skipped, 3);
    assert.deepEqual(snapshot(again), { a: { x: 1, y: 2 } });
    again.set('a', 'v', 4);
    assert.equal(await again.flush(), undefined);
    await settled(again);
    const third = await open();
    assert.equal(third.skipped, 0, 'rewritten without the damage');
    assert.deepEqual(snapshot(third), { a: { x: 1, y: 2, v: 4 } });
  });

  it('rewrites itself once it holds more than twice what is live, a slice at a time, losing nothing changed meanwhile', async () => {
    const log = await open();
    for (let i = 0; i < 12_000; i++) log.set('s', `k${i % 6000}`, i);
    await log.flush(); // 12,000 lines, 6,000 live: more than 2 × 6,000 + 1,000? not yet
    for (let i = 0; i < 2000; i++) log.set('s', `k${i}`, -(i + 1));
    const lines = () => fs.readFileSync(files.pathOf('node', '.log'), 'utf8').split('\n').length - 1;
    const start = log.bytesWritten;
    await log.flush(); // 14,000 lines: the rewrite starts
    assert.ok(lines() >= 14_000, 'the log itself is appended to first');
    // While the rewrite takes its turns, the state changes.
    log.set('s', 'k1', 111);
    log.delete('s', 'k2');
    log.set('t', 'new', 7);
    await log.flush();
    await turn();
    log.drop('t');
    log.set('s', 'k5999', 5);
    await log.flush();
    await settled(log);
    assert.ok(lines() <= 6000 + 10, `only what is live, and what changed meanwhile: ${lines()} lines`);
    assert.ok(log.bytesWritten - start > 6000 * 10, 'the live state was written once more');
    const back = await open();
    const expected: Record<string, number> = {};
    for (let k = 0; k < 6000; k++) expected[`k${k}`] = k < 2000 ? -(k + 1) : k + 6000;
    Object.assign(expected, { k1: 111, k5999: 5 });
    delete expected.k2;
    assert.deepEqual(snapshot(back), { s: expected });
  });

  it('removes its file with the node, abandoning a rewrite under way', async () => {
    const log = await open();
    for (let i = 0; i < 30_000; i++) log.set('s', `k${i % 5000}`, i);
    await log.flush();
    await log.remove();
    assert.deepEqual(fs.existsSync(files.dir) ? fs.readdirSync(files.dir) : [], []);
  });

  it('neither reads nor appends through a link planted in its place', async () => {
    const outside = path.join(userDir, 'outside.log');
    fs.writeFileSync(outside, `${JSON.stringify(['s', 'k', 1])}\n`);
    fs.mkdirSync(files.dir, { recursive: true });
    fs.symlinkSync(outside, files.pathOf('node', '.log'));
    const log = await open();
    assert.deepEqual(snapshot(log), {}, 'not read through the link');
    log.set('s', 'k', 2);
    assert.match(String((await log.flush())?.message), /ELOOP|symbolic link/i);
    assert.equal(fs.readFileSync(outside, 'utf8'), `${JSON.stringify(['s', 'k', 1])}\n`, 'untouched');
  });
});
