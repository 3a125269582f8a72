/**
 * Runs a real Node-RED with this package loaded from the repository: the demo
 * (`npm start`) and the browser tests use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_APIC_PASSWORD } from './apic';
import { DEFAULT_PASSWORD } from './vcd/directory';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string }
).name;

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface UserDirOptions {
  port: number;
  /** Written only when given (the demo keeps what the user changed). */
  flows?: FlowNode[];
  credentials?: Record<string, Record<string, string>>;
  logLevel?: 'info' | 'warn' | 'error';
  /** Other packages from the repository's node_modules to install (link) too, e.g. node-red-node-email. */
  modules?: string[];
  /** More settings (e.g. adminAuth), added to the ones written here. */
  settings?: Record<string, unknown>;
}

/** Makes `dir` a Node-RED user directory with this package installed (as a link to the repository). */
export function prepareUserDir(dir: string, options: UserDirOptions): void {
  const install = (name: string, target: string) => {
    const link = path.join(dir, 'node_modules', ...name.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) fs.symlinkSync(target, link, 'dir');
  };
  install(PACKAGE_NAME, REPO_ROOT);
  for (const name of options.modules ?? []) install(name, path.join(REPO_ROOT, 'node_modules', name));
  fs.writeFileSync(
    path.join(dir, 'settings.js'),
    `// Written for a local run of this package's demo or tests.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${options.port},
  flowFile: 'flows.json',
  flowFilePretty: true,
  // Local demo and tests only: credentials in flows_cred.json are stored unencrypted.
  credentialSecret: false,
  logging: { console: { level: '${options.logLevel ?? 'info'}', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
Object.assign(module.exports, ${JSON.stringify(options.settings ?? {})});
`,
  );
  if (options.flows) {
    fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(options.flows, null, 2));
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), JSON.stringify(options.credentials ?? {}, null, 2));
  }
}

/** Starts Node-RED on a prepared user directory; output goes to `stdio`. */
export function startNodeRed(
  dir: string,
  stdio: 'inherit' | 'pipe' = 'inherit',
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(
    process.execPath,
    [require.resolve('node-red/red.js'), '--userDir', dir, '--settings', path.join(dir, 'settings.js')],
    { stdio: ['ignore', stdio, stdio], cwd: dir, env: { ...process.env, ...env } },
  );
}

/** Reads an example flow from examples/. */
export function exampleFlow(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as FlowNode[];
}

/** The ids every example gives its shared configuration nodes: one per system, the same in every file. */
export const EXAMPLE_CONFIG = { vcd: 'dcevents-vcd', apic: 'dcevents-apic', sink: 'dcevents-sink' } as const;

/** Where the examples' systems are; each becomes the environment variable the examples read. */
export interface ExampleTargets {
  /** VCD_URL */
  vcd?: string;
  /** APIC_HOSTS: every APIC, comma separated. */
  apicHosts?: string;
  /** SINK_URL */
  sink?: string;
  /** A certificate to trust besides Node's roots (the simulators' self-signed one): NODE_EXTRA_CA_CERTS. */
  cert?: string;
}

/**
 * The environment the examples take their addresses from, for systems on this
 * machine (the simulators): a system administrator's VCD login (organization
 * System), as the approval examples need.
 */
export function exampleEnv(targets: ExampleTargets): Record<string, string> {
  const env: Record<string, string> = { VCD_ORG: 'System' };
  if (targets.vcd) env.VCD_URL = targets.vcd;
  if (targets.apicHosts) env.APIC_HOSTS = targets.apicHosts;
  if (targets.sink) env.SINK_URL = targets.sink;
  if (targets.cert) {
    const file = path.join(os.tmpdir(), `dcevents-sim-ca-${process.pid}.pem`);
    fs.writeFileSync(file, targets.cert);
    env.NODE_EXTRA_CA_CERTS = file;
  }
  return env;
}

/** The simulators' logins for the examples' shared configuration nodes (flows_cred.json). */
export function exampleCredentials(): Record<string, Record<string, string>> {
  return {
    [EXAMPLE_CONFIG.vcd]: { username: 'administrator', password: DEFAULT_PASSWORD },
    [EXAMPLE_CONFIG.apic]: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
  };
}
