/**
 * Everything a pipeline benchmark runs, each in a process of its own:
 * mosquitto, the VCD simulator relaying its message bus to mosquitto, two
 * APIC simulators (one for our flow, one for the ceiling, so that neither sees
 * the other's changes), the counting sink, one Node-RED with every flow
 * (bench/flows.ts), the ceilings and the seed's Python approach.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { HttpClient } from '../nodes/common/http';
import { prepareUserDir } from '../sim/nodered';
import { DEFAULT_APIC_PASSWORD } from '../sim/apic';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';
import { freePort } from '../test/support/nodered-process';
import { SYSTEM_PYTHON, seedClientMissing } from '../test/support/seed-vcd-client';
import { CONNECTIONS, PATHS, VCD_USERS, benchFlows } from './flows';
import { seedScriptMissing } from './aci';
import { startSimProcess, type SimProcess } from './harness';
import { type Proc, startMosquitto, startNodeChild, waitUntil } from './procs';

export interface SinkState {
  events: number;
  /** When asked for. */
  latency?: { count: number; p50Ms: number; p99Ms: number };
}

export interface Stack {
  vcdUrl: string;
  sinkUrl: string;
  apicOurs: SimProcess;
  apicCeiling: SimProcess;
  red: { base: string; proc: Proc };
  ceilingVcd: Proc;
  /**
   * The ACI ceiling and the seed's ACI approach log in and subscribe once, as designed: the APIC ends their
   * session and subscription 600 s later. Each is started right before its run (a new process each time,
   * the previous one stopped), whatever ran before it.
   */
  startCeilingAci(): Promise<Proc>;
  /** The seed's approach, or why it cannot run (python3-paho-mqtt or python3-requests missing). */
  seed: Proc | string;
  /** The seed's ACI approach with an APIC of its own, or why it cannot run. */
  seedAci: { apic: SimProcess; start(): Promise<Proc> } | string;
  /** Does cloudevent emit have a spool property in this build? */
  spool: boolean;
  /** The message bus's processes: mosquitto and the VCD simulator (which relays and publishes). */
  vcdSources: Proc[];
  sinkProc: Proc;
  /** The counting sink; `state` of the events posted to `<sinkUrl><path>`. */
  sink: {
    reset(latency?: boolean): Promise<void>;
    /** The count of a path; with `latency`, also the latency summary (sorted then, so asked for once). */
    state(path: string, latency?: boolean): Promise<SinkState>;
  };
  floodVcd(user: string, count: number, ratePerSec?: number): Promise<void>;
  floodAci(apic: SimProcess, count: number): Promise<void>;
  stop(): Promise<void>;
}

/** Does this build's cloudevent emit have a `spool` property (the disk spool)? */
export function emitHasSpool(): boolean {
  const html = fs.readFileSync(path.join(__dirname, '../nodes/events/cloudevent-emit.html'), 'utf8');
  return /^\s*spool:\s*\{/m.test(html);
}

async function vcdIds(vcdUrl: string, user: string): Promise<{ org: string; user: string }> {
  const res = await request(`${vcdUrl}/cloudapi/1.0.0/sessions`, {
    method: 'POST',
    headers: {
      accept: 'application/json;version=38.0',
      authorization: `Basic ${Buffer.from(`${user}@acme:${DEFAULT_PASSWORD}`).toString('base64')}`,
    },
  });
  const s = (await res.body.json()) as { org: { id: string }; user: { id: string } };
  const id = (urn: string) => urn.split(':').pop() as string;
  return { org: id(s.org.id), user: id(s.user.id) };
}

async function startRed(flows: ReturnType<typeof benchFlows>): Promise<{
  base: string;
  child: ChildProcess;
}> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nr-'));
  prepareUserDir(dir, { port, logLevel: 'warn', ...flows });
  // BENCH_PROFILE=<dir>: Node-RED writes a CPU profile there when it exits (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE;
  // BENCH_NODE_RED_ARGS: more node options for Node-RED, e.g. --trace-gc (its output goes to the log file).
  const nodeArgs = [
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : []),
    ...(process.env.BENCH_NODE_RED_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      require.resolve('node-red/red.js'),
      '--userDir',
      dir,
      '--settings',
      path.join(dir, 'settings.js'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
  );
  // Node-RED's log (warnings and errors, e.g. of the core flow's http request node) stays for reading after the run.
  const log = fs.createWriteStream(path.join(os.tmpdir(), `bench-node-red-${port}.log`));
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (d: Buffer) => {
      if (output.length < 100_000) output += d.toString();
      log.write(d);
    });
  }
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
      try {
        const res = await request(`${base}/flows`, { headers: { 'node-red-api-version': 'v2' } });
        await res.body.dump();
        return res.statusCode === 200;
      } catch {
        return false;
      }
    },
    'Node-RED to start',
    120_000,
    200,
  );
  child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  console.log(`(Node-RED log: ${log.path as string})`);
  return { base, child };
}

