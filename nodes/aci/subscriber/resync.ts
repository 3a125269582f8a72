/**
 * APIC replays nothing: what changed while the connection was down is found by
 * comparing the last known state of an entry's objects with a fresh read. The
 * comparison goes page by page as the read comes (what a page shows as
 * created or modified goes out with it); what was known and never seen is
 * found at the end. It holds the state being built (a dn and a stamp per
 * object), never the objects read.
 */
import { datedDeletion, isNewer, sameState, stampOf, updatedStamp } from '../object-facts';
import type { AciObject, KnownState, KnownStates } from './types';

export type { KnownState, KnownStates } from './types';

export interface ResyncChange {
  object: AciObject;
  status: 'created' | 'modified' | 'deleted';
}

/** What a pause between slices of a long loop awaits (a turn of the event loop). */
export type Pause = () => Promise<void>;

/** Objects looked at between two pauses of a long loop (a few ms of work). */
export const SLICE = 5000;

/** One read of an entry against what was known before it (nothing: a first read). */
export interface Comparison {
  /** What the read shows so far: the next comparison's "before". */
  readonly known: KnownStates;
  /** The objects of one page that are news: created or modified. */
  page(objects: AciObject[]): ResyncChange[];
  /** After the last page: what was known and not seen, as deletions. */
  gone(pause: Pause): Promise<ResyncChange[]>;
}

/** A deletion APIC did not push: the last known times keep the event id deterministic. */
function deletion(dn: string, before: KnownState): ResyncChange {
  const attributes = datedDeletion({ dn }, before.stamp);
  return { object: { className: before.className, dn, status: '', attributes }, status: 'deleted' };
}

export class ReadComparison implements Comparison {
  readonly known: KnownStates = new Map();

  constructor(private readonly previous: ReadonlyMap<string, KnownState> | undefined) {}

  page(objects: AciObject[]): ResyncChange[] {
    const changes: ResyncChange[] = [];
    for (const o of objects) {
      const stamp = stampOf(o.attributes);
      // A page read again (objects came or went meanwhile) says nothing new of what it said before.
      const before = this.known.get(o.dn) ?? this.previous?.get(o.dn);
      this.known.set(o.dn, { className: o.className, stamp });
      if (!before) changes.push({ object: o, status: 'created' });
      else if (!sameState(before.stamp, stamp)) changes.push({ object: o, status: 'modified' });
    }
    return changes;
  }

  async gone(pause: Pause): Promise<ResyncChange[]> {
    const gone: ResyncChange[] = [];
    let n = 0;
    for (const [dn, before] of this.previous ?? []) {
      if (!this.known.has(dn)) gone.push(deletion(dn, before));
      if (++n % SLICE === 0) await pause();
    }
    return gone;
  }

  /** `gone` without pauses, for a small state. */
  goneNow(): ResyncChange[] {
    const gone: ResyncChange[] = [];
    for (const [dn, before] of this.previous ?? []) if (!this.known.has(dn)) gone.push(deletion(dn, before));
    return gone;
  }
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
  const comparison = new ReadComparison(undefined);
  comparison.page(objects);
  return comparison.known;
}

/** Last known state vs. a fresh read, in one go → what was created, modified and deleted in between. */
export function compareStates(previous: ReadonlyMap<string, KnownState>, objects: AciObject[]): Resync {
  const comparison = new ReadComparison(previous);
  const changes = comparison.page(objects);
  const gone = comparison.goneNow();
  return {
    known: comparison.known,
    changes: [...changes, ...gone],
    gone: new Set(gone.map((c) => c.object.dn)),
  };
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

/** What is known of objects that changed: dn → state (undefined: gone). */
export type Tracked = [dn: string, state: KnownState | undefined][];

/** Keeps the last known state current with a push, for the comparison after a gap; what changed in it. */
export function track(known: KnownStates | undefined, o: AciObject): Tracked {
  if (!known) return [];
  if (o.status === 'deleted') {
    known.delete(o.dn);
    return [[o.dn, undefined]];
  }
  const state = {
    className: o.className,
    stamp:
      o.status === 'modified' ? updatedStamp(known.get(o.dn)?.stamp, o.attributes) : stampOf(o.attributes),
  };
  known.set(o.dn, state);
  return [[o.dn, state]];
}
