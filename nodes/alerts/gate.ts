/**
 * An alert gate: what stands between the events and the people they notify.
 * Three steps, in this order:
 *
 * 1. Doubles (this process): an event whose source + id passed (or was held)
 *    within the window is dropped. Delivery is at least once, so the same event
 *    comes again after a restart, a redeploy, a resync or a retry.
 * 2. Storms (see Storms): per key, the first passes, the rest are held and
 *    summed up when the window ends.
 * 3. The HA pair (a shared store): what would pass is claimed there first
 *    (`SET NX` with the doubles window); what the partner claimed is a double.
 *    Storms come before the claim, so both nodes of a pair, seeing the same
 *    events, make the same storm decisions and summaries with the same ids, and
 *    the claim lets one of each through. When the shared store cannot answer,
 *    the event passes (fail-open: a double from the pair is better than a lost
 *    alert) and the caller reports the error.
 *
 * When is an id durable? After its event left, never before. Written before,
 * a crash between the write and the send would make the event's next copy (the
 * sources send it again after a restart) a "double" of an alert nobody got.
 * Written after, that crash lets the next copy through once: at worst one
 * double, never a lost event. So every line is queued after the last `await` of
 * a decision: the caller sends in its continuation (a microtask), and the
 * journal is flushed (`flush`) in a later macrotask, one fsync for all the
 * events of that turn.
 */
import { createHash } from 'node:crypto';
import { toCoded, type CodedError } from '../common/errors';
import type { InfraEvent } from '../common/infra-event';
import type { Journal, JournalSpace } from './journal';
import { Storms, type StormOptions, type StormState } from './storms';

/** What an HA pair shares: a claim on a key for a while; true for the first to claim it. */
export interface SharedStore {
  claim(key: string, ttlMs: number): Promise<boolean>;
}

export interface GateOptions {
  /** Drop doubles (undefined: off). */
  doubles?: { windowMs: number; maxEntries: number };
  /** Calm storms (undefined: off). */
  storms?: StormOptions;
  /** The store an HA pair shares (only with doubles on). */
  shared?: SharedStore;
}

export type Verdict = 'passed' | 'double' | 'held';

export interface Decision {
  verdict: Verdict;
  /** A double because the other node of the pair sent it. */
  partner?: boolean;
  /** The shared store could not answer: passed unchecked. */
  storeError?: CodedError;
}

export interface Summaries {
  summaries: InfraEvent[];
  /** Summaries the partner sent. */
  partner: number;
  storeError?: CodedError;
}

/** A short, fixed-size key for source + id (128 bits of SHA-256): ids of any length, no event text on disk. */
export function seenKeyOf(source: string, id: string): string {
  return createHash('sha256').update(`${source}\n${id}`, 'utf8').digest('base64url').slice(0, 22);
}

export class AlertGate {
  private readonly seen: JournalSpace<never> | undefined;
  private readonly storms: Storms | undefined;
  /** Keys being claimed in the shared store: a copy that comes meanwhile is a double. */
  private readonly claiming = new Set<string>();

  constructor(
    private readonly journal: Journal,
    private readonly options: GateOptions,
    now = Date.now(),
  ) {
    const { doubles, storms } = options;
    this.seen = doubles ? journal.space<never>('seen', doubles.maxEntries) : undefined;
    this.storms = storms
      ? new Storms(storms, journal.space<StormState>('storm', storms.maxStorms + 1))
      : undefined;
    journal.load(now);
  }

  /** Ids remembered, storms open, ids forgotten early (the bound), journal lines unreadable. */
  get sizes(): { seen: number; storms: number; evicted: number; skipped: number } {
    return {
      seen: this.seen?.entries.size ?? 0,
      storms: this.storms?.open ?? 0,
      evicted: this.seen?.evicted ?? 0,
      skipped: this.journal.skipped,
    };
  }

  /** Decides an event's way; with `stormKey` undefined it is no part of a storm. */
  async take(event: InfraEvent, stormKey: string | undefined, now = Date.now()): Promise<Decision> {
    const key = seenKeyOf(event.source, event.id);
    if (this.seen && (this.seen.get(key, now) || this.claiming.has(key))) return { verdict: 'double' };
    const storm = this.storms && stormKey !== undefined ? this.storms.take(event, stormKey, now) : undefined;
    let decision: Decision = { verdict: 'held' };
    if (storm?.verdict !== 'hold') {
      this.claiming.add(key);
      try {
        decision = await this.claim(key);
      } finally {
        this.claiming.delete(key);
      }
    }
    // After the last await (see the top of this file).
    if (storm) this.storms!.write(storm.id);
    if (this.seen) this.seen.set(key, now + this.options.doubles!.windowMs);
    return decision;
  }

  /** The summaries of storms whose window ended, each claimed like an event. */
  async due(now = Date.now()): Promise<Summaries> {
    const out: Summaries = { summaries: [], partner: 0 };
    const due = this.storms?.due(now) ?? [];
    for (const { summary } of due) {
      const decision = await this.claim(seenKeyOf(summary.source, summary.id));
      if (decision.storeError) out.storeError = decision.storeError;
      if (decision.verdict === 'passed') out.summaries.push(summary);
      else out.partner++;
    }
    // After the last await: the caller sends the summaries before a flush writes that they were sent.
    for (const { id } of due) this.storms!.write(id);
    return out;
  }

  /** Puts what changed on disk (one fsync); an error leaves it queued for the next flush. */
  flush(now = Date.now()): Error | undefined {
    return this.journal.flush(now);
  }

  get dirty(): boolean {
    return this.journal.dirty;
  }

  private async claim(key: string): Promise<Decision> {
    const { shared, doubles } = this.options;
    if (!shared || !doubles) return { verdict: 'passed' };
    try {
      return (await shared.claim(key, doubles.windowMs))
        ? { verdict: 'passed' }
        : { verdict: 'double', partner: true };
    } catch (err) {
      return { verdict: 'passed', storeError: toCoded(err, 'the shared store') };
    }
  }
}
