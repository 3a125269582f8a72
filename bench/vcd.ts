/**
 * VCD ingestion: how fast events go from the message bus to parsed envelopes.
 * The simulator runs in its own process and floods N events; each contender
 * logs in, subscribes and is timed from the first publish to the N-th event:
 *
 * - bare mqtt.js over ws with JSON.parse twice: the floor, no reconnect logic;
 * - our client: VcdMessaging (token source, dispatch) + parseVcdEnvelope;
 * - the seed script's approach: Python paho-mqtt (Debian's package), json.loads twice.
 */
import fs from 'node:fs';
import mqtt from 'mqtt';
import { HttpClient } from '../nodes/common/http';
import { parseVcdEnvelope } from '../nodes/events/decode/vcd-envelope';
import { VcdMessaging } from '../nodes/vcd/messaging';
import { VcdSession } from '../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';
import { seedClientMissing, spawnSeedVcdClient } from '../test/support/seed-vcd-client';
import {
  type Row,
  type SimProcess,
  type Contender,
  printTable,
  reportedCpuSeconds,
  startSimProcess,
  timed,
} from './harness';

async function flood(sim: SimProcess, count: number): Promise<void> {
  // The control endpoint answers when every event is handed to the broker.
  const http = new HttpClient({ tls: { ca: fs.readFileSync(sim.caFile, 'utf8') }, timeoutMs: 300_000 });
  await http.send('POST', `${sim.url}/_sim/flood`, {
    body: JSON.stringify({ count, actor: 'acmeuser@acme' }),
  });
  await http.close();
}

function sessionFor(sim: SimProcess): VcdSession {
  return new VcdSession({
    url: sim.url,
    org: 'acme',
    authType: 'password',
    username: 'acmeadmin',
    password: DEFAULT_PASSWORD,
    tls: { ca: fs.readFileSync(sim.caFile, 'utf8') },
  });
}

function ours(sim: SimProcess, count: number) {
  return async () => {
    const session = sessionFor(sim);
    const messaging = new VcdMessaging({
      site: sim.url,
      tokens: session,
      tls: { ca: fs.readFileSync(sim.caFile, 'utf8') },
    });
    let received = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const subscribed = new Promise<void>((r) => messaging.once('connected', () => setTimeout(r, 200)));
    messaging.add('bench', 'publish/{org}/+', 1, {
      message(_topic, payload) {
        parseVcdEnvelope(payload.toString('utf8'));
        if (++received === count) done();
      },
    });
    await subscribed;
    return { all, close: async () => (await messaging.stop(), await session.close()) };
  };
}

function bareMqtt(sim: SimProcess, count: number) {
  return async () => {
    const session = sessionFor(sim);
    const token = await session.token();
    const client = mqtt.connect(`${sim.url.replace(/^http/, 'ws')}/messaging/mqtt`, {
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      wsOptions: { headers: { authorization: `Bearer ${token}` }, ca: fs.readFileSync(sim.caFile, 'utf8') },
    });
    let received = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    client.on('message', (_topic, payload) => {
      const env = JSON.parse(payload.toString('utf8')) as { payload: string };
      JSON.parse(env.payload);
      if (++received === count) done();
    });
    await new Promise<void>((r) => client.once('connect', () => r()));
    await client.subscribeAsync(`publish/${session.info!.orgUuid}/+`, { qos: 1 });
    return { all, close: async () => (await client.endAsync(), await session.close()) };
  };
}

function seedPython(sim: SimProcess, count: number) {
  return async () => {
    const child = spawnSeedVcdClient(sim.url, sim.caFile, count, ['--quiet']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((r) => {
      const check = () => (out.includes('SUBSCRIBED') ? r() : setTimeout(check, 20));
      check();
    });
    const all = new Promise<void>((r) => child.once('exit', () => r()));
    // Its own CPU time from the moment it had subscribed (it runs in another process).
    return { all, close: async () => void child.kill(), cpuSeconds: () => reportedCpuSeconds(out) };
  };
}

export const TITLE = 'VCD ingestion: message bus → parsed envelope (simulator in its own process)';

export async function run(count = Number(process.env.BENCH_EVENTS ?? 20_000)): Promise<Row[]> {
  const sim = await startSimProcess('vcd');
  try {
    const contenders: [string, (s: SimProcess, n: number) => () => Promise<Contender>][] = [
      ['mqtt.js bare + JSON.parse ×2', bareMqtt],
      ['vcd subscribe client', ours],
    ];
    if (!seedClientMissing()) contenders.push(['seed script (Python paho-mqtt)', seedPython]);
    const rows: Row[] = [];
    for (const [name, make] of contenders) {
      await timed(name, flood, sim, Math.min(2000, count), make(sim, Math.min(2000, count))); // warm-up
      rows.push(await timed(name, flood, sim, count, make(sim, count)));
    }
    return rows;
  } finally {
    sim.stop();
  }
}

if (require.main === module) {
  void run().then((rows) =>
    printTable('VCD ingestion (message bus → parsed envelope), one process each side', rows),
  );
}
