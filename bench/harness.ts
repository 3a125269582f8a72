/** What the benchmarks share: a simulator in a child process, timing, and the table. */
import { spawn } from 'node:child_process';
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
  /** Heap growth over the run; undefined for a contender in another process. */
  heapMiB?: number;
}

/** Times `work` (which handles `events` events) in this process: wall time, CPU, heap. */
export async function measure(contender: string, events: number, work: () => Promise<void>): Promise<Row> {
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    contender,
    events,
    perSecond: events / seconds,
    cpuMsPer1k: ((cpu.user + cpu.system) / 1000 / events) * 1000,
    heapMiB: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20,
  };
}

/** One row of several runs of one contender: the median of each column (heap: of those measured). */
export function medianRow(runs: Row[]): Row {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const first = runs[0] as Row;
  const heaps = runs.map((r) => r.heapMiB).filter((h): h is number => h !== undefined);
  return {
    contender: first.contender,
    events: first.events,
    perSecond: median(runs.map((r) => r.perSecond)),
    cpuMsPer1k: median(runs.map((r) => r.cpuMsPer1k)),
    heapMiB: heaps.length ? median(heaps) : undefined,
  };
}

/** A Markdown table; ratios are against the first row. */
export function printTable(title: string, rows: Row[]): void {
  const base = rows[0] as Row;
  console.log(`\n${title}\n`);
  console.log('| contender | events | events/s | vs first | CPU ms / 1k events | vs first | heap growth |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const heap = r.heapMiB === undefined ? '(own process)' : `${r.heapMiB.toFixed(1)} MiB`;
    console.log(
      `| ${r.contender} | ${r.events} | ${Math.round(r.perSecond)} | ${(r.perSecond / base.perSecond).toFixed(2)}× | ` +
        `${r.cpuMsPer1k.toFixed(0)} | ${(r.cpuMsPer1k / base.cpuMsPer1k).toFixed(2)}× | ${heap} |`,
    );
  }
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
  const row = await measure(contender, count, () =>
    Promise.all([flood(sim, count), run.all]).then(() => undefined),
  );
  await run.close();
  if (!run.cpuSeconds) return row;
  // In another process: its own CPU time, no heap figure.
  return { ...row, cpuMsPer1k: ((run.cpuSeconds() * 1000) / count) * 1000, heapMiB: undefined };
}
