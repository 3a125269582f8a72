/**
 * What an APIC object says about itself: when it happened and which
 * occurrence it is. Pure functions, shared by the decoder (event time and id)
 * and the subscriber (what is news, what changed during a gap).
 *
 * APIC writes `modTs: "never"` on faults, health scores, audit and event
 * records and most operational objects; their times live in other attributes.
 */
import { readTime, timeMillis } from '../common/times';
import { extended } from '../common/objects';

/**
 * Where an object keeps its time, best first: `modTs` when it is a time, then
 * a fault's last transition, a health score's update, a record's creation, a
 * node's last state change, an adjacency's up time, a session's login.
 */
export const TIME_ATTRIBUTES = [
  'modTs',
  'lastTransition',
  'updTs',
  'created',
  'lastStateModTs',
  'upTS',
  'lastActTs',
  'loginTime',
] as const;

/** What else names the state of an object whose time alone may not: a fault's life cycle, a score. */
const STATE_ATTRIBUTES = ['lc', 'severity', 'occur', 'cur'] as const;

/** What a stamp keeps of an object. */
const STAMPED: readonly string[] = [...TIME_ATTRIBUTES, ...STATE_ATTRIBUTES];

/** Attributes that say where and when, not what changed. */
export const BOOKKEEPING = new Set(['dn', 'status', 'modTs', 'rn', 'childAction']);

/** The key under which a stamp keeps a digest of an object that carries no time at all. */
const DIGEST = '#';

type Attributes = Readonly<Record<string, string | undefined>>;

/**
 * The best time the object carries, read into RFC 3339 (precision and offset
 * kept); undefined when none ("never" is none).
 */
export function objectTime(attributes: Attributes): string | undefined {
  for (const name of TIME_ATTRIBUTES) {
    const time = readTime(attributes[name]);
    if (time !== undefined) return time;
  }
  return undefined;
}

/** FNV-1a (32 bits): its offset basis and prime. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of the text's length, then of each of its UTF-16 units: the length keeps ("ab","c") from ("a","bc"). */
function fnv1a(hash: number, text: string): number {
  let h = Math.imul(hash ^ text.length, FNV_PRIME);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * A short digest of the attributes that say what an object is or what changed
 * (bookkeeping left out): FNV-1a over each name and its value, in the order of
 * the names, as 8 hex digits. It only tells two states of one object apart (two
 * pushes in the same millisecond, or an object without a time before and after
 * a restart), so no secret rests on it: a SHA-256 cut to the same 32 bits cost
 * two fifths of turning a push into an event. It is part of event ids and saved
 * state, so it must not change between versions: test vectors hold it.
 */
export function digestOf(attributes: Attributes): string {
  const names: string[] = [];
  for (const name of Object.keys(attributes)) if (!BOOKKEEPING.has(name)) names.push(name);
  if (names.length > 1) names.sort();
  let hash = FNV_OFFSET;
  for (const name of names) {
    const value: unknown = attributes[name] ?? '';
    hash = fnv1a(fnv1a(hash, name), typeof value === 'string' ? value : String(value));
  }
  return hex8(hash);
}

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** 8 hex digits of a 32-bit value: `toString(16)` of a number beyond 2^31 took longer than the hash. */
function hex8(n: number): string {
  return (
    (HEX[n >>> 24] as string) +
    (HEX[(n >>> 16) & 255] as string) +
    (HEX[(n >>> 8) & 255] as string) +
    (HEX[n & 255] as string)
  );
}

/**
 * What identifies the state an object is in, kept per dn by the subscriber:
 * its time attributes and life-cycle attributes, or, when it carries no time
 * at all, a digest of everything.
 */
export type Stamp = Record<string, string>;

export function stampOf(attributes: Attributes): Stamp {
  const stamp = stamped({}, attributes);
  if (!objectTime(attributes)) stamp[DIGEST] = digestOf(attributes);
  return stamp;
}

/** `into` with the time and life-cycle attributes the object carries. */
function stamped(into: Stamp, attributes: Attributes): Stamp {
  for (const name of STAMPED) {
    const value = attributes[name];
    if (value !== undefined) into[name] = value;
  }
  return into;
}

/**
 * The stamp after a modification push (which carries only what changed): the
 * changed time and life-cycle attributes replace the known ones. A digest
 * cannot be brought up to date from a part of the object; it stays, so the
 * next full read reports the object once more rather than missing a change.
 */
export function updatedStamp(known: Stamp | undefined, changed: Attributes): Stamp {
  return stamped(Object.assign({}, known), changed); // not a spread: see common/objects
}

/** Do two stamps name the same state? */
export function sameState(a: Stamp, b: Stamp): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Is a push newer than the state just read? Only when both carry a time can
 * it be told; otherwise it counts as news (a double is better than a loss).
 */
export function isNewer(pushed: Attributes, known: Stamp | undefined): boolean {
  const a = objectTime(pushed);
  const b = known && objectTime(known);
  if (!a || !b) return true;
  const x = timeMillis(a) as number;
  const y = timeMillis(b) as number;
  return x > y;
}

/**
 * A deletion as APIC sends it carries no time for objects whose `modTs` is
 * "never" (and a deletion found after a gap carries nothing): it gets the
 * time attributes of the last known state, so its event id names the
 * occurrence that ended and stays the same on every node that saw it.
 */
export function datedDeletion(
  attributes: Record<string, string>,
  known: Stamp | undefined,
): Record<string, string> {
  if (objectTime(attributes) || !known) return attributes;
  const times: Record<string, string> = {};
  for (const name of TIME_ATTRIBUTES) if (known[name] !== undefined) times[name] = known[name];
  return extended(attributes, times);
}