/** A seed approach script of bench/ (Python), ready once it prints its first line. */
async function startSeed(script: string, args: string[]): Promise<Proc> {
  const child = spawn(SYSTEM_PYTHON, [path.resolve(__dirname, '../../bench', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the seed script exited (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return { name: 'Python', pid: child.pid as number };
}

/** Stops what was started, last first. */
class Stops {
  private readonly list: (() => unknown)[] = [];
  add<T>(started: T, stop: (it: T) => unknown): T {
    this.list.push(() => stop(started));
    return started;
  }
  /** Each stop runs even when one before it failed (a process that is already gone, say). */
  async all(): Promise<void> {
    for (const stop of this.list.reverse())
      await Promise.resolve()
        .then(stop)
        .catch(() => undefined);
    this.list.length = 0;
  }
}

/** The seed's approaches, each with its own source, or why they cannot run here. */
async function startSeeds(stops: Stops, vcdUrl: string, sinkUrl: string) {
  const kill = (p: Proc) => process.kill(p.pid, 'SIGTERM');
  const seed: Stack['seed'] =
    seedClientMissing() ??
    stops.add(
      await startSeed('seed_vcd_pipeline.py', [
        vcdUrl,
        `${VCD_USERS.seed}@acme`,
        DEFAULT_PASSWORD,
        `${sinkUrl}${PATHS.seedVcd}`,
      ]),
      kill,
    );
  const missing = seedScriptMissing();
  if (missing) return { seed, seedAci: missing };
  const apic = stops.add(await startSimProcess('apic'), (a) => a.stop());
  const args = [apic.url, apic.caFile, 'admin', DEFAULT_APIC_PASSWORD, 'fvBD', `${sinkUrl}${PATHS.seedAci}`];
  const start = freshEachTime(
    () => startSeed('seed_aci_pipeline.py', args),
    (p) => process.kill(p.pid, 'SIGTERM'),
    stops,
  );
  return { seed, seedAci: { apic, start } };
}

/** start() stops what the previous start() started, then starts anew; the last one is stopped with the stack. */
function freshEachTime<T>(start: () => Promise<T>, stop: (it: T) => unknown, stops: Stops): () => Promise<T> {
  let current: T | undefined;
  stops.add(undefined, () => current !== undefined && stop(current));
  return async () => {
    if (current !== undefined) await stop(current);
    current = undefined;
    current = await start();
    return current;
  };
}

function controls(vcdUrl: string, sinkUrl: string) {
  const control = new HttpClient({ tls: {}, timeoutMs: 600_000 });
  const apicControl = (apic: SimProcess) =>
    new HttpClient({ tls: { ca: fs.readFileSync(apic.caFile, 'utf8') }, timeoutMs: 600_000 });
  return {
    close: () => control.close(),
    sink: {
      reset: async (latency = false) =>
        void (await control.send('POST', `${sinkUrl}/_reset${latency ? '?latency=1' : ''}`)),
      state: async (path: string, latency = false) => {
        const query = `path=${encodeURIComponent(path)}${latency ? '&latency=1' : ''}`;
        const res = await control.send('GET', `${sinkUrl}/_state?${query}`);
        return JSON.parse(res.text) as SinkState;
      },
    },
    floodVcd: async (user: string, count: number, ratePerSec = 0) => {
      const res = await control.send('POST', `${vcdUrl}/_sim/flood`, {
        body: JSON.stringify({ count, actor: `${user}@acme`, ratePerSec }),
      });
      if (res.status !== 200) throw new Error(`VCD flood: ${res.status} ${res.text}`);
    },
    floodAci: async (apic: SimProcess, count: number) => {
      const client = apicControl(apic);
      const res = await client.send('POST', `${apic.url}/_sim/flood`, {
        body: JSON.stringify({ count, className: 'fvBD' }),
      });
      await client.close();
      if (res.status !== 200) throw new Error(`APIC flood: ${res.status} ${res.text}`);
    },
  };
}

export async function startStack(): Promise<Stack> {
  const stops = new Stops();
  try {
    const broker = stops.add(await startMosquitto(), (b) => b.stop());
    const users = Object.values(VCD_USERS).join(',');
    const [vcd, apicOurs, apicCeiling, sinkChild] = await Promise.all([
      startSimProcess('vcd-relay', [broker.url, users]).then((p) => stops.add(p, (x) => x.stop())),
      startSimProcess('apic').then((p) => stops.add(p, (x) => x.stop())),
      startSimProcess('apic').then((p) => stops.add(p, (x) => x.stop())),
      startNodeChild<{ url: string }>('count-sink.js', []).then((p) => stops.add(p, (x) => x.stop())),
    ]);
    const sinkUrl = sinkChild.ready.url;
    const ids = await vcdIds(vcd.url, VCD_USERS.core);
    const spool = emitHasSpool();
    const flows = benchFlows({
      vcdUrl: vcd.url,
      sinkUrl,
      coreTopic: `publish/${ids.org}/${ids.user}`,
      apicHost: new URL(apicOurs.url).host,
      apicCa: fs.readFileSync(apicOurs.caFile, 'utf8'),
      spool,
    });
    const connections = String(CONNECTIONS);
    const [red, ceilingVcd, seeds] = await Promise.all([
      startRed(flows).then((r) =>
        stops.add(r, (x) => (x.child.kill('SIGINT'), new Promise((done) => x.child.once('exit', done)))),
      ),
      startNodeChild('ceiling.js', [
        'vcd',
        vcd.url,
        VCD_USERS.ceiling,
        `${sinkUrl}${PATHS.ceilingVcd}`,
        connections,
      ]),
      startSeeds(stops, vcd.url, sinkUrl),
    ]);
    stops.add(ceilingVcd, (c) => c.stop());
    const startCeilingAci = freshEachTime(
      () =>
        startNodeChild('ceiling.js', [
          'aci',
          apicCeiling.url,
          apicCeiling.caFile,
          'fvBD',
          `${sinkUrl}${PATHS.ceilingAci}`,
          connections,
        ]),
      (c) => c.stop(),
      stops,
    );
    const control = stops.add(controls(vcd.url, sinkUrl), (c) => c.close());
    return {
      ...control,
      ...seeds,
      vcdUrl: vcd.url,
      sinkUrl,
      apicOurs,
      apicCeiling,
      red: { base: red.base, proc: { name: 'Node-RED', pid: red.child.pid as number } },
      ceilingVcd: { name: 'ceiling', pid: ceilingVcd.child.pid as number },
      startCeilingAci: async () => ({ name: 'ceiling', pid: (await startCeilingAci()).child.pid as number }),
      spool,
      vcdSources: [broker.proc, { name: 'VCD sim', pid: vcd.pid }],
      sinkProc: { name: 'sink', pid: sinkChild.child.pid as number },
      stop: () => stops.all(),
    };
  } catch (err) {
    await stops.all();
    throw err;
  }
}
