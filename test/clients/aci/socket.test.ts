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

  it('tells every node of a message that is no push, with its text, and goes on delivering', async () => {
    const sim = await apic.startSim();
    // The first node has no `invalid` handler: the others are told all the same.
    const { subscriber, seen } = apic.watch('fvBD');
    const told = new Map<string, [string | undefined, string][]>();
    for (const node of ['node-2', 'node-3']) {
      told.set(node, []);
      subscriber.add(
        node,
        parseEntries('fvBD'),
        { changes: () => {}, invalid: (err, raw) => told.get(node)!.push([err.code, raw]) },
        { initial: 'skip', refreshTimeoutSec: 60 },
      );
    }
    await waitFor(() => sim.liveSubscriptions.length === 3, 'three subscriptions');
    // A proxy in front of the APIC answering on the socket with its own error page.
    const page = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    for (const session of sim.sessions) session.socket?.send(page);
    await waitFor(() => [...told.values()].every((list) => list.length > 0), 'both nodes told');
    for (const list of told.values()) assert.deepEqual(list, [['APIC_BAD_PUSH', page]]);
    sim.modify(BD, { descr: 'after the page' });
    await changed(seen, BD, 'after the page');
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
