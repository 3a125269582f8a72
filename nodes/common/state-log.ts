/**
 * State that outlives the process, kept as a log in one file of a node
 * (NodeFiles): keys with values in named spaces, one JSON line per change,
 * `[space, key, value]` (`null`: the key removed; `[space]`: the whole space).
 * Writing costs what changed, not the whole state:
 *
 * - changes are appended with one fsync per `flush` (a group commit);
 * - reading it back replays it (the last line of a key wins), a stream read in
 *   pieces, with turns of the event loop between; a torn or damaged line is
 *   skipped and counted, never fatal, and the log is rewritten without it;
 * - once it holds more than twice the lines of what is live (plus a slack),
 *   it is rewritten with only what is live, a slice at a time with turns of
 *   the event loop between, into a new file that replaces it when complete;
 *   changes made meanwhile go to both. Amortized, a rewrite costs what the
 *   changes that made it due cost, so the bytes written stay proportional to
 *   what changed.
 *
 * Memory: what is live (`spaces`), plus the lines of one flush. Any state of
 * keys and values fits it: what aci subscribe knew of its objects (one space
 * per entry), a missed-events mark (one space, one key).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { NO_FOLLOW, type FileRewrite, type NodeFiles } from './node-files';

/** Lines beyond twice the live keys before the log is rewritten. */
const SLACK_LINES = 1000;
/** Lines written between two turns of the event loop while rewriting. */
const REWRITE_SLICE = 5000;

export type Pause = () => Promise<void>;

export const nextTurn: Pause = () => new Promise<void>((resolve) => setImmediate(resolve));

type Line = [space: string, key?: string, value?: unknown];

export interface StateLogOptions<V> {
  /** Is a value read back one this log holds? Others are skipped (and counted). */
  isValue(value: unknown): value is V;
  /** The file's suffix (default `.log`). */
  suffix?: string;
}

/** A rewrite under way: the new file, what it still has to write, what changed meanwhile. */
interface Rewrite {
  file: FileRewrite;
  /** Lines flushed since the rewrite began: they follow the live state in the new file. */
  tail: string[];
  lines: number;
  done: Promise<void>;
}

export class StateLog<V> {
  /** What is live: space → key → value (as on disk once flushed). */
  readonly spaces = new Map<string, Map<string, V>>();
  /** Lines that could not be read back (a crash cut one short, or damage). */
  skipped = 0;
  /** Bytes written to the file so far (appends and rewrites). */
  bytesWritten = 0;
  private pending: string[] = [];
  /** Lines in the file, as far as this process knows. */
  private lines = 0;
  /** The file does not end with a line break (a torn last line): the next append starts one. */
  private torn = false;
  private rewriting: Rewrite | undefined;
  /** The flush under way (flushes run one at a time). */
  private flushing: Promise<void> = Promise.resolve();
  private rewriteError: Error | undefined;
  private readonly suffix: string;
  private closed = false;

  constructor(
    private readonly files: NodeFiles,
    private readonly nodeId: string,
    private readonly options: StateLogOptions<V>,
  ) {
    this.suffix = options.suffix ?? '.log';
  }

