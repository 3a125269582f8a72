/**
 * Starts every simulator on fixed local ports (`npm run sim`), or is used by
 * the demo launcher (`npm start`). Ctrl+C stops them cleanly.
 */
import path from 'node:path';
import { REPO_ROOT } from './nodered';
import { keepCertificateIn } from './tls';
import { DEFAULT_PASSWORD } from './vcd/directory';
import { VcdSimulator } from './vcd';

export interface SimulatorsOptions {
  host?: string;
  /** VCD listens here; later simulators on the next ports. */
  portBase?: number;
  /** Generated VCD events per second. */
  vcdRatePerSec?: number;
  /** Folder that keeps the self-signed certificate across runs. */
  certDir?: string;
}

export interface Simulators {
  vcd: VcdSimulator;
  /** PEM of the certificate every simulator serves. */
  cert: string;
  /** Lines that tell a person how to use them. */
  describe(): string[];
  stop(): Promise<void>;
}

export const DEFAULT_CERT_DIR = path.join(REPO_ROOT, '.sim');

export async function startSimulators(options: SimulatorsOptions = {}): Promise<Simulators> {
  keepCertificateIn(options.certDir ?? DEFAULT_CERT_DIR);
  const host = options.host ?? '127.0.0.1';
  const base = options.portBase ?? Number(process.env.SIM_PORT_BASE ?? 8443);
  const vcd = await VcdSimulator.start({ host, port: base, ratePerSec: options.vcdRatePerSec ?? 0.5 });
  return {
    vcd,
    cert: vcd.cert as string,
    describe: () => [
      `VCD simulator   ${vcd.url}  (orgs acme, globex, System; users acmeadmin, acmeuser, globexadmin,`,
      `                administrator@System; password ${DEFAULT_PASSWORD}; API token sim-api-token-acmeadmin)`,
      `                faults: POST ${vcd.url}/_sim/faults {"loginDown":true,"tokenLifetimeSec":60,"ratePerSec":5},`,
      `                POST ${vcd.url}/_sim/broker/restart, /_sim/broker/drop, /_sim/tokens/expire`,
      `TLS certificate ${path.join(options.certDir ?? DEFAULT_CERT_DIR, 'sim-cert.pem')} (self-signed; trust it as CA)`,
    ],
    stop: once(async () => {
      await vcd.stop();
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** Runs `stop` once on Ctrl+C or SIGTERM, then exits. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop()
      .catch((err: unknown) => console.error(err))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

if (require.main === module) {
  startSimulators()
    .then((sims) => {
      console.log(sims.describe().join('\n'));
      console.log('Ctrl+C stops the simulators.');
      stopOnSignal(() => sims.stop());
    })
    .catch((err: unknown) => {
      console.error(`Cannot start the simulators: ${(err as Error).message}`);
      process.exit(1);
    });
}
