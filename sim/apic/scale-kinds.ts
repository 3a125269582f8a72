/**
 * The classes a large fabric has many of, as populations (population.ts):
 * endpoints (fvCEp, with the attributes APIC 5.x answers), EPGs, their faults
 * and health scores, and the logs (aaaModLR, eventRecord, faultRecord). Numbers
 * are laid out so that dn order is number order: fixed-width tenant and EPG
 * numbers, MAC addresses counted up. Records grow in time with their number.
 */
import { FAULTS } from './fabric';
import type { Change } from './mo';
import type { PopulationKind } from './population';
import type { MoTree } from './tree';

/** Endpoints per EPG, EPGs per tenant: a fabric of 300,000 endpoints has 600 EPGs in 6 tenants. */
const PER_EPG = 500;
const PER_TENANT = 100;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const hex2 = (n: number) => (n & 255).toString(16).toUpperCase().padStart(2, '0');

function epgOf(e: number): { tenant: string; epg: string; bd: string; vrf: string } {
  const t = pad(Math.floor(e / PER_TENANT), 4);
  const tenant = `uni/tn-scale-${t}`;
  return {
    tenant,
    epg: `${tenant}/ap-app/epg-epg-${pad(e, 5)}`,
    bd: `${tenant}/BD-bd-${pad(e, 5)}`,
    vrf: `${tenant}/ctx-vrf`,
  };
}

const macOf = (i: number) => `00:50:56:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;
const ipOf = (i: number, moved = 0) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i + moved) & 255}`;
const pathOf = (i: number) => `topology/pod-1/paths-${101 + (i % 40)}/pathep-[eth1/${1 + (i % 48)}]`;

/** An endpoint as APIC 5.x answers a class query for fvCEp (public captures show these attributes). */
export const ENDPOINTS: PopulationKind = {
  className: 'fvCEp',
  dnOf: (i) => `${epgOf(Math.floor(i / PER_EPG)).epg}/cep-${macOf(i)}`,
  attributesOf(i, time) {
    const e = Math.floor(i / PER_EPG);
    const { epg, bd, vrf } = epgOf(e);
    const mac = macOf(i);
    return {
      annotation: '',
      baseEpgDn: '',
      bdDn: bd,
      childAction: '',
      contName: '',
      dn: `${epg}/cep-${mac}`,
      encap: `vlan-${100 + (e % 3900)}`,
      esgUsegDn: '',
      extMngdBy: '',
      fabricPathDn: pathOf(i),
      hostingServer: '',
      id: '0',
      idepdn: '',
      ip: ipOf(i),
      lcC: i % 3 === 0 ? 'learned,vmm' : 'learned',
      lcOwn: 'local',
      mac,
      mcastAddr: 'not-applicable',
      modTs: time,
      monPolDn: 'uni/tn-common/monepg-default',
      name: mac,
      nameAlias: '',
      reportingControllerName: '',
      status: '',
      uid: '0',
      userdom: 'all',
      uuid: '',
      vmmSrc: i % 3 === 0 ? 'dvs' : '',
      vrfDn: vrf,
    };
  },
  // An endpoint moves to another port, or learns another address.
  modificationOf: (i, n): Record<string, string> =>
    n % 2 ? { fabricPathDn: pathOf(i + n) } : { ip: ipOf(i, n) },
};

export const EPGS: PopulationKind = {
  className: 'fvAEPg',
  dnOf: (i) => epgOf(i).epg,
  attributesOf: (i, time) => ({
    annotation: '',
    childAction: '',
    configIssues: '',
    configSt: 'applied',
    descr: '',
    dn: epgOf(i).epg,
    exceptionTag: '',
    extMngdBy: '',
    floodOnEncap: 'disabled',
    fwdCtrl: '',
    hasMcastSource: 'no',
    isAttrBasedEPg: 'no',
    isSharedSrvMsiteEPg: 'no',
    lcOwn: 'local',
    matchT: 'AtleastOne',
    modTs: time,
    monPolDn: 'uni/tn-common/monepg-default',
    name: `epg-${pad(i, 5)}`,
    nameAlias: '',
    pcEnfPref: 'unenforced',
    pcTag: String(16386 + i),
    prefGrMemb: 'exclude',
    prio: 'unspecified',
    scope: String(2686976 + Math.floor(i / PER_TENANT)),
    shutdown: 'no',
    status: '',
    triggerSt: 'triggerable',
    txId: String(1152921504606846976 + i),
    uid: '15374',
    userdom: ':all:',
  }),
  modificationOf: (_i, n) => ({ descr: `tier ${n}` }),
};

