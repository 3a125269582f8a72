/**
 * aci-ingest: how fast pushes go from the APIC's socket to decoded objects,
 * the client alone (pipeline-aci runs it inside Node-RED, with the delivery).
 * The simulator (one APIC) runs in its own process and modifies bridge
 * domains N times (POST /_sim/flood); each contender logs in, opens the
 * socket, subscribes to class fvBD and is timed from the first change to the
 * N-th pushed object received and decoded. Runs are short, so each contender
 * runs three times, taking turns, and the table shows the medians:
 *
 * - the ceiling: bare ws + aaaLogin via undici, JSON.parse per push, no refresh or reconnect logic;
 * - our client: ApicCluster + ApicSubscriber, handlers receiving AciChange objects;
 * - the same, each change also turned into the InfraEvent aci subscribe sends with output "event";
 * - the seed script's approach: Python requests + websocket-client (Debian's packages), json.loads per push.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { HttpClient } from '../nodes/common/http';
import { parseEntries } from '../nodes/aci/entries';
import { toMessage } from '../nodes/aci/output';
import { ApicCluster } from '../nodes/aci/session';
import { ApicSubscriber, type AciChange } from '../nodes/aci/subscriber';
import { DEFAULT_APIC_PASSWORD } from '../sim/apic';
import { SYSTEM_PYTHON } from '../test/support/seed-vcd-client';
import { boundBy } from './procs';
import { type ResultRow, printTable } from './results';
import {
  type Row,
  type SimProcess,
  type Contender,
  medianRow,
  reportedCpuSeconds,
  startSimProcess,
  timed,
} from './harness';

const CLASS = 'fvBD';
/** Measured runs per contender, taking turns; the table shows the median. */
const ROUNDS = 3;
const USER = 'admin';
const SEED_SCRIPT = path.resolve(__dirname, '../../test/interop/aci_seed_client.py');

async function flood(sim: SimProcess, count: number): Promise<void> {
  // The control endpoint answers when every push is written to the sockets.
  const http = new HttpClient({ tls: { ca: fs.readFileSync(sim.caFile, 'utf8') }, timeoutMs: 300_000 });
  const res = await http.send('POST', `${sim.url}/_sim/flood`, {
    body: JSON.stringify({ count, className: CLASS }),
  });
  await http.close();
  if (res.status !== 200) throw new Error(`flood: ${res.status} ${res.text}`);
  if (process.env.BENCH_DEBUG) console.error(`flood ${count}: ${res.text}`);
}

function counter(count: number): { all: Promise<void>; add(n: number): void } {
  let received = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  return { all, add: (n) => void ((received += n) >= count && done()) };
}

function bareWs(sim: SimProcess, count: number) {
  return async () => {
    const ca = fs.readFileSync(sim.caFile, 'utf8');
    const dispatcher = new Agent({ connect: { ca } });
    const login = await request(`${sim.url}/api/aaaLogin.json`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ aaaUser: { attributes: { name: USER, pwd: DEFAULT_APIC_PASSWORD } } }),
    });
    const body = (await login.body.json()) as { imdata: { aaaLogin: { attributes: { token: string } } }[] };
    const token = body.imdata[0]!.aaaLogin.attributes.token;
    const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/socket${token}`, {
      ca,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const got = counter(count);
    ws.on('message', (data: Buffer) => {
      const push = JSON.parse(data.toString('utf8')) as { imdata: unknown[] };
      got.add(push.imdata.length);
    });
    const sub = await request(`${sim.url}/api/class/${CLASS}.json?subscription=yes&refresh-timeout=60`, {
      dispatcher,
      headers: { cookie: `APIC-cookie=${token}` },
    });
    if (sub.statusCode !== 200) throw new Error(`subscribe: ${sub.statusCode}`);
    await sub.body.dump();
    return {
      all: got.all,
      close: async () => {
        ws.close();
        const out = await request(`${sim.url}/api/aaaLogout.json`, {
          method: 'POST',
          dispatcher,
          headers: { cookie: `APIC-cookie=${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ aaaUser: { attributes: { name: USER } } }),
        });
        await out.body.dump();
        await dispatcher.close();
      },
    };
  };
}

