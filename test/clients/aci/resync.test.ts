import assert from 'node:assert/strict';
import { toMessage } from '../../../nodes/aci/output';
import { waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC resync: what changed while the connection was down', function () {
  const apic = useApicHarness();

  it('recovers from a killed socket, and reports what changed while it was away', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.dropSockets();
    sim.modify(BD, { descr: 'while away' }); // no socket: APIC pushes nothing, and replays nothing
    await waitFor(() => sim.stats.socketsOpened === 2, 'a new socket');
    const change = await changed(seen, BD, 'while away');
    assert.equal(change.reason, 'resync');
    assert.equal(change.status, 'modified');
    sim.modify(BD, { descr: 'after' });
    assert.equal((await changed(seen, BD, 'after')).reason, 'push');
  });

  it('reports a deletion found after a gap with the last known modTs, so its event id is deterministic', async () => {
    const sim = await apic.startSim();
    const dn = 'uni/tn-dev/BD-bd-dev';
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.modify(dn, { descr: 'last seen' });
    const last = (await changed(seen, dn, 'last seen')).attributes.modTs;
    sim.dropSockets();
    sim.remove(dn);
    const gone = await waitFor(
      () => seen.changes.find((c) => c.dn === dn && c.status === 'deleted'),
      'the deletion',
    );
    assert.equal(gone.reason, 'resync');
    assert.equal(gone.attributes.modTs, last);
    const event = toMessage(gone, 'event', sim.url).payload as { id: string; time: string };
    assert.equal(event.id, `deleted:${dn}@${last}`);
    assert.equal(event.time, last);
  });
});
