/**
 * The longest event-loop stall of the process it runs in, two ways:
 *
 * - raw: `monitorEventLoopDelay` (how late a timer fired), which on a shared
 *   machine also counts the time the thread was ready but waited for a core;
 * - own: for each lateness of a 10 ms timer, the part the main thread spent
 *   working: its CPU time between the two firings (`cpu_time` of
 *   /proc/self/task/<pid>/schedstat), and no more than the lateness less what
 *   the kernel counted as waiting for a core (`run_delay`). What the process
 *   did without giving the event loop a turn (code and garbage collection on
 *   the main thread), whatever else the machine does. On a quiet machine the
 *   two agree; on a busy one the truth lies between them.
 *
 * Where schedstat cannot be read, own is raw.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const TICK_MS = 10;

/** The main thread's CPU time and run-queue wait so far, in ms; undefined where not readable. */
function schedstat(): { cpu: number; waited: number } | undefined {
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return { cpu: Number(fields[0]) / 1e6, waited: Number(fields[1]) / 1e6 };
  } catch {
    return undefined;
  }
}

export class Stalls {
  private readonly raw = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | undefined;
  private ownMax = 0;
  private started = 0;
  /** Own stalls longer than 50 ms: when (ms since start) and how long. */
  readonly long: [at: number, ms: number][] = [];

  start(): void {
    this.raw.enable();
    let last = (this.started = performance.now());
    let before = schedstat();
    this.timer = setInterval(() => {
      const now = performance.now();
      const after = schedstat();
      const late = now - last - TICK_MS;
      const own =
        after && before ? Math.min(after.cpu - before.cpu, late - (after.waited - before.waited)) : late;
      if (own > this.ownMax) this.ownMax = own;
      if (own > 50 && this.long.length < 100)
        this.long.push([Math.round(now - this.started), Math.round(own)]);
      last = now;
      before = after;
    }, TICK_MS);
    this.timer.unref();
  }

  /** The longest stalls so far, in ms. */
  get max(): { rawMs: number; ownMs: number } {
    return { rawMs: this.raw.max / 1e6, ownMs: Math.max(0, this.ownMax) };
  }
}
