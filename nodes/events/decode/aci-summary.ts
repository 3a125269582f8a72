/**
 * One line a person can act on, per APIC class: what happened to which
 * object. Faults, audit and event records, health scores and sessions have
 * their own wording; any other class names the attributes that say what
 * happened (on creation) or what changed (on modification).
 */
import { BOOKKEEPING, TIME_ATTRIBUTES } from '../../aci/object-facts';

type Attributes = Record<string, string>;

/** Per class, the attributes that say what a new object is (shown when it is created or read). */
const KEY_ATTRIBUTES: Record<string, string[]> = {
  fvTenant: ['descr'],
  fvBD: ['descr', 'unicastRoute', 'arpFlood'],
  fvAEPg: ['descr', 'pcEnfPref'],
  fvAp: ['descr'],
  fvCtx: ['descr', 'pcEnfPref'],
  fvSubnet: ['ip', 'scope'],
  fvCEp: ['mac', 'ip', 'encap', 'lcC'],
  l3extOut: ['descr'],
  vzBrCP: ['descr', 'scope'],
  fabricNode: ['name', 'role', 'fabricSt'],
  topSystem: ['name', 'role', 'state'],
};

const SHOWN_VALUES = 6;
const VALUE_LENGTH = 80;

const clip = (text: string, max = VALUE_LENGTH) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The dn of the object a fault or health score is about: the dn without its last rn. */
function parentOf(dn: string): string {
  let depth = 0;
  for (let i = dn.length - 1; i >= 0; i--) {
    if (dn[i] === ']') depth++;
    else if (dn[i] === '[') depth--;
    else if (dn[i] === '/' && depth === 0) return dn.slice(0, i);
  }
  return dn;
}

function faultSummary(dn: string, status: string, a: Attributes): string {
  // Modifications and deletions carry no code: the dn ends in fault-<code>.
  const code = a.code || /fault-([^/]+)$/.exec(dn)?.[1] || '';
  const state = status === 'deleted' ? 'deleted' : a.severity === 'cleared' ? 'cleared' : a.lc || status;
  const severity = a.severity && a.severity !== 'cleared' ? `${a.severity} ` : '';
  const details = [
    a.cause,
    a.lc && a.lc !== state ? a.lc : '',
    Number(a.occur) > 1 ? `${a.occur} times` : '',
  ].filter(Boolean);
  const what = a.descr ? `: ${clip(a.descr, 160)}` : '';
  return `${severity}fault ${code} ${state} on ${a.affected || parentOf(dn)}${what}${details.length ? ` (${details.join(', ')})` : ''}`;
}

const DONE: Record<string, string> = { creation: 'created', modification: 'modified', deletion: 'deleted' };

/** aaaModLR: who changed what, and how. */
function auditSummary(dn: string, a: Attributes): string {
  const verb = DONE[a.ind ?? ''] ?? a.ind ?? 'changed';
  const target = a.affected || dn;
  const how = a.changeSet ? `: ${clip(a.changeSet, 200)}` : a.descr ? ` (${clip(a.descr)})` : '';
  return `${a.user || 'someone'} ${verb} ${target}${how}`;
}

/** eventRecord: what the fabric reports about an object. */
function eventSummary(dn: string, a: Attributes): string {
  const severity = a.severity && a.severity !== 'info' ? `${a.severity} ` : '';
  const changes = a.changeSet ? ` (${clip(a.changeSet, 160)})` : '';
  return `${severity}event ${a.code || ''} on ${a.affected || dn}: ${clip(a.descr || a.cause || '', 160)}${changes}`;
}

/** healthInst, healthNodeInst and the like: the score of the parent object. */
function healthSummary(dn: string, a: Attributes): string {
  const node = a.nodeId ? ` on node ${a.nodeId}` : '';
  const was = a.prev ? `was ${a.prev}` : '';
  const worst = a.maxSev && a.maxSev !== 'cleared' ? `worst fault ${a.maxSev}` : '';
  const details = [was, worst].filter(Boolean).join(', ');
  return `health of ${parentOf(dn)}${node} ${a.cur}${details ? ` (${details})` : ''}`;
}

function sessionSummary(dn: string, status: string, a: Attributes): string {
  const user = a.name || a.userName || dn;
  if (status === 'deleted') return `user session ${user} ended`;
  const from = a.ipAddress ? ` from ${a.ipAddress}` : '';
  return status === 'modified' ? `user session ${user} renewed` : `user ${user} logged in${from}`;
}

const TIMES = new Set<string>(TIME_ATTRIBUTES);

/** What a modification changed: every attribute but the bookkeeping and the times. */
const isChange = (name: string) => !BOOKKEEPING.has(name) && !TIMES.has(name);

/**
 * "name value" pairs of the names that have a value, a few at most. A loop,
 * not filter/map/join: it runs for every object aci subscribe turns into an event.
 */
function pairs(
  a: Attributes,
  names: Iterable<string>,
  wanted: (name: string) => boolean = () => true,
): string {
  let text = '';
  let shown = 0;
  for (const name of names) {
    const value = a[name];
    if (!value || !wanted(name)) continue;
    if (++shown <= SHOWN_VALUES) text += `${shown > 1 ? ', ' : ''}${name} ${clip(value)}`;
  }
  return shown > SHOWN_VALUES ? `${text}, and ${shown - SHOWN_VALUES} more` : text;
}

const DEFAULT_KEYS = ['name', 'descr'];

function genericSummary(className: string, dn: string, status: string, a: Attributes): string {
  const what =
    status === 'modified'
      ? pairs(a, Object.keys(a), isChange)
      : status === 'deleted'
        ? ''
        : pairs(a, KEY_ATTRIBUTES[className] ?? DEFAULT_KEYS);
  return `${className} ${dn} ${status}${what ? ` (${what})` : ''}`;
}

const FAULT_CLASSES = new Set(['faultInst', 'faultDelegate', 'faultRecord']);
const HEALTH_CLASS = /^health[A-Za-z]*Inst$/;

export function aciSummary(className: string, dn: string, status: string, a: Attributes): string {
  if (FAULT_CLASSES.has(className)) return faultSummary(dn, status, a);
  if (className === 'aaaModLR') return auditSummary(dn, a);
  if (className === 'eventRecord' && (a.descr || a.cause)) return eventSummary(dn, a);
  if (a.cur && className.startsWith('health') && HEALTH_CLASS.test(className)) return healthSummary(dn, a);
  if (className === 'aaaActiveUserSession') return sessionSummary(dn, status, a);
  return genericSummary(className, dn, status, a);
}
