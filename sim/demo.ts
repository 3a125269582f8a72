/**
 * `npm start`: the simulators, and Node-RED on 127.0.0.1:1880 with a user
 * directory inside the repository (.node-red/, git-ignored), this package
 * loaded and the demo flows deployed. Ctrl+C stops everything.
 *
 *   npm start               keep the flows you changed in the editor
 *   npm start -- --reset    write the demo flows again
 *
 * PORT moves Node-RED, SIM_PORT_BASE the simulators, DEMO_USER_DIR the user directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startSimulators, stopOnSignal, type Simulators } from './index';
import {
  REPO_ROOT,
  exampleCredentials,
  exampleEnv,
  exampleFlow,
  prepareUserDir,
  startNodeRed,
  type FlowNode,
} from './nodered';

const USER_DIR = process.env.DEMO_USER_DIR ?? path.join(REPO_ROOT, '.node-red');
const PORT = Number(process.env.PORT ?? 1880);

const installed = (name: string) =>
  fs.existsSync(path.join(REPO_ROOT, 'node_modules', ...name.split('/'), 'package.json'));

/** FlowFuse Dashboard 2.0 and the e-mail node (devDependencies): the demo shows their examples when installed. */
const DASHBOARD = '@flowfuse/node-red-dashboard';
const EMAIL = 'node-red-node-email';
const hasDashboard = installed(DASHBOARD);
const hasEmail = installed(EMAIL);

/** The flows shown in the demo: example files, pointed at the simulators. */
const DEMO_FLOWS = [
  'vcd-events-to-debug.json',
  'aci-changes-to-debug.json',
  'infra-events-to-cloudevents.json',
  ...(hasDashboard ? ['dashboard-live-events.json', 'approve-vm-changes-dashboard.json'] : []),
  ...(hasEmail ? ['aci-fault-context-to-email.json'] : []),
];

/** How often a simulated tenant changes a VM (held for approval: the dashboard's Approvals page). */
const VM_CHANGE_EVERY_MS = 60_000;

/** A property the examples read from the environment (`${VCD_URL}`): the demo sets the variable instead. */
const fromEnv = (value: unknown) => typeof value === 'string' && value.startsWith('${');

/** Where the examples find the simulators: VCD_URL, APIC_HOSTS, SINK_URL and their certificate. */
function simulatorEnv(sims: Simulators): Record<string, string> {
  return exampleEnv({
    vcd: sims.vcd.url,
    apicHosts: sims.apic.urls.join(', '),
    sink: `${sims.sink.url}/events`,
    cert: sims.cert,
  });
}

/**
 * Points a demo node that names an address itself (the e-mail node, and flows
 * kept from older demos) at the running simulators, whose ports and certificate
 * can change between runs. `shipped` is the node as the example file has it.
 */
function pointAtSimulators(node: FlowNode, sims: Simulators, shipped: FlowNode = node): void {
  if (node.type === 'vcd-login' && !fromEnv(node.url)) {
    node.url = sims.vcd.url;
    node.ca = sims.cert;
  }
  if (node.type === 'aci-controller' && !fromEnv(node.hosts)) {
    node.hosts = sims.apic.urls.join(', ');
    node.ca = sims.cert;
  }
  if (node.type === 'cloudevent-emit' && typeof node.url === 'string' && node.url && !fromEnv(node.url)) {
    node.url = sims.sink.url + new URL(node.url).pathname;
    node.ca = sims.cert;
  }
  if (node.type === 'e-mail') {
    Object.assign(node, {
      server: '127.0.0.1',
      port: String(sims.mail.port),
      authtype: 'NONE',
      secure: false,
      tls: false,
    });
  }
  if (node.type === 'event-decode' && typeof shipped.source === 'string' && /^https:/.test(shipped.source)) {
    // Older demos named the simulators at their default ports: VCD on 8443, the first APIC on 8444.
    const port = new URL(shipped.source).port;
    node.source = port === '8443' ? sims.vcd.url : port === '8444' ? sims.apic.urls[0] : shipped.source;
  }
}

/** The demo flows as shipped (addresses from the environment), the simulators' logins filled in. */
function demoFlows(sims: Simulators): {
  flows: FlowNode[];
  credentials: Record<string, Record<string, string>>;
} {
  const flows = shippedFlows();
  for (const node of flows) pointAtSimulators(node, sims);
  return { flows, credentials: exampleCredentials() };
}

