/**
 * `npm start` as a new user meets it: the simulators and Node-RED with the
 * demo flows, events in the editor's debug sidebar, CloudEvents at the sink,
 * Ctrl+C stops everything; a second start keeps the flows and still works.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, showSidebarTab } from '../support/chromium';
import { needPeer } from '../support/peers';
import { Agent, request } from 'undici';
import { REPO_ROOT } from '../../sim/nodered';
import { freePort, listening } from '../support/nodered-process';
import { waitFor } from '../support/wait';

/** The simulators listen on base, +1, +2, +3 (mail), +4 and +5. */
const SIM_OFFSETS = [0, 1, 2, 3, 4, 5];

/** A base port whose simulator ports are all free. */
async function freeSimBase(): Promise<number> {
  for (;;) {
    // Below Linux's ephemeral range (32768+): an outgoing connection's local port there makes a listen fail.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const used = await Promise.all(SIM_OFFSETS.map((o) => listening(base + o)));
    if (!used.some(Boolean)) return base;
  }
}

interface Demo {
  process: ChildProcess;
  port: number;
  simBase: number;
  output(): string;
}

async function startDemo(userDir: string): Promise<Demo> {
  const port = await freePort();
  const simBase = await freeSimBase();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'sim', 'demo.js')], {
    env: { ...process.env, PORT: String(port), SIM_PORT_BASE: String(simBase), DEMO_USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(
    () => output.includes('Started flows') || child.exitCode !== null,
    'the demo to start',
    60_000,
  );
  assert.equal(child.exitCode, null, output);
  return { process: child, port, simBase, output: () => output };
}

/** Ctrl+C: everything stops, every port is free again. */
async function stopDemo(demo: Demo): Promise<void> {
  const exited = new Promise<number | null>((r) => demo.process.once('exit', (code) => r(code)));
  demo.process.kill('SIGINT');
  assert.equal(await exited, 0, demo.output());
  for (const port of [demo.port, ...SIM_OFFSETS.map((o) => demo.simBase + o)]) {
    assert.equal(await listening(port), false, `port ${port} is free again`);
  }
}

/** What the demo's CloudEvents sink received. */
async function sinkEvents(demo: Demo): Promise<{ type: string; source: string }[]> {
  // The simulators' self-signed certificate: this is the test reading its own sink.
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const res = await request(`https://127.0.0.1:${demo.simBase + 2}/_sim/events`, { dispatcher: agent });
    const received = (await res.body.json()) as { event: { type: string; source: string } }[];
    return received.map((r) => r.event);
  } finally {
    await agent.close();
  }
}

describe('npm start (the demo, in Chromium)', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let demo: Demo | undefined;
  let userDir: string;

  before(async function () {
    needPeer(this, chromiumMissing());
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    // A failed test leaves the demo running: stop it the way Ctrl+C does, so Node-RED goes too.
    if (demo && demo.process.exitCode === null) {
      const exited = new Promise((r) => demo!.process.once('exit', r));
      demo.process.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (demo.process.exitCode === null) demo.process.kill('SIGKILL');
    }
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  /** Opens the editor and waits for debug messages from the named debug nodes. */
  async function debugSidebarShows(names: string[]): Promise<void> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`http://127.0.0.1:${demo!.port}/`);
      await showSidebarTab(page, 'debug', '.red-ui-debug-content');
      for (const name of names) {
        await page.waitForFunction(
          `[...document.querySelectorAll('.red-ui-debug-msg-name')].some((e) => e.textContent.includes(${JSON.stringify(name)}))`,
          undefined,
          { timeout: 30_000 },
        );
      }
    } finally {
      await page.close();
    }
  }

  /** The sidebar tab, the dashboard and the Prometheus endpoint show the live pipeline. */
  async function operationsShown(running: Demo): Promise<void> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`http://127.0.0.1:${running.port}/`);
      await showSidebarTab(page, 'dcevents-operations', '.dcevents-ops');
      await page.waitForFunction(
        `[...document.querySelectorAll('.dcevents-ops-row .dcevents-ops-rate')].some((e) => /^events in: [1-9][\\d,]*\\/min$/.test(e.textContent))`,
        undefined,
        { timeout: 30_000 },
      );
      await page.goto(`http://127.0.0.1:${running.port}/dashboard/events`);
      await page.waitForFunction(
        `[...document.querySelectorAll('table tbody tr td')].some((td) => td.textContent.startsWith('com.vmware.vcloud.'))`,
        undefined,
        { timeout: 30_000 },
      );
    } finally {
      await page.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/dcevents/metrics`)).text();
    assert.match(metrics, /^dcevents_received_events_total\{node_id="[^"]+",type="vcd-subscribe"\} [1-9]/m);
    // The examples share their configuration nodes: one VCD login and one APIC session for all of them.
    const nodes = (type: string) =>
      metrics.match(new RegExp(`^dcevents_node_info\\{[^}]*type="${type}"`, 'gm'))?.length ?? 0;
    assert.equal(nodes('vcd-login'), 1, metrics);
    assert.equal(nodes('aci-controller'), 1, metrics);
    assert.ok(nodes('vcd-subscribe') >= 2 && nodes('aci-subscribe') >= 2, metrics);
  }

  it('shows VCD and ACI events in the debug sidebar, the operations tab and the dashboard, delivers CloudEvents to the sink; Ctrl+C stops it all', async () => {
    demo = await startDemo(userDir);
    assert.match(demo.output(), /open this: events appear in the debug sidebar/);
    await debugSidebarShows(['VCD event', 'ACI change']);
    await waitFor(
      async () => {
        const events = await sinkEvents(demo!);
        return (
          events.some((e) => e.type.startsWith('com.vmware.vcloud.')) &&
          events.some((e) => e.type.startsWith('com.cisco.aci.'))
        );
      },
      'VCD and ACI CloudEvents at the sink',
      30_000,
    );
    await operationsShown(demo);
    assert.doesNotMatch(demo.output(), /\[error\]/);
    await stopDemo(demo);
  });

  it('keeps the flows at the next start, pointed at the simulators wherever they listen now', async () => {
    demo = await startDemo(userDir);
    assert.match(demo.output(), /Demo flows +kept/);
    await debugSidebarShows(['VCD event', 'ACI change']);
    const events = await waitFor(
      async () => {
        const got = await sinkEvents(demo!);
        return got.some((e) => e.type.startsWith('com.vmware.vcloud.')) ? got : undefined;
      },
      'VCD CloudEvents at the new sink',
      30_000,
    );
    // Their source is the VCD simulator where it listens now.
    const vcd = events.find((e) => e.type.startsWith('com.vmware.vcloud.'))!;
    assert.equal(vcd.source, `https://127.0.0.1:${demo.simBase}`);
    await stopDemo(demo);
  });
});
