import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore, type KnownState } from '../../nodes/aci/known-store';
import { FaultyDisk } from '../support/faulty-disk';

const bd = (modTs: string): KnownState => ({ className: 'fvBD', stamp: { modTs } });
const A = 'uni/tn-prod/BD-a';
const B = 'uni/tn-prod/BD-b';

describe('what aci subscribe knew: settling, write-ahead, failures, damaged files', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-state-'));
    files = new NodeFiles(userDir, ACI_STATE_PURPOSE);
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  const reload = () => new KnownStore(files, 'sub').load();
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
