/**
 * Two Node-RED instances, the same flow, the same sources: every source event
 * reaches the sink from both with the same CloudEvent id, so a consumer that
 * drops doubles by source + id sees each event once.
 */
import assert from 'node:assert/strict';
import { ACI_CLASSES, Instance, escapes, pipelineFlow, startSims, type Sims } from './pipeline';
import { delay, waitFor } from '../support/wait';

const AMQP_XML = `<?xml version="1.0" encoding="UTF-8"?>
<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"
    type="com/vmware/vcloud/event/vapp/create" eventId="a1440dd8-60ae-46c7-b216-44693bc00c90">
  <vmext:EntityLink rel="entity" type="vcloud:vapp" name="erp" id="urn:vcloud:vapp:dc6a"/>
  <vmext:EntityLink rel="up" type="vcloud:org" name="acme" id="urn:vcloud:org:0b8a"/>
  <vmext:EntityLink rel="down" type="vcloud:user" name="acmeadmin" id="urn:vcloud:user:832c"/>
  <vmext:Timestamp>2026-06-18T14:33:27.787-07:00</vmext:Timestamp>
  <vmext:OperationSuccess>true</vmext:OperationSuccess>
</vmext:Notification>`;

/** A vSphere event as VEBA posts it (binary mode). */
const VSPHERE_EVENT = {
  'ce-id': '08179137-b8e0-4973-b05f-8f212bf5003b',
  'ce-source': 'https://vcenter-01:443/sdk',
  'ce-specversion': '1.0',
  'ce-type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
  'content-type': 'application/json',
};

describe('two instances of one flow (high availability): the same CloudEvent id for every event', function () {
  this.timeout(180_000);
  let sims: Sims;
  const instances: Instance[] = [];

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const i of instances) console.log(`--- Node-RED ${i.name}\n${i.log().slice(-4000)}`);
    const got = sims?.sink.received.map((r) => `${r.path} ${String(r.event.type)} ${String(r.event.id)}`);
    console.log(`--- sink\n${got?.join('\n')}\nrejected: ${sims?.sink.rejected.join('; ')}`);
  });

  after(async () => {
    for (const i of instances) await i.remove();
    await sims?.stop();
  });

  /** Ids each instance delivered, by what they were. */
  const ids = (path: string, pick: (e: Record<string, unknown>) => boolean = () => true) =>
    new Set(
      sims.sink.received
        .filter((r) => r.path === path && pick(r.event))
        .map((r) => `${String(r.event.source)} ${String(r.event.id)}`),
    );
  const same = (pick: (e: Record<string, unknown>) => boolean, what: string, atLeast = 1) =>
    waitFor(
      () => {
        const a = ids('/a', pick);
        const b = ids('/b', pick);
        return a.size >= atLeast && a.size === b.size && [...a].every((id) => b.has(id)) ? a : undefined;
      },
      `the same ${what} ids from both instances`,
      30_000,
    );

  const isVcd = (e: Record<string, unknown>) => String(e.type).startsWith('com.vmware.vcloud.event');
  const isAci = (e: Record<string, unknown>) => String(e.type).startsWith('com.cisco.aci');
  const subscribed = () =>
    waitFor(
      () =>
        sims.vcd.subscriptions.length === 2 && sims.apic.liveSubscriptions.length === 2 * ACI_CLASSES.length,
      'both instances subscribed',
      30_000,
    );
  const firstBd = () => sims.apic.tree.query('class', 'fvBD', {})[0]!.attributes.dn as string;

  before(async () => {
    sims = await startSims();
    for (const name of ['a', 'b'])
      instances.push(new Instance(name, pipelineFlow(sims, { sinkPath: `/${name}` })));
    await Promise.all(instances.map((i) => i.start()));
    await subscribed();
    await waitFor(() => sims.vcd.stats.auditReads >= 2, 'both first marks');
  });

  it('VCD events and tasks, live and recovered from the audit trail', async () => {
    const { vcd } = sims;
    const live = [
      vcd.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' }),
      vcd.publishEvent({ actor: 'acmeadmin@acme', envelopeType: 'TASK', event: { taskName: 'vappDeploy' } }),
      vcd.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' }),
    ].map((p) => p.event.eventId);
    // Published while the broker restarts: both instances recover them from the audit trail.
    vcd.restartBroker(2000);
    await waitFor(() => vcd.subscriptions.length === 0, 'the broker down');
    const recovered = [
      vcd.publishEvent({ actor: 'acmeuser@acme' }),
      vcd.publishEvent({ actor: 'acmeadmin@acme', envelopeType: 'TASK' }),
    ].map((p) => p.event.eventId);
    const vcdIds = await same(isVcd, 'VCD', 5);
    for (const id of [...live, ...recovered]) assert.ok(vcdIds.has(`${vcd.url} ${id}`), id);
  });

  it('ACI pushes', async () => {
    const { apic } = sims;
    apic.modify(firstBd(), { descr: 'first change' });
    apic.create('fvBD', 'uni/tn-prod/BD-bd-ha', { name: 'bd-ha' });
    apic.remove('uni/tn-prod/BD-bd-ha');
    assert.equal((await same(isAci, 'ACI push', 3)).size, 3);
  });

  it('ACI resyncs: what changed while the sockets were down', async () => {
    const { apic } = sims;
    const made = apic.stats.subscriptions;
    apic.dropSockets();
    apic.modify(firstBd(), { descr: 'changed while away' });
    apic.create('fvBD', 'uni/tn-prod/BD-bd-away', { name: 'bd-away' });
    await waitFor(
      () => apic.stats.subscriptions >= made + 2 * ACI_CLASSES.length,
      'both subscribed again',
      30_000,
    );
    assert.equal((await same(isAci, 'ACI resync', 5)).size, 5, 'the two resync changes');
  });

  it('AMQP XML and CloudEvents that come in over HTTP', async () => {
    const post = (base: string, headers: Record<string, string>, body: string) =>
      fetch(`${base}/in`, { method: 'POST', headers, body }).then((r) => assert.equal(r.status, 202));
    for (const i of instances) {
      await post(i.base, { 'content-type': 'text/xml' }, AMQP_XML);
      await post(i.base, VSPHERE_EVENT, '{"FullFormattedMessage":"DRS powered on workload1"}');
    }
    const amqp = await same((e) => e.id === 'a1440dd8-60ae-46c7-b216-44693bc00c90', 'AMQP');
    assert.deepEqual([...amqp], [`${sims.vcd.url} a1440dd8-60ae-46c7-b216-44693bc00c90`]);
    const ce = await same((e) => String(e.type).startsWith('com.vmware.vsphere'), 'CloudEvent');
    assert.deepEqual([...ce], [`https://vcenter-01:443/sdk ${VSPHERE_EVENT['ce-id']}`]);
  });

  it('nothing else: the same ids from both, none twice from one, nothing escaped', async () => {
    await delay(500);
    const a = ids('/a');
    assert.deepEqual([...a].sort(), [...ids('/b')].sort());
    assert.equal(sims.sink.received.filter((r) => r.path === '/a').length, a.size, 'no doubles within one');
    for (const i of instances) assert.deepEqual(escapes(i.log()), []);
  });
});
