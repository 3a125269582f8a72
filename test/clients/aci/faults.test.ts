/**
 * The subscriber with objects whose modTs is "never" (faults, health scores,
 * records, as real APICs send them): what changed during a gap is still
 * found, and deletions get ids that name the occurrence that ended.
 */
import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import { toMessage } from '../../../nodes/aci/output';
import { ApicCluster } from '../../../nodes/aci/session';
import { ApicSubscriber, type AciChange } from '../../../nodes/aci/subscriber';
import type { InfraEvent } from '../../../nodes/common/infra-event';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../../sim/apic';
import { waitFor } from '../../support/wait';

const EPG = 'uni/tn-prod/ap-prod-app/epg-web';

describe('APIC client with faults and health scores (modTs "never")', function () {
  let sim: ApicSimulator;
  let cluster: ApicCluster;
  let sub: ApicSubscriber;
  const changes: AciChange[] = [];

  beforeEach(async () => {
    changes.length = 0;
    sim = await ApicSimulator.start({ ratePerSec: 0 });
    cluster = new ApicCluster({
      hosts: sim.hosts,
      authType: 'password',
      username: 'admin',
      password: DEFAULT_APIC_PASSWORD,
      tls: { ca: sim.cert },
    });
    sub = new ApicSubscriber({ cluster, pingIntervalMs: 1000, backoff: { initialMs: 100, maxMs: 1000 } });
    const synced = new Promise<void>((r) => sub.once('synced', () => r()));
    sub.add(
      'node-1',
      parseEntries('faultInst\nhealthInst'),
      { changes: (cs) => changes.push(...cs) },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    await synced;
  });

  afterEach(async () => {
    await sub.stop();
    await cluster.close();
    await sim.stop();
  });

  const event = (c: AciChange) => toMessage(c, 'event', sim.urls[0] as string).payload as InfraEvent;
  const find = (what: string, test: (c: AciChange) => boolean) => waitFor(() => changes.find(test), what);

  it('finds a fault that was cleared during a gap, though its modTs stayed "never"', async () => {
    const dn = sim.raiseFault(EPG, 'F1527', 'raised');
    await find('the raised fault', (c) => c.dn === dn && c.status === 'created');
    sim.dropSockets();
    sim.advanceFault(dn, 'retaining');
    const cleared = await find('the change found on resync', (c) => c.dn === dn && c.reason === 'resync');
    assert.equal(cleared.status, 'modified');
    assert.equal(cleared.attributes.lc, 'retaining');
    assert.equal(cleared.attributes.severity, 'cleared');
    assert.equal(cleared.attributes.modTs, 'never');
    const health = await find(
      'the health score found on resync',
      (c) => c.dn === `${EPG}/health` && c.reason === 'resync',
    );
    assert.equal(health.attributes.cur, '100');
    assert.equal(health.attributes.prev, '80');
    const e = event(cleared);
    assert.equal(e.time, cleared.attributes.lastTransition);
  });

  it('a fault raised, deleted, raised and deleted again: every event has its own id and a real time', async () => {
    const dn = sim.raiseFault(EPG, 'F0103', 'raised');
    sim.advanceFault(dn, 'retaining');
    sim.advanceFault(dn, 'deleted');
    sim.raiseFault(EPG, 'F0103', 'raised');
    sim.advanceFault(dn, 'retaining');
    sim.advanceFault(dn, 'deleted');
    await waitFor(() => changes.filter((c) => c.dn === dn).length === 6, 'six changes of the fault');
    const events = changes.filter((c) => c.dn === dn).map(event);
    assert.deepEqual(
      events.map((e) => e.aci!.status),
      ['created', 'modified', 'deleted', 'created', 'modified', 'deleted'],
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 6, events.map((e) => e.id).join('\n'));
    for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.time)) && !e.id.includes('never'), e.id);
    // A deletion carries no time of its own: it is dated with the state that ended.
    const [, retaining, deleted] = events;
    assert.equal(deleted!.time, retaining!.time);
  });
});
