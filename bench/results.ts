/** The rows of every benchmark, as printed tables and as bench/results.json. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Benchmark =
  | 'pipeline-vcd'
  | 'pipeline-aci'
  | 'aci-ingest'
  | 'delivery'
  | 'latency'
  | 'memory'
  | 'spool'
  | 'alert-gate'
  | 'spool-index';

/** A row of a scale benchmark: one size of the work, what it cost. */
export interface ScaleRow {
  benchmark: 'scale-aci' | 'scale-vcd';
  /** What grows: the watched classes, or the cloud's shape. */
  contender: string;
  /** Objects watched (ACI), organizations or records (VCD). */
  size: number;
  /** Named figures of this row, in the order the table shows them (null: not measured). */
  figures: Record<string, number | null>;
  /** The machine's load average (1 min) when the row was measured: the machine is shared. */
  load: number;
  boundBy: string;
}

export interface ResultRow {
  benchmark: Benchmark;
  contender: string;
  events: number;
  eventsPerSec: number | null;
  /** CPU time of the contender's own process per 1000 events. */
  cpuMsPer1k: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rssGrowthMiB: number | null;
  /** Which process was busiest, with its share of one core (see procs.boundBy). */
  boundBy: string;
}

const fixed = (v: number | null, digits = 0) => (v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));
const ratio = (v: number | null, base: number | null) =>
  v === null || base === null || !base || Number.isNaN(v) ? '–' : `${(v / base).toFixed(2)}×`;

/** A Markdown table of one benchmark; ratios are against its first row (the ceiling). */
export function printTable(title: string, rows: ResultRow[]): void {
  const base = rows[0];
  console.log(`\n${title}\n`);
  console.log(
    '| contender | events | events/s | vs ceiling | CPU ms / 1k | vs ceiling | p50 ms | p99 ms | RSS growth MiB | bound by |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.contender} | ${r.events} | ${fixed(r.eventsPerSec)} | ${ratio(r.eventsPerSec, base?.eventsPerSec ?? null)} | ` +
        `${fixed(r.cpuMsPer1k)} | ${ratio(r.cpuMsPer1k, base?.cpuMsPer1k ?? null)} | ${fixed(r.p50Ms, 1)} | ` +
        `${fixed(r.p99Ms, 1)} | ${fixed(r.rssGrowthMiB, 1)} | ${r.boundBy} |`,
    );
  }
}

/** The column of each figure a scale row may have. */
const SCALE_LABELS: Record<string, string> = {
  startS: 'start → live s',
  reconnectS: 'reconnect → live s',
  restartS: 'restart → live s',
  recoveryS: 'recovery s',
  recovered: 'recovered',
  eventsPerSec: 'events/s',
  peakRssMiB: 'peak RSS MiB',
  rssPerObjectB: 'RSS B / object',
  maxStallMs: 'max stall ms',
  ownStallMs: 'own stall ms',
  cpuUsPerObject: 'CPU µs / object',
  cpuUsPerEvent: 'CPU µs / event',
  stateKiBPerMin: 'state KiB / min',
};

/** A Markdown table of one scale benchmark: a row per size, its figures as columns. */
export function printScaleTable(title: string, rows: ScaleRow[]): void {
  console.log(`\n${title}\n`);
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.figures)))];
  const labels = names.map((n) => SCALE_LABELS[n] ?? n);
  console.log(`| contender | size | ${labels.join(' | ')} | load | bound by |`);
  console.log(`| --- | ---: | ${names.map(() => '---:').join(' | ')} | ---: | --- |`);
  for (const r of rows) {
    const cells = names.map((n) => {
      const v = r.figures[n];
      if (v === null || v === undefined || Number.isNaN(v)) return '–';
      return Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(0);
    });
    console.log(
      `| ${r.contender} | ${r.size} | ${cells.join(' | ')} | ${r.load.toFixed(1)} | ${r.boundBy} |`,
    );
  }
  const stalled = rows.filter((r) => (r.figures.ownStallMs ?? 0) > OWN_STALL_BOUND_MS);
  for (const r of stalled)
    console.log(
      `\nover the bound: ${r.contender} (${r.size}) held the event loop ${r.figures.ownStallMs?.toFixed(0)} ms`,
    );
}

/** The longest the measured process may keep the event loop to itself, at any size (docs/benchmarks.md, Scale). */
export const OWN_STALL_BOUND_MS = 50;

const isScale = (r: ResultRow | ScaleRow): r is ScaleRow => r.benchmark.startsWith('scale-');

/** A scale row as bench/results.json keeps it: its figures beside size (4 significant digits). */
function flatScale({ figures, ...r }: ScaleRow): Record<string, unknown> {
  const out: Record<string, unknown> = { benchmark: r.benchmark, contender: r.contender, size: r.size };
  for (const [k, v] of Object.entries(figures))
    out[k] = v === null || Number.isNaN(v) ? null : Number(v.toPrecision(4));
  return { ...out, load: Number(r.load.toFixed(2)), boundBy: r.boundBy };
}

export function writeResults(all: (ResultRow | ScaleRow)[]): string {
  const file = path.resolve(__dirname, '../../bench/results.json');
  const round = (v: number | null, digits: number) =>
    v === null || Number.isNaN(v) ? null : Number(v.toFixed(digits));
  const out = {
    node: process.version,
    cpus: os.cpus().length,
    rows: all.map((r) =>
      isScale(r)
        ? flatScale(r)
        : {
            ...r,
            eventsPerSec: round(r.eventsPerSec, 0),
            cpuMsPer1k: round(r.cpuMsPer1k, 1),
            p50Ms: round(r.p50Ms, 2),
            p99Ms: round(r.p99Ms, 2),
            rssGrowthMiB: round(r.rssGrowthMiB, 1),
          },
    ),
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  return file;
}
