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

describe('two instances of one flow (high availability)', function () {
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

  it('sends every source event with the same CloudEvent id from both', async () => {
    sims = await startSims();
    const { vcd, apic, sink } = sims;
    for (const name of ['a', 'b'])
      instances.push(new Instance(name, pipelineFlow(sims, { sinkPath: `/${name}` })));
    await Promise.all(instances.map((i) => i.start()));
    const subscribed = () =>
      waitFor(
        () => vcd.subscriptions.length === 2 && apic.liveSubscriptions.length === 2 * ACI_CLASSES.length,
        'both instances subscribed',
        30_000,
      );
    await subscribed();
    await waitFor(() => vcd.stats.auditReads >= 2, 'both first marks');

    // VCD events and tasks, live.
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
    const vcdIds = await same((e) => String(e.type).startsWith('com.vmware.vcloud.event'), 'VCD', 5);
    for (const id of [...live, ...recovered]) assert.ok(vcdIds.has(`${vcd.url} ${id}`), id);

    // ACI pushes.
    const bd = apic.tree.query('class', 'fvBD', {})[0]!.attributes.dn as string;
    apic.modify(bd, { descr: 'first change' });
    apic.create('fvBD', 'uni/tn-prod/BD-bd-ha', { name: 'bd-ha' });
    apic.remove('uni/tn-prod/BD-bd-ha');
    const pushes = await same((e) => String(e.type).startsWith('com.cisco.aci'), 'ACI push', 3);
    assert.equal(pushes.size, 3);

    // ACI resync: changes made while both sockets are down are found by comparing after the reconnect.
    const made = apic.stats.subscriptions;
    apic.dropSockets();
    apic.modify(bd, { descr: 'changed while away' });
    apic.create('fvBD', 'uni/tn-prod/BD-bd-away', { name: 'bd-away' });
    await waitFor(
      () => apic.stats.subscriptions >= made + 2 * ACI_CLASSES.length,
      'both subscribed again',
      30_000,
    );
    const aci = await same((e) => String(e.type).startsWith('com.cisco.aci'), 'ACI resync', 5);
    assert.equal(aci.size, 5, 'the two resync changes');

    // Through HTTP in: AMQP XML, and a CloudEvent that comes in.
    const post = (base: string, headers: Record<string, string>, body: string) =>
      fetch(`${base}/in`, { method: 'POST', headers, body }).then((r) => assert.equal(r.status, 202));
    for (const i of instances) {
      await post(i.base, { 'content-type': 'text/xml' }, AMQP_XML);
      await post(
        i.base,
        {
          'ce-id': '08179137-b8e0-4973-b05f-8f212bf5003b',
          'ce-source': 'https://vcenter-01:443/sdk',
          'ce-specversion': '1.0',
          'ce-type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
          'content-type': 'application/json',
        },
        '{"FullFormattedMessage":"DRS powered on workload1"}',
      );
    }
    await same((e) => e.type === 'com.vmware.vcloud.event.vapp.create' && e.source === vcd.url, 'AMQP');
    const ce = await same((e) => String(e.type).startsWith('com.vmware.vsphere'), 'CloudEvent');
    assert.deepEqual([...ce], ['https://vcenter-01:443/sdk 08179137-b8e0-4973-b05f-8f212bf5003b']);

    // Nothing else: every id one instance sent, the other sent too, and no id twice from one instance.
    await delay(500);
    const a = ids('/a');
    const b = ids('/b');
    assert.deepEqual([...a].sort(), [...b].sort());
    const perPath = sink.received.filter((r) => r.path === '/a').length;
    assert.equal(perPath, a.size, 'no doubles within one instance');
    for (const i of instances) assert.deepEqual(escapes(i.log()), []);
  });
});
