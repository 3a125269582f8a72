/**
 * A simulator in a process of its own, so a benchmark's server does not share
 * the thread of the client it measures. Prints {url, caFile} once listening.
 *   node sim-process.js vcd | sink | apic
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApicSimulator } from '../sim/apic';
import { SinkSimulator } from '../sim/sink';
import { VcdSimulator } from '../sim/vcd';

async function main(): Promise<void> {
  const kind = process.argv[2];
  // The sink serves plain HTTP: the benchmark compares delivery code, not TLS.
  // One APIC is enough: the benchmark compares clients, not failover.
  const sim =
    kind === 'sink'
      ? await SinkSimulator.start({ tls: false, control: true })
      : kind === 'apic'
        ? await ApicSimulator.start({ ports: [0], ratePerSec: 0 })
        : await VcdSimulator.start({});
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'ca.pem');
  fs.writeFileSync(caFile, sim.cert ?? '');
  process.stdout.write(`${JSON.stringify({ url: sim.url, caFile })}\n`);
  process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
}

void main();
