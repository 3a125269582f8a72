/**
 * One read of one entry's state after it was (re)subscribed, page by page:
 * a first read sends snapshots (initial: emit) or nothing (a baseline); a
 * read after a gap, or against what was kept from the last run, sends what
 * changed since (resync). Each page's changes go out with it, and what is
 * known of each object is told to the recipient (saved state) before that.
 * A log is read from its mark, not whole (log-window.ts).
 */
import type { Connection } from './connection';
import type { ChangeBatch } from './fan-out';
import { LogComparison, isLogEntry, logFloor } from './log-window';
import type { RecipientEntry } from './recipients';
import { ReadComparison, type Comparison, type Pause, type ResyncChange } from './resync';
import type { AciChange, AciObject } from './types';
import { orderClass } from '../entries';

export class EntryRead {
  /** A log: read from `floor` (a time), after its subscription. */
  readonly log: boolean;
  /** Only records created from then on (a log not read whole). */
  readonly floor: string | undefined;
  /** A first read that sends nothing: what it finds is known at once. */
  private readonly isBaseline: boolean;
  private readonly reason: AciChange['reason'];
  private readonly comparison: Comparison;

  constructor(
    private readonly connection: Connection,
    private readonly e: RecipientEntry,
    private readonly changes: ChangeBatch,
  ) {
    const previous = e.known;
    const emit = e.recipient.options.initial === 'emit';
    this.isBaseline = !previous && !emit;
    this.reason = previous ? 'resync' : 'snapshot';
    this.log = isLogEntry(e.entry);
    const now = connection.clock.now() ?? Date.now();
    // A log is read from its mark; whole only when its records are asked for as snapshots.
    this.floor = this.log && !(emit && !previous) ? logFloor(previous, now) : undefined;
    this.comparison = this.log
      ? new LogComparison(previous, orderClass(e.entry) as string, now)
      : new ReadComparison(previous);
    if (this.isBaseline) e.recipient.handlers.baseline?.(e.entry.key, false);
  }

  /** One page: what is news in it is known, then gathered to go out. */
  page(objects: AciObject[]): void {
    this.hand(this.comparison.page(objects));
  }

  /**
   * After the last page: what was known and not seen goes as deleted, and
   * the read becomes what is known of the entry.
   */
  async finish(pause: Pause): Promise<void> {
    const gone = await this.comparison.gone(pause);
    this.hand(gone);
    const { e, connection } = this;
    e.known = this.comparison.known;
    // Held pushes are compared with a read that was sent or compared; after a baseline every push is news.
    if (!this.isBaseline) connection.resynced.set(e, new Set(gone.map((c) => c.object.dn)));
    if (this.isBaseline) e.recipient.handlers.baseline?.(e.entry.key, true);
  }

  private hand(found: ResyncChange[]): void {
    const { e, connection } = this;
    const key = e.entry.key;
    const tracked = e.recipient.handlers.tracked;
    if (tracked) {
      for (const c of found)
        tracked(key, c.object.dn, this.comparison.known.get(c.object.dn), this.isBaseline);
      if (this.comparison instanceof LogComparison) {
        for (const [dn, state] of this.comparison.tracked.splice(0)) tracked(key, dn, state, this.isBaseline);
      }
    }
    if (this.isBaseline) return;
    for (const { object: o, status } of found) {
      const as = this.reason === 'snapshot' ? 'snapshot' : status;
      this.changes.add(
        connection,
        e,
        { ...o, status: as, attributes: { ...o.attributes, status: as } },
        this.reason,
      );
    }
  }
}
