import assert from 'node:assert/strict';
import type { AciChange } from '../../../nodes/aci/subscriber';
import { waitFor } from '../../support/wait';
import { synced, useApicHarness } from './harness';

describe('APIC reads at scale: compared and sent page by page, other work between pages', function () {
  this.timeout(120_000);
  const apic = useApicHarness();

  it('sends a large first read page by page as it comes, letting other work run between pages', async () => {
    const sim = await apic.startSim({ populations: { fvCEp: 20_000 } });
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    const batches: number[] = [];
    const turnsAt: number[] = [];
    const { subscriber, seen } = apic.watch('fvCEp', { initial: 'emit' }, apic.cluster(), { pageSize: 1000 });
    subscriber.on('state', (state: string) => state === 'connected' && setImmediate(spin));
    const original = seen.changes.push.bind(seen.changes);
    seen.changes.push = (...changes: AciChange[]) => {
      batches.push(changes.length);
      turnsAt.push(turns);
      return original(...changes);
    };
    await synced(subscriber);
    spinning = false;
    assert.equal(seen.changes.length, 20_000, 'every endpoint once');
    assert.equal(new Set(seen.changes.map((c) => c.dn)).size, 20_000);
    assert.equal(batches.length, 20, 'one batch per page, as each page came');
    assert.ok(batches.every((n) => n === 1000));
    // Between two pages the event loop turned: nothing waited for the whole read.
    for (let i = 1; i < turnsAt.length; i++)
      assert.ok(turnsAt[i]! > turnsAt[i - 1]!, `a turn before page ${i + 1}`);
    assert.ok(sim.stats.objectsAnswered >= 20_000);
  });

  it('after a gap, sends exactly what changed among 20,000 objects, read and compared page by page', async () => {
    const sim = await apic.startSim({ populations: { fvCEp: 20_000 } });
    const { subscriber, seen } = apic.watch('fvCEp', { initial: 'skip' }, apic.cluster(), { pageSize: 1000 });
    await synced(subscriber);
    const pop = sim.tree.population('fvCEp')!;
    const dnAt = (i: number) => pop.object(i).dn;
    // Away: three moved, two aged out, one learned.
    const again = synced(subscriber);
    sim.dropSockets();
    const moved = [10, 9_000, 19_999].map((i) => sim.tree.modify(dnAt(i), { ip: `192.0.2.${i % 250}` }).dn);
    const deleted = [5, 15_000].map((i) => sim.tree.delete(dnAt(i))[0]!.dn);
    const learned = sim.tree.grow('fvCEp').dn;
    await again;
    await waitFor(() => seen.changes.length >= 6, 'the changes made while away');
    await new Promise((r) => setTimeout(r, 200));
    const got = (status: string) =>
      seen.changes
        .filter((c) => c.status === status)
        .map((c) => c.dn)
        .sort();
    assert.ok(seen.changes.every((c) => c.reason === 'resync'));
    assert.deepEqual(got('modified'), moved.sort());
    assert.deepEqual(got('deleted'), deleted.sort());
    assert.deepEqual(got('created'), [learned]);
    assert.equal(seen.changes.length, 6, 'nothing else');
    const deletion = seen.changes.find((c) => c.status === 'deleted')!;
    assert.ok(deletion.attributes.modTs, 'a deletion found by comparison carries the last known time');
  });

  it('hands over the pushes held during a read in order, a slice at a time', async () => {
    const sim = await apic.startSim({ populations: { fvCEp: 5000 } });
    const pop = sim.tree.population('fvCEp')!;
    const changed: string[] = [];
    sim.onQuery = (q) => {
      if (q.page !== 2 || changed.length > 0) return;
      // While the read goes on: 2000 endpoints move, each pushed (and held by the client).
      const moved = Array.from({ length: 2000 }, (_, i) => sim.tree.modify(pop.object(i * 2).dn));
      changed.push(...moved.map((c) => c.dn));
      sim.apply(moved);
    };
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const turnsAt: number[] = [];
    const { subscriber, seen } = apic.watch('fvCEp', { initial: 'skip' }, apic.cluster(), { pageSize: 1000 });
    const original = seen.changes.push.bind(seen.changes);
    seen.changes.push = (...changes: AciChange[]) => {
      for (const _ of changes) turnsAt.push(turns);
      return original(...changes);
    };
    await synced(subscriber);
    await waitFor(() => seen.changes.length >= 2000, 'every push held during the read');
    spinning = false;
    assert.deepEqual(
      seen.changes.map((c) => c.dn),
      changed,
      'each once, in the order APIC pushed them',
    );
    assert.ok(seen.changes.every((c) => c.reason === 'push'));
    // 2000 objects in slices of 500: a few turns, not one per push.
    const turnsTaken = turnsAt.at(-1)! - turnsAt[0]!;
    assert.ok(
      turnsTaken >= 3 && turnsTaken <= 200,
      `turns of the event loop while they were handed over: ${turnsTaken}`,
    );
  });
});
