/**
 * Starts every simulator on fixed local ports (`npm run sim`), or is used by
 * the demo launcher (`npm start`). Ctrl+C stops them cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './nodered';
import { keepCertificateIn } from './tls';
import { DEFAULT_PASSWORD } from './vcd/directory';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from './apic';
import { MailSink } from './mail';
import { SinkSimulator } from './sink';
import { VcdSimulator } from './vcd';

export interface SimulatorsOptions {
  host?: string;
  /** VCD listens here, the APICs on +1, +4, +5, the CloudEvents sink on +2, the mail sink on +3. */
  portBase?: number;
  /** Generated VCD events per second. */
  vcdRatePerSec?: number;
  /** Generated APIC changes per second. */
  apicRatePerSec?: number;
  /** Folder that keeps the self-signed certificate across runs. */
  certDir?: string;
  /** Print a line per event the CloudEvents sink receives. */
  sinkLog?: boolean;
  /** HTTPS with a self-signed certificate (default), or plain HTTP (SIM_TLS=off). */
  tls?: boolean;
}

export interface Simulators {
  vcd: VcdSimulator;
  apic: ApicSimulator;
  sink: SinkSimulator;
  /** SMTP on loopback for the e-mail examples (no login, no TLS). */
  mail: MailSink;
  /** PEM of the certificate every simulator serves ('' over plain HTTP). */
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
  const tls = options.tls ?? process.env.SIM_TLS !== 'off';
  const vcd = await VcdSimulator.start({ host, port: base, tls, ratePerSec: options.vcdRatePerSec ?? 0.5 });
  const apic = await ApicSimulator.start({
    host,
    tls,
    ports: [base + 1, base + 4, base + 5],
    ratePerSec: options.apicRatePerSec ?? 0.5,
  });
  const sink = await SinkSimulator.start({ host, port: base + 2, tls, log: options.sinkLog ?? true });
  const mail = await MailSink.start({ host, port: base + 3, log: options.sinkLog ?? true });
  const certDir = options.certDir ?? DEFAULT_CERT_DIR;
  // The certificate user's key, for trying certificate logins by hand.
  const keyFile = path.join(certDir, 'apic-nodered-key.pem');
  fs.writeFileSync(keyFile, apic.certificateUser.privateKey, { mode: 0o600 });
  return {
    vcd,
    apic,
    sink,
    mail,
    cert: vcd.cert ?? '',
    describe: () => [
      `VCD simulator   ${vcd.url}  (orgs acme, globex, System; users acmeadmin, acmeuser, globexadmin,`,
      `                administrator@System; password ${DEFAULT_PASSWORD}; API token sim-api-token-acmeadmin;`,
      `                service-account token sim-service-account-token, replaced by a new one at every use)`,
      `                faults: POST ${vcd.url}/_sim/faults {"loginDown":true,"loginDelayMs":3000,"auditDown":true,"tokenLifetimeSec":60,"ratePerSec":5},`,
      `                blocking tasks: POST ${vcd.url}/_sim/blocking {"operations":["vappUpdateVm"],"timeoutMs":300000,"timeoutAction":"abort"},`,
      `                a tenant's VM change: POST ${vcd.url}/_sim/reconfigure {"actor":"acmeuser@acme","vm":"web-01"}; GET ${vcd.url}/_sim/amqp`,
      `                POST ${vcd.url}/_sim/broker/restart, /_sim/broker/drop, /_sim/tokens/expire`,
      `APIC simulator  ${apic.hosts}  (one cluster of three; users admin, netops,`,
      `                apic#LDAP\\alice; password ${DEFAULT_APIC_PASSWORD}; certificate user nodered, certificate`,
      `                nodered-cert, key ${keyFile})`,
      `                faults: POST ${apic.url}/_sim/faults {"throttleMs":5000,"refreshTimeoutSeconds":60,"ratePerSec":5},`,
      `                {"failNext":{"count":2,"status":500,"on":"query"},"noSubscriptionId":1,"refuseOrderByWithSubscription":true},`,
      `                POST ${apic.url}/_sim/tokens/expire, /_sim/sockets/drop, /_sim/sockets/forget, /_sim/apics/1/stop (and /start)`,
      `                flood: POST ${apic.url}/_sim/flood {"count":1000,"className":"fvBD"} (answers when every push is sent)`,
      `CloudEvents sink ${sink.url}  (binary, structured, batch; prints a line per event)`,
      `                received: GET ${sink.url}/_sim/events; faults: POST ${sink.url}/_sim/faults`,
      `                {"failNext":3,"failStatus":503,"retryAfter":"2","slowMs":0,"down":false,"gone":false,"failOptions":0}`,
      `Mail sink       smtp://${host}:${mail.port}  (no login, no TLS; prints a line per mail)`,
      tls
        ? `TLS certificate ${path.join(certDir, 'sim-cert.pem')} (self-signed; trust it as CA; SIM_TLS=off for plain HTTP)`
        : 'Plain HTTP (SIM_TLS=off): no certificates',
    ],
    stop: once(async () => {
      await Promise.all([vcd.stop(), apic.stop(), sink.stop(), mail.stop()]);
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
