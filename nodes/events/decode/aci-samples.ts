/**
 * Inputs of the format `aci` as APICs send them (see the shared captures): a
 * push, a query answer, an object as aci subscribe sends it, and one push for
 * every way an ACI event is summarised (a fault deleted without its code, an
 * audit record, a health score, a session, ...).
 */
import type { FormatSample } from './types';

/** A push as the APIC's socket sends it: every subscription it matches, then the objects. */
export const aciPushSample = {
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

/** A push of one object of a class. */
const push = (name: string, className: string, attributes: Record<string, string>): FormatSample => ({
  name,
  input: { payload: { subscriptionId: ['72057598349672449'], imdata: [{ [className]: { attributes } }] } },
});

const FAULT_DN = 'topology/pod-1/node-101/sys/phys-[eth1/3]/fault-F0532';

export const ACI_SAMPLES: readonly FormatSample[] = [
  { name: 'ACI push (a BD modified, a fault raised)', input: { payload: aciPushSample } },
  push('ACI fault deleted (no code: read from the dn)', 'faultInst', {
    dn: FAULT_DN,
    status: 'deleted',
    modTs: 'never',
  }),
  push('ACI fault modified', 'faultInst', {
    dn: FAULT_DN,
    status: 'modified',
    lc: 'raised-clearing',
    severity: 'cleared',
    lastTransition: '2024-04-19T21:04:25.300-07:00',
    occur: '2',
  }),
  push('ACI fault delegate', 'faultDelegate', {
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
  push('ACI audit record (aaaModLR)', 'aaaModLR', {
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
  push('ACI event record', 'eventRecord', {
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
  push('ACI health score', 'healthInst', {
    dn: 'uni/tn-prod/ap-web/epg-web/health',
    cur: '90',
    prev: '100',
    maxSev: 'minor',
    updTs: '2024-04-19T21:02:20.878+02:00',
    modTs: 'never',
    status: 'modified',
  }),
  push('ACI node health', 'healthNodeInst', {
    dn: 'topology/pod-1/node-101/sys/health/node-101',
    nodeId: '101',
    cur: '95',
    status: 'modified',
  }),
  push('ACI user session', 'aaaActiveUserSession', {
    dn: 'uni/usersessext/actsession-f9zW7',
    name: 'admin',
    ipAddress: '10.0.0.5',
    status: 'created',
  }),
  push('ACI tenant created (key attributes)', 'fvTenant', {
    dn: 'uni/tn-prod',
    name: 'prod',
    descr: 'production',
    status: 'created',
    modTs: '2026-11-22T13:40:01.123+00:00',
  }),
  {
    name: 'ACI query answer (snapshots)',
    input: {
      payload: {
        totalCount: '1',
        imdata: [
          { fabricNode: { attributes: { dn: 'topology/pod-1/node-101', name: 'leaf1', role: 'leaf' } } },
        ],
      },
    },
  },
  {
    name: 'aci subscribe object message',
    input: {
      payload: {
        className: 'fvBD',
        dn: 'uni/tn-prod/BD-web',
        status: 'modified',
        attributes: { dn: 'uni/tn-prod/BD-web', descr: 'front end', modTs: '2026-11-22T13:40:01.123+00:00' },
      },
    },
  },
];
