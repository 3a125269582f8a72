/**
 * What an aci-subscribe node knew of the objects it watches, kept in the user
 * directory, so that a restarted node can report what was created, modified or
 * deleted while it was not running (APIC keeps no history to replay).
 *
 * The state saved lags what the node sent by `settleMs`: an object's change
 * counts as known only once it left the node that long ago (by then the next
 * nodes have taken it). A kill loses at most that much knowledge, and the next
 * start reports those changes again (by comparison, as after a reconnect). An
 * object created within that time is saved with a mark that matches no state:
 * the next start reports it as modified if it is still there, as deleted if it
 * is gone (a deletion must not be lost because its creation had not settled).
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
    if (baseline) this.image.set(entry, new Map(known));
    else this.steps.push({ at: now, entry, replace: new Map(known) });
    this.dirty = true;
  }

  /** One object changed (undefined: deleted), as sent. */
  changed(entry: string, dn: string, state: KnownState | undefined, now = performance.now()): void {
    this.steps.push({ at: now, entry, dn, state });
    this.dirty = true;
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
    for (const [entry, map] of this.image) entries[entry] = [...map, ...this.unsure(entry, map)];
    try {
      this.files.write(this.nodeId, JSON.stringify({ version: 1, entries } satisfies Saved));
      this.dirty = false;
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  remove(): void {
    this.files.remove(this.nodeId);
  }

  /** Objects of unsettled changes the settled state does not hold, with a stamp that matches no state. */
  private unsure(entry: string, settled: KnownMap): [string, KnownState][] {
    const out = new Map<string, KnownState>();
    for (const step of this.steps) {
      if (step.entry !== entry) continue;
      const states =
        'replace' in step ? [...step.replace] : step.state ? [[step.dn, step.state] as const] : [];
      for (const [dn, state] of states) {
        if (!settled.has(dn)) out.set(dn, { ...state, stamp: { ...state.stamp, [UNSETTLED]: '1' } });
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
 * Ties a store to a running node: hands out what it knew at start, saves every
 * `everyMs` (a kill loses at most that much on top of the settle time) and at
 * close; deletes the state with the node.
 */
export class KnownKeeper {
  /** What the node knew when it last ran, per entry. */
  readonly restored: Map<string, KnownMap>;
  private readonly timer: NodeJS.Timeout;
  private failing = false;

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
    this.store.read(entry, known, baseline);
  }

  changed(entry: string, dn: string, state: KnownState | undefined): void {
    this.store.changed(entry, dn, state);
  }

  close(removed: boolean): void {
    clearInterval(this.timer);
    if (removed) this.store.remove();
    else this.save();
  }

  private save(): void {
    this.store.keepOnly(this.entries());
    const error = this.store.save();
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
