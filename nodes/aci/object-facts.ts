/**
 * What aci subscribe keeps of the state an object is in (a stamp per dn), to
 * tell what is news and what changed during a gap. Pure functions over what
 * the object says of itself (events/decode/aci-object).
 */
import { timeMillis } from '../common/times';
import { extended } from '../common/objects';
import { TIME_ATTRIBUTES, digestOf, objectTime } from '../events/decode/aci-object';

/** What else names the state of an object whose time alone may not: a fault's life cycle, a score. */
const STATE_ATTRIBUTES = ['lc', 'severity', 'occur', 'cur'] as const;

/** What a stamp keeps of an object. */
const STAMPED: readonly string[] = [...TIME_ATTRIBUTES, ...STATE_ATTRIBUTES];

/** The key under which a stamp keeps a digest of an object that carries no time at all. */
const DIGEST = '#';

type Attributes = Readonly<Record<string, string | undefined>>;

/**
 * Log classes: records APIC writes once and keeps for a while (aaaModLR,
 * aaaSessionLR, eventRecord, faultRecord, healthRecord, ...), named so. They
 * carry their time in `created`, which only grows, and are never modified.
 */
export function isLogClass(className: string): boolean {
  return className.endsWith('Record') || className.endsWith('LR');
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
  // Once per object of every read: no set of keys made for it.
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
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
