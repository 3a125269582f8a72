/**
 * Property-based fuzzing with fast-check. FUZZ_RUNS is the number of runs of
 * all properties together (a few thousand in `npm test`, 200,000 in
 * `npm run test:fuzz`); each property gets its share. The slowest input of each
 * property is reported, never asserted: timings belong to benchmarks.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { excerpt } from '../../nodes/common/http';

const TOTAL_RUNS = Number(process.env.FUZZ_RUNS) || 4000;
/**
 * `npm test` (no FUZZ_RUNS) draws the same inputs every run, so a red CI is a
 * change of ours and never the luck of the draw; the long run draws new ones each
 * time (FUZZ_SEED repeats a run that failed: fast-check prints its seed).
 */
const SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : process.env.FUZZ_RUNS
    ? undefined
    : 20261202;
const properties: string[] = [];
const slowest: { property: string; ms: number; input: string; accepted: number }[] = [];

/** How long `run` takes, in ms (it may throw: the property then fails). */
function timed(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Declares a property (at load time, so every property's share is known before the first one runs). A check
 * that returns whether it accepted its input (true: decoded, encoded) can be held to a share of accepted
 * inputs: a property that passes because every input was refused proves nothing.
 */
export function property<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => boolean | void,
  minAccepted = 0,
): void {
  properties.push(name);
  it(name, function () {
    this.timeout(0);
    const runs = Math.max(100, Math.ceil(TOTAL_RUNS / properties.length));
    let worst = { ms: -1, input: '' };
    let accepted = 0;
    fc.assert(
      fc.property(arbitrary, (value) => {
        const ms = timed(() => {
          if (check(value) === true) accepted++;
        });
        // A garbage collection or another process can stall any one run: a new worst is timed again.
        if (ms > worst.ms) {
          const again = Math.min(
            ms,
            timed(() => check(value)),
          );
          if (again > worst.ms) worst = { ms: again, input: excerpt(value, 60) };
        }
      }),
      { numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    const share = accepted / runs;
    slowest.push({ property: name, ...worst, accepted: share });
    assert.ok(
      share >= minAccepted,
      `${accepted} of ${runs} inputs accepted, fewer than ${minAccepted * 100}%`,
    );
  });
}

after(function () {
  if (slowest.length === 0) return;
  const lines = slowest
    .sort((a, b) => b.ms - a.ms)
    .map(
      (s) =>
        `      ${s.ms.toFixed(1).padStart(7)} ms  ${(s.accepted * 100).toFixed(0).padStart(3)}%  ${s.property}  (${s.input})`,
    );
  console.log(
    `    slowest input per property and the share accepted (${TOTAL_RUNS} runs in all):\n${lines.join('\n')}`,
  );
});
