/**
 * What an aci-subscribe node knew of the objects it watches, kept in the user
 * directory, so that a restarted node can report what was created, modified or
 * deleted while it was not running (APIC keeps no history to replay).
 *
 * The state saved lags what the node sent by `settleMs`: an object's change
 * counts as known only once it left the node that long ago (by then the next
 * nodes have taken it). A kill loses at most that much knowledge, and the next
 * start reports those changes again (by comparison, as after a reconnect).
 *
 * One case cannot wait: an object the saved state does not hold. Were it
 * created, sent, and deleted while Node-RED is down, the next start would find
 * it neither saved nor there, and the deletion would be lost. So before such a
 * creation is sent, its dn is appended to a journal (one fsync for all the
 * changes of a tick) with a mark that matches no state: the next start reports
 * it as modified if it is still there, as deleted if it is gone. The journal is
 * emptied each time the whole state is written.
 * Bounded: beyond `maxObjects` the node keeps no state (and says so).
 */
import { performance } from 'node:perf_hooks';
import { NodeFiles } from '../common/node-files';
import type { KnownState } from './subscriber/resync';

export type { KnownState };

export type KnownMap = Map<string, KnownState>;

export interface KnownStoreOptions {
  /** How long a change takes to be safe in the flow after it left (default 10 s). */
  settleMs?: number;
  /** Objects kept at most, over all entries (default 100,000: 10-20 MB). */
  maxObjects?: number;
}

interface Saved {
  version: 1;
  /** entry key → [dn, state][] */
  entries: Record<string, [string, KnownState][]>;
}

type Step = { at: number; entry: string } & (
  { replace: KnownMap } | { dn: string; state: KnownState | undefined }
);

export const ACI_STATE_PURPOSE = 'aci-state';
const JOURNAL = '.journal';

/** A stamp key no APIC attribute has ('#' starts none). */
const UNSETTLED = '#unsettled';

export class KnownStore {
  private readonly settleMs: number;
  private readonly maxObjects: number;
  /** The state as saved (or about to be): changes older than settleMs. */
  private readonly image = new Map<string, KnownMap>();
  /** Changes not yet settled, oldest first. */
  private steps: Step[] = [];
  private dirty = false;
  private oversize = false;
  /** A baseline read not yet written: the next write before a send is a whole save. */
  private baselineUnsaved = false;
  /** Objects the saved image lacks whose creation is (or is about to be) in the journal: `entry\ndn`. */
  private journaled = new Set<string>();
  /** Journal records to append before the next send. */
  private pending: string[] = [];
  /** Bytes written to disk so far (state and journal), for the benchmarks. */
  bytesWritten = 0;

  constructor(
    private readonly files: NodeFiles,
    private readonly nodeId: string,
    options: KnownStoreOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 10_000;
    this.maxObjects = options.maxObjects ?? 100_000;
  }

  /** What the node knew when it last ran, per entry; empty on a first run or when the file is unreadable. */
  load(): Map<string, KnownMap> {
    const saved = parse(this.files.read(this.nodeId));
    this.image.clear();
    for (const [entry, list] of Object.entries(saved?.entries ?? {})) this.image.set(entry, new Map(list));
    // Journaled creations of entries the saved state holds (an entry it lacks starts as a first run).
    for (const [entry, dn, state] of parseJournal(this.files.read(this.nodeId, JOURNAL))) {
      const map = this.image.get(entry);
      if (map && !map.has(dn)) map.set(dn, unsettled(state));
    }
    return new Map([...this.image].map(([entry, map]) => [entry, new Map(map)]));
  }

  /**
   * A full read of an entry: its state replaces what was known, once settled;
   * at once for a first read that sent nothing (nothing of it is in the flow).
   */
  read(
    entry: string,
    known: ReadonlyMap<string, KnownState>,
    baseline = false,
    now = performance.now(),
  ): void {
    if (baseline) {
      this.image.set(entry, new Map(known));
      this.baselineUnsaved = true;
    } else {
      this.steps.push({ at: now, entry, replace: new Map(known) });
      for (const [dn, state] of known) this.journal(entry, dn, state);
    }
    this.dirty = true;
  }