  /** Reads the log back into `spaces`, a piece at a time (never through a link). */
  async load(): Promise<void> {
    let handle: fs.promises.FileHandle;
    try {
      const file = this.files.pathOf(this.nodeId, this.suffix);
      handle = await fs.promises.open(file, fs.constants.O_RDONLY | NO_FOLLOW);
    } catch {
      return; // none yet, or not a file of ours
    }
    try {
      const { size } = await handle.stat();
      const input = handle.createReadStream({ autoClose: false });
      for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
        this.lines++;
        if (!this.replay(text)) this.skipped++;
      }
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        this.torn = last[0] !== 0x0a;
      }
    } finally {
      await handle.close();
    }
  }

  private replay(text: string): boolean {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      return false;
    }
    if (!Array.isArray(line) || typeof line[0] !== 'string') return false;
    const [space, key, value] = line as Line;
    if (key === undefined) {
      this.spaces.delete(space);
      return line.length === 1;
    }
    if (typeof key !== 'string' || line.length !== 3) return false;
    if (value === null) {
      this.spaces.get(space)?.delete(key);
      return true;
    }
    if (!this.options.isValue(value)) return false;
    this.space(space).set(key, value);
    return true;
  }

  private space(name: string): Map<string, V> {
    let space = this.spaces.get(name);
    if (!space) this.spaces.set(name, (space = new Map()));
    return space;
  }

  get(space: string, key: string): V | undefined {
    return this.spaces.get(space)?.get(key);
  }

  set(space: string, key: string, value: V): void {
    this.space(space).set(key, value);
    this.pending.push(`${JSON.stringify([space, key, value])}\n`);
  }

  delete(space: string, key: string): void {
    if (this.spaces.get(space)?.delete(key)) this.pending.push(`${JSON.stringify([space, key, null])}\n`);
  }

  /** Forgets a whole space. */
  drop(space: string): void {
    if (this.spaces.delete(space)) this.pending.push(`${JSON.stringify([space])}\n`);
  }

  /** Lines waiting for the next flush. */
  get pendingLines(): number {
    return this.pending.length;
  }

  /**
   * Puts the queued lines on disk: one append and one fsync, off the main
   * thread; one flush at a time, in order. Starts a rewrite when the log has
   * grown past twice what is live (or was damaged). What fails stays queued
   * and is tried again at the next flush; a rewrite that failed is reported
   * here. Resolves with the error to report, if any.
   */
  flush(): Promise<Error | undefined> {
    const done = this.flushing.then(() => this.flushNow());
    this.flushing = done.then(() => undefined);
    return done;
  }

  private async flushNow(): Promise<Error | undefined> {
    const failed = this.rewriteError;
    this.rewriteError = undefined;
    if (this.closed) return failed;
    const lines = this.pending;
    if (lines.length > 0) {
      this.pending = [];
      const text = (this.torn ? '\n' : '') + lines.join('');
      // Written to the rewrite under way too, whether this append lands before or after it replaces the log.
      this.rewriting?.tail.push(...lines);
      try {
        await this.files.appendAsync(this.nodeId, text, this.suffix);
      } catch (err) {
        this.pending = [...lines, ...this.pending];
        return err as Error;
      }
      this.bytesWritten += Buffer.byteLength(text);
      this.torn = false;
      this.lines += lines.length;
    }
    if (!this.rewriting && (this.skipped > 0 || this.lines > this.live() * 2 + SLACK_LINES)) this.rewrite();
    return failed;
  }

  /** Keys live now, over all spaces. */
  live(): number {
    let n = 0;
    for (const space of this.spaces.values()) n += space.size;
    return n;
  }

  /** The live state, and only it, into a new file that replaces the log: a slice per turn of the event loop. */
  private rewrite(): void {
    let file: FileRewrite;
    try {
      file = this.files.rewrite(this.nodeId, this.suffix);
    } catch (err) {
      this.rewriteError = err as Error;
      return;
    }
    const rewrite: Rewrite = { file, tail: [], lines: 0, done: Promise.resolve() };
    this.rewriting = rewrite;
    this.skipped = 0;
    rewrite.done = this.writeLive(rewrite)
      .catch(async (err: unknown) => {
        await rewrite.file.abandon();
        if (!this.closed) this.rewriteError = err as Error;
      })
      .finally(() => {
        if (this.rewriting === rewrite) this.rewriting = undefined;
      });
  }

  private async writeLive(rewrite: Rewrite): Promise<void> {
    let slice: string[] = [];
    const write = async () => {
      const text = slice.join('');
      rewrite.lines += slice.length;
      slice = [];
      await rewrite.file.write(text);
      this.bytesWritten += Buffer.byteLength(text);
    };
    // A Map iterated across turns sees keys set meanwhile, and skips those deleted: the tail settles both.
    for (const [name, space] of this.spaces) {
      for (const [key, value] of space) {
        slice.push(`${JSON.stringify([name, key, value])}\n`);
        if (slice.length < REWRITE_SLICE) continue;
        await write();
        if (this.closed) throw new Error('closed');
      }
    }
    // What was flushed meanwhile follows, then the new file replaces the log; flushes wait for that.
    const commit = this.flushing.then(async () => {
      slice.push(...rewrite.tail);
      await write();
      await rewrite.file.commit();
      this.lines = rewrite.lines;
      this.torn = false;
    });
    this.flushing = commit.catch(() => undefined);
    await commit;
  }

  /** Waits for the flushes and a rewrite under way, then takes no more writes. */
  async close(): Promise<void> {
    await this.flushing;
    await this.rewriting?.done;
    this.closed = true;
  }

  /** The node was deleted: its file goes (a rewrite under way is abandoned). */
  async remove(): Promise<void> {
    this.closed = true;
    this.pending = [];
    await this.flushing;
    await this.rewriting?.done;
    this.files.removeFile(this.nodeId, this.suffix);
  }
}
