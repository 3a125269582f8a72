import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import type { ApicSimulator } from '../../../sim/apic';
import { waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC subscribe: one change per node, refused and failing entries, run-time changes', function () {
  const apic = useApicHarness();

  it('changes the watch list at run time', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    await subscriber.update('node-1', parseEntries('fvCtx'), parseEntries('fvBD'));
    sim.modify(BD, { descr: 'not watched now' });
    sim.modify('uni/tn-prod/ctx-prod-vrf', { descr: 'watched now' });
    await changed(seen, 'uni/tn-prod/ctx-prod-vrf', 'watched now');
    assert.equal(seen.changes.filter((c) => c.dn === BD).length, 0);
    assert.deepEqual(
      subscriber.entries('node-1').map((e) => e.key),
      ['fvCtx'],
    );
  });

  it('sends a change once, naming every subscription of the node it matched', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch(
      'fvBD\nuni/tn-prod?query-target=subtree&target-subtree-class=fvBD',
    );
    await synced(subscriber);
    sim.modify(BD, { descr: 'twice matched' });
    sim.modify('uni/tn-dev/BD-bd-dev', { descr: 'once matched' });
    await changed(seen, 'uni/tn-dev/BD-bd-dev', 'once matched');
    const both = seen.changes.filter((c) => c.dn === BD);
    assert.equal(both.length, 1);
    assert.equal(both[0]!.subscriptionIds.length, 2);
    assert.equal(seen.changes.find((c) => c.dn === 'uni/tn-dev/BD-bd-dev')!.subscriptionIds.length, 1);
  });

  it('reports an entry the APIC refuses, and keeps the others', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD\nfvNoSuchThing');
    await synced(subscriber);
    assert.equal(seen.refused.length, 1);
    assert.equal(seen.refused[0]!.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.match(seen.refused[0]!.message, /fvNoSuchThing/);
    sim.modify(BD, { descr: 'others work' });
    await changed(seen, BD, 'others work');
  });

  for (const [fault, arm] of [
    ['a one-off 500', (s: ApicSimulator) => s.failNext(1, 500)],
    ['an answer without subscriptionId', (s: ApicSimulator) => (s.faults.noSubscriptionId = 1)],
  ] as const) {
    it(`subscribes again after ${fault}, instead of giving the entry up`, async () => {
      const sim = await apic.startSim();
      arm(sim);
      const { subscriber, seen } = apic.watch('fvBD\nfvTenant');
      await synced(subscriber);
      await waitFor(() => sim.liveSubscriptions.length === 2, 'both subscribed');
      assert.equal(sim.stats.injectedFailures, 1);
      assert.deepEqual(seen.refused, []);
      assert.deepEqual(seen.failing, [], 'a blip is not reported');
      sim.modify(BD, { descr: `after ${fault}` });
      await changed(seen, BD, `after ${fault}`);
      assert.equal(sim.stats.logins, 1, 'the session stayed');
    });
  }

  it('reports an entry that keeps failing once, and keeps trying it', async () => {
    const sim = await apic.startSim();
    sim.failNext(3, 502);
    const { seen } = apic.watch('fvBD');
    await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed in the end');
    assert.equal(sim.stats.injectedFailures, 3);
    assert.equal(seen.failing.length, 1);
    assert.equal(seen.failing[0]!.code, 'APIC_SUBSCRIBE_FAILED');
    assert.deepEqual(seen.refused, []);
    sim.modify(BD, { descr: 'kept trying' });
    await changed(seen, BD, 'kept trying');
  });

  it('refuses an entry when the APIC says the request is wrong (400)', async () => {
    const sim = await apic.startSim();
    sim.failNext(2, 400); // with order-by, and again without it
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    assert.equal(seen.refused.length, 1);
    assert.equal(sim.liveSubscriptions.length, 0);
  });
});
