/** The VCD simulator in a process of its own, so a benchmark's publisher does not share the client's thread. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VcdSimulator } from '../sim/vcd';

void VcdSimulator.start({}).then((sim) => {
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-bench-')), 'ca.pem');
  fs.writeFileSync(caFile, sim.cert ?? '');
  process.stdout.write(`${JSON.stringify({ url: sim.url, caFile })}\n`);
  process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
});