  /** One object changed (undefined: deleted), as sent. */
  changed(entry: string, dn: string, state: KnownState | undefined, now = performance.now()): void {
    this.steps.push({ at: now, entry, dn, state });
    if (state) this.journal(entry, dn, state);
    this.dirty = true;
  }

  /** Must something be written before the changes just tracked are sent? */
  get mustWrite(): boolean {
    return this.pending.length > 0 || this.baselineUnsaved;
  }

  /**
   * Puts on disk what the next send needs: the journal's new records (one
   * append, one fsync), or the whole state when a baseline is not yet saved.
   */
  writeAhead(now = performance.now()): Error | undefined {
    if (this.baselineUnsaved) return this.save(now);
    if (this.pending.length === 0) return undefined;
    try {
      const text = this.pending.join('');
      this.files.append(this.nodeId, text, JOURNAL);
      this.bytesWritten += Buffer.byteLength(text);
      // Kept until written: a failed append is tried again before the next send.
      this.pending = [];
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** Entries no longer watched are forgotten. */
  keepOnly(entries: Iterable<string>): void {
    const keep = new Set(entries);
    for (const entry of [...this.image.keys()]) {
      if (!keep.has(entry)) {
        this.image.delete(entry);
        this.dirty = true;
      }
    }
    this.steps = this.steps.filter((s) => keep.has(s.entry));
  }

  /**
   * Writes what has settled. Returns an error to report (a failed write, or the
   * bound reached: then the file is removed and the next start is a first run).
   */
  /** `now`: a monotonic clock (ms), so a jump of the wall clock neither settles changes early nor late. */
  save(now = performance.now()): Error | undefined {
    this.settle(now - this.settleMs);
    if (!this.dirty) return undefined;
    const total = [...this.image.values()].reduce((n, m) => n + m.size, 0);
    if (total > this.maxObjects) {
      this.dirty = false;
      this.baselineUnsaved = false;
      this.pending = [];
      this.files.remove(this.nodeId);
      if (this.oversize) return undefined;
      this.oversize = true;
      return new Error(
        `${total} objects are watched, more than the ${this.maxObjects} whose state is kept: ` +
          'changes made while Node-RED is stopped are not reported.',
      );
    }
    this.oversize = false;
    const entries: Saved['entries'] = {};
    const unsure = new Set<string>();
    for (const [entry, map] of this.image) {
      const extra = this.unsure(entry, map);
      for (const [dn] of extra) unsure.add(journalKey(entry, dn));
      entries[entry] = [...map, ...extra];
    }
    try {
      const text = JSON.stringify({ version: 1, entries } satisfies Saved);
      this.files.write(this.nodeId, text);
      this.bytesWritten += Buffer.byteLength(text);
      // The whole state now holds what the journal said.
      this.files.removeFile(this.nodeId, JOURNAL);
      this.journaled = unsure;
      this.pending = [];
      this.baselineUnsaved = false;
      this.dirty = false;
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  remove(): void {
    this.files.remove(this.nodeId);
  }

  /** Queues a journal record for an object neither the saved state nor the journal holds. */
  private journal(entry: string, dn: string, state: KnownState): void {
    const key = journalKey(entry, dn);
    if (this.oversize || this.image.get(entry)?.has(dn) || this.journaled.has(key)) return;
    this.journaled.add(key);
    this.pending.push(`${JSON.stringify([entry, dn, state])}\n`);
  }

  /** Objects of unsettled changes the settled state does not hold, with a stamp that matches no state. */
  private unsure(entry: string, settled: KnownMap): [string, KnownState][] {
    const out = new Map<string, KnownState>();
    for (const step of this.steps) {
      if (step.entry !== entry) continue;
      const states =
        'replace' in step ? [...step.replace] : step.state ? [[step.dn, step.state] as const] : [];
      for (const [dn, state] of states) {
        if (!settled.has(dn)) out.set(dn, unsettled(state));
      }
    }
    return [...out];
  }

  private settle(before: number): void {
    let n = 0;
    for (; n < this.steps.length && this.steps[n]!.at <= before; n++) {
      const step = this.steps[n]!;
      if ('replace' in step) this.image.set(step.entry, step.replace);
      else {
        const map = this.image.get(step.entry) ?? new Map<string, KnownState>();
        this.image.set(step.entry, map);
        if (step.state) map.set(step.dn, step.state);
        else map.delete(step.dn);
      }
      this.dirty = true;
    }
    if (n > 0) this.steps = this.steps.slice(n);
  }
}

function journalKey(entry: string, dn: string): string {
  return `${entry}\n${dn}`;
}

/** A state whose stamp matches no state the APIC sends. */
function unsettled(state: KnownState): KnownState {
  return { ...state, stamp: { ...state.stamp, [UNSETTLED]: '1' } };
}

/** The journal's records; a torn or foreign line (a crash during an append) is skipped. */
function parseJournal(bytes: Buffer | undefined): [string, string, KnownState][] {
  const records: [string, string, KnownState][] = [];
  for (const line of bytes?.toString('utf8').split('\n') ?? []) {
    try {
      const r = JSON.parse(line) as unknown;
      if (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string' && isKnown(r[2]))
        records.push([r[0], r[1], r[2]]);
    } catch {
      // torn tail
    }
  }
  return records;
}

function parse(bytes: Buffer | undefined): Saved | undefined {
  if (!bytes) return undefined;
  try {
    const s = JSON.parse(bytes.toString('utf8')) as Saved;
    if (s?.version !== 1 || !s.entries || typeof s.entries !== 'object') return undefined;
    for (const list of Object.values(s.entries)) {
      const ok =
        Array.isArray(list) &&
        list.every((e) => Array.isArray(e) && typeof e[0] === 'string' && isKnown(e[1]));
      if (!ok) return undefined;
    }
    return s;
  } catch {
    return undefined;
  }
}

/**
 * Ties a store to a running node: hands out what it knew at start, writes what
 * a send needs before it happens, saves every `everyMs` (a kill loses at most
 * that much on top of the settle time) and at close; deletes the state with
 * the node.
 */
export class KnownKeeper {
  /** What the node knew when it last ran, per entry. */
  readonly restored: Map<string, KnownMap>;
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  /** Sends waiting for this tick's write, in order. */
  private queue: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly store: KnownStore,
    /** The entries watched now (they change at run time). */
    private readonly entries: () => string[],
    private readonly warn: (message: string) => void,
    everyMs = 2000,
  ) {
    this.restored = store.load();
    this.timer = setInterval(() => this.save(), everyMs);
    this.timer.unref();
  }

  read(entry: string, known: ReadonlyMap<string, KnownState>, baseline: boolean): void {
    if (!this.closed) this.store.read(entry, known, baseline);
  }

  changed(entry: string, dn: string, state: KnownState | undefined): void {
    if (!this.closed) this.store.changed(entry, dn, state);
  }

  /**
   * Runs `send` once what it reports is on disk: at once when nothing needs
   * writing, otherwise after one write for everything sent in this tick.
   */
  send(send: () => void): void {
    // Closed (a push between close and unwatch): nothing more is kept, and a deleted node's files stay gone.
    if (this.closed || (this.queue.length === 0 && !this.store.mustWrite)) return send();
    this.queue.push(send);
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  close(removed: boolean): void {
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    if (removed) this.store.remove();
    else this.save();
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    // A failed write is reported, and the changes still go: holding them back would lose them for sure.
    this.report(this.store.writeAhead());
    for (const send of this.queue.splice(0)) {
      try {
        send();
      } catch (err) {
        this.warn(`Cannot send a change: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  private save(): void {
    this.store.keepOnly(this.entries());
    this.report(this.store.save());
  }

  private report(error: Error | undefined): void {
    if (error && !this.failing) this.warn(`Cannot keep what this node knows: ${error.message}`);
    this.failing = error !== undefined;
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
