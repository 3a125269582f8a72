/**
 * Where missed-event recovery resumes after Node-RED restarts: the mark of a
 * vcd-subscribe node, kept in the user directory.
 *
 * The saved mark never runs ahead of what the flow may still lose. An event
 * counts as settled only once it left this node `settleMs` ago (by then the
 * next nodes have taken it); the mark saved is the oldest of: the recovery
 * point (an open gap, or the newest event delivered) and the timestamp of
 * every event not yet settled. After a restart the audit trail is read from
 * there: events of the overlap come again with the same id (a consumer drops
 * them by id), except those already settled, whose ids are saved too.
 *
 * Times are VCD's clock. An event's own time places it on that clock only
 * within what VCD's clock as measured allows: one dated beyond it counts at
 * VCD's time (a restart reads it again from there), one older than "Reach
 * back" holds nothing back (a restart would not read it anyway). How old a
 * saved mark is, is judged on this machine's clock through the offset between
 * the two clocks as measured (never through an event's own time).
 *
 * The mark is one small record (bounded by `remember`) whose every part moves
 * together, replaced whole and atomically when it changed: a file, not a
 * StateLog, whose worth is writing one change among many kept objects.
 */
import { performance } from 'node:perf_hooks';
import { NodeFiles } from '../common/node-files';
import { StateKeeper, type KeptState } from '../common/state-keeper';
import { timeMillis } from '../common/times';

export interface CatchUpStoreOptions {
  /** How long an event takes to be safe in the flow after it left (default 10 s). */
  settleMs?: number;
  /** Recovery after a restart reaches back at most this far (default 24 h). */
  maxAgeMs?: number;
  /** Settled event ids kept to drop doubles (default 5000). */
  remember?: number;
  /** Events not yet settled kept at most (beyond that the oldest count as settled). */
  maxPending?: number;
  /** VCD's time now as measured (ms); undefined until measured, then this machine's clock stands in. */
  vcdNow?: () => number | undefined;
}

/** Where to resume, read from the file. */
export interface Resume {
  /** Read the audit trail from here (ms, VCD's clock). */
  since: number;
  /** Already delivered: drop them when read again. */
  recent: string[];
  /** What lies beyond the age bound and is not read. */
  skipped?: { from: string; to: string };
}

interface Saved {
  version: 1;
  /** The topic filter as configured: another filter starts anew. */
  filter: string;
  /** ISO time, VCD's clock. */
  mark: string;
  /** Settled events at or after the mark: [eventId, time ms]. */
  recent: [string, number][];
  /** This machine's clock minus VCD's, as measured at the last save (ms). */
  offset: number;
}

interface Pending {
  /** When it left (monotonic ms). */
  at: number;
  /** Where it holds the mark: its time, at most VCD's time when it left. */
  time: number;
  /** Its own time: kept with its id, so a restart that reads it again drops it. */
  own: number;
  id?: string;
}

export const FILE_PURPOSE = 'vcd-marks';

/** The largest offset between this machine's clock and VCD's that is believed. */
const MAX_OFFSET_MS = 24 * 3600_000;

export class CatchUpStore {
  private readonly settleMs: number;
  private readonly maxAgeMs: number;
  private readonly rememberMax: number;
  private readonly maxPending: number;
  /** Delivered, not yet settled, oldest first. */
  private pending: Pending[] = [];
  /** Settled ids and their times, oldest first (a Map keeps insertion order). */
  private readonly settled = new Map<string, number>();
  private offset = 0;
  private lastText: string | undefined;
  /** Bytes written to disk so far, for the benchmarks. */
  bytesWritten = 0;

  constructor(
    private readonly files: NodeFiles,
    private readonly nodeId: string,
    private readonly filter: string,
    options: CatchUpStoreOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
    this.rememberMax = options.remember ?? 5000;
    this.maxPending = options.maxPending ?? 100_000;
    this.vcdNow = options.vcdNow ?? (() => undefined);
  }

  private readonly vcdNow: () => number | undefined;

  /** VCD's time now, and the offset of this machine's clock to it (measured, else none). */
  private clocks(wall: number): number {
    const vcd = this.vcdNow();
    if (vcd === undefined) return wall - this.offset;
    this.offset = wall - vcd;
    return vcd;
  }

  /**
   * The saved mark, cut to the age bound; undefined when there is none (or it
   * belongs to another topic filter, or cannot be read: then the node starts
   * from "now", as on a first run).
   */
  load(now = Date.now()): Resume | undefined {
    const saved = parse(this.files.read(this.nodeId));
    if (!saved || saved.filter !== this.filter) return undefined;
    const mark = Date.parse(saved.mark);
    // Two clocks a day apart are not believed (an older version took the offset from an event's own time).
    this.offset = Math.abs(saved.offset) <= MAX_OFFSET_MS ? saved.offset : 0;
    for (const [id, time] of saved.recent) this.remember(id, time);
    // The oldest time still read, in VCD's clock.
    const oldest = now - this.offset - this.maxAgeMs;
    if (mark >= oldest) return { since: mark, recent: [...this.settled.keys()] };
    return {
      since: oldest,
      recent: [...this.settled.keys()],
      skipped: { from: saved.mark, to: new Date(oldest).toISOString() },
    };
  }