function ours(decode: (change: AciChange, source: string) => void) {
  return (sim: SimProcess, count: number) => async () => {
    const cluster = new ApicCluster({
      hosts: sim.url,
      authType: 'password',
      username: USER,
      password: DEFAULT_APIC_PASSWORD,
      tls: { ca: fs.readFileSync(sim.caFile, 'utf8') },
    });
    const source = cluster.hosts[0] as string;
    const subscriber = new ApicSubscriber({ cluster });
    const got = counter(count);
    const synced = new Promise<void>((r) => subscriber.once('synced', () => r()));
    subscriber.add(
      'bench',
      parseEntries(CLASS),
      {
        changes(changes) {
          for (const change of changes) decode(change, source);
          got.add(changes.length);
        },
      },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    await synced;
    return { all: got.all, close: async () => (await subscriber.stop(), await cluster.close()) };
  };
}

/** Why the seed script cannot run here, or undefined when it can (as the interop test checks). */
export function seedScriptMissing(): string | undefined {
  if (!fs.existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is not installed`;
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import requests, websocket'], { encoding: 'utf8' });
  return probe.status === 0
    ? undefined
    : 'python3-requests / python3-websocket are not installed (Debian packages)';
}

function seedPython(sim: SimProcess, count: number) {
  return async () => {
    const child = spawn(SYSTEM_PYTHON, [
      SEED_SCRIPT,
      sim.url,
      '--ca',
      sim.caFile,
      '--user',
      USER,
      '--password',
      DEFAULT_APIC_PASSWORD,
      '--cls',
      CLASS,
      '--count',
      String(count),
      '--quiet',
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await Promise.race([
      new Promise<void>((r) => {
        const check = () => (out.includes('subscribedCpuSeconds') ? r() : setTimeout(check, 20));
        check();
      }),
      exited.then((code) => {
        throw new Error(`the seed script exited (${code}) before subscribing: ${err}`);
      }),
    ]);
    const all = exited.then((code) => {
      if (code !== 0) throw new Error(`the seed script failed (${code}): ${err}`);
    });
    // Its own CPU time from the moment it had subscribed (it runs in another process).
    return { all, close: async () => void child.kill(), cpuSeconds: () => reportedCpuSeconds(out) };
  };
}

const TITLE = 'aci-ingest: APIC socket → decoded object, the client alone (simulator in its own process)';

/**
 * Every contender, N objects each, taking turns: a row each (medians of the
 * rounds), which side bounded it read from the CPU of the contender's process
 * and of the simulator's.
 */
export async function aciIngest(count: number): Promise<ResultRow[]> {
  const sim = await startSimProcess('apic');
  try {
    const contenders: [string, (s: SimProcess, n: number) => () => Promise<Contender>][] = [
      ['ceiling: ws + JSON.parse', bareWs],
      ['aci subscribe client (AciChange)', ours(() => undefined)],
      [
        'aci subscribe client + InfraEvent (output "event")',
        ours((c, source) => toMessage(c, 'event', source)),
      ],
    ];
    const missing = seedScriptMissing();
    if (missing) console.log(`(seed script row skipped: ${missing})`);
    else contenders.push(['seed script (Python requests + websocket-client)', seedPython]);
    // A warm-up round (the simulator's code warms up too), then ROUNDS rounds taking turns, so that
    // neither warming up nor a busy moment of the machine favours one contender; the median of each.
    const warm = Math.min(2000, count);
    for (const [name, make] of contenders) await timed(name, flood, sim, warm, make(sim, warm));
    const runs: Row[][] = contenders.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [name, make]] of contenders.entries()) {
        runs[i]!.push(await timed(name, flood, sim, count, make(sim, count)));
      }
    }
    return runs.map(medianRow).map(toResult);
  } finally {
    sim.stop();
  }
}

function toResult(row: Row): ResultRow {
  // CPU ms per 1000 events times events per second: the contender's share of one core.
  const share = (row.cpuMsPer1k * row.perSecond) / 1e6;
  const who = row.contender.startsWith('seed') ? 'Python' : 'the client';
  const shares = new Map([
    [who, share],
    ['APIC simulator', row.simulatorShare],
  ]);
  return {
    benchmark: 'aci-ingest',
    contender: row.contender,
    events: row.events,
    eventsPerSec: row.perSecond,
    cpuMsPer1k: row.cpuMsPer1k,
    p50Ms: null,
    p99Ms: null,
    rssGrowthMiB: null,
    boundBy: boundBy(shares, 1),
  };
}

if (require.main === module) {
  void aciIngest(Number(process.env.BENCH_EVENTS ?? 100_000)).then((rows) => printTable(TITLE, rows));
}
