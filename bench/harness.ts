/** What the benchmarks share: a simulator in a child process, timing, and the table. */
import { spawn } from 'node:child_process';
import { cpuSeconds } from './procs';
import path from 'node:path';

export interface SimProcess {
  url: string;
  caFile: string;
  pid: number;
  stop(): void;
}

export async function startSimProcess(
  kind: 'vcd' | 'sink' | 'apic' | 'vcd-relay',
  args: string[] = [],
): Promise<SimProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'sim-process.js'), kind, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
  );
  return {
    ...(JSON.parse(line) as { url: string; caFile: string }),
    pid: child.pid as number,
    stop: () => child.kill('SIGTERM'),
  };
}

export interface Row {
  contender: string;
  events: number;
  perSecond: number;
  /** CPU time of the process doing the work, per 1000 events. */
  cpuMsPer1k: number;
  /** The simulator's CPU over the run, as a share of one core. */
  simulatorShare: number;
}

/** Times `work` (which handles `events` events) in this process: wall time and CPU. */
export async function measure(
  contender: string,
  events: number,
  work: () => Promise<void>,
): Promise<Omit<Row, 'simulatorShare'> & { seconds: number }> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    contender,
    events,
    seconds,
    perSecond: events / seconds,
    cpuMsPer1k: ((cpu.user + cpu.system) / 1000 / events) * 1000,
  };
}

/** One row of several runs of one contender: the median of each column. */
export function medianRow(runs: Row[]): Row {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const first = runs[0] as Row;
  return {
    contender: first.contender,
    events: first.events,
    perSecond: median(runs.map((r) => r.perSecond)),
    cpuMsPer1k: median(runs.map((r) => r.cpuMsPer1k)),
    simulatorShare: median(runs.map((r) => r.simulatorShare)),
  };
}

/**
 * CPU seconds a seed script in another process spent after it had subscribed,
 * from the JSON lines it prints (`subscribedCpuSeconds`, then `cpuSeconds`).
 */
export function reportedCpuSeconds(output: string): number {
  const report = (key: string) =>
    output
      .split('\n')
      .filter((l) => l.includes(key))
      .map((l) => (JSON.parse(l) as Record<string, number>)[key] as number)[0] ?? NaN;
  return report('cpuSeconds') - report('subscribedCpuSeconds');
}

/** A contender, subscribed: `all` resolves when it received every event. */
export interface Contender {
  all: Promise<void>;
  close(): Promise<void>;
  /** For a contender in another process: the CPU seconds it reports. */
  cpuSeconds?: () => number;
}

/**
 * Runs one contender: `subscribe` resolves when it is subscribed; the time runs
 * from the start of `flood` (the simulator sending `count` events) to the last one received.
 */
export async function timed(
  contender: string,
  flood: (sim: SimProcess, count: number) => Promise<void>,
  sim: SimProcess,
  count: number,
  subscribe: () => Promise<Contender>,
): Promise<Row> {
  const run = await subscribe();
  const simBefore = cpuSeconds(sim.pid);
  const { seconds, ...row } = await measure(contender, count, () =>
    Promise.all([flood(sim, count), run.all]).then(() => undefined),
  );
  const simulatorShare = (cpuSeconds(sim.pid) - simBefore) / seconds;
  await run.close();
  if (!run.cpuSeconds) return { ...row, simulatorShare };
  // In another process: its own CPU time.
  return { ...row, simulatorShare, cpuMsPer1k: ((run.cpuSeconds() * 1000) / count) * 1000 };
}
