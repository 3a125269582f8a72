/**
 * A simulator in a process of its own, so a benchmark's server does not share
 * the thread of the client it measures. Prints {url, caFile} once listening.
 *   node sim-process.js vcd | sink | apic [<options as JSON>]
 *   node sim-process.js vcd-relay <mqtt://broker> <user>,<user>...
 * vcd-relay: plain HTTP, the message bus relayed to an external broker, and
 * the given extra users (organization administrators of acme, password
 * DEFAULT_PASSWORD), so that each contender reads a topic of its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApicSimulator } from '../sim/apic';
import { SinkSimulator } from '../sim/sink';
import { VcdSimulator } from '../sim/vcd';
import { DEFAULT_PASSWORD, DEFAULT_USERS } from '../sim/vcd/directory';

function vcdRelay(broker: string, users: string): Promise<VcdSimulator> {
  const extra = users
    .split(',')
    .map((name) => ({ name, org: 'acme', password: DEFAULT_PASSWORD, role: 'orgAdmin' as const }));
  return VcdSimulator.start({ tls: false, broker, anonymousBus: true, users: [...DEFAULT_USERS, ...extra] });
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  // apic and vcd: more options of the simulator (a scale benchmark's populations, users, rates).
  const options =
    (kind === 'apic' || kind === 'vcd') && process.argv[3] ? (JSON.parse(process.argv[3]) as object) : {};
  // The sink serves plain HTTP: the benchmark compares delivery code, not TLS.
  // One APIC is enough: the benchmark compares clients, not failover.
  const sim =
    kind === 'sink'
      ? await SinkSimulator.start({ tls: false, control: true })
      : kind === 'apic'
        ? await ApicSimulator.start({ ports: [0], ratePerSec: 0, ...options })
        : kind === 'vcd-relay'
          ? await vcdRelay(process.argv[3] as string, process.argv[4] ?? '')
          : await VcdSimulator.start({ ...options });
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'ca.pem');
  fs.writeFileSync(caFile, sim.cert ?? '');
  process.stdout.write(`${JSON.stringify({ url: sim.url, caFile })}\n`);
  process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
}

void main();
