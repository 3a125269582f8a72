/**
 * npm run bench: every benchmark, printed as Markdown tables with ratios
 * against the first row. BENCH_EVENTS sets the events per contender (20000).
 * Figures depend on the machine; compare rows of one run, not runs.
 */
import os from 'node:os';
import * as aci from './aci';
import * as delivery from './delivery';
import { printTable } from './harness';
import * as vcd from './vcd';

async function main(): Promise<void> {
  console.log(`Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, loopback`);
  printTable(delivery.TITLE, await delivery.run());
  printTable(vcd.TITLE, await vcd.run());
  printTable(aci.TITLE, await aci.run());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
