/**
 * "No stall over N ms" on adversarial input, measured so that a busy machine
 * does not fail it and a super-linear path cannot pass it: the time counted is
 * the process's CPU time (what a run would hold the event loop on an idle
 * machine; other processes on a shared one do not count), a run near the bound
 * is timed again (a collection can stall any one run) and the best counts; a
 * run far beyond it is not repeated. Inputs grow in steps, so that a quadratic
 * path fails on the small one instead of blocking for minutes.
 */

/** The input sizes tried, smallest first: 64 KiB, then the limit. */
export const steps = (limit: number): number[] => [Math.min(64 * 1024, limit), limit];

/** The CPU time `run` takes in ms, the best of up to three runs while it is near `boundMs`. */
export function bestTime(run: () => void, boundMs: number): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.cpuUsage();
    run();
    const { user, system } = process.cpuUsage(t0);
    best = Math.min(best, (user + system) / 1000);
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
