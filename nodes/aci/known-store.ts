/**
 * What an aci-subscribe node knew of the objects it watches, kept in the user
 * directory, so that a restarted node can report what was created, modified or
 * deleted while it was not running (APIC keeps no history to replay).
 *
 * It is a StateLog (common/state-log.ts): one space per entry, one key per
 * object (its dn, or a log's mark), one line per change. Only what changed is
 * written: each change sent, and each object of a first read (a baseline,
 * written page by page as it is read; marked complete at its end, so a start
 * that finds an entry's baseline unfinished starts that entry afresh).
 *
 * The state written lags what the node sent by `settleMs`: an object's change
 * counts as known only once it left the node that long ago (by then the next
 * nodes have taken it). A kill loses at most that much knowledge, and the next
 * start reports those changes again (by comparison, as after a reconnect).
 *
 * One case cannot wait: an object the written state does not hold. Were it
 * created, sent, and deleted while Node-RED is down, the next start would find
 * it neither kept nor there, and the deletion would be lost. So before such a
 * creation is sent, it is written with a mark that matches no state (one
 * append and fsync for all the changes of a tick): the next start reports it
 * as modified if it is still there, as deleted if it is gone.
 *
 * Bounded by memory, not by a count: what is known (a dn and its time
 * attributes per object) is in memory twice, as sent and as settled.
 */
import { performance } from 'node:perf_hooks';
import { Fifo } from '../common/fifo';
import type { NodeFiles } from '../common/node-files';
import { StateKeeper, type KeptState } from '../common/state-keeper';
import { StateLog, nextTurn } from '../common/state-log';
import type { KnownState } from './subscriber/resync';

export type { KnownState };

export type KnownMap = Map<string, KnownState>;

export interface KnownStoreOptions {
  /** How long a change takes to be safe in the flow after it left (default 10 s). */
  settleMs?: number;
}

interface Step {
  at: number;
  entry: string;
  dn: string;
  state: KnownState | undefined;
}

export const ACI_STATE_PURPOSE = 'aci-state';

/** The key of an entry whose first read was kept whole (no dn starts with '#'). */
const COMPLETE = '#complete';

/** A stamp key no APIC attribute has ('#' starts none). */
const UNSETTLED = '#unsettled';

/** Objects copied between two turns of the event loop when the saved state is handed out. */
const COPY_SLICE = 20_000;

/** The files of the format before the log: removed, the next start is a first run. */
const OLD_FILES = ['.json', '.journal'];

export class KnownStore {
  private readonly settleMs: number;
  /** The state as written (or queued to be): changes older than settleMs, and unsettled creations. */
  private readonly log: StateLog<KnownState | true>;
  /** Changes not yet settled, oldest first. */
  private readonly steps = new Fifo<Step>();
  /** Queued lines a send must wait for: unsettled creations, baselines. */
  private urgent = false;

  constructor(
    private readonly files: NodeFiles,
    private readonly nodeId: string,
    options: KnownStoreOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 10_000;
    this.log = new StateLog(files, nodeId, {
      isValue: (v): v is KnownState | true => v === true || isKnown(v),
    });
  }

  /** Bytes written to disk so far. */
  get bytesWritten(): number {
    return this.log.bytesWritten;
  }

  /** Lines waiting to be written. */
  get pendingLines(): number {
    return this.log.pendingLines;
  }

  /**
   * What the node knew when it last ran, per entry whose first read was kept
   * whole; empty on a first run. Read and handed out a piece at a time.
   */
  async load(): Promise<Map<string, KnownMap>> {
    for (const suffix of OLD_FILES) this.files.removeFile(this.nodeId, suffix);
    await this.log.load();
    const restored = new Map<string, KnownMap>();
    let n = 0;
    for (const [entry, space] of this.log.spaces) {
      if (space.get(COMPLETE) !== true) continue;
      const known: KnownMap = new Map();
      for (const [dn, state] of space) {
        if (state !== true) known.set(dn, state);
        if (++n % COPY_SLICE === 0) await nextTurn();
      }
      restored.set(entry, known);
    }
    return restored;
  }

  /**
   * What is known of one object changed, as sent (undefined: gone). A
   * baseline's objects are known at once (nothing of them was sent); a change
   * sent counts once settled, and a creation is written ahead with a mark.
   */
  tracked(
    entry: string,
    dn: string,
    state: KnownState | undefined,
    baseline: boolean,
    now = performance.now(),
  ): void {
    if (baseline) {
      this.apply(entry, dn, state);
      return;
    }
    this.steps.push({ at: now, entry, dn, state });
    // An entry without a whole first read kept is read afresh at the next start: nothing to write ahead.
    if (state && this.log.get(entry, COMPLETE) === true && this.log.get(entry, dn) === undefined) {
      this.log.set(entry, dn, unsettled(state));
      this.urgent = true;
    }
  }

