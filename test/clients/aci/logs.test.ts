import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import { MARK } from '../../../nodes/aci/subscriber/log-window';
import type { KnownState } from '../../../nodes/aci/subscriber';
import type { ApicSimulator, SimQuery } from '../../../sim/apic';
import { waitFor } from '../../support/wait';
import { synced, useApicHarness, type Watching } from './harness';

/** A log of this many records, one a second up to now. */
const LOG = 50_000;

describe('APIC logs (aaaModLR, eventRecord, faultRecord, ...): read from the last record seen, not whole', function () {
  const apic = useApicHarness();

  const queries = (sim: ApicSimulator) => {
    const seen: SimQuery[] = [];
    sim.onQuery = (q) => void seen.push(q);
    return seen;
  };
  /** New records written while the client is away (its socket cut: nothing is pushed). */
  const whileAway = (sim: ApicSimulator, n: number) => {
    sim.dropSockets();
    return Array.from({ length: n }, () => sim.tree.grow('aaaModLR').dn);
  };
  const resynced = (seen: Watching) => seen.changes.filter((c) => c.reason === 'resync');

  it('reads only the last moments at start, and after a gap only the records created since', async () => {
    const sim = await apic.startSim({ populations: { aaaModLR: LOG } });
    const asked = queries(sim);
    const { subscriber, seen } = apic.watch('aaaModLR', { initial: 'skip' });
    await synced(subscriber);
    const atStart = sim.stats.objectsAnswered;
    assert.ok(atStart < 50, `the first read answered ${atStart} of ${LOG} records`);
    assert.match(
      asked.at(-1)!.filter!,
      /^ge\(aaaModLR\.created,"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"\)$/,
    );
    const created = whileAway(sim, 5);
    await waitFor(() => resynced(seen).length === 5, 'the five records written while away');
    assert.deepEqual(
      resynced(seen)
        .map((c) => c.dn)
        .sort(),
      [...created].sort(),
    );
    assert.ok(resynced(seen).every((c) => c.status === 'created' && c.className === 'aaaModLR'));
    const read = sim.stats.objectsAnswered - atStart;
    assert.ok(read >= 5 && read < 50, `the read after the gap answered ${read} records, not ${LOG}`);
    // And pushes go on.
    sim.apply([sim.tree.grow('aaaModLR')]);
    await waitFor(() => seen.changes.some((c) => c.reason === 'push'), 'a pushed record');
    assert.equal(resynced(seen).length, 5, 'nothing read twice');
  });

  it('ands the time with the entry’s own filter, and sends only what both let through', async () => {
    const sim = await apic.startSim({ populations: { aaaModLR: 5000 } });
    const asked = queries(sim);
    const { subscriber, seen } = apic.watch('aaaModLR?query-target-filter=eq(aaaModLR.user,"netops")');
    await synced(subscriber);
    const created = whileAway(sim, 6);
    const netops = created.filter((dn) => sim.tree.get(dn)!.attributes.user === 'netops');
    assert.ok(netops.length >= 1 && netops.length < 6);
    await waitFor(() => resynced(seen).length === netops.length, 'the netops records written while away');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      resynced(seen)
        .map((c) => c.dn)
        .sort(),
      netops.sort(),
    );
    assert.match(
      asked.at(-1)!.filter!,
      /^and\(eq\(aaaModLR\.user,"netops"\),ge\(aaaModLR\.created,"[^"]+"\)\)$/,
    );
  });

  it('reads the whole log as snapshots with initial: emit (what was asked for)', async () => {
    const sim = await apic.startSim({ populations: { aaaModLR: 3000 } });
    const { subscriber, seen } = apic.watch('aaaModLR', { initial: 'emit' }, apic.cluster(), {
      pageSize: 500,
    });
    await synced(subscriber);
    const snapshots = seen.changes.filter((c) => c.reason === 'snapshot');
    assert.equal(snapshots.length, 3000);
    assert.equal(new Set(snapshots.map((c) => c.dn)).size, 3000);
    // What it keeps knowing is a window at the newest record, not the log.
    const created = whileAway(sim, 2);
    await waitFor(() => resynced(seen).length === 2, 'the two records written while away');
    assert.deepEqual(
      resynced(seen)
        .map((c) => c.dn)
        .sort(),
      created.sort(),
    );
  });

  it('at a restart reads from the mark kept, and nothing from before it', async () => {
    const sim = await apic.startSim({ populations: { aaaModLR: LOG } });
    const kept = new Map<string, KnownState>();
    const first = apic.watch('aaaModLR', {}, apic.cluster());
    first.subscriber.remove('node-1');
    first.subscriber.add(
      'node-1',
      parseEntries('aaaModLR'),
      {
        changes: () => undefined,
        tracked: (_entry, dn, state) => (state ? kept.set(dn, state) : kept.delete(dn)),
      },
      { initial: 'changes', refreshTimeoutSec: 60 },
    );
    await synced(first.subscriber);
    const pushed = sim.apply([sim.tree.grow('aaaModLR')])[0]!.dn;
    await waitFor(() => kept.has(pushed), 'the pushed record known');
    assert.ok(kept.has(MARK));
    await first.subscriber.stop();
    const before = sim.stats.objectsAnswered;
    const created = Array.from({ length: 4 }, () => sim.tree.grow('aaaModLR').dn);
    const second = apic.watch('aaaModLR', { initial: 'changes', restore: () => new Map(kept) });
    await synced(second.subscriber);
    assert.deepEqual(
      resynced(second.seen)
        .map((c) => c.dn)
        .sort(),
      created.sort(),
    );
    assert.ok(sim.stats.objectsAnswered - before < 50, 'the records since the mark, not the log');
  });
});
