/**
 * The life cycle every node's saved state shares: read at start, saved every
 * `everyMs` (a kill loses at most that much progress) and at close, deleted
 * with the node, never written after close. A store that must put something on
 * disk before a send leaves (a write-ahead) has its sends held, in order, until
 * that write is done. Failures warn once per run of them, and again after a
 * success.
 *
 * What is saved, and how, is the store's: a store may be synchronous (its
 * state is then restored before the constructor returns, and a close that
 * needs no write-ahead is done before it returns) or asynchronous.
 */

type Maybe<T> = T | Promise<T>;

/** What a node's saved state offers its keeper. */
export interface KeptState<S> {
  /** Reads what the node saved when it last ran. */
  load(): Maybe<S>;
  /** Writes what changed; a failed write is returned and retried at the next save. */
  save(): Maybe<Error | undefined>;
  /** The node was deleted: its saved state goes. */
  remove(): Maybe<void>;
  /** Releases what the store holds open, after the last save. */
  close?(): Maybe<void>;
  /** Must something be written before the next send? (Stores with a write-ahead.) */
  readonly mustWrite?: boolean;
  /** Writes what a send waits for. */
  writeAhead?(): Promise<Error | undefined>;
}

export interface StateKeeperOptions<S> {
  /** What is restored on a first run, or when the saved state cannot be read. */
  firstRun: S;
  /** How a failure to keep the state begins its warning. */
  failure: string;
  warn: (message: string) => void;
  /** Milliseconds between saves. */
  everyMs: number;
}

export class StateKeeper<S> {
  /** What the node saved when it last ran (once `ready`). */
  restored: S;
  /** Resolves once the saved state is read (never rejects: an unreadable state is a first run). */
  readonly ready: Promise<void>;
  protected closed = false;
  private readonly warn: (message: string) => void;
  private readonly failure: string;
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  /** Sends waiting for the next write, in order. */
  private queue: (() => void)[] = [];
  /** Sends whose write is under way: a later send must not overtake them. */
  private waiting = 0;
  private flushing = false;
  /** The last write-ahead begun (they run one at a time). */
  private flushed = Promise.resolve();
  private loading = true;

  constructor(
    private readonly state: KeptState<S>,
    options: StateKeeperOptions<S>,
  ) {
    this.restored = options.firstRun;
    this.warn = options.warn;
    this.failure = options.failure;
    this.ready = this.load();
    this.timer = setInterval(() => this.saveSoon(), options.everyMs);
    this.timer.unref();
  }

  /**
   * Runs `send` once what it reports is on disk: at once when nothing needs
   * writing, otherwise after one write for everything sent meanwhile.
   */
  send(send: () => void): void {
    // Closed (a push between close and unwatch): nothing more is kept, and a deleted node's files stay gone.
    if (this.closed || (this.queue.length === 0 && this.waiting === 0 && !this.state.mustWrite))
      return send();
    this.queue.push(send);
    this.writeSoon();
  }

  /** Saves (or, `removed`, deletes) the state one last time; never rejects, and nothing is written after. */
  async close(removed: boolean): Promise<void> {
    clearInterval(this.timer);
    try {
      if (this.state.writeAhead) await this.flush();
      this.closed = true;
      if (this.loading) await this.ready;
      if (removed) return await this.state.remove();
      await this.save();
      await this.state.close?.();
    } catch (err) {
      this.report(err as Error);
    }
  }

  /** Writes at the next turn what is queued (once, however often asked). */
  protected writeSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flush().catch((err: unknown) => this.report(err as Error));
    });
  }

  private load(): Promise<void> {
    try {
      const loaded = this.state.load();
      if (!(loaded instanceof Promise)) {
        this.restored = loaded;
        this.loading = false;
        return Promise.resolve();
      }
      return loaded
        .then(
          (restored) => void (this.restored = restored),
          (err: unknown) => this.report(err as Error),
        )
        .finally(() => (this.loading = false));
    } catch (err) {
      this.report(err as Error);
      this.loading = false;
      return Promise.resolve();
    }
  }

  private saveSoon(): void {
    Promise.resolve(this.save()).catch((err: unknown) => this.report(err as Error));
  }

  /** Synchronous when the store is: a close needing no write-ahead is done before it returns. */
  private save(): Maybe<void> {
    try {
      const saved = this.state.save();
      if (!(saved instanceof Promise)) return this.report(saved);
      return saved.then(
        (error) => this.report(error),
        (err: unknown) => this.report(err as Error),
      );
    } catch (err) {
      this.report(err as Error);
    }
  }

  /** Writes what is queued, then runs the sends that waited for it; one write at a time, so sends keep their order. */
  private flush(): Promise<void> {
    this.flushed = this.flushed.then(() => this.flushNow());
    return this.flushed;
  }

  private async flushNow(): Promise<void> {
    this.flushing = false;
    const sends = this.queue.splice(0);
    this.waiting += sends.length;
    // A failed write is reported, and the sends still go: holding them back would lose them for sure.
    if (!this.closed && this.state.writeAhead) {
      this.report(await this.state.writeAhead().catch((err: unknown) => err as Error));
    }
    this.waiting -= sends.length;
    for (const send of sends) {
      try {
        send();
      } catch (err) {
        this.warn(`Cannot send a change: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  /** One warning per run of failures, not one per save. */
  private report(error: Error | undefined): void {
    if (error && !this.failing) this.warn(`${this.failure}: ${error.message ?? String(error)}`);
    this.failing = error !== undefined;
  }
}
