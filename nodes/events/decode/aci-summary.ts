/**
 * One line a person can act on, per APIC class: what happened to which
 * object. Faults, audit and event records, health scores and sessions have
 * their own wording; any other class names the attributes that say what
 * happened (on creation) or what changed (on modification).
 */
import { BOOKKEEPING, TIME_ATTRIBUTES } from './aci-object';
import { oneLine } from './errors';

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

/*
 * A summary is one line by construction: every value it shows enters through
 * text() or clipped(), which make it one line, and words() and list() put
 * parts together so that a missing one leaves no double space. Flattening the
 * finished summary instead cost more than the rest of it.
 */

/** An attribute value on one line; '' for none. */
function text(value: string | undefined): string {
  return value ? oneLine(value) : '';
}

/** The same, cut to `max` characters. */
function clipped(value: string | undefined, max = VALUE_LENGTH): string {
  const line = text(value);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The parts that have text, `separator` between them. */
function joined(separator: string, parts: string[]): string {
  let line = '';
  for (const part of parts) if (part) line = line ? `${line}${separator}${part}` : part;
  return line;
}

/** The parts that have text, one space apart. */
function words(...parts: string[]): string {
  return joined(' ', parts);
}

/** The parts that have text, comma-separated, in parentheses after a space; '' when none has. */
function list(...parts: string[]): string {
  const line = joined(', ', parts);
  return line ? ` (${line})` : '';
}

/** Where a dn's last rn starts: after its last "/" outside brackets (rns like `[a/b]` hold slashes); 0 if none. */
function lastRnStart(dn: string): number {
  let depth = 0;
  for (let i = dn.length - 1; i >= 0; i--) {
    if (dn[i] === ']') depth++;
    else if (dn[i] === '[') depth--;
    else if (dn[i] === '/' && depth === 0) return i + 1;
  }
  return 0;
}

/** The dn of the object a fault or health score is about: the dn without its last rn. */
export function parentOf(dn: string): string {
  const start = lastRnStart(dn);
  return start === 0 ? dn : dn.slice(0, start - 1);
}

/** A fault's code from its dn (`.../fault-F0467`), for the changes that carry none. */
function faultCodeOf(dn: string): string {
  const rn = dn.slice(lastRnStart(dn));
  return rn.startsWith('fault-') ? rn.slice('fault-'.length) : '';
}

function faultSummary(dn: string, status: string, a: Attributes): string {
  // Modifications and deletions carry no code: the dn ends in fault-<code>. (Read with a scan, not a
  // regex: /fault-([^/]+)$/ took a minute on a dn of repeated "fault-" ending in "/".)
  const code = text(a.code) || text(faultCodeOf(dn));
  const lc = text(a.lc);
  const state = status === 'deleted' ? 'deleted' : a.severity === 'cleared' ? 'cleared' : lc || status;
  const severity = a.severity === 'cleared' ? '' : text(a.severity);
  const descr = clipped(a.descr, 160);
  return (
    words(severity, 'fault', code, state, 'on', text(a.affected) || parentOf(dn)) +
    (descr ? `: ${descr}` : '') +
    list(text(a.cause), lc !== state ? lc : '', Number(a.occur) > 1 ? `${text(a.occur)} times` : '')
  );
}

/** What aaaModLR's `ind` says was done (a Map: an `ind` of "constructor" names no verb). */
const DONE = new Map([
  ['creation', 'created'],
  ['modification', 'modified'],
  ['deletion', 'deleted'],
]);

/** aaaModLR: who changed what, and how. */
function auditSummary(dn: string, a: Attributes): string {
  const verb = DONE.get(a.ind ?? '') ?? (text(a.ind) || 'changed');
  const changeSet = clipped(a.changeSet, 200);
  const descr = clipped(a.descr);
  const how = changeSet ? `: ${changeSet}` : descr ? ` (${descr})` : '';
  return words(text(a.user) || 'someone', verb, text(a.affected) || dn) + how;
}

/** eventRecord: what the fabric reports about an object. */
function eventSummary(dn: string, a: Attributes): string {
  const severity = a.severity === 'info' ? '' : text(a.severity);
  const what = clipped(a.descr, 160) || clipped(a.cause, 160);
  return (
    words(severity, 'event', text(a.code), 'on', text(a.affected) || dn) +
    (what ? `: ${what}` : '') +
    list(clipped(a.changeSet, 160))
  );
}

/** healthInst, healthNodeInst and the like: the score of the parent object. */
function healthSummary(dn: string, cur: string, a: Attributes): string {
  const node = text(a.nodeId);
  const was = text(a.prev);
  const worst = a.maxSev === 'cleared' ? '' : text(a.maxSev);
  return (
    words('health of', parentOf(dn), node && `on node ${node}`, cur) +
    list(was && `was ${was}`, worst && `worst fault ${worst}`)
  );
}

function sessionSummary(dn: string, status: string, a: Attributes): string {
  const user = text(a.name) || text(a.userName) || dn;
  if (status === 'deleted') return `user session ${user} ended`;
  if (status === 'modified') return `user session ${user} renewed`;
  const from = text(a.ipAddress);
  return words('user', user, 'logged in', from && `from ${from}`);
}

/** Attributes that say where and when, not what changed: bookkeeping and times, one set. */
const NOT_CHANGES = new Set<string>([...BOOKKEEPING, ...TIME_ATTRIBUTES]);

/** What a modification changed: every attribute but the bookkeeping and the times. */
const isChange = (name: string) => !NOT_CHANGES.has(name);

/**
 * "name value" pairs of the names that have a value, a few at most. A loop,
 * not filter/map/join: it runs for every object aci subscribe turns into an event.
 */
function pairs(
  a: Attributes,
  names: Iterable<string>,
  wanted: (name: string) => boolean = () => true,
): string {
  let line = '';
  let shown = 0;
  for (const name of names) {
    if (!a[name] || !wanted(name)) continue;
    const value = clipped(a[name]);
    const label = text(name);
    if (!value || !label) continue;
    if (++shown <= SHOWN_VALUES) line += `${shown > 1 ? ', ' : ''}${label} ${value}`;
  }
  return shown > SHOWN_VALUES ? `${line}, and ${shown - SHOWN_VALUES} more` : line;
}

const DEFAULT_KEYS = ['name', 'descr'];

function genericSummary(className: string, dn: string, status: string, a: Attributes): string {
  const what =
    status === 'modified'
      ? pairs(a, Object.keys(a), isChange)
      : status === 'deleted'
        ? ''
        : pairs(a, KEY_ATTRIBUTES[className] ?? DEFAULT_KEYS);
  return words(className, dn, status) + (what ? ` (${what})` : '');
}

const FAULT_CLASSES = new Set(['faultInst', 'faultDelegate', 'faultRecord']);
const HEALTH_CLASS = /^health[A-Za-z]*Inst$/;

/** The summary of an object's change: one line, whatever its attributes hold. */
export function aciSummary(className: string, dn: string, status: string, a: Attributes): string {
  const where = text(dn);
  const what = text(status);
  if (FAULT_CLASSES.has(className)) return faultSummary(where, what, a);
  if (className === 'aaaModLR') return auditSummary(where, a);
  if (className === 'eventRecord' && (text(a.descr) || text(a.cause))) return eventSummary(where, a);
  const cur = text(a.cur);
  if (cur && className.startsWith('health') && HEALTH_CLASS.test(className))
    return healthSummary(where, cur, a);
  if (className === 'aaaActiveUserSession') return sessionSummary(where, what, a);
  return genericSummary(text(className), where, what, a);
}
