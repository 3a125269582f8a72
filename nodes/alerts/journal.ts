/**
 * What an alert gate remembers across restarts and redeploys: keys that expire,
 * each with an optional value, in named spaces (the ids that passed, the open
 * storms), kept in one file under the user directory (NodeFiles).
 *
 * The file is a journal: one JSON line per change, `[space, key, expiresAt,
 * value?]`; the last line of a key wins, an expiry of 0 forgets it. Changes are
 * appended with one fsync per `flush` (a group commit), and the journal is
 * rewritten whole (atomically) once it holds more than twice what is live. A
 * torn or unreadable line is skipped and counted, never fatal. The owner
 * decides when a change is queued: see `AlertGate` for why an id is written
 * only after its event left.
 *
 * Bounded: each space keeps at most its `maxEntries` (the oldest written goes
 * first, counted in `evicted`), and so the file holds at most about three
 * times that many lines.
 */
import type { NodeFiles } from '../common/node-files';

export interface Entry<V> {
  /** ms since the epoch (this machine's clock) */
  expiresAt: number;
  value?: V;
}

type Line = [space: string, key: string, expiresAt: number, value?: unknown];

const SUFFIX = '.journal';
/** Lines beyond twice the live entries before the journal is rewritten. */
const SLACK_LINES = 1000;

/** One space of a journal: a map of keys that expire, written through to the journal's file. */
export class JournalSpace<V> {
  /** Live entries in the order they were last written (a Map keeps it): the first is the oldest. */
  readonly entries = new Map<string, Entry<V>>();
  /** Entries forgotten before their expiry because the space was full. */
  evicted = 0;

  constructor(
    private readonly journal: Journal,
    readonly name: string,
    private readonly maxEntries: number,
  ) {}

  /** The live entry of a key; an expired one is forgotten. */
  get(key: string, now: number): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** Sets a key (it becomes the newest) and queues its line for the next flush. */
  set(key: string, expiresAt: number, value?: V): void {
    this.put(key, { expiresAt, value });
    this.write(key);
  }

  /** Forgets a key and queues that for the next flush. */
  delete(key: string): void {
    if (this.entries.delete(key)) this.write(key);
  }

  /** Queues the line of a key as it is in memory now (changed with `put`), or its removal. */
  write(key: string): void {
    const entry = this.entries.get(key);
    this.journal.queue(lineOf(this.name, key, entry ?? { expiresAt: 0 }));
  }

  /** Drops what expired; returns how many. */
  prune(now: number): number {
    let n = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) continue;
      this.entries.delete(key);
      n++;
    }
    return n;
  }

  /** Changes a key in memory only (as read from the file, or before `write`); an expiry of 0 forgets it. */
  put(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    if (entry.expiresAt <= 0) return;
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.evicted++;
    }
  }
}

export class Journal {
  private readonly spaces = new Map<string, JournalSpace<unknown>>();
  private pending: string[] = [];
  /** Lines in the file, as far as this process knows. */
  private lines = 0;
  private compactNext = false;
  /** Lines of the file that could not be read (torn by a crash, or damaged). */
  skipped = 0;

  /** Without files (no user directory) it is a memory of this process only. */
  constructor(
    private readonly files: NodeFiles | undefined,
    private readonly nodeId: string,
  ) {}

  space<V>(name: string, maxEntries: number): JournalSpace<V> {
    const space = new JournalSpace<V>(this, name, Math.max(1, maxEntries));
    this.spaces.set(name, space as JournalSpace<unknown>);
    return space;
  }

  /** Reads the file into the spaces made so far; lines of other spaces and expired ones are dropped. */
  load(now: number): void {
    const text = this.files?.read(this.nodeId, SUFFIX)?.toString('utf8') ?? '';
    const lines = text.split('\n');
    // The part after the last newline is a line a crash cut short (or nothing).
    if (lines.pop()) this.skipped++;
    for (const line of lines) {
      const parsed = parseLine(line);
      if (!parsed) {
        this.skipped++;
        continue;
      }
      const [space, key, expiresAt, value] = parsed;
      this.spaces.get(space)?.put(key, { expiresAt: expiresAt > now ? expiresAt : 0, value });
    }
    this.lines = lines.length;
    // A damaged file is rewritten from what could be read, so the damage is not read again.
    this.compactNext = this.skipped > 0 || this.lines > this.live() * 2 + SLACK_LINES;
  }

  queue(line: string): void {
    this.pending.push(line);
  }

  get dirty(): boolean {
    return this.pending.length > 0 || this.compactNext;
  }

  /**
   * Puts what was queued on disk: one append and one fsync, or the whole
   * journal rewritten when it grew past twice what is live. What fails stays
   * queued and is tried again at the next flush.
   */
  flush(now: number): Error | undefined {
    if (!this.files || !this.dirty) {
      this.pending = [];
      return undefined;
    }
    try {
      if (this.compactNext || this.lines + this.pending.length > this.live() * 2 + SLACK_LINES) {
        this.compact(now);
      } else {
        this.files.append(this.nodeId, this.pending.join(''), SUFFIX);
        this.lines += this.pending.length;
      }
      this.pending = [];
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** Removes the file (the node was deleted). */
  remove(): void {
    this.pending = [];
    this.files?.removeFile(this.nodeId, SUFFIX);
  }

  private live(): number {
    let n = 0;
    for (const space of this.spaces.values()) n += space.entries.size;
    return n;
  }

  /** The live entries, and only them, written atomically in place of the journal. */
  private compact(now: number): void {
    const out: string[] = [];
    for (const space of this.spaces.values()) {
      space.prune(now);
      for (const [key, entry] of space.entries) out.push(lineOf(space.name, key, entry));
    }
    this.files!.write(this.nodeId, out.join(''), SUFFIX);
    this.lines = out.length;
    this.compactNext = false;
  }
}

function lineOf(space: string, key: string, { expiresAt, value }: Entry<unknown>): string {
  const line: Line = value === undefined ? [space, key, expiresAt] : [space, key, expiresAt, value];
  return `${JSON.stringify(line)}\n`;
}

function parseLine(text: string): Line | undefined {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(line) || line.length < 3 || line.length > 4) return undefined;
  const [space, key, expiresAt] = line as unknown[];
  if (typeof space !== 'string' || typeof key !== 'string' || typeof expiresAt !== 'number') return undefined;
  return Number.isFinite(expiresAt) ? (line as Line) : undefined;
}
