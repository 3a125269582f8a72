/**
 * Inputs the decoding tests share: a VCD notification, a legacy AMQP body, an
 * APIC push and a CloudEvent as the VMware Event Broker Appliance sends it; and
 * the one shape of a refusal (a code and a short excerpt).
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';

export const ORG = 'urn:vcloud:org:89d59365-0154-5eda-afc9-feae479281b8';
export const USER = 'urn:vcloud:user:ee040994-7d67-5f74-a591-d30ca9e18e31';
export const VM = 'urn:vcloud:vm:2f1f3b5c-7f6a-4d3e-9a43-1d2c3b4a5f60';

export const vcdEvent = {
  eventId: 'cecb8de7-b87c-4a8e-9b0e-1f6a2d7e5c11',
  type: 'com/vmware/vcloud/event/vm/create',
  timestamp: '2026-11-22T13:45:12.345678+01:00',
  operationSuccess: true,
  user: USER,
  userName: 'acmeadmin',
  org: ORG,
  orgName: 'acme',
  entity: VM,
  entityType: 'vm',
  entityName: 'web-01',
  taskName: 'vdcComposeVapp',
};

/** A task as a TASK envelope carries it (OpenAPI style). */
export const vcdTask = {
  id: 'urn:vcloud:task:1234',
  operationName: 'vappDeploy',
  status: 'running',
  startDate: '2026-11-22T13:45:12.000+00:00',
  owner: { name: 'web-01', id: VM, type: 'application/vnd.vmware.vcloud.vm+xml' },
  org: { name: 'acme', id: ORG },
  user: { name: 'acmeadmin', id: USER },
};

/** The audit-trail record of vcdEvent (GET /cloudapi/1.0.0/auditTrail). */
export const vcdAuditRecord = {
  eventId: `urn:vcloud:audit:${vcdEvent.eventId}`,
  eventType: vcdEvent.type,
  eventStatus: 'SUCCESS',
  timestamp: vcdEvent.timestamp,
  operatingOrg: { name: 'acme', id: ORG },
  user: { name: 'acmeadmin', id: USER },
  eventEntity: { name: 'web-01', id: VM },
  description: 'vm web-01 created',
  additionalProperties: { taskName: 'vdcComposeVapp' },
};

export const amqpXml = `<?xml version="1.0" encoding="UTF-8"?>
<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"
    type="com/vmware/vcloud/event/vapp/create" eventId="a1440dd8-60ae-46c7-b216-44693bc00c90">
  <vmext:Link rel="entityResolver" href="https://vcloud.example.com/api/entity/"/>
  <vmext:EntityLink rel="entity" type="vcloud:vapp" name="erp &amp; co" id="urn:vcloud:vapp:dc6a"/>
  <vmext:EntityLink rel="up" type="vcloud:org" name="acme" id="urn:vcloud:org:0b8a"/>
  <vmext:EntityLink rel="down" type="vcloud:user" name="acmeadmin" id="urn:vcloud:user:832c"/>
  <vmext:Timestamp>2011-06-18T14:33:27.787-07:00</vmext:Timestamp>
  <vmext:OperationSuccess>true</vmext:OperationSuccess>
</vmext:Notification>`;

export const aciPush = {
  subscriptionId: ['72057598349672449', '72057598349672450'],
  imdata: [
    {
      fvBD: {
        attributes: {
          dn: 'uni/tn-prod/BD-web',
          descr: 'front end',
          modTs: '2026-11-22T13:40:01.123+00:00',
          status: 'modified',
          rn: '',
          childAction: '',
        },
      },
    },
    {
      faultInst: {
        attributes: {
          dn: 'uni/tn-prod/BD-web/fault-F0467',
          code: 'F0467',
          severity: 'major',
          lc: 'raised',
          descr: 'Configuration failed for EPG web',
          modTs: '2026-11-22T13:40:02.000+00:00',
          status: 'created',
        },
      },
    },
  ],
};

/** A vCenter event as the VMware Event Broker Appliance sends it (binary mode; seed 004). */
export const vebaHeaders = {
  'Ce-Id': '08179137-b8e0-4973-b05f-8f212bf5003b',
  'Ce-Source': 'https://vcenter-01:443/sdk',
  'Ce-Specversion': '1.0',
  'Ce-Time': '2021-09-27T19:02:54.063Z',
  'Ce-Type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
  'Content-Type': 'application/json',
};
export const vebaBody = {
  Key: 280034,
  CreatedTime: '2024-01-17T13:02:05.426999Z',
  UserName: 'VSPHERE.LOCAL\\Administrator',
  Vm: { Name: 'workload1', Vm: { Type: 'VirtualMachine', Value: 'vm-2073' } },
  FullFormattedMessage: 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab',
};

/** A bad input, the options, and the code it is refused with. */
export type RefusedCase = [string, Parameters<typeof decode>[0], Parameters<typeof decode>[1], string];

/** One test per case: the input is refused with its code and a message short enough to read. */
export function refusesWithCode(cases: RefusedCase[]): void {
  for (const [what, input, options, code] of cases) {
    it(`${what} → ${code}`, () => {
      assert.throws(
        () => decode(input, options),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, code);
          assert.ok(err.message.length < 400, 'a short excerpt, not the whole input');
          return true;
        },
      );
    });
  }
}
