/**
 * Log entries (aaaModLR, eventRecord, faultRecord and other record classes:
 * object-facts.isLogClass) are read from a time, not whole: after a gap, and
 * at a restart with `initial: changes`, only the records created since the
 * last one seen, with a time filter (`ge(<class>.created,"<time>")`, APIC's
 * query-target-filter, and-ed with the entry's own). Records are never
 * modified and APIC says nothing when one ages out, so nothing is compared
 * but "seen or not".
 *
 * What is known of a log is a window, not the log: the mark (the newest
 * `created` seen, or the APIC's time when the watch began, kept under a key
 * no dn has) and the records of the last LOG_OVERLAP_MS before it. The next
 * read starts that far before the mark (records of one moment may be written
 * out of order), and the records of the window are not sent again. The mark
 * follows the APIC's clock as measured: a record dated beyond it moves the
 * mark no further than that clock.
 */
import { timeMillis } from '../../common/times';
import { objectTime } from '../../events/decode/aci-object';
import { isLogClass, stampOf } from '../object-facts';
import { orderClass, type WatchEntry } from '../entries';
import type { Comparison, ResyncChange, Tracked } from './resync';
import type { AciObject, KnownState, KnownStates } from './types';

/** The key of a log's mark in what is known of it (no dn starts with '#'). */
export const MARK = '#mark';

/** How far before its mark a log is read again, and how long the records seen stay known. */
export const LOG_OVERLAP_MS = 10_000;

/** How far a record's time may lie past the APIC's clock as measured and still move the mark. */
export const CLOCK_SLACK_MS = 2000;

/** Is the entry a log: its answer one class, and that a record class? */
export function isLogEntry(entry: WatchEntry): boolean {
  const cls = orderClass(entry);
  return cls !== undefined && isLogClass(cls);
}

/** A time as APIC's filters take it: milliseconds and an offset (…T10:00:00.000+00:00). */
export function apicTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

const markTime = (known: ReadonlyMap<string, KnownState> | undefined) =>
  timeMillis(known?.get(MARK)?.stamp.created);

/** Where a read of the log starts: the mark (else `now`, the APIC's time) less the overlap. */
export function logFloor(known: ReadonlyMap<string, KnownState> | undefined, now: number): string {
  return apicTime((markTime(known) ?? now) - LOG_OVERLAP_MS);
}

/** `query-target-filter` with the floor: the entry's own filter and-ed with `ge(<class>.created,"<floor>")`. */
export function floorFilter(entry: WatchEntry, floor: string): string {
  const cls = orderClass(entry) as string;
  const own = entry.options.find(([k]) => k === 'query-target-filter')?.[1];
  const ge = `ge(${cls}.created,"${floor}")`;
  return own ? `and(${own},${ge})` : ge;
}

/** A record's time (its `created`), in ms. */
function recordTime(o: AciObject): number | undefined {
  return timeMillis(objectTime(o.attributes));
}

/**
 * Moves the mark of a log window to a record's time (bounded by `clockNow` +
 * slack) and forgets the records older than the overlap; what changed, as
 * `track` says it. Records pushed come in time order, and a Map keeps the
 * order they were set in: `inOrder` stops at the first record young enough.
 */
function advance(
  known: KnownStates,
  className: string,
  t: number | undefined,
  clockNow: number,
  inOrder: boolean,
): Tracked {
  const out: Tracked = [];
  const mark = markTime(known);
  const at = t === undefined ? undefined : Math.min(t, clockNow + CLOCK_SLACK_MS);
  if (at !== undefined && (mark === undefined || at > mark)) {
    const state = { className, stamp: { created: apicTime(at) } };
    known.set(MARK, state);
    out.push([MARK, state]);
  }
  const floor = (markTime(known) ?? -Infinity) - LOG_OVERLAP_MS;
  for (const [dn, state] of known) {
    if (dn === MARK) continue;
    const time = timeMillis(state.stamp.created);
    if (time !== undefined && time >= floor) {
      if (inOrder) break;
      continue;
    }
    known.delete(dn);
    out.push([dn, undefined]);
  }
  return out;
}

/** A pushed record: known, and the window moved on. */
export function trackLog(known: KnownStates | undefined, o: AciObject, clockNow: number): Tracked {
  if (!known) return [];
  if (o.status === 'deleted') {
    known.delete(o.dn);
    return [[o.dn, undefined]];
  }
  const state = { className: o.className, stamp: stampOf(o.attributes) };
  known.set(o.dn, state);
  return [[o.dn, state], ...advance(known, o.className, recordTime(o), clockNow, true)];
}

/**
 * One read of a log from its floor: a record not in the window is news
 * (created); nothing is modified, nothing found gone. What the window
 * changes to (records forgotten, the mark moved) is in `tracked`.
 */
export class LogComparison implements Comparison {
  readonly known: KnownStates;
  /** Changes of the window besides the records read (the mark, records forgotten). */
  readonly tracked: Tracked = [];

  constructor(
    previous: ReadonlyMap<string, KnownState> | undefined,
    private readonly className: string,
    private readonly clockNow: number,
  ) {
    this.known = new Map(previous);
    // A first read starts the window at the APIC's time: a later gap is read from there.
    if (!previous) this.tracked.push(...advance(this.known, className, clockNow, clockNow, true));
  }

  page(objects: AciObject[]): ResyncChange[] {
    const changes: ResyncChange[] = [];
    let newest: number | undefined;
    for (const o of objects) {
      if (this.known.has(o.dn)) continue;
      this.known.set(o.dn, { className: o.className, stamp: stampOf(o.attributes) });
      changes.push({ object: o, status: 'created' });
      const t = recordTime(o);
      if (t !== undefined && (newest === undefined || t > newest)) newest = t;
    }
    // Pages come in dn order, not time order: the whole window is looked at (it is short).
    this.tracked.push(...advance(this.known, this.className, newest, this.clockNow, false));
    return changes;
  }

  gone(): Promise<ResyncChange[]> {
    return Promise.resolve([]);
  }
}
