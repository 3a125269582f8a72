import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import { ApicSubscriber } from '../../../nodes/aci/subscriber';
import type { ApicSimulator } from '../../../sim/apic';
import { waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness, type Watching } from './harness';

describe('APIC paging: snapshots and first reads, every object once', function () {
  const apic = useApicHarness();

  it('initial: emit sends the current objects as snapshots, every page of them', async () => {
    const sim = await apic.startSim();
    const total = sim.tree.query('class', 'fvBD', {}).length;
    assert.ok(total > 3, 'the fabric has several BDs');
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'emit' }, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    const snapshots = seen.changes.filter((c) => c.reason === 'snapshot');
    assert.equal(snapshots.length, total);
    assert.ok(snapshots.every((c) => c.status === 'snapshot'));
  });

  it('reports the progress of a paged first read, page by page, then that it is done', async () => {
    const sim = await apic.startSim();
    const total = sim.tree.query('class', 'fvBD', {}).length;
    const subscriber = apic.stopAfter(
      new ApicSubscriber({ cluster: apic.cluster(), pingIntervalMs: 1000, pageSize: 2 }),
    );
    const progress: [number, number, boolean][] = [];
    subscriber.add(
      'node-1',
      parseEntries('fvBD'),
      { changes: () => undefined, progress: (_entry, read, of, done) => progress.push([read, of, done]) },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    await synced(subscriber);
    // Two objects a page: 2, 4, ... of the total APIC reports; done once, at the end.
    assert.deepEqual(progress[0], [2, total, false]);
    assert.deepEqual(progress.at(-1), [total, total, true]);
    assert.equal(progress.filter(([, , done]) => done).length, 1);
    assert.ok(progress.every(([read], i) => i === 0 || read >= progress[i - 1]![0]));
  });

  const snapshotDns = (seen: Watching) =>
    seen.changes
      .filter((c) => c.reason === 'snapshot')
      .map((c) => c.dn)
      .sort();
  const bdDns = (sim: ApicSimulator) =>
    sim.tree
      .query('class', 'fvBD', {})
      .map((m) => m.dn)
      .sort();

  it('pages in dn order, so an object changed while paging does not shift the pages', async () => {
    const sim = await apic.startSim();
    const first = bdDns(sim)[0]!;
    let modified = false;
    sim.onQuery = (q) => {
      if (q.target === 'fvBD' && q.page === 1 && !modified) {
        modified = true;
        sim.modify(first, { descr: 'while paging' }); // unsorted, it would move to the end
      }
    };
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'emit' }, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    assert.ok(modified);
    assert.deepEqual(snapshotDns(seen), bdDns(sim), 'every object once');
    assert.ok(seen.changes.some((c) => c.dn === first && c.reason === 'push'));
  });

  it('reads again when objects come or go while paging, so none is skipped', async () => {
    const sim = await apic.startSim();
    const first = bdDns(sim)[0]!;
    let deleted = false;
    sim.onQuery = (q) => {
      if (q.target === 'fvBD' && q.page === 1 && !deleted) {
        deleted = true;
        sim.remove(first); // already read: every later object moves one place forward
      }
    };
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'emit' }, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    assert.ok(deleted);
    // Each page goes out as it is read: the deleted one was there when its page was read, then went.
    assert.deepEqual(snapshotDns(seen), [...bdDns(sim), first].sort(), 'every object once, none skipped');
    const gone = await waitFor(
      () => seen.changes.find((c) => c.dn === first && c.status === 'deleted'),
      'the deletion',
    );
    assert.equal(gone.reason, 'push');
    const order = seen.changes.filter((c) => c.dn === first).map((c) => c.status);
    assert.deepEqual(order, ['snapshot', 'deleted'], 'its snapshot, then its deletion');
  });

  it('subscribes with unsorted pages where the APIC refuses order-by with a subscription', async () => {
    const sim = await apic.startSim();
    sim.faults.refuseOrderByWithSubscription = true;
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'emit' }, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    assert.deepEqual(seen.refused, [], 'the entry is not refused for it');
    assert.deepEqual(snapshotDns(seen), bdDns(sim), 'every object, read unsorted');
    sim.modify(BD, { descr: 'after' });
    await changed(seen, BD, 'after');
  });

  it('initial: skip sends only changes', async () => {
    await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'skip' });
    await synced(subscriber);
    assert.equal(seen.changes.length, 0);
  });

  it('initial: skip sends a change made while the first read is still paging', async () => {
    const sim = await apic.startSim();
    let modified = false;
    sim.onQuery = (q) => {
      // Between the subscribe answer (page 0) and the page that holds the object (the last one by dn).
      if (q.target === 'fvBD' && q.page === 1 && !modified) {
        modified = true;
        sim.modify(BD, { descr: 'during paging' });
      }
    };
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'skip' }, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    assert.ok(modified);
    const change = await changed(seen, BD, 'during paging');
    assert.equal(change.reason, 'push');
    assert.equal(seen.changes.length, 1);
  });
});
