/**
 * npm run bench: every benchmark on one stack of processes (bench/stack.ts),
 * printed as Markdown tables with ratios against each benchmark's first row
 * (its ceiling), and written to bench/results.json.
 *   npm run bench -- --quick   small numbers, for CI (under a minute)
 * Figures depend on the machine; compare rows of one run, not runs.
 */
import os from 'node:os';
import { aciIngest } from './aci';
import { alertGate } from './alerts';
import { delivery } from './delivery';
import { FULL, QUICK, latency, memory, pipelineAci, pipelineVcd, spool } from './pipeline';
import { type ResultRow, type ScaleRow, printScaleTable, printTable, writeResults } from './results';
import { SCALE_ACI_TITLE, scaleAci } from './scale-aci';
import { SCALE_VCD_TITLE, scaleVcd } from './scale-vcd';
import { spoolIndex } from './spool-index';
import { type Stack, startStack } from './stack';

const TITLES: Record<ResultRow['benchmark'], string> = {
  'pipeline-vcd': 'pipeline-vcd: VCD message bus (mosquitto) → CloudEvents sink',
  'pipeline-aci': 'pipeline-aci: APIC socket → CloudEvents sink',
  'aci-ingest': 'aci-ingest: APIC socket → decoded object, the client alone (no Node-RED, no delivery)',
  delivery: 'delivery: CloudEvents to a counting sink, 50 in flight',
  latency: 'latency: publish → sink receipt at 1000 events/s',
  memory: 'memory: resident memory growth after a warm-up',
  spool: 'spool: cloudevent emit with the spool in memory and on disk',
  'alert-gate':
    'alert-gate: deciding doubles and storms, the gate alone (journal on disk: one fsync per turn)',
  'spool-index': "spool-index: the disk spool's memory per spooled event (the segment log alone)",
};

/** The benchmarks that run on one stack of processes (bench/stack.ts), started for them and stopped after. */
async function runOnStack(
  benchmarks: [ResultRow['benchmark'], (stack: Stack) => Promise<ResultRow[]>][],
): Promise<ResultRow[]> {
  const started = Date.now();
  const stack = await startStack();
  // Interrupted: stop every process of the stack, not only this one.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stack.stop().finally(() => process.exit(130)));
  }
  console.log(`(processes started in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const rows: ResultRow[] = [];
  try {
    if (typeof stack.seed === 'string') console.log(`(VCD seed approach rows skipped: ${stack.seed})`);
    if (typeof stack.seedAci === 'string') console.log(`(ACI seed approach row skipped: ${stack.seedAci})`);
    for (const [name, work] of benchmarks) {
      const started = Date.now();
      const got = await work(stack);
      printTable(TITLES[name], got);
      console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
      rows.push(...got);
    }
  } finally {
    await stack.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = { ...(quick ? QUICK : FULL) };
  // BENCH_EVENTS=<n>: events per contender of the throughput runs (pipelines, delivery, spool).
  if (process.env.BENCH_EVENTS) {
    sizes.pipeline = sizes.delivery = sizes.aciObjects = Number(process.env.BENCH_EVENTS);
  }
  console.log(
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, loopback` +
      (quick ? ' (--quick: small numbers, the ratios are not meaningful)' : ''),
  );
  const rows: (ResultRow | ScaleRow)[] = [];
  // BENCH_ONLY=pipeline-vcd,latency runs only those (to profile one).
  const only = process.env.BENCH_ONLY?.split(',');
  const onStack: [ResultRow['benchmark'], (stack: Stack) => Promise<ResultRow[]>][] = [
    ['pipeline-vcd', (stack) => pipelineVcd(stack, sizes)],
    ['pipeline-aci', (stack) => pipelineAci(stack, sizes)],
    ['aci-ingest', () => aciIngest(sizes.aciObjects)],
    ['delivery', (stack) => delivery(stack, sizes.delivery)],
    ['latency', (stack) => latency(stack, sizes)],
    ['memory', (stack) => memory(stack, sizes)],
    ['spool', (stack) => spool(stack, sizes)],
    ['alert-gate', () => alertGate(sizes.delivery)],
    ['spool-index', () => spoolIndex(sizes.spoolIndex)],
  ];
  const chosen = onStack.filter(([name]) => !only || only.includes(name));
  if (chosen.length > 0) rows.push(...(await runOnStack(chosen)));
  // The scale benchmarks start their own processes, one size after another, with the stack stopped.
  const scales: [string, string, () => Promise<ScaleRow[]>][] = [
    ['scale-aci', SCALE_ACI_TITLE, () => scaleAci(quick)],
    ['scale-vcd', SCALE_VCD_TITLE, () => scaleVcd(quick)],
  ];
  for (const [name, title, work] of scales) {
    if (only && !only.includes(name)) continue;
    const started = Date.now();
    const got = await work();
    printScaleTable(title, got);
    console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
    rows.push(...got);
  }
  console.log(`\nwritten: ${writeResults(rows)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
