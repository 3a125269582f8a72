// Draws the README's pictures from the running demo: the editor with the
// VCD + ACI → CloudEvents flow, its debug sidebar showing live events, and the DC events sidebar
// tab. `npm run screenshot` (needs Debian's chromium; CHROMIUM_PATH for another).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'docs', 'images');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startDemo(userDir) {
  const port = await freePort();
  // Below Linux's ephemeral range, as the demo's own test does.
  const simBase = 20_000 + Math.floor(Math.random() * 12_000);
  const child = spawn(process.execPath, [path.join(root, 'dist', 'sim', 'demo.js')], {
    env: { ...process.env, PORT: String(port), SIM_PORT_BASE: String(simBase), DEMO_USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Started flows')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port };
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshot-'));
  const demo = await startDemo(userDir);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
    await page.goto(`http://127.0.0.1:${demo.port}/`);
    await page.waitForFunction(
      'window.RED && RED.workspaces && Boolean(RED.workspaces.active())',
      undefined,
      {
        timeout: 60_000,
      },
    );
    // The pipeline tab: subscribe → decode → emit.
    await page.evaluate(
      `RED.nodes.eachWorkspace((ws) => { if (ws.label.includes('CloudEvents')) RED.workspaces.show(ws.id); })`,
    );
    await page.evaluate('RED.sidebar.show("debug")');
    // Let events arrive, then draw the editor with its debug sidebar.
    await page.waitForFunction(`document.querySelectorAll('.red-ui-debug-msg').length >= 4`, undefined, {
      timeout: 60_000,
    });
    await page.screenshot({ path: path.join(out, 'editor.png') });
    await page.evaluate('RED.sidebar.show("dcevents-operations")');
    await page.waitForSelector('.dcevents-ops-row', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 3000));
    await page.screenshot({ path: path.join(out, 'operations.png') });
    console.log(`written: ${path.relative(root, path.join(out, 'editor.png'))}, operations.png`);
  } finally {
    await browser.close();
    demo.child.kill('SIGINT');
    await new Promise((r) => demo.child.once('exit', r));
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
