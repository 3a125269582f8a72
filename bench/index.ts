/**
 * npm run bench: every benchmark on one stack of processes (bench/stack.ts),
 * printed as Markdown tables with ratios against each benchmark's first row
 * (its ceiling), and written to bench/results.json.
 *   npm run bench -- --quick   small numbers, for CI (under a minute)
 * Figures depend on the machine; compare rows of one run, not runs.
 */
import os from 'node:os';
import { delivery } from './delivery';
import { FULL, QUICK, latency, memory, pipelineAci, pipelineVcd, spool } from './pipeline';
import { type ResultRow, printTable, writeResults } from './results';
import { startStack } from './stack';

const TITLES: Record<ResultRow['benchmark'], string> = {
  'pipeline-vcd': 'pipeline-vcd: VCD message bus (mosquitto) → CloudEvents sink',
  'pipeline-aci': 'pipeline-aci: APIC socket → CloudEvents sink',
  delivery: 'delivery: CloudEvents to a counting sink, 50 in flight',
  latency: 'latency: publish → sink receipt at 1000 events/s',
  memory: 'memory: resident memory growth after a warm-up',
  spool: 'spool: cloudevent emit with the spool in memory and on disk',
};

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  console.log(
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, loopback` +
      (quick ? ' (--quick: small numbers, the ratios are not meaningful)' : ''),
  );
  const stack = await startStack();
  const rows: ResultRow[] = [];
  const run = async (work: () => Promise<ResultRow[]>) => {
    const got = await work();
    printTable(TITLES[got[0]!.benchmark], got);
    rows.push(...got);
  };
  try {
    if (typeof stack.seed === 'string') console.log(`(seed approach rows skipped: ${stack.seed})`);
    await run(() => pipelineVcd(stack, sizes));
    await run(() => pipelineAci(stack, sizes));
    await run(() => delivery(stack, quick ? 2000 : 50_000));
    await run(() => latency(stack, sizes));
    await run(() => memory(stack, sizes));
    await run(() => spool(stack, sizes));
  } finally {
    await stack.stop();
  }
  console.log(`\nwritten: ${writeResults(rows)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
