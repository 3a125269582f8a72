/**
 * `npm start`: the simulators, and Node-RED on 127.0.0.1:1880 with a user
 * directory inside the repository (.node-red/, git-ignored), this package
 * loaded and the demo flows deployed. Ctrl+C stops everything.
 *
 *   npm start               keep the flows you changed in the editor
 *   npm start -- --reset    write the demo flows again
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PASSWORD } from './vcd/directory';
import { REPO_ROOT, startSimulators, stopOnSignal, type Simulators } from './index';

const USER_DIR = path.join(REPO_ROOT, '.node-red');
const PORT = Number(process.env.PORT ?? 1880);
const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string };

/** The flows shown in the demo: example files, pointed at the simulators. */
const DEMO_FLOWS = ['vcd-events-to-debug.json'];

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

/** Makes Node-RED find this package as if installed in the user directory. */
function linkPackage(): void {
  const link = path.join(USER_DIR, 'node_modules', ...PACKAGE.name.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  if (!fs.existsSync(link)) fs.symlinkSync(REPO_ROOT, link, 'dir');
}

function writeSettings(): void {
  const settings = `// Written by npm start for the local demo.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${PORT},
  flowFile: 'flows.json',
  flowFilePretty: true,
  // Demo only: credentials in flows_cred.json are stored unencrypted.
  credentialSecret: false,
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
`;
  fs.writeFileSync(path.join(USER_DIR, 'settings.js'), settings);
}

/** The demo flows with the simulators' addresses, certificate and logins filled in. */
function writeFlows(sims: Simulators): void {
  const nodes: FlowNode[] = [];
  const credentials: Record<string, Record<string, string>> = {};
  for (const file of DEMO_FLOWS) {
    const flow = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as FlowNode[];
    for (const node of flow) {
      if (node.type === 'vcd-login') {
        node.url = sims.vcd.url;
        node.ca = sims.cert;
        credentials[node.id] = { username: 'acmeadmin', password: DEFAULT_PASSWORD };
      }
      nodes.push(node);
    }
  }
  fs.writeFileSync(path.join(USER_DIR, 'flows.json'), JSON.stringify(nodes, null, 2));
  fs.writeFileSync(path.join(USER_DIR, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
}

async function main(): Promise<void> {
  const reset = process.argv.includes('--reset');
  const sims = await startSimulators();
  fs.mkdirSync(USER_DIR, { recursive: true });
  linkPackage();
  writeSettings();
  const fresh = reset || !fs.existsSync(path.join(USER_DIR, 'flows.json'));
  if (fresh) writeFlows(sims);

  const red = spawn(
    process.execPath,
    [
      require.resolve('node-red/red.js'),
      '--userDir',
      USER_DIR,
      '--settings',
      path.join(USER_DIR, 'settings.js'),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], cwd: USER_DIR },
  );
  const redExited = new Promise<void>((resolve) => red.once('exit', () => resolve()));

  console.log(
    [
      '',
      ...sims.describe(),
      '',
      `Node-RED        http://127.0.0.1:${PORT}/   <- open this: events appear in the debug sidebar`,
      fresh
        ? 'Demo flows      written to .node-red/flows.json'
        : 'Demo flows      kept (npm start -- --reset writes them again)',
      'Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );

  stopOnSignal(async () => {
    if (red.exitCode === null) red.kill('SIGINT');
    await Promise.race([redExited, new Promise((r) => setTimeout(r, 10_000))]);
    await sims.stop();
  });
  await redExited;
  await sims.stop();
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