/**
 * The demo's example flows, each node once: the examples share their VCD login, APIC controller (and the
 * dashboard ones their ui-base and ui-theme), so the demo runs one session per system.
 */
function shippedFlows(): FlowNode[] {
  return [...new Map(DEMO_FLOWS.flatMap(exampleFlow).map((n) => [n.id, n])).values()];
}

/**
 * Blocking tasks in the simulated VCD: VM changes wait for an answer (5
 * minutes, then VCD aborts them), and a tenant changes a VM now and then.
 */
function heldVmChanges(sims: Simulators): NodeJS.Timeout {
  Object.assign(sims.vcd.blocking.settings, {
    operations: new Set(['vappUpdateVm']),
    timeoutMs: 300_000,
    timeoutAction: 'abort',
  });
  const changes: [string, string][] = [
    ['acmeuser@acme', 'web-01'],
    ['acmeadmin@acme', 'db-01'],
    ['globexadmin@globex', 'build-07'],
  ];
  let n = 0;
  const timer = setInterval(() => {
    const [actor, vm] = changes[n++ % changes.length] as [string, string];
    sims.vcd.reconfigureVm(actor, vm);
  }, VM_CHANGE_EVERY_MS);
  timer.unref();
  return timer;
}

/** Kept flows: the demo's own nodes follow the simulators; everything else stays as the user left it. */
function refreshKeptFlows(file: string, sims: Simulators): void {
  const shipped = new Map(shippedFlows().map((n) => [n.id, n]));
  try {
    const flows = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
    for (const node of flows) {
      const original = shipped.get(node.id);
      if (original) pointAtSimulators(node, sims, original);
    }
    fs.writeFileSync(file, JSON.stringify(flows, null, 2));
  } catch (err) {
    console.warn(`Could not update the simulator addresses in ${file}: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const sims = await startSimulators();
  fs.mkdirSync(USER_DIR, { recursive: true });
  const flowFile = path.join(USER_DIR, 'flows.json');
  const fresh = process.argv.includes('--reset') || !fs.existsSync(flowFile);
  prepareUserDir(USER_DIR, {
    port: PORT,
    modules: [...(hasDashboard ? [DASHBOARD] : []), ...(hasEmail ? [EMAIL] : [])],
    ...(fresh ? demoFlows(sims) : {}),
  });
  if (!fresh) refreshKeptFlows(flowFile, sims);

  const changing = heldVmChanges(sims);
  const red = startNodeRed(USER_DIR, 'inherit', {
    MAIL_FROM: 'aci-alerts@example.com',
    ...simulatorEnv(sims),
  });
  const redExited = new Promise<void>((resolve) => red.once('exit', () => resolve()));

  console.log(
    [
      '',
      ...sims.describe(),
      '',
      `Node-RED        http://127.0.0.1:${PORT}/   <- open this: events appear in the debug sidebar,`,
      '                the "datacenter events" sidebar tab shows every node live',
      hasDashboard
        ? `Dashboard       http://127.0.0.1:${PORT}/dashboard/events   (FlowFuse Dashboard 2.0); VM changes to\n` +
          `                approve: http://127.0.0.1:${PORT}/dashboard/approvals (a tenant changes a VM every minute)`
        : `Dashboard       not shown: npm install ${DASHBOARD}`,
      `Prometheus      http://127.0.0.1:${PORT}/dcevents/metrics`,
      fresh
        ? `Demo flows      written to ${path.relative(process.cwd(), path.join(USER_DIR, 'flows.json'))}`
        : 'Demo flows      kept (npm start -- --reset writes them again)',
      'Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );

  const stop = async () => {
    clearInterval(changing);
    if (red.exitCode === null) red.kill('SIGINT');
    await Promise.race([redExited, new Promise((r) => setTimeout(r, 10_000))]);
    await sims.stop();
  };
  stopOnSignal(stop);
  await redExited;
  await stop();
  process.exit(red.exitCode ?? 0);
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  console.error(
    e.code === 'EADDRINUSE'
      ? `A simulator port is in use (${e.message}). Stop the other instance, or set SIM_PORT_BASE.`
      : `npm start failed: ${e.message}`,
  );
  process.exit(1);
});
