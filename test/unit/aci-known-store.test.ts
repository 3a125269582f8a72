import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore, type KnownState } from '../../nodes/aci/known-store';

const bd = (modTs: string): KnownState => ({ className: 'fvBD', stamp: { modTs } });
const A = 'uni/tn-prod/BD-a';
const B = 'uni/tn-prod/BD-b';

describe('what aci subscribe knew, kept across restarts', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-state-'));
    files = new NodeFiles(userDir, ACI_STATE_PURPOSE);
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  const reload = () => new KnownStore(files, 'sub').load();

  it('saves a full read and each change sent once they settled (a kill before loses no change)', () => {
    const store = new KnownStore(files, 'sub', { settleMs: 10_000 });
    store.read('fvBD', new Map([[A, bd('t1')]]), false, 0);
    assert.equal(store.save(5_000), undefined);
    assert.equal(reload().size, 0, 'a read that sent changes settles too');
    store.save(10_000);
    assert.deepEqual([...reload().get('fvBD')!], [[A, bd('t1')]]);
    // A first read sent nothing: kept at the next save.
    store.read(
      'fvAEPg',
      new Map([['uni/tn-prod/ap-x/epg-y', { className: 'fvAEPg', stamp: { modTs: 't' } }]]),
      true,
      10_000,
    );
    store.save(10_001);
    assert.deepEqual([...reload().keys()], ['fvBD', 'fvAEPg']);
    store.keepOnly(['fvBD']);
    // A change sent at 20 s: a kill before 30 s must leave the old state, so the change is reported again.
    store.changed('fvBD', A, bd('t2'), 20_000);
    store.changed('fvBD', B, bd('t3'), 20_000);
    store.save(25_000);
    const unsettled = reload().get('fvBD')!;
    assert.deepEqual(unsettled.get(A), bd('t1'), 'the state before the change');
    assert.equal(unsettled.get(B)?.stamp['#unsettled'], '1', 'a creation not yet settled matches no state');
    store.save(30_000);
    assert.deepEqual(
      [...reload().get('fvBD')!],
      [
        [A, bd('t2')],
        [B, bd('t3')],
      ],
    );
    store.changed('fvBD', A, undefined, 31_000);
    store.save(41_000);
    assert.deepEqual([...reload().get('fvBD')!], [[B, bd('t3')]]);
  });

  it('saves an object created within the settle time with a stamp that matches no state', () => {
    const store = new KnownStore(files, 'sub', { settleMs: 10_000 });
    store.read('fvBD', new Map([[A, bd('t1')]]), true, 0);
    store.changed('fvBD', B, bd('t2'), 1000);
    store.save(2000);
    // After a kill now: B still there → reported as modified; B gone → reported as deleted. Never silent.
    const saved = reload().get('fvBD')!;
    assert.deepEqual(saved.get(A), bd('t1'));
    assert.deepEqual(saved.get(B), { className: 'fvBD', stamp: { modTs: 't2', '#unsettled': '1' } });
    store.save(11_000);
    assert.deepEqual(reload().get('fvBD')!.get(B), bd('t2'), 'settled: its real state');
  });

  it('forgets entries no longer watched; a torn file is a first run', () => {
    const store = new KnownStore(files, 'sub', { settleMs: 0 });
    store.read('fvBD', new Map([[A, bd('t1')]]), false, 0);
    store.read(
      'fvAEPg',
      new Map([['uni/tn-prod/ap-x/epg-y', { className: 'fvAEPg', stamp: { modTs: 't' } }]]),
      false,
      0,
    );
    store.save(0);
    store.keepOnly(['fvAEPg']);
    store.save(1);
    assert.deepEqual([...reload().keys()], ['fvAEPg']);
    fs.writeFileSync(files.pathOf('sub'), '{"version":1,"entries":{"fvBD":[["uni/');
    assert.equal(reload().size, 0);
  });

  it('keeps no state beyond its bound, and says so once', () => {
    const store = new KnownStore(files, 'sub', { settleMs: 0, maxObjects: 1 });
    store.read('fvBD', new Map([[A, bd('t1')]]), true, 0);
    assert.equal(store.save(0), undefined);
    store.changed('fvBD', B, bd('t2'), 1);
    assert.match(String(store.save(1)?.message), /2 objects .* more than the 1/);
    assert.equal(fs.existsSync(files.pathOf('sub')), false, 'the next start is a first run');
    store.changed('fvBD', B, bd('t3'), 2);
    assert.equal(store.save(2), undefined, 'said once');
  });
  it('journals an object the saved state lacks before its creation leaves, in one append per tick', () => {
    const store = new KnownStore(files, 'sub', { settleMs: 10_000 });
    store.read('fvBD', new Map([[A, bd('t1')]]), true, 0);
    assert.equal(store.mustWrite, true, 'a baseline not yet saved');
    assert.equal(store.writeAhead(0), undefined);
    assert.equal(store.mustWrite, false);
    store.changed('fvBD', A, bd('t2'), 1);
    assert.equal(store.mustWrite, false, 'a change of a saved object is reported again by comparison');
    store.changed('fvBD', B, bd('t3'), 1);
    assert.equal(store.mustWrite, true, 'a creation the saved state lacks');
    assert.equal(store.writeAhead(1), undefined);
    // A kill now: B is on disk, with a stamp that matches no state.
    assert.deepEqual(reload().get('fvBD')!.get(B), {
      className: 'fvBD',
      stamp: { modTs: 't3', '#unsettled': '1' },
    });
    store.changed('fvBD', B, bd('t4'), 2);
    assert.equal(store.mustWrite, false, 'journaled once');
    // A torn append, and a journal record of an entry the saved state lacks (a first run for it), are skipped.
    fs.appendFileSync(
      files.pathOf('sub', '.journal'),
      '["fvAEPg","uni/x",{"className":"fvAEPg","stamp":{}}]\n["fvBD","uni/',
    );
    assert.deepEqual([...reload().keys()], ['fvBD']);
    assert.equal(reload().get('fvBD')!.size, 2);
    // A whole save holds what the journal said, and empties it.
    store.save(3);
    assert.equal(fs.existsSync(files.pathOf('sub', '.journal')), false);
    assert.equal(reload().get('fvBD')!.get(B)?.stamp['#unsettled'], '1');
    store.changed('fvBD', B, undefined, 4);
    store.changed('fvBD', B, bd('t5'), 5);
    assert.equal(store.mustWrite, false, 'still on disk as unsure');
  });

  it('holds sends back until the journal is written, keeping their order; close writes and sends what waits', async () => {
    const store = new KnownStore(files, 'sub');
    const keeper = new KnownKeeper(
      store,
      () => ['fvBD'],
      (m) => assert.fail(m),
      60_000,
    );
    keeper.read('fvBD', new Map([[A, bd('t1')]]), true);
    const sent: string[] = [];
    const onDisk = () => reload().get('fvBD')?.has(B) ?? false;
    keeper.changed('fvBD', B, bd('t2'));
    keeper.send(() => sent.push(`first ${onDisk()}`));
    keeper.changed('fvBD', A, bd('t3'));
    keeper.send(() => sent.push('second'));
    assert.equal(sent.length, 0, 'held until the write');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['first true', 'second']);
    keeper.changed('fvBD', A, bd('t4'));
    keeper.send(() => sent.push('third'));
    assert.equal(sent.at(-1), 'third', 'nothing to write: sent at once');
    keeper.changed('fvBD', 'uni/tn-prod/BD-c', bd('t5'));
    keeper.send(() => sent.push('at close'));
    keeper.close(true);
    assert.equal(sent.at(-1), 'at close');
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 4, 'sent once');
    // A push between close and unwatch goes on, and writes nothing for the deleted node.
    keeper.changed('fvBD', 'uni/tn-prod/BD-late', bd('t6'));
    keeper.send(() => sent.push('after close'));
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.at(-1), 'after close');
    assert.deepEqual(
      fs.existsSync(files.dir) ? fs.readdirSync(files.dir) : [],
      [],
      'no file of the deleted node',
    );
  });
});
