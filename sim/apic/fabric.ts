/**
 * A small but complete fabric and what happens in it, the way an APIC shows
 * it: bridge domains and EPGs are configured by users (each change leaves an
 * audit record, aaaModLR, naming the user and what changed), faults go
 * through their life cycle (soaking → raised → raised-clearing → retaining →
 * gone, or raised again, counting occurrences), health scores follow the
 * faults, switches change state and users log in and out (each leaves an
 * event record).
 */
import { pick } from '../ids';
import { SIM_APIC_VERSION, apicTimestamp, parentDn, type Change, type MoTree } from './tree';

const TENANTS: Record<string, { vrf: string; bds: string[]; epgs: string[] }> = {
  common: { vrf: 'default', bds: ['default'], epgs: [] },
  mgmt: { vrf: 'oob', bds: ['inb'], epgs: [] },
  prod: { vrf: 'prod-vrf', bds: ['bd-web', 'bd-app', 'bd-db'], epgs: ['web', 'app', 'db'] },
  dev: { vrf: 'dev-vrf', bds: ['bd-dev'], epgs: ['dev-web', 'dev-db'] },
};

export interface FaultSpec {
  code: string;
  cause: string;
  severity: string;
  descr: string;
  type?: string;
}

export const FAULTS: FaultSpec[] = [
  { code: 'F0467', cause: 'configuration-failed', severity: 'minor', descr: 'Configuration failed for EPG' },
  { code: 'F0956', cause: 'resolution-failed', severity: 'warning', descr: 'BD resolution failed' },
  { code: 'F1527', cause: 'threshold-crossed', severity: 'major', descr: 'Storage unit usage above 75%' },
  {
    code: 'F0103',
    cause: 'interface-physical-down',
    severity: 'critical',
    descr: 'Physical interface down',
    type: 'operational',
  },
];

const USERS = ['admin', 'netops', 'alice', 'automation'];

/** Where health scores live: every tenant, bridge domain and EPG has one, as `<dn>/health`. */
const SCORED = new Set(['fvTenant', 'fvBD', 'fvAEPg']);

/** What an active fault takes off its object's health score (inferred weights; APIC's are a policy). */
const PENALTY: Record<string, number> = { critical: 40, major: 20, minor: 10, warning: 5 };
const SEVERITIES = ['critical', 'major', 'minor', 'warning'];

/** Creates an object, and its health score when its class has one. */
function createScored(
  tree: MoTree,
  className: string,
  dn: string,
  attributes: Record<string, string> = {},
): Change[] {
  const created = tree.create(className, dn, attributes);
  if (!SCORED.has(className)) return [created];
  const health = tree.create('healthInst', `${dn}/health`, {
    chng: '0',
    cur: '100',
    maxSev: 'cleared',
    prev: '100',
    twScore: '100',
  });
  return [created, health];
}

/** Puts a small but complete fabric into the tree. */
export function seedFabric(tree: MoTree): void {
  tree.create('polUni', 'uni', { name: '' });
  for (const [tenant, t] of Object.entries(TENANTS)) {
    const tn = `uni/tn-${tenant}`;
    createScored(tree, 'fvTenant', tn);
    tree.create('fvCtx', `${tn}/ctx-${t.vrf}`, {
      pcEnfPref: 'enforced',
      pcEnfDir: 'ingress',
      ipDataPlaneLearning: 'enabled',
    });
    t.bds.forEach((bd, i) => {
      createScored(tree, 'fvBD', `${tn}/BD-${bd}`, bdAttributes());
      tree.create('fvRsCtx', `${tn}/BD-${bd}/rsctx`, { tnFvCtxName: t.vrf, tDn: `${tn}/ctx-${t.vrf}` });
      tree.create('fvSubnet', `${tn}/BD-${bd}/subnet-[10.${10 + i}.${i}.1/24]`, {
        ip: `10.${10 + i}.${i}.1/24`,
        scope: 'private',
      });
    });
    if (t.epgs.length) {
      const ap = `${tn}/ap-${tenant}-app`;
      tree.create('fvAp', ap, { prio: 'unspecified' });
      t.epgs.forEach((epg, i) => {
        createScored(tree, 'fvAEPg', `${ap}/epg-${epg}`, {
          pcEnfPref: 'unenforced',
          prefGrMemb: 'exclude',
          floodOnEncap: 'disabled',
        });
        tree.create('fvRsBd', `${ap}/epg-${epg}/rsbd`, { tnFvBDName: t.bds[i % t.bds.length] as string });
      });
    }
  }
  createScored(tree, 'fvAEPg', 'uni/tn-prod/ap-prod-app/epg-legacy', { pcEnfPref: 'unenforced' });
  raiseFault(tree, 'uni/tn-prod/ap-prod-app/epg-legacy', FAULTS[0]!, 'raised');
  seedNodes(tree);
  login(tree, 'admin', '10.0.0.10', 1);
}