/** One fault per EPG, through its life cycle: modTs "never", times in created and lastTransition. */
export const FAULT_INSTANCES: PopulationKind = {
  className: 'faultInst',
  dnOf: (i) => `${epgOf(i).epg}/fault-F0467`,
  attributesOf(i, time) {
    const f = FAULTS[0]!;
    return {
      ack: 'no',
      annotation: '',
      cause: f.cause,
      changeSet: 'configQual:invalid-path, configSt:failed-to-apply, temporaryError:no',
      childAction: '',
      code: f.code,
      created: time,
      delegated: 'no',
      descr: `${f.descr} ${epgOf(i).epg}`,
      dn: `${epgOf(i).epg}/fault-F0467`,
      domain: 'tenant',
      extMngdBy: '',
      highestSeverity: f.severity,
      lastTransition: time,
      lc: 'raised',
      modTs: 'never',
      occur: '1',
      origSeverity: f.severity,
      prevSeverity: f.severity,
      rule: 'fv-nw-issues-config-failed',
      severity: f.severity,
      status: '',
      subject: 'management',
      type: 'config',
      uid: '',
      userdom: 'all',
    };
  },
  modificationOf: (_i, n, time): Record<string, string> =>
    n % 2
      ? { lc: 'raised-clearing', lastTransition: time }
      : { lc: 'raised', lastTransition: time, occur: String(1 + (n >> 1)) },
};

export const HEALTH_SCORES: PopulationKind = {
  className: 'healthInst',
  dnOf: (i) => `${epgOf(i).epg}/health`,
  attributesOf: (i, time) => ({
    childAction: '',
    chng: '0',
    cur: '100',
    dn: `${epgOf(i).epg}/health`,
    maxSev: 'cleared',
    modTs: 'never',
    prev: '100',
    status: '',
    twScore: '100',
    updTs: time,
  }),
  modificationOf: (_i, n, time) => {
    const cur = String(100 - ((n * 7) % 40));
    return { cur, twScore: cur, chng: String(-((n * 7) % 40)), updTs: time };
  },
};

/** Record ids count up from where APIC's own start. */
const recordId = (i: number) => String(4294967296 + i);

function recordKind(
  className: string,
  rn: string,
  make: (i: number) => Record<string, string>,
): PopulationKind {
  const dnOf = (i: number) => `subj-[${epgOf(Math.floor(i / PER_EPG)).epg}]/${rn}-${recordId(i)}`;
  return {
    className,
    record: true,
    dnOf,
    attributesOf: (i, time) => ({
      affected: epgOf(Math.floor(i / PER_EPG)).epg,
      childAction: '',
      created: time,
      dn: dnOf(i),
      id: recordId(i),
      modTs: 'never',
      status: '',
      txId: String(576460752303423488 + i),
      ...make(i),
    }),
    modificationOf: () => ({}),
  };
}

export const AUDIT_RECORDS = recordKind('aaaModLR', 'mod', (i) => ({
  cause: 'transition',
  changeSet: `descr (Old: tier ${i}, New: tier ${i + 1})`,
  clientTag: '',
  code: 'E4206328',
  descr: `AEPg epg-${pad(Math.floor(i / PER_EPG), 5)} modified`,
  ind: 'modification',
  sessionId: 'iEesZLm8RRy7B23FqyW3eQ==',
  severity: 'info',
  trig: 'config',
  user: ['admin', 'netops', 'automation'][i % 3] as string,
}));

export const EVENT_RECORDS = recordKind('eventRecord', 'rec', (i) => ({
  cause: 'state-change',
  changeSet: 'operSt (Old: down, New: up)',
  code: 'E4204938',
  descr: `Endpoint ${macOf(i)} learned`,
  ind: 'state-transition',
  severity: 'info',
  trig: 'oper',
  user: 'internal',
}));

export const FAULT_RECORDS = recordKind('faultRecord', 'rec', (i) => ({
  ack: 'no',
  cause: FAULTS[0]!.cause,
  changeSet: '',
  code: FAULTS[0]!.code,
  descr: FAULTS[0]!.descr,
  domain: 'tenant',
  highestSeverity: 'minor',
  ind: i % 2 ? 'state-transition' : 'creation',
  lc: i % 2 ? 'raised' : 'soaking',
  occur: '1',
  origSeverity: 'minor',
  prevSeverity: 'minor',
  rule: 'fv-nw-issues-config-failed',
  severity: 'minor',
  subject: 'management',
  type: 'config',
}));

/** The kinds by class name. */
export const SCALE_KINDS = new Map(
  [ENDPOINTS, EPGS, FAULT_INSTANCES, HEALTH_SCORES, AUDIT_RECORDS, EVENT_RECORDS, FAULT_RECORDS].map((k) => [
    k.className,
    k,
  ]),
);

/**
 * One change in a population, picked by size: a log gets a record, an endpoint
 * moves (80%), is learned (10%) or ages out (10%), a fault or a health score
 * changes. Undefined when there is no population.
 */
export function populationChange(tree: MoTree, random: () => number): Change | undefined {
  const pops = tree.allPopulations();
  const total = pops.reduce((n, p) => n + p.size, 0);
  let at = random() * total;
  const pop = pops.find((p) => (at -= p.size) < 0) ?? pops[0];
  if (!pop) return undefined;
  if (pop.kind.record) return tree.grow(pop.className);
  const roll = random();
  const i = pop.pick(random);
  if (pop.className !== 'fvCEp' || (roll < 0.8 && i !== undefined)) {
    return i === undefined ? undefined : tree.modify(pop.object(i).dn);
  }
  if (roll < 0.9 || i === undefined) return tree.grow(pop.className);
  return tree.delete(pop.object(i).dn)[0];
}
