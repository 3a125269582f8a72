/**
 * CloudEvents delivery: N events in binary mode to the sink simulator (its own
 * process, plain HTTP), 50 in flight, side by side:
 *
 * - our Delivery (undici Pool with keep-alive, queue, retries);
 * - the cloudevents SDK's emitter with its httpTransport (what its docs show);
 * - fetch (undici's, global in Node);
 * - node:http with a keep-alive Agent.
 *
 * Every contender sends the same bytes (our binary encoding), so the table
 * compares the transports and the delivery logic, not the encoders.
 */
import http from 'node:http';
import { CloudEvent, emitterFor, httpTransport } from 'cloudevents';
import { type CloudEvent as Ce, fromPayload, toBinary } from '../nodes/events/cloudevent';
import { Delivery } from '../nodes/events/delivery';
import { type Row, type SimProcess, measure, printTable, startSimProcess } from './harness';

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

async function ours(url: string, list: Ce[]): Promise<void> {
  const d = new Delivery({ url, mode: 'binary', concurrency: IN_FLIGHT, queueLimit: list.length });
  await Promise.all(list.map((ce) => d.send(ce)));
  await d.close();
}

async function sdk(url: string, list: Ce[]): Promise<void> {
  const emit = emitterFor(httpTransport(url));
  await pooled(list, async (ce) => {
    const { data, ...attrs } = ce;
    await emit(new CloudEvent({ ...attrs, data }, false));
  });
}

async function viaFetch(url: string, list: Ce[]): Promise<void> {
  await pooled(list, async (ce) => {
    const { headers, body } = toBinary(ce);
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`fetch got ${res.status}`);
  });
}

async function nodeHttp(url: string, list: Ce[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  await pooled(
    list,
    (ce) =>
      new Promise<void>((resolve, reject) => {
        const { headers, body } = toBinary(ce);
        const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode! < 300 ? resolve() : reject(new Error(`http got ${res.statusCode}`)),
          );
        });
        req.on('error', reject);
        req.end(body);
      }),
  );
  agent.destroy();
}

const CONTENDERS: [string, (url: string, list: Ce[]) => Promise<void>][] = [
  ['cloudevent emit delivery (undici Pool)', ours],
  ['cloudevents SDK emitter (httpTransport)', sdk],
  ['fetch', viaFetch],
  ['node:http keep-alive Agent', nodeHttp],
];

export const TITLE = `CloudEvents delivery, binary mode, ${IN_FLIGHT} in flight (sink in its own process, plain HTTP)`;

export async function run(count = Number(process.env.BENCH_EVENTS ?? 20_000)): Promise<Row[]> {
  const sink: SimProcess = await startSimProcess('sink');
  try {
    const rows: Row[] = [];
    for (const [name, deliver] of CONTENDERS) {
      await deliver(`${sink.url}/events`, events(Math.min(2000, count), `warmup-${name}`)); // warm-up
      const list = events(count, name);
      rows.push(await measure(name, count, () => deliver(`${sink.url}/events`, list)));
    }
    return rows;
  } finally {
    sink.stop();
  }
}

if (require.main === module) {
  void run().then((rows) => printTable(TITLE, rows));
}
