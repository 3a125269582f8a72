import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import { delay, waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC subscription refresh: each subscription outlives its refresh timeout', function () {
  const apic = useApicHarness();

  it('keeps subscriptions alive across several refresh windows although the APIC expires them early', async () => {
    const sim = await apic.startSim({ subscriptionEarlyMs: 1500 });
    const { subscriber, seen } = apic.watch('fvBD\nfvTenant', { refreshTimeoutSec: 4 });
    await synced(subscriber);
    const before = sim.stats.subscriptionRefreshes;
    await delay(9000); // more than two refresh windows, each 1.5 s shorter than asked
    assert.equal(sim.stats.expiredSubscriptions, 0);
    assert.equal(sim.stats.deadRefreshes, 0);
    // Each of the two refreshed every 2 s (half its timeout), one id per call: about 9 in 9 s, not twice that.
    const refreshes = sim.stats.subscriptionRefreshes - before;
    assert.ok(refreshes >= 6 && refreshes <= 12, `${refreshes} refreshes in 9 s`);
    assert.equal(sim.stats.subscriptions, 2, 'never had to subscribe again');
    sim.modify(BD, { descr: 'still alive' });
    await changed(seen, BD, 'still alive');
  });

  it('refreshes what falls due while another subscription is read page by page', async () => {
    const sim = await apic.startSim();
    const { subscriber } = apic.watch('fvTenant', { refreshTimeoutSec: 3 }, apic.cluster(), { pageSize: 1 });
    await synced(subscriber);
    // Reading fvBD takes 7 slow pages, longer than fvTenant lives without a refresh.
    sim.onQuery = async (q) => {
      if (q.target === 'fvBD') await delay(600);
    };
    await subscriber.update('node-1', parseEntries('fvBD'), []);
    assert.equal(sim.stats.expiredSubscriptions, 0);
    assert.equal(sim.stats.deadRefreshes, 0);
    assert.ok(sim.stats.subscriptionRefreshes >= 1);
    assert.equal(sim.stats.subscriptions, 2, 'nothing had to be made again');
  });

  it('a 405 at a refresh between the pages of a read ends the connection, saying so once', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvTenant', { refreshTimeoutSec: 3 }, apic.cluster(), {
      pageSize: 1,
    });
    await synced(subscriber);
    sim.failNext(1, 405, 'subscriptionRefresh');
    sim.onQuery = async (q) => {
      if (q.target === 'fvBD' && sim.stats.logins === 1) await delay(600);
    };
    void subscriber.update('node-1', parseEntries('fvBD'), []);
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length === 2,
      'a new login with both subscriptions',
    );
    assert.equal(sim.stats.injectedFailures, 1);
    const lost = seen.states.map(([, info]) => info.error).find((e) => e?.code === 'APIC_CONNECTION_LOST');
    assert.equal(lost?.message.match(/no longer knows/g)?.length, 1, lost?.message);
    assert.deepEqual(seen.refused, []);
  });

  it('resubscribes one subscription whose refresh fails', async () => {
    const sim = await apic.startSim();
    const { subscriber } = apic.watch('fvBD\nfvTenant', { refreshTimeoutSec: 2 });
    await synced(subscriber);
    // The APIC forgets one subscription (as after its own expiry).
    const victim = sim.liveSubscriptions.find((s) => s.target === 'fvBD')!;
    victim.session.subscriptions.delete(victim.id);
    await waitFor(
      () => sim.stats.deadRefreshes === 1 && sim.liveSubscriptions.length === 2,
      'that subscription made again',
    );
    assert.equal(sim.stats.subscriptions, 3);
    assert.equal(sim.stats.logins, 1, 'the session stayed');
  });

  it('retries a throttled subscription refresh instead of subscribing again', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', { refreshTimeoutSec: 4 });
    await synced(subscriber);
    sim.failNext(2, 503, 'subscriptionRefresh');
    await waitFor(() => sim.stats.subscriptionRefreshes >= 1, 'a refresh that got through');
    assert.equal(sim.stats.injectedFailures, 2, 'two refreshes were throttled');
    assert.equal(sim.stats.subscriptions, 1, 'the subscription was kept');
    assert.equal(sim.stats.expiredSubscriptions, 0);
    sim.modify(BD, { descr: 'same subscription' });
    const change = await changed(seen, BD, 'same subscription');
    assert.deepEqual(change.subscriptionIds, [sim.liveSubscriptions[0]!.id]);
  });

  it('subscribes again when refreshes stay throttled until the deadline draws near', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', { refreshTimeoutSec: 4 });
    await synced(subscriber);
    sim.failNext(1000, 503, 'subscriptionRefresh');
    await waitFor(() => sim.stats.subscriptions === 2, 'a new subscription');
    assert.equal(sim.stats.subscriptionRefreshes, 0);
    assert.ok(sim.stats.injectedFailures >= 2, 'it tried the refresh more than once');
    sim.modify(BD, { descr: 'new subscription' });
    await changed(seen, BD, 'new subscription');
  });
});
