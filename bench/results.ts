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

export function writeResults(rows: ResultRow[]): string {
  const file = path.resolve(__dirname, '../../bench/results.json');
  const round = (v: number | null, digits: number) =>
    v === null || Number.isNaN(v) ? null : Number(v.toFixed(digits));
  const out = {
    node: process.version,
    cpus: os.cpus().length,
    rows: rows.map((r) => ({
      ...r,
      eventsPerSec: round(r.eventsPerSec, 0),
      cpuMsPer1k: round(r.cpuMsPer1k, 1),
      p50Ms: round(r.p50Ms, 2),
      p99Ms: round(r.p99Ms, 2),
      rssGrowthMiB: round(r.rssGrowthMiB, 1),
    })),
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  return file;
}