  /** A baseline of an entry begins (what was kept of it goes) or is complete (and so marked). */
  baseline(entry: string, complete: boolean): void {
    if (!complete) return this.log.drop(entry);
    this.log.set(entry, COMPLETE, true);
    // Sent from now on: the next start must compare with this baseline, so it goes to disk first.
    this.urgent = true;
  }

  /** Must something be written before the changes just tracked are sent? */
  get mustWrite(): boolean {
    return this.urgent && this.log.pendingLines > 0;
  }

  /** Puts on disk what is queued (one append, one fsync, off the main thread). */
  async writeAhead(): Promise<Error | undefined> {
    const urgent = this.urgent;
    this.urgent = false;
    const error = await this.log.flush();
    // What failed stays queued, and still must be written before a send.
    if (error && this.log.pendingLines > 0) this.urgent ||= urgent;
    return error;
  }

  /** Entries no longer watched are forgotten. */
  keepOnly(entries: Iterable<string>): void {
    const keep = new Set(entries);
    for (const entry of [...this.log.spaces.keys()]) if (!keep.has(entry)) this.log.drop(entry);
    const steps = this.steps.drain();
    for (const step of steps) if (keep.has(step.entry)) this.steps.push(step);
  }

  /** Writes what has settled. `now`: a monotonic clock (ms), so a jump of the wall clock settles nothing early. */
  save(now = performance.now()): Promise<Error | undefined> {
    const before = now - this.settleMs;
    while (this.steps.length > 0 && this.steps.peek()!.at <= before) {
      const step = this.steps.shift()!;
      this.apply(step.entry, step.dn, step.state);
    }
    return this.writeAhead();
  }

  private apply(entry: string, dn: string, state: KnownState | undefined): void {
    if (state) this.log.set(entry, dn, state);
    else this.log.delete(entry, dn);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  remove(): Promise<void> {
    for (const suffix of OLD_FILES) this.files.removeFile(this.nodeId, suffix);
    return this.log.remove();
  }
}

/** A state whose stamp matches no state the APIC sends. */
function unsettled(state: KnownState): KnownState {
  return { className: state.className, stamp: Object.assign({}, state.stamp, { [UNSETTLED]: '1' }) };
}

/** Queued lines beyond which the keeper writes at the next turn, so that no write is large. */
const FLUSH_LINES = 5000;

/**
 * Ties a store to a running node (common/state-keeper.ts): reads what it knew
 * at start (`ready`), writes what a send needs before it happens, saves every
 * `everyMs` (a kill loses at most that much on top of the settle time) and at
 * close; deletes the state with the node.
 */
export class KnownKeeper extends StateKeeper<Map<string, KnownMap>> {
  constructor(
    private readonly store: KnownStore,
    /** The entries watched now (they change at run time). */
    entries: () => string[],
    warn: (message: string) => void,
    everyMs = 2000,
  ) {
    const known: KeptState<Map<string, KnownMap>> = {
      load: () => store.load(),
      save() {
        store.keepOnly(entries());
        return store.save();
      },
      remove: () => store.remove(),
      close: () => store.close(),
      get mustWrite() {
        return store.mustWrite;
      },
      writeAhead: () => store.writeAhead(),
    };
    super(known, { firstRun: new Map(), failure: 'Cannot keep what this node knows', warn, everyMs });
  }

  tracked(entry: string, dn: string, state: KnownState | undefined, baseline: boolean): void {
    if (this.closed) return;
    this.store.tracked(entry, dn, state, baseline);
    // A long read queues many lines: written as they come, a slice at a time.
    if (this.store.pendingLines >= FLUSH_LINES) this.writeSoon();
  }

  baseline(entry: string, complete: boolean): void {
    if (!this.closed) this.store.baseline(entry, complete);
  }
}

/** The shape the subscriber's comparison reads: class and stamp (time and life-cycle attributes). */
function isKnown(value: unknown): value is KnownState {
  const k = value as KnownState | undefined;
  return (
    typeof k?.className === 'string' &&
    !!k.stamp &&
    typeof k.stamp === 'object' &&
    Object.values(k.stamp).every((v) => typeof v === 'string')
  );
}
