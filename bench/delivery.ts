/**
 * The delivery ceiling: N CloudEvents to the counting sink (its own process,
 * plain HTTP, so the sender is what bounds the run), 50 in flight:
 *
 * - the ceiling: a bare undici Pool loop sending our binary encoding;
 * - cloudevent emit's Delivery in binary, structured and batch mode (10 a request);
 * - the cloudevents SDK emitter with its httpTransport (what its docs show);
 * - the core http request node in Node-RED, in a closed loop of 50 (bench/flows.ts).
 *
 * The in-process contenders run in this process: its CPU is theirs.
 */
import { CloudEvent, emitterFor, httpTransport } from 'cloudevents';
import { Pool, request } from 'undici';
import { type CloudEvent as Ce, fromPayload, toBinary } from '../nodes/events/cloudevent-model';
import { Delivery, type DeliveryMode } from '../nodes/events/delivery';
import { type Proc, boundBy, snapshot, spent, waitUntil } from './procs';
import type { ResultRow } from './results';
import { PATHS } from './flows';
import type { Stack } from './stack';

const IN_FLIGHT = 50;

function events(n: number, run: string): Ce[] {
  return Array.from({ length: n }, (_, i) =>
    fromPayload(
      { n: i, host: 'esxi-07.lab', metric: 'cpu.usage.average', value: 42.5 },
      {
        type: 'com.example.bench',
        source: `/bench/${encodeURIComponent(run)}`,
        subject: `vm-${i % 100}`,
        time: new Date(1_800_000_000_000 + i).toISOString(),
      },
    ),
  );
}

/** Runs `send` over all events with at most IN_FLIGHT at once. */
async function pooled(list: Ce[], send: (ce: Ce) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < list.length) await send(list[next++] as Ce);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function bareUndici(url: string, list: Ce[]): Promise<void> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: IN_FLIGHT });
  await pooled(list, async (ce) => {
    const { headers, body } = toBinary(ce);
    const res = await pool.request({ method: 'POST', path: target.pathname, headers, body });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`undici got ${res.statusCode}`);
  });
  await pool.close();
}

const ours = (mode: DeliveryMode) => async (url: string, list: Ce[]) => {
  const d = new Delivery({ url, mode, batchSize: 10, concurrency: IN_FLIGHT, queueLimit: list.length });
  await Promise.all(list.map((ce) => d.send(ce)));
  await d.close();
};

async function sdk(url: string, list: Ce[]): Promise<void> {
  const emit = emitterFor(httpTransport(url));
  await pooled(list, async (ce) => {
    const { data, ...attrs } = ce;
    await emit(new CloudEvent({ ...attrs, data }, false));
  });
}

const CONTENDERS: [string, (url: string, list: Ce[]) => Promise<void>][] = [
  ['ceiling: undici Pool loop (binary)', bareUndici],
  ['cloudevent emit delivery, binary', ours('binary')],
  ['cloudevent emit delivery, structured', ours('structured')],
  ['cloudevent emit delivery, batch (10 a request)', ours('batch')],
  ['cloudevents SDK emitter (httpTransport)', sdk],
];

/** This process as a Proc, for the CPU of the in-process contenders. */
const self: Proc = { name: 'bench (client)', pid: process.pid };

async function timed(stack: Stack, proc: Proc, path: string, count: number, work: () => Promise<void>) {
  const procs = [stack.sinkProc, proc];
  await stack.sink.reset();
  const before = snapshot(procs);
  const started = performance.now();
  await work();
  await waitUntil(
    async () => (await stack.sink.state(path)).events >= count,
    `${count} events at the sink`,
    600_000,
    20,
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, cpu: spent(before, snapshot(procs)) };
}

export async function delivery(stack: Stack, count: number): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const add = (name: string, proc: Proc, m: { seconds: number; cpu: Map<string, number> }) =>
    rows.push({
      benchmark: 'delivery',
      contender: name,
      events: count,
      eventsPerSec: count / m.seconds,
      cpuMsPer1k: ((m.cpu.get(proc.name) ?? NaN) * 1e6) / count,
      p50Ms: null,
      p99Ms: null,
      rssGrowthMiB: null,
      boundBy: boundBy(m.cpu, m.seconds),
    });
  for (const [i, [name, deliver]] of CONTENDERS.entries()) {
    const path = `/events/delivery-${i}`;
    const url = `${stack.sinkUrl}${path}`;
    await deliver(url, events(Math.min(2000, count), `warmup-${name}`));
    const list = events(count, name);
    add(name, self, await timed(stack, self, path, count, () => deliver(url, list)));
  }
  const { headers, body } = toBinary(events(1, 'core')[0] as Ce);
  const start = (n: number) => async () => {
    const res = await request(`${stack.red.base}/bench/deliver`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n, inFlight: IN_FLIGHT, headers, body }),
    });
    await res.body.dump();
  };
  const red = stack.red.proc;
  await timed(stack, red, PATHS.deliveryCore, Math.min(2000, count), start(Math.min(2000, count)));
  add(
    'core http request node (Node-RED)',
    red,
    await timed(stack, red, PATHS.deliveryCore, count, start(count)),
  );
  return rows;
}
