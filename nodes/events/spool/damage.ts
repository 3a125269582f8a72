/**
 * What damage the cursor passed cost. Entries are written in sequence order,
 * so the numbers between the last entry in place before the damage and the
 * first one after it were in the damaged bytes; those not yet finished with
 * were lost. (A copy moved forward carries an older number: it is not "in place"
 * and closes nothing.) Damage before the first entry in place, when older
 * segments were removed, cannot be counted: their numbers may have been
 * finished there.
 */
import type { Damage } from './records';
import type { SeqSet } from './seq-set';

export interface ClosedGap {
  /** Entries lost in the damage. */
  lost: number;
  /** The damage was found at open, when its entries were never counted. */
  known: boolean;
  text: string;
}

export class DamageTally {
  private lastInPlace = 0;
  /** Segments before the oldest were removed: the numbers below its first entry cannot be told lost. */
  olderRemoved = false;
  private gap?: { bytes: number; where: string; why: string; known: boolean };

  /** The first number damage passed and not yet closed may have held (Infinity when none is open). */
  get openFrom(): number {
    return this.gap ? this.lastInPlace + 1 : Infinity;
  }

  /** Damage the cursor skipped (at `where`: file and offset). */
  passed(damage: Damage, where: string, known: boolean): void {
    this.gap = this.gap
      ? { ...this.gap, bytes: this.gap.bytes + damage.size, known: this.gap.known && known }
      : { bytes: damage.size, where, why: damage.why, known };
  }

  /**
   * The cursor met an entry: one in place closes the gap before it, whose
   * numbers join `done` (they can never be met again).
   */
  met(seq: number, done: SeqSet): ClosedGap | undefined {
    if (seq <= this.lastInPlace) return undefined;
    const first = this.lastInPlace + 1;
    const gap = this.gap;
    this.lastInPlace = seq;
    this.gap = undefined;
    if (!gap) return undefined;
    const unreadable = `The spool could not read ${gap.bytes} bytes (${gap.where}: ${gap.why}); `;
    // Nothing is marked finished: a copy moved forward with one of these numbers is still given.
    if (first === 1 && this.olderRemoved)
      return {
        lost: 0,
        known: gap.known,
        text: `${unreadable}they came before the first entry of its oldest segment, the older ones were removed, so how many events were in them cannot be told; the records after them are kept.`,
      };
    const lost = done.missingIn(first, seq - 1);
    done.addRange(first, seq - 1);
    const text = `${unreadable}${lost} event${lost === 1 ? '' : 's'} in them ${lost === 1 ? 'was' : 'were'} skipped, the records after them are kept.`;
    return { lost, known: gap.known, text };
  }
}