  /**
   * An event left the node (live or recovered). `now` is a monotonic clock (ms):
   * a jump of the wall clock must not settle events early; `wall` is this
   * machine's clock, for the offset to VCD's.
   */
  delivered(id: unknown, timestamp: unknown, now = performance.now(), wall = Date.now()): void {
    const own = timeMillis(timestamp);
    if (own === undefined) return; // no place in the audit trail to read it again from
    const vcd = this.clocks(wall);
    if (own < vcd - this.maxAgeMs) return; // older than a restart reads back
    const time = Math.min(own, vcd);
    this.pending.push({ at: now, time, own, ...(typeof id === 'string' && id ? { id } : {}) });
    if (this.pending.length > this.maxPending) this.settle(-Infinity, this.pending.length - this.maxPending);
  }

  /**
   * What would be saved now, given where a recovery would start (`resumePoint`,
   * ms in VCD's clock: the open gap, or the newest event delivered).
   */
  checkpoint(resumePoint: number | undefined, now = performance.now(), wall = Date.now()): Saved | undefined {
    this.clocks(wall);
    this.settle(now - this.settleMs);
    let mark = resumePoint;
    for (const p of this.pending) if (mark === undefined || p.time < mark) mark = p.time;
    if (mark === undefined) return undefined;
    const recent = [...this.settled].filter(([, time]) => time >= mark);
    return {
      version: 1,
      filter: this.filter,
      mark: new Date(mark).toISOString(),
      recent,
      offset: this.offset,
    };
  }

  /** Writes the checkpoint when it changed. Never throws: a failed write is retried at the next save. */
  save(resumePoint: number | undefined, now = performance.now(), wall = Date.now()): Error | undefined {
    const state = this.checkpoint(resumePoint, now, wall);
    if (!state) return undefined;
    const text = JSON.stringify(state);
    if (text === this.lastText) return undefined;
    try {
      this.files.write(this.nodeId, text);
      this.bytesWritten += Buffer.byteLength(text);
      this.lastText = text;
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** The node was deleted: its mark goes with it. */
  remove(): void {
    this.files.remove(this.nodeId);
  }

  /** Moves events delivered at or before `before` (and at least `count` of them) to the settled ones. */
  private settle(before: number, count = 0): void {
    let n = 0;
    while (n < this.pending.length && (n < count || this.pending[n]!.at <= before)) {
      const p = this.pending[n++]!;
      if (p.id) this.remember(p.id, p.own);
    }
    if (n > 0) this.pending = this.pending.slice(n);
  }

  private remember(id: string, time: number): void {
    this.settled.delete(id);
    this.settled.set(id, time);
    if (this.settled.size > this.rememberMax) this.settled.delete(this.settled.keys().next().value as string);
  }
}

/** The saved state, or undefined when it is missing, torn or of another shape. */
function parse(bytes: Buffer | undefined): Saved | undefined {
  if (!bytes) return undefined;
  try {
    const s = JSON.parse(bytes.toString('utf8')) as Saved;
    const ok =
      s?.version === 1 &&
      typeof s.filter === 'string' &&
      Number.isFinite(Date.parse(s.mark)) &&
      Number.isFinite(s.offset) &&
      Array.isArray(s.recent) &&
      s.recent.every((r) => Array.isArray(r) && typeof r[0] === 'string' && Number.isFinite(r[1]));
    return ok ? s : undefined;
  } catch {
    return undefined;
  }
}

/** What the keeper needs of a MissedEvents. */
export interface Resumable {
  resumeFrom(since: number, delivered: Iterable<string>): void;
  resumePoint(): number | undefined;
}

/**
 * Ties a store to a MissedEvents (common/state-keeper.ts): resumes from the
 * saved mark, saves every `everyMs` (so a kill loses at most that much
 * progress, never an event) and at close; deletes the mark with the node.
 */
export class MarkKeeper extends StateKeeper<Resume | undefined> {
  constructor(
    missed: Resumable,
    private readonly store: CatchUpStore,
    warn: (message: string) => void,
    everyMs = 1000,
  ) {
    const mark: KeptState<Resume | undefined> = {
      load() {
        const resumed = store.load();
        if (resumed) missed.resumeFrom(resumed.since, resumed.recent);
        return resumed;
      },
      save: () => store.save(missed.resumePoint()),
      remove: () => store.remove(),
    };
    super(mark, { firstRun: undefined, failure: 'Cannot save the missed-events mark', warn, everyMs });
  }

  /** Where the node resumed from (read at construction). */
  get resumed(): Resume | undefined {
    return this.restored;
  }

  delivered(id: unknown, timestamp: unknown): void {
    if (!this.closed) this.store.delivered(id, timestamp);
  }
}
