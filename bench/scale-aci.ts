/**
 * scale-aci: what watching a large fabric costs, at growing sizes. For each
 * size an APIC simulator (its own process) holds that many objects, changing
 * at a steady rate, and aci subscribe's layers (scale-aci-child.ts, its own
 * process: the subscriber, the saved state of `initial: changes`, output
 * `event`) watch them:
 *
 * - start → live: from the subscription to the first pushed change that
 *   leaves (pushes wait for the read of every page); the first run, no state;
 * - steady: saved-state bytes written per minute while the objects change;
 * - reconnect → live: the sockets dropped, from the new socket to the first
 *   pushed change that leaves (the read again, compared with what was known);
 * - restart → live: a new process with the saved state (read, compare, send);
 * - peak RSS of the two processes, per object over the process's own start;
 *   the longest event-loop stall (monitorEventLoopDelay, in the measured
 *   process); CPU per object of the first read.
 *
 *   node dist/bench/scale-aci.js [--quick]   runs it alone
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSeconds } from './procs';
import type { ScaleRow } from './results';
import {
  LineChild,
  MiB,
  control,
  load,
  runAlone,
  steadyStretchMs,
  stopOnExit,
  type ChildStats,
  type Live,
} from './scale';
import { startSimProcess, type SimProcess } from './harness';

/** Changes per second on the APIC while it is watched: the same at every size. */
const CHANGES_PER_SEC = 100;

export interface AciScale {
  contender: string;
  /** Objects per class. */
  populations: Record<string, number>;
}

/** One class growing, then a fabric of several (one node watching each class). */
export function aciSizes(quick: boolean): AciScale[] {
  const endpoints = (n: number): AciScale => ({ contender: 'fvCEp', populations: { fvCEp: n } });
  const mixed = (n: number): AciScale => ({
    contender: 'fabric: fvCEp, fvAEPg, faultInst, healthInst, aaaModLR',
    populations: {
      fvCEp: Math.round(n * 0.7),
      fvAEPg: Math.round(n * 0.05),
      faultInst: Math.round(n * 0.05),
      healthInst: Math.round(n * 0.05),
      aaaModLR: Math.round(n * 0.15),
    },
  });
  if (quick) return [endpoints(1000), mixed(2000)];
  const only = process.env.BENCH_SIZES?.split(',').map(Number);
  const sizes = only ?? [1000, 10_000, 100_000, 300_000];
  return [...sizes.map(endpoints), mixed(sizes[sizes.length - 1] as number)];
}

interface Stats extends ChildStats {
  /** Own stalls over 50 ms: [ms since the process started measuring, ms]. */
  longStalls: [number, number][];
}

const MINUTE = 60_000;

/** One process of aci subscribe's layers over `sim`, with its state in `userDir`. */
async function watcher(sim: SimProcess, entries: string, userDir: string): Promise<[LineChild, number]> {
  const config = { url: sim.url, caFile: sim.caFile, entries, userDir, nodeId: 'scale-aci' };
  // BENCH_CHILD_ARGS: more options for the measured process's node (--trace-gc, --cpu-prof, ...).
  const extra = process.env.BENCH_CHILD_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = new LineChild(
    'scale-aci-child.js',
    [JSON.stringify(config)],
    ['--max-old-space-size=6144', ...extra],
  );
  const { rss } = await child.next<{ rss: number }>('ready', 60_000);
  return [child, rss];
}

async function measureSize(scale: AciScale, steadyMs: number): Promise<ScaleRow> {
  const size = Object.values(scale.populations).reduce((a, b) => a + b, 0);
  const loadBefore = load();
  const sim = await startSimProcess('apic', [
    JSON.stringify({ populations: scale.populations, populationRatePerSec: CHANGES_PER_SEC }),
  ]);
  const release = stopOnExit(() => sim.stop());
  const ca = fs.readFileSync(sim.caFile, 'utf8');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-aci-'));
  const entries = Object.keys(scale.populations).join('\n');
  const budget = 120_000 + size * 5; // generous: the machine is shared
  try {
    const [first, base] = await watcher(sim, entries, userDir);
    const simCpu = cpuSeconds(sim.pid);
    const start = await first.next<Live>('live', budget);
    const simShare = (cpuSeconds(sim.pid) - simCpu) / (start.ms / 1000);
    const before = await first.ask<Stats>('stats');
    await new Promise((r) => setTimeout(r, steadyMs));
    const after = await first.ask<Stats>('stats');
    const stateKiBPerMin = ((after.stateBytes - before.stateBytes) / 1024) * (MINUTE / steadyMs);
    first.send('expect-reconnect');
    await control(`${sim.url}/_sim/sockets/drop`, ca);
    const reconnect = await first.next<Live>('live', budget);
    const firstStats = await first.ask<Stats>('stats');
    const firstPeak = first.peakRss();
    await first.stop();
    const [second] = await watcher(sim, entries, userDir);
    const restart = await second.next<Live>('live', budget);
    const secondStats = await second.ask<Stats>('stats');
    const peak = Math.max(firstPeak, second.peakRss());
    if (process.env.BENCH_DEBUG)
      console.error(JSON.stringify({ long: [firstStats.longStalls, secondStats.longStalls] }));
    await second.stop();
    return {
      benchmark: 'scale-aci',
      contender: scale.contender,
      size,
      figures: {
        startS: start.ms / 1000,
        reconnectS: reconnect.ms / 1000,
        restartS: restart.ms / 1000,
        peakRssMiB: peak / MiB,
        rssPerObjectB: (peak - base) / size,
        maxStallMs: Math.max(firstStats.maxStallMs, secondStats.maxStallMs),
        ownStallMs: Math.max(firstStats.ownStallMs, secondStats.ownStallMs),
        cpuUsPerObject: (start.cpuMs * 1000) / size,
        stateKiBPerMin,
      },
      load: Math.max(loadBefore, load()),
      boundBy: `APIC simulator ${Math.round(simShare * 100)}% of a core during the first read`,
    };
  } finally {
    release();
    sim.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

/** Every size in turn, a row each. */
export async function scaleAci(quick: boolean): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const scale of aciSizes(quick)) {
    const row = await measureSize(scale, steadyStretchMs(quick));
    rows.push(row);
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify(row));
  }
  return rows;
}

export const SCALE_ACI_TITLE =
  'scale-aci: an APIC of N objects changing 100 times a second, watched by aci subscribe (initial: changes)';

if (require.main === module) runAlone(SCALE_ACI_TITLE, scaleAci);
