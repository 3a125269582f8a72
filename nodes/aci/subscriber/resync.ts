/**
 * APIC replays nothing: what changed while the connection was down is found by
 * comparing the last known state of an entry's objects with a fresh read.
 * Pure functions; the subscriber keeps the state per recipient entry.
 */
import { datedDeletion, isNewer, sameState, stampOf, updatedStamp } from '../object-facts';
import type { AciObject, KnownState, KnownStates } from './types';

export type { KnownState, KnownStates } from './types';

export interface ResyncChange {
  object: AciObject;
  status: 'created' | 'modified' | 'deleted';
}

export interface Resync {
  /** The state the fresh read shows (the next comparison's "before"). */
  known: KnownStates;
  /** Created and modified objects in the order read, then the deleted ones. */
  changes: ResyncChange[];
  /** DNs the comparison found gone. */
  gone: Set<string>;
}

/** The state a full read shows. */
export function knownStates(objects: AciObject[]): KnownStates {
  const known: KnownStates = new Map();
  for (const o of objects) known.set(o.dn, { className: o.className, stamp: stampOf(o.attributes) });
  return known;
}

/** Last known state vs. a fresh read → what was created, modified and deleted in between. */
export function compareStates(previous: ReadonlyMap<string, KnownState>, objects: AciObject[]): Resync {
  const known = knownStates(objects);
  const changes: ResyncChange[] = [];
  for (const o of objects) {
    const before = previous.get(o.dn);
    if (!before) changes.push({ object: o, status: 'created' });
    else if (!sameState(before.stamp, stampOf(o.attributes))) changes.push({ object: o, status: 'modified' });
  }
  const gone = new Set<string>();
  for (const [dn, before] of previous) {
    if (known.has(dn)) continue;
    gone.add(dn);
    // APIC says nothing of a deletion it did not push: the last known times keep the event id deterministic.
    const attributes = datedDeletion({ dn }, before.stamp);
    changes.push({ object: { className: before.className, dn, status: '', attributes }, status: 'deleted' });
  }
  return { known, changes, gone };
}

/**
 * Is a push held during a read news, given what that read found? `gone` is
 * undefined when the read was neither sent nor compared (every push is news).
 */
export function isNews(known: KnownStates | undefined, gone: Set<string> | undefined, o: AciObject): boolean {
  if (!gone) return true;
  if (o.status === 'deleted') return !gone.has(o.dn);
  const before = known?.get(o.dn);
  return !before || isNewer(o.attributes, before.stamp);
}

/** Keeps the last known state current with a push, for the comparison after a gap. */
export function track(known: KnownStates | undefined, o: AciObject): void {
  if (!known) return;
  if (o.status === 'deleted') known.delete(o.dn);
  else
    known.set(o.dn, {
      className: o.className,
      stamp:
        o.status === 'modified' ? updatedStamp(known.get(o.dn)?.stamp, o.attributes) : stampOf(o.attributes),
    });
}
