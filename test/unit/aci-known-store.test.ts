import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { FaultyDisk } from '../support/faulty-disk';
import { waitFor } from '../support/wait';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore, type KnownState } from '../../nodes/aci/known-store';

const bd = (modTs: string): KnownState => ({ className: 'fvBD', stamp: { modTs } });
const A = 'uni/tn-prod/BD-a';
const B = 'uni/tn-prod/BD-b';
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('what aci subscribe knew, kept across restarts', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-state-'));
    files = new NodeFiles(userDir, ACI_STATE_PURPOSE);
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  const reload = () => new KnownStore(files, 'sub').load();
  /** A store with a whole first read of fvBD kept: A at t1. */
  const withBaseline = (settleMs = 10_000) => {
    const store = new KnownStore(files, 'sub', { settleMs });
    store.baseline('fvBD', false);
    store.tracked('fvBD', A, bd('t1'), true, 0);
    store.baseline('fvBD', true);
    return store;
  };

  it('keeps a first read at once, and each change sent once it settled (a kill before loses no change)', async () => {
    const store = withBaseline();
    assert.equal(await store.save(0), undefined);
    assert.deepEqual([...(await reload()).get('fvBD')!], [[A, bd('t1')]]);
    // A change sent at 20 s: a kill before 30 s must leave the old state, so the change is reported again.
    store.tracked('fvBD', A, bd('t2'), false, 20_000);
    await store.save(25_000);
    assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t1'), 'the state before the change');
    await store.save(30_000);
    assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t2'));
    store.tracked('fvBD', A, undefined, false, 31_000);
    await store.save(41_000);
    assert.deepEqual([...(await reload()).get('fvBD')!], []);
  });

  it('hands out an entry only when its first read was kept whole (an unfinished one is read afresh)', async () => {
    const store = new KnownStore(files, 'sub', { settleMs: 0 });
    store.baseline('fvBD', false);
    for (let i = 0; i < 100; i++) store.tracked('fvBD', `uni/tn-prod/BD-${i}`, bd('t'), true, 0);
    await store.save(0);
    assert.equal((await reload()).has('fvBD'), false, 'killed while reading: a first run for it');
    store.baseline('fvBD', true);
    await store.save(0);
    assert.equal((await reload()).get('fvBD')!.size, 100);
    // A new first read of the entry starts from nothing.
    store.baseline('fvBD', false);
    store.tracked('fvBD', A, bd('t9'), true, 0);
    store.baseline('fvBD', true);
    await store.save(0);
    assert.deepEqual([...(await reload()).get('fvBD')!], [[A, bd('t9')]]);
  });

  it('writes a creation the kept state lacks before it leaves, with a stamp that matches no state, once', async () => {
    const store = withBaseline();
    assert.equal(store.mustWrite, true, 'a baseline not yet on disk');
    assert.equal(await store.writeAhead(), undefined);
    assert.equal(store.mustWrite, false);
    store.tracked('fvBD', A, bd('t2'), false, 1);
    assert.equal(store.mustWrite, false, 'a change of a kept object is reported again by comparison');
    store.tracked('fvBD', B, bd('t3'), false, 1);
    assert.equal(store.mustWrite, true, 'a creation the kept state lacks');
    assert.equal(await store.writeAhead(), undefined);
    // A kill now: B is on disk, with a stamp that matches no state.
    assert.deepEqual((await reload()).get('fvBD')!.get(B), {
      className: 'fvBD',
      stamp: { modTs: 't3', '#unsettled': '1' },
    });
    store.tracked('fvBD', B, bd('t4'), false, 2);
    assert.equal(store.mustWrite, false, 'written ahead once');
    await store.save(20_000);
    assert.deepEqual((await reload()).get('fvBD')!.get(B), bd('t4'), 'settled: its real state');
  });

  it('writes what changed, not the whole state: one change among 150,000 objects is one line', async () => {
    const store = new KnownStore(files, 'sub', { settleMs: 0 });
    store.baseline('fvCEp', false);
    for (let i = 0; i < 150_000; i++) {
      store.tracked(
        'fvCEp',
        `uni/tn-x/ap-a/epg-e/cep-${i}`,
        { className: 'fvCEp', stamp: { modTs: 't' } },
        true,
        0,
      );
    }
    store.baseline('fvCEp', true);
    await store.save(0);
    const before = store.bytesWritten;
    store.tracked(
      'fvCEp',
      'uni/tn-x/ap-a/epg-e/cep-7',
      { className: 'fvCEp', stamp: { modTs: 'u' } },
      false,
      1,
    );
    await store.save(1);
    const written = store.bytesWritten - before;
    assert.ok(written > 40 && written < 200, `${written} bytes for one change`);
    const restored = (await reload()).get('fvCEp')!;
    assert.equal(restored.size, 150_000, 'no cap on what is kept (the earlier bound was 100,000)');
    assert.deepEqual(restored.get('uni/tn-x/ap-a/epg-e/cep-7')!.stamp, { modTs: 'u' });
  });

  it('forgets entries no longer watched, and a file from before the log', async () => {
    fs.mkdirSync(files.dir, { recursive: true });
    fs.writeFileSync(files.pathOf('sub'), '{"version":1,"entries":{}}');
    const store = withBaseline(0);
    store.baseline('fvAEPg', false);
    store.baseline('fvAEPg', true);
    await store.save(0);
    store.keepOnly(['fvAEPg']);
    await store.save(1);
    assert.deepEqual([...(await reload()).keys()], ['fvAEPg']);
    assert.equal(fs.existsSync(files.pathOf('sub')), false, 'the old whole-state file is gone');
  });

  it('holds sends back until what they need is written, keeping their order; close writes and sends what waits', async () => {
    const store = new KnownStore(files, 'sub');
    const keeper = new KnownKeeper(
      store,
      () => ['fvBD'],
      (m) => assert.fail(m),
      60_000,
    );
    await keeper.ready;
    keeper.baseline('fvBD', false);
    keeper.tracked('fvBD', A, bd('t1'), true);
    keeper.baseline('fvBD', true);
    const sent: string[] = [];
    const onDisk = async () => (await reload()).get('fvBD')?.has(B) ?? false;
    keeper.tracked('fvBD', B, bd('t2'), false);
    let firstSawB: Promise<boolean> | undefined;
    keeper.send(() => {
      firstSawB = onDisk();
      sent.push('first');
    });
    await turn(); // the write is under way, off the main thread
    keeper.tracked('fvBD', A, bd('t3'), false);
    keeper.send(() => sent.push('second')); // needs no write, but must not overtake the first
    assert.equal(sent.length, 0, 'held until the write');
    await waitFor(() => sent.length === 2, 'the sends after the write');
    assert.deepEqual(sent, ['first', 'second']);
    assert.equal(await firstSawB, true, 'B was on disk before its creation left');
    keeper.tracked('fvBD', A, bd('t4'), false);
    keeper.send(() => sent.push('third'));
    assert.equal(sent.at(-1), 'third', 'nothing to write: sent at once');
    keeper.tracked('fvBD', 'uni/tn-prod/BD-c', bd('t5'), false);
    keeper.send(() => sent.push('at close'));
    await keeper.close(true);
    assert.equal(sent.at(-1), 'at close');
    await turn();
    assert.equal(sent.length, 4, 'sent once');
    // A push between close and unwatch goes on, and writes nothing for the deleted node.
    keeper.tracked('fvBD', 'uni/tn-prod/BD-late', bd('t6'), false);
    keeper.send(() => sent.push('after close'));
    await turn();
    assert.equal(sent.at(-1), 'after close');
    assert.deepEqual(
      fs.existsSync(files.dir) ? fs.readdirSync(files.dir) : [],
      [],
      'no file of the deleted node',
    );
  });

  it('writes a long first read as it comes, a slice at a time, not in one write at the end', async () => {
    const store = new KnownStore(files, 'sub');
    const keeper = new KnownKeeper(
      store,
      () => ['fvCEp'],
      (m) => assert.fail(m),
      60_000,
    );
    await keeper.ready;
    keeper.baseline('fvCEp', false);
    const file = files.pathOf('sub', '.log');
    const sizes: number[] = [];
    for (let page = 0; page < 12; page++) {
      for (let i = 0; i < 1000; i++) {
        keeper.tracked(
          'fvCEp',
          `uni/tn-x/cep-${page}-${i}`,
          { className: 'fvCEp', stamp: { modTs: 't' } },
          true,
        );
      }
      await new Promise((r) => setTimeout(r, 50)); // the slice is written off the main thread
      sizes.push(fs.existsSync(file) ? fs.statSync(file).size : 0);
    }
    assert.equal(sizes[3], 0, 'below a slice, nothing written yet');
    assert.ok(sizes[5]! > 0 && sizes[5]! < sizes[11]!, `written as it came: ${sizes.join(', ')}`);
    await keeper.close(false);
  });

  /** A store with a whole first read of each entry kept (A at t1 in each) and on disk. */
  const kept = async (entries = ['fvBD'], options = {}) => {
    const store = new KnownStore(files, 'sub', options);
    for (const entry of entries) {
      store.baseline(entry, false);
      store.tracked(entry, A, bd('t1'), true, 0);
      store.baseline(entry, true);
    }
    assert.equal(await store.save(0), undefined);
    return store;
  };

  it('settles a change after 10 s by default, not before', async () => {
    const store = await kept();
    store.tracked('fvBD', A, bd('t2'), false, 1000);
    await store.save(10_999);
    assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t1'));
    await store.save(11_000);
    assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t2'));
  });

  it('holds no send while a first read is under way, nor for an entry whose first read was not kept', async () => {
    const store = new KnownStore(files, 'sub');
    store.baseline('fvBD', false);
    store.tracked('fvBD', A, bd('t1'), true, 0);
    assert.equal(store.mustWrite, false, "a first read's objects are not sent");
    store.tracked('fvBD', B, bd('t2'), false, 0);
    assert.equal(store.mustWrite, false, 'read afresh at the next start: nothing to write ahead');
    assert.equal(await store.save(0), undefined);
    assert.equal((await reload()).has('fvBD'), false);
  });

  it('holds no send for a deletion of an object it never kept', async () => {
    const store = await kept();
    assert.doesNotThrow(() => store.tracked('fvBD', B, undefined, false, 1));
    assert.equal(store.mustWrite, false);
  });

  it('holds no send for what was queued while a write ahead went well', async () => {
    const store = await kept();
    store.tracked('fvBD', B, bd('t2'), false, 1);
    const write = store.writeAhead();
    await Promise.resolve(); // the write has taken what was queued
    store.baseline('fvAEPg', false);
    store.tracked('fvAEPg', A, bd('t1'), true, 1); // a first read of another entry, queued meanwhile
    assert.equal(await write, undefined);
    assert.equal(store.pendingLines, 1);
    assert.equal(store.mustWrite, false);
  });

  it('still holds sends back after a failed write, until it is written', async () => {
    const disk = await new FaultyDisk().install();
    try {
      const store = await kept();
      store.tracked('fvBD', B, bd('t2'), false, 1);
      disk.full = true;
      assert.equal((await store.writeAhead())?.message.includes('ENOSPC'), true);
      assert.equal(store.mustWrite, true, 'the creation is still not on disk');
      disk.full = false;
      assert.equal(await store.writeAhead(), undefined);
      assert.equal(store.mustWrite, false);
      assert.equal((await reload()).get('fvBD')!.has(B), true);
    } finally {
      disk.restore();
    }
  });

  it('drops the unsettled changes of entries no longer watched, and keeps the others', async () => {
    const store = await kept(['fvBD', 'fvAEPg']);
    store.tracked('fvBD', A, bd('t2'), false, 1);
    store.tracked('fvAEPg', A, bd('t2'), false, 1);
    store.keepOnly(['fvAEPg']);
    await store.save(60_000);
    const restored = await reload();
    assert.deepEqual([...restored.keys()], ['fvAEPg']);
    assert.deepEqual(restored.get('fvAEPg')!.get(A), bd('t2'));
  });

  it('hands out only states of the shape it writes from a damaged or foreign file', async () => {
    const line = (value: unknown) => `${JSON.stringify(['fvBD', A, value])}\n`;
    fs.mkdirSync(files.dir, { recursive: true });
    const bad = [
      'yes',
      { className: 1, stamp: {} },
      { className: 1, stamp: { modTs: 't' } },
      { className: 'fvBD' },
      { className: 'fvBD', stamp: 'abc' },
      { className: 'fvBD', stamp: 5 },
      { className: 'fvBD', stamp: { modTs: 't', n: 1 } },
      { className: 'fvBD', stamp: { n: 1 } },
    ];
    for (const value of bad) {
      fs.writeFileSync(
        files.pathOf('sub', '.log'),
        `${JSON.stringify(['fvBD', '#complete', true])}\n${line(bd('t1'))}${line(value)}`,
      );
      assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t1'), JSON.stringify(value));
    }
  });

  it('hands a keeper what was kept, and writes the settled changes when it closes', async () => {
    await (await kept(['fvBD'], { settleMs: 0 })).close();
    const store = new KnownStore(files, 'sub', { settleMs: 0 });
    const keeper = new KnownKeeper(store, () => ['fvBD'], assert.fail, 60_000);
    await keeper.ready;
    assert.deepEqual([...keeper.restored.get('fvBD')!], [[A, bd('t1')]]);
    keeper.tracked('fvBD', A, bd('t2'), false);
    await keeper.close(false);
    assert.deepEqual((await reload()).get('fvBD')!.get(A), bd('t2'));
  });
});