function seedNodes(tree: MoTree): void {
  const nodes: [string, string, string][] = [
    ['1', 'apic1', 'controller'],
    ['101', 'leaf-101', 'leaf'],
    ['102', 'leaf-102', 'leaf'],
    ['201', 'spine-201', 'spine'],
  ];
  for (const [id, name, role] of nodes) {
    const ts = tree.now();
    tree.create('fabricNode', `topology/pod-1/node-${id}`, {
      id,
      name,
      role,
      address: `10.0.48.${Number(id) % 250}`,
      fabricSt: role === 'controller' ? 'unknown' : 'active',
      lastStateModTs: ts,
      model: role === 'controller' ? 'APIC-SERVER-M3' : role === 'leaf' ? 'N9K-C93180YC-FX' : 'N9K-C9332C',
      serial: `FDO2${id.padStart(4, '0')}SIM`,
      vendor: 'Cisco Systems, Inc',
      version: role === 'controller' ? SIM_APIC_VERSION : 'n9000-15.2(7f)',
      adSt: 'on',
      delayedHeartbeat: 'no',
      nodeType: 'unspecified',
    });
  }
  seedPorts(tree);
  tree.create('firmwareCtrlrRunning', 'topology/pod-1/node-1/sys/ctrlrfwstatuscont/ctrlrrunning', {
    version: SIM_APIC_VERSION,
    type: 'controller',
    name: '',
  });
}

/** The leaves' front ports: the interface (l1PhysIf) and its operational state (ethpmPhysIf, where port faults sit). */
function seedPorts(tree: MoTree): void {
  const hosts = ['esx-01 vmnic0', 'esx-02 vmnic0', 'storage-a', 'uplink to core'];
  for (const node of ['101', '102']) {
    hosts.forEach((descr, i) => {
      const dn = `topology/pod-1/node-${node}/sys/phys-[eth1/${i + 1}]`;
      tree.create('l1PhysIf', dn, {
        id: `eth1/${i + 1}`,
        adminSt: 'up',
        descr,
        mode: 'trunk',
        speed: 'inherit',
        usage: i < 2 ? 'epg' : 'discovery',
      });
      tree.create('ethpmPhysIf', `${dn}/phys`, {
        operSt: 'up',
        operSpeed: '25G',
        usage: i < 2 ? 'epg' : 'discovery',
      });
    });
  }
}

function bdAttributes(): Record<string, string> {
  return {
    arpFlood: 'no',
    unicastRoute: 'yes',
    unkMacUcastAct: 'proxy',
    limitIpLearnToSubnets: 'yes',
    mac: '00:22:BD:F8:19:FF',
    type: 'regular',
  };
}

/** An active user session as APIC lists it: the dn names a hash of the token, not the user. */
function login(tree: MoTree, user: string, ip: string, n: number): Change {
  const hash = Buffer.from(`${user}-${n}-session-token`).toString('base64').slice(0, 22) + '==';
  const now = Date.now();
  return tree.create('aaaActiveUserSession', `uni/usersessext/actsession-${hash}`, {
    expiryTime: apicTimestamp(now + 600_000),
    hashToken: hash,
    ipAddress: ip,
    loginTime: apicTimestamp(now),
    name: user,
    uType: 'local',
  });
}

// --- faults and health ---------------------------------------------------------------------

/** A fault appears on an object: soaking first (APIC waits before raising it), or raised at once. */
export function raiseFault(tree: MoTree, affected: string, f: FaultSpec, lc = 'soaking'): Change[] {
  const fault = tree.create('faultInst', `${affected}/fault-${f.code}`, {
    ack: 'no',
    cause: f.cause,
    changeSet: '',
    code: f.code,
    delegated: 'no',
    descr: f.descr,
    domain: affected.startsWith('topology/') ? 'infra' : 'tenant',
    highestSeverity: f.severity,
    lc,
    occur: '1',
    origSeverity: f.severity,
    prevSeverity: f.severity,
    rule: `${f.cause}-rule`,
    severity: f.severity,
    subject: f.type === 'operational' ? 'oper-state-change' : 'management',
    type: f.type ?? 'config',
  });
  return [fault, ...updateHealth(tree, affected)];
}

/**
 * The next step of a fault's life: soaking → raised; raised → raised-clearing
 * (or, now and then, a worse severity); raised-clearing → retaining (severity
 * cleared); retaining → deleted when the retention ends, or raised again
 * (occur counts it). `to` forces a step ("raised", "raised-clearing",
 * "retaining", "deleted", or a severity).
 */
