/**
 * The blocking tasks a node showed an approver and that still wait: their
 * deadlines on our clock (from the time VCD said was left), and what became
 * of each once its time ran out (read again shortly after the deadline, and a
 * few more times while VCD still shows it waiting). Bounded; no Node-RED import.
 */
import { CodedError, toCoded } from '../common/errors';
import { BlockingCodes, type BlockingTaskView } from './blocking-task';

/** The task status VCD gives each default action (docs/vcd.md: abort → aborted, fail → error). */
const TASK_STATUS_OF: Record<string, string[]> = {
  abort: ['aborted'],
  fail: ['error'],
  resume: ['running', 'success', 'queued', 'preRunning'],
};

/** Did VCD apply the default action, as far as the task's status tells? */
export function appliedDefault(view: BlockingTaskView): boolean {
  const expected = TASK_STATUS_OF[view.timeout.action ?? ''];
  return expected !== undefined && view.task.status !== undefined && expected.includes(view.task.status);
}

export interface PendingOptions {
  /** Reads a blocking task again. */
  read: (uuid: string) => Promise<BlockingTaskView>;
  /** A waiting one ended (after its deadline). */
  ended: (view: BlockingTaskView) => void;
  /** A check failed, or VCD still shows it waiting long after its deadline. */
  failed: (error: CodedError, uuid: string) => void;
  /** Reading again this long after the deadline (VCD applies the action on its own schedule). */
  graceMs?: number;
  retryMs?: number;
  /** Checks after the deadline before giving up on one. */
  maxChecks?: number;
  /** Most blocking tasks watched at once; the oldest goes first. */
  max?: number;
}

interface Entry {
  uuid: string;
  /** When its time runs out, on our clock. */
  deadline: number;
  /** The next check. */
  due: number;
  checks: number;
}

export const PendingCodes = {
  STILL_WAITING: 'VCD_BLOCKING_STILL_WAITING',
  TOO_MANY: 'VCD_BLOCKING_TOO_MANY_WAITING',
} as const;

export class PendingApprovals {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly graceMs: number;
  private readonly retryMs: number;
  private readonly maxChecks: number;
  private readonly max: number;

  constructor(private readonly options: PendingOptions) {
    this.graceMs = options.graceMs ?? 2000;
    this.retryMs = options.retryMs ?? 5000;
    this.maxChecks = options.maxChecks ?? 12;
    this.max = options.max ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds left of the one that runs out first, if any waits. */
  nearestLeft(): number | undefined {
    let nearest: number | undefined;
    for (const e of this.entries.values()) nearest = Math.min(nearest ?? Infinity, e.deadline);
    return nearest === undefined ? undefined : Math.max(0, nearest - Date.now());
  }

  /** Watches a waiting blocking task (read just now, with the time VCD said was left). */
  add(uuid: string, view: BlockingTaskView): void {
    if (this.closed || view.status !== 'active' || view.timeout.leftMs === undefined) return;
    this.entries.delete(uuid);
    const deadline = Date.now() + view.timeout.leftMs;
    this.entries.set(uuid, { uuid, deadline, due: deadline + this.graceMs, checks: 0 });
    if (this.entries.size > this.max) {
      const [oldest] = this.entries.keys();
      this.entries.delete(oldest as string);
      this.options.failed(
        new CodedError(
          PendingCodes.TOO_MANY,
          `More than ${this.max} blocking tasks wait: no longer watching ${oldest}.`,
        ),
        oldest as string,
      );
    }
    this.schedule();
  }

  remove(uuid: string): void {
    this.entries.delete(uuid);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.entries.clear();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.entries.size === 0) return;
    let due = Infinity;
    for (const e of this.entries.values()) due = Math.min(due, e.due);
    // A deadline days away is reached through shorter waits (timers cap at 2^31 ms).
    this.timer = setTimeout(() => this.checkDue(), Math.min(Math.max(0, due - Date.now()), 3_600_000));
    this.timer.unref();
  }

  private checkDue(): void {
    const now = Date.now();
    const due = [...this.entries.values()].filter((e) => e.due <= now);
    Promise.all(due.map((e) => this.check(e)))
      .catch(() => undefined)
      .finally(() => this.schedule());
  }

  private async check(e: Entry): Promise<void> {
    e.checks++;
    try {
      const view = await this.options.read(e.uuid);
      if (this.entries.get(e.uuid) !== e) return; // answered or closed meanwhile
      if (view.status !== 'active') {
        this.entries.delete(e.uuid);
        this.options.ended(view);
        return;
      }
      if (e.checks >= this.maxChecks) {
        this.entries.delete(e.uuid);
        this.options.failed(
          new CodedError(
            PendingCodes.STILL_WAITING,
            `Blocking task ${e.uuid} still waits long after its timeout.`,
          ),
          e.uuid,
        );
        return;
      }
    } catch (err) {
      if (this.entries.get(e.uuid) !== e) return;
      const error = toCoded(err, 'VCD');
      // Gone from VCD, or failing again and again: no more checks.
      if (error.code === BlockingCodes.NOT_FOUND || e.checks >= this.maxChecks) this.entries.delete(e.uuid);
      this.options.failed(error, e.uuid);
    }
    e.due = Date.now() + this.retryMs;
  }
}
