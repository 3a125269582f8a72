import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { parseEntries } from '../../../nodes/aci/entries';
import { waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC socket: loss and recovery', function () {
  const apic = useApicHarness();

  it('holds on to nothing of a lost connection, however often it reconnects', async () => {
    const sim = await apic.startSim();
    const { subscriber } = apic.watch('fvBD');
    await synced(subscriber);
    for (let n = 2; n <= 4; n++) {
      sim.dropSockets();
      await waitFor(() => sim.stats.socketsOpened === n && sim.liveSubscriptions.length === 1, 'reconnected');
    }
    // What leaks is exactly this: one stop listener (and its connection) per old connection.
    assert.ok(getEventListeners(subscriber.signal, 'abort').length <= 1);
  });

  it('logs in again when the APIC has lost the socket (405), instead of refusing the entry', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.forgetSockets();
    // The next subscription finds out: APIC answers 405 "Unable to locate opened web socket".
    await subscriber.update('node-1', parseEntries('fvCtx'), []);
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length >= 2 && sim.openSockets === 1,
      'a new login, socket and both subscriptions',
    );
    assert.equal(sim.stats.refusedSubscriptions, 1, 'one 405');
    assert.deepEqual(seen.refused, []);
    assert.deepEqual(
      subscriber.entries('node-1').map((e) => e.key),
      ['fvBD', 'fvCtx'],
    );
    assert.ok(seen.states.some(([, info]) => info.error?.code === 'APIC_CONNECTION_LOST'));
    sim.modify(BD, { descr: 'new socket' });
    await changed(seen, BD, 'new socket');
  });

  it('closes the socket on a push over 16 MiB and reads the change in the resync instead', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    const huge = 'd'.repeat(17 * 1024 * 1024);
    sim.modify(BD, { descr: huge });
    await waitFor(() => sim.stats.socketsOpened === 2, 'a new socket after the oversized push', 20_000);
    await waitFor(
      () => seen.changes.some((c) => c.dn === BD && c.attributes.descr === huge),
      'the change, read by the resync',
      20_000,
    );
    assert.ok(seen.states.some(([, info]) => info.error?.code === 'APIC_CONNECTION_LOST'));
  });
});
