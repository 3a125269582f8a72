/**
 * The longest event-loop stall of the process it runs in, two ways:
 *
 * - raw: `monitorEventLoopDelay` (how late a timer fired), which on a shared
 *   machine also counts the time the thread was ready but waited for a core;
 * - own: the same lateness of a 10 ms timer minus what the kernel counted as
 *   waiting for a core meanwhile (`run_delay` of /proc/self/task/<pid>/schedstat),
 *   so what is left is the process's own work (code and garbage collection).
 *
 * Where schedstat cannot be read, own is raw.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const TICK_MS = 10;

/** Nanoseconds the main thread has waited on a run queue so far, in ms; undefined where not readable. */
function runDelayMs(): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    return undefined;
  }
}

export class Stalls {
  private readonly raw = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | undefined;
  private ownMax = 0;
  private ownMaxAt = 0;
  private started = 0;
  /** Own stalls longer than 50 ms: when (ms since start) and how long. */
  readonly long: [at: number, ms: number][] = [];

  start(): void {
    this.raw.enable();
    let last = (this.started = performance.now());
    let waited = runDelayMs();
    this.timer = setInterval(() => {
      const now = performance.now();
      const waitedNow = runDelayMs();
      const late = now - last - TICK_MS;
      const own = late - (waitedNow !== undefined && waited !== undefined ? waitedNow - waited : 0);
      if (own > this.ownMax) {
        this.ownMax = own;
        this.ownMaxAt = now - this.started;
      }
      if (own > 50 && this.long.length < 100)
        this.long.push([Math.round(now - this.started), Math.round(own)]);
      last = now;
      waited = waitedNow;
    }, TICK_MS);
    this.timer.unref();
  }

  /** The longest stalls so far, in ms. */
  get max(): { rawMs: number; ownMs: number; ownAtMs: number } {
    return { rawMs: this.raw.max / 1e6, ownMs: Math.max(0, this.ownMax), ownAtMs: this.ownMaxAt };
  }
}