export function advanceFault(tree: MoTree, dn: string, random: () => number, to?: string): Change[] {
  const fault = tree.get(dn);
  if (!fault || fault.className !== 'faultInst') throw new Error(`no fault ${dn}`);
  const a = fault.attributes;
  const affected = parentDn(dn);
  const next = to ?? nextStep(a, random);
  if (next === 'deleted') return [...tree.delete(dn), ...updateHealth(tree, affected)];
  const changes: Record<string, string> = { lastTransition: tree.now() };
  if (SEVERITIES.includes(next)) {
    Object.assign(changes, { prevSeverity: a.severity as string, severity: next });
    if (SEVERITIES.indexOf(next) < SEVERITIES.indexOf(a.highestSeverity ?? ''))
      changes.highestSeverity = next;
  } else if (next === 'retaining') {
    Object.assign(changes, { lc: next, prevSeverity: a.severity as string, severity: 'cleared' });
  } else if (next === 'raised' && a.lc === 'retaining') {
    const occur = String(Number(a.occur ?? '1') + 1);
    Object.assign(changes, { lc: next, occur, prevSeverity: 'cleared', severity: a.origSeverity as string });
  } else {
    changes.lc = next;
  }
  return [tree.modify(dn, changes), ...updateHealth(tree, affected)];
}

function nextStep(a: Record<string, string>, random: () => number): string {
  switch (a.lc) {
    case 'soaking':
      return 'raised';
    case 'raised': {
      const worse = SEVERITIES[SEVERITIES.indexOf(a.severity ?? '') - 1];
      return worse && random() < 0.25 ? worse : 'raised-clearing';
    }
    case 'raised-clearing':
      return 'retaining';
    default:
      return random() < 0.5 ? 'deleted' : 'raised';
  }
}

/** A health score follows the active faults of its object; unchanged scores are not pushed. */
function updateHealth(tree: MoTree, affected: string): Change[] {
  const health = tree.get(`${affected}/health`);
  if (!health) return [];
  const active = tree
    .all()
    .filter(
      (m) => m.className === 'faultInst' && parentDn(m.dn) === affected && m.attributes.lc !== 'soaking',
    )
    .map((m) => m.attributes.severity as string)
    .filter((s) => s in PENALTY);
  const cur = Math.max(0, 100 - active.reduce((sum, s) => sum + (PENALTY[s] as number), 0));
  const prev = Number(health.attributes.cur ?? '100');
  if (cur === prev) return [];
  const maxSev = SEVERITIES.find((s) => active.includes(s)) ?? 'cleared';
  return [
    tree.modify(health.dn, {
      chng: String(cur - prev),
      cur: String(cur),
      maxSev,
      prev: String(prev),
      twScore: String(cur),
      updTs: tree.now(),
    }),
  ];
}

// --- records ---------------------------------------------------------------------------------

const VERB: Record<Change['status'], string> = {
  created: 'creation',
  modified: 'modification',
  deleted: 'deletion',
};

/** What changed, the way APIC's records write it: "arpFlood (Old: no, New: yes), descr (New: web)". */
function changeSetOf(c: Change, before: Record<string, string>): string {
  if (c.status === 'deleted') return '';
  return Object.keys(c.attributes)
    .filter((k) => !['dn', 'rn', 'status', 'modTs', 'childAction', 'uid'].includes(k))
    .filter((k) => c.status === 'created' || before[k] !== c.attributes[k])
    .slice(0, 8)
    .map((k) =>
      before[k] ? `${k} (Old: ${before[k]}, New: ${c.attributes[k]})` : `${k} (New: ${c.attributes[k]})`,
    )
    .join(', ');
}

/** Numbers the simulator hands out (record ids, generated names), shared by all its changes. */
export interface Counter {
  n: number;
}

/** A new record's id and transaction id, numbered from where APIC's own start. */
function nextRecordIds(counter: Counter): { id: string; txId: string } {
  counter.n++;
  return { id: String(4294967296 + counter.n), txId: String(1152921504606846976 + counter.n) };
}

/** The audit record APIC writes for a configuration change: who, what, how. */
export function auditRecord(
  tree: MoTree,
  c: Change,
  user: string,
  before: Record<string, string>,
  counter: Counter,
): Change {
  const { id, txId } = nextRecordIds(counter);
  const name = (c.full.name ?? c.dn).toString();
  return tree.create('aaaModLR', `subj-[${c.dn}]/mod-${id}`, {
    affected: c.dn,
    cause: 'transition',
    changeSet: changeSetOf(c, before),
    clientTag: '',
    code: c.status === 'created' ? 'E4206326' : c.status === 'deleted' ? 'E4206327' : 'E4206328',
    descr: `${c.className} ${name} ${c.status}`,
    id,
    ind: VERB[c.status],
    sessionId: Buffer.from(`${user}-session`).toString('base64'),
    severity: 'info',
    trig: 'config',
    txId,
    user,
  });
}

