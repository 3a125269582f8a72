/**
 * "No stall over N ms" on adversarial input, measured so that a busy machine
 * does not fail it and a super-linear path cannot pass it: the time counted is
 * the CPU time of the JavaScript thread (what a run would hold the event loop
 * on an idle machine; other processes on a shared one, and the collector's
 * helper threads, do not count), a run near the bound is timed again (a
 * collection can stall any one run) and the best counts; a run far beyond it is
 * not repeated. Inputs grow in steps, so that a quadratic path fails on the
 * small one instead of blocking for minutes.
 */
import fs from 'node:fs';

/** CPU time of the calling thread in ms (Linux: its schedstat, in ns); elsewhere the process's. */
export function threadCpuMs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}

/**
 * Watches the turns of the event loop from now: `stop()` gives the most CPU
 * time the thread spent between two ticks of a 5 ms timer, the longest any
 * one piece of work held the loop.
 */
export function watchTurns(): { stop(): number } {
  let longest = 0;
  let last = threadCpuMs();
  const ticker = setInterval(() => {
    const now = threadCpuMs();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(ticker);
      return Math.max(longest, threadCpuMs() - last);
    },
  };
}

/** The input sizes tried, smallest first: 64 KiB, then the limit. */
export const steps = (limit: number): number[] => [Math.min(64 * 1024, limit), limit];

/** The CPU time `run` takes in ms, the best of up to three runs while it is near `boundMs`. */
export function bestTime(run: () => void, boundMs: number): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = threadCpuMs();
    run();
    best = Math.min(best, threadCpuMs() - t0);
    if (best < boundMs / 2 || best > boundMs * 20) break;
  }
  return best;
}

/** The slowest of `inputs(size)` under `run`, size by size; stops at the first size where one passes the bound. */
export function slowest<T>(
  sizes: number[],
  inputs: (size: number) => T[],
  run: (input: T) => void,
  boundMs: number,
): { ms: number; input?: T; size: number } {
  let worst: { ms: number; input?: T; size: number } = { ms: 0, size: 0 };
  for (const size of sizes) {
    for (const input of inputs(size)) {
      const ms = bestTime(() => run(input), boundMs);
      if (ms > worst.ms) worst = { ms, input, size };
    }
    if (worst.ms >= boundMs) break;
  }
  return worst;
}
