/**
 * One realistic input at least for every decoder of the decoders table and
 * every way an ACI or VCD event is summarised (a fault deleted without its code,
 * an audit record, a health score, a session, ...), for the tests that run all
 * of them. Shapes as the real systems send them (see the shared captures).
 */
import type { DecodeInput } from '../../nodes/events/decode';
import {
  ORG,
  USER,
  aciPush,
  amqpXml,
  vcdAuditRecord,
  vcdEvent,
  vcdTask,
  vebaBody,
  vebaHeaders,
} from './decode-fixtures';

/** As a real VCD writes its audit trail's times (go-vcloud-director's sample). */
const auditRecord = { ...vcdAuditRecord, timestamp: '2020-07-19T18:57:34.398+0000' };

const aci = (
  className: string,
  attributes: Record<string, string>,
  subscriptionId = ['72057598349672449'],
) => ({
  payload: { subscriptionId, imdata: [{ [className]: { attributes } }] },
});

const FAULT_DN = 'topology/pod-1/node-101/sys/phys-[eth1/3]/fault-F0532';

const cloudEvent = {
  specversion: '1.0',
  id: '08179137-b8e0-4973-b05f-8f212bf5003b',
  source: 'https://vcenter-01:443/sdk',
  type: 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
  time: '2021-09-27T19:02:54.063Z',
  subject: 'DrsVmPoweredOnEvent',
  datacontenttype: 'application/json',
  eventclass: 'event',
  data: vebaBody,
};

export const DECODE_SAMPLES: Record<string, DecodeInput> = {
  'ACI push (a BD modified, a fault raised)': { payload: aciPush },
  'ACI fault deleted (no code: read from the dn)': aci('faultInst', {
    dn: FAULT_DN,
    status: 'deleted',
    modTs: 'never',
  }),
  'ACI fault modified': aci('faultInst', {
    dn: FAULT_DN,
    status: 'modified',
    lc: 'raised-clearing',
    severity: 'cleared',
    lastTransition: '2024-04-19T21:04:25.300-07:00',
    occur: '2',
  }),
  'ACI fault delegate': aci('faultDelegate', {
    dn: 'uni/tn-TK/ctx-VRF1/fault-F0467',
    code: 'F0467',
    severity: 'minor',
    lc: 'raised',
    cause: 'configuration-failed',
    descr: 'Configuration failed for uni/tn-TK/ap-AP1/epg-EPG1-2 node 101 eth1/4',
    affected: 'uni/tn-TK/ap-AP1/epg-EPG1-2',
    created: '2024-04-19T21:02:20.878-07:00',
    status: 'created',
  }),
  'ACI audit record (aaaModLR)': aci('aaaModLR', {
    affected: 'uni/tn-myTenant/ap-AP1/epg-EP1',
    changeSet: 'descr (Old: a, New: b)',
    created: '2021-10-28T07:32:34.846+01:00',
    descr: 'AEPg EP1 modified',
    dn: 'subj-[uni/tn-myTenant/ap-AP1/epg-EP1]/mod-4295233655',
    ind: 'modification',
    modTs: 'never',
    status: 'created',
    user: 'user1',
  }),
  'ACI event record': aci('eventRecord', {
    dn: 'subj-[topology/pod-1/node-101/sys/phys-[eth1/3]]/rec-4294967311',
    code: 'E4208219',
    cause: 'port-down',
    descr: 'Port is down',
    severity: 'info',
    affected: 'topology/pod-1/node-101/sys/phys-[eth1/3]',
    created: '2024-04-19T21:02:20.878-07:00',
    changeSet: 'operSt (Old: up, New: down)',
    status: 'created',
  }),
  'ACI health score': aci('healthInst', {
    dn: 'uni/tn-prod/ap-web/epg-web/health',
    cur: '90',
    prev: '100',
    maxSev: 'minor',
    updTs: '2024-04-19T21:02:20.878+02:00',
    modTs: 'never',
    status: 'modified',
  }),
  'ACI node health': aci('healthNodeInst', {
    dn: 'topology/pod-1/node-101/sys/health/node-101',
    nodeId: '101',
    cur: '95',
    status: 'modified',
  }),
  'ACI user session': aci('aaaActiveUserSession', {
    dn: 'uni/usersessext/actsession-f9zW7',
    name: 'admin',
    ipAddress: '10.0.0.5',
    status: 'created',
  }),
  'ACI tenant created (key attributes)': aci('fvTenant', {
    dn: 'uni/tn-prod',
    name: 'prod',
    descr: 'production',
    status: 'created',
    modTs: '2026-11-22T13:40:01.123+00:00',
  }),
  'ACI query answer (snapshots)': {
    payload: {
      totalCount: '1',
      imdata: [
        { fabricNode: { attributes: { dn: 'topology/pod-1/node-101', name: 'leaf1', role: 'leaf' } } },
      ],
    },
  },
  'aci subscribe object message': {
    payload: {
      className: 'fvBD',
      dn: 'uni/tn-prod/BD-web',
      status: 'modified',
      attributes: { dn: 'uni/tn-prod/BD-web', descr: 'front end', modTs: '2026-11-22T13:40:01.123+00:00' },
    },
  },
  'VCD envelope (EVENT, JSON payload as text)': {
    payload: {
      type: 'EVENT',
      headers: { contentType: 'application/json' },
      payload: JSON.stringify(vcdEvent),
    },
    topic: `publish/${ORG.slice(-36)}/${USER.slice(-36)}`,
  },
  'VCD envelope as JSON text': {
    payload: JSON.stringify({
      type: 'EVENT',
      headers: { contentType: 'application/json' },
      payload: JSON.stringify(vcdEvent),
    }),
  },
  'VCD envelope (TASK)': { payload: { type: 'TASK', headers: {}, payload: JSON.stringify(vcdTask) } },
  'VCD envelope of a type VCD may add': { payload: { type: 'NEW_THING', headers: {}, payload: '{"x":"y"}' } },
  'VCD envelope carrying AMQP XML': {
    payload: { type: 'EVENT', headers: { contentType: 'application/xml' }, payload: amqpXml },
  },
  'VCD JSON notification': { payload: vcdEvent },
  'VCD audit record': { payload: auditRecord },
  'VCD audit page': {
    payload: { resultTotal: 1, pageCount: 1, page: 1, pageSize: 25, values: [auditRecord] },
  },
  'VCD AMQP notification (XML), routing key and headers': {
    payload: amqpXml,
    routingKey: 'true.dc6a.0b8a.832c.com.vmware.vcloud.event.vapp.create',
    amqpHeaders: {
      'notification.type': 'com/vmware/vcloud/event/vapp/create',
      'notification.entityType': 'vcloud:vapp',
    },
  },
  'CloudEvent, structured': { payload: cloudEvent },
  'CloudEvents, batch': { payload: [cloudEvent, { ...cloudEvent, id: 'second' }] },
  'CloudEvent, binary mode (VEBA)': { payload: vebaBody, httpHeaders: vebaHeaders },
};