/** The event record APIC keeps for a change of state it made itself (user "internal"). */
function eventRecord(tree: MoTree, c: Change, before: Record<string, string>, counter: Counter): Change {
  const { id, txId } = nextRecordIds(counter);
  const ind = c.status === 'modified' ? 'state-transition' : VERB[c.status];
  return tree.create('eventRecord', `subj-[${c.dn}]/rec-${id}`, {
    affected: c.dn,
    cause: c.status === 'modified' ? 'state-change' : 'transition',
    changeSet: changeSetOf(c, before),
    code: c.status === 'created' ? 'E4204936' : c.status === 'deleted' ? 'E4204937' : 'E4204938',
    descr: `${c.className} ${c.full.name || c.dn} ${c.status === 'modified' ? 'changed state' : c.status}`,
    id,
    ind,
    severity: 'info',
    trig: 'oper',
    txId,
    user: 'internal',
  });
}

// --- what happens ----------------------------------------------------------------------------

/** A user's change to the configuration, with its audit record. */
function configure(
  tree: MoTree,
  user: string,
  counter: Counter,
  make: () => Change[],
  dn?: string,
): Change[] {
  const before = { ...(dn ? tree.get(dn)?.attributes : {}) };
  const changes = make();
  const main = dn ? changes.find((c) => c.dn === dn) : changes[0];
  return main ? [...changes, auditRecord(tree, main, user, before, counter)] : changes;
}

/**
 * Makes one random but plausible change, plus the records APIC writes for it.
 * Returns every change, in order.
 */
export function randomChange(tree: MoTree, random: () => number, counter: Counter): Change[] {
  const mos = tree.all();
  const of = (cls: string, generated = false) =>
    mos.filter((m) => m.className === cls && (!generated || m.dn.includes('-gen-')));
  const tenant = pick(['prod', 'dev'], random);
  const user = pick(USERS, random);
  const roll = random();
  if (roll < 0.2) {
    const dn = `uni/tn-${tenant}/BD-bd-gen-${++counter.n}`;
    return configure(tree, user, counter, () => createScored(tree, 'fvBD', dn, bdAttributes()));
  }
  if (roll < 0.4) {
    const bd = pick(of('fvBD'), random);
    const descr = `changed by automation run ${++counter.n}`;
    const arpFlood = random() < 0.5 ? 'yes' : 'no';
    return configure(tree, user, counter, () => [tree.modify(bd.dn, { descr, arpFlood })], bd.dn);
  }
  if (roll < 0.5 && of('fvBD', true).length > 0) {
    const bd = pick(of('fvBD', true), random);
    // APIC deletes the children first; the audit record names the object the user deleted.
    return configure(tree, user, counter, () => tree.delete(bd.dn), bd.dn);
  }
  if (roll < 0.6) {
    const epg = pick(of('fvAEPg'), random);
    const changes = { descr: `tier ${++counter.n}`, prefGrMemb: random() < 0.5 ? 'include' : 'exclude' };
    return configure(tree, user, counter, () => [tree.modify(epg.dn, changes)], epg.dn);
  }
  if (roll < 0.72) return faultChange(tree, random, of);
  if (roll < 0.86) return sessionChange(tree, random, counter, of);
  const node = pick(
    of('fabricNode').filter((n) => n.attributes.role !== 'controller'),
    random,
  );
  const before = { ...node.attributes };
  const fabricSt = node.attributes.fabricSt === 'active' ? 'inactive' : 'active';
  const change = tree.modify(node.dn, { fabricSt, lastStateModTs: tree.now() });
  return [change, eventRecord(tree, change, before, counter)];
}

function faultChange(tree: MoTree, random: () => number, of: (cls: string) => { dn: string }[]): Change[] {
  const faults = of('faultInst');
  if (faults.length > 0 && random() < 0.6) return advanceFault(tree, pick(faults, random).dn, random);
  const target = pick([...of('fvAEPg'), ...of('fvBD')], random);
  const fault = pick(FAULTS, random);
  const existing = tree.get(`${target.dn}/fault-${fault.code}`);
  return existing ? advanceFault(tree, existing.dn, random) : raiseFault(tree, target.dn, fault);
}

function sessionChange(
  tree: MoTree,
  random: () => number,
  counter: Counter,
  of: (cls: string) => { dn: string }[],
): Change[] {
  const sessions = of('aaaActiveUserSession');
  const changes =
    sessions.length > 2 && random() < 0.5
      ? tree.delete(pick(sessions, random).dn)
      : [
          login(
            tree,
            pick(USERS, random),
            `10.0.${Math.floor(random() * 250)}.${Math.floor(random() * 250) + 1}`,
            ++counter.n,
          ),
        ];
  return [...changes, ...changes.map((c) => eventRecord(tree, c, {}, counter))];
}
