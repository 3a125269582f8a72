/**
 * A minimal counting CloudEvents sink, in a process of its own, so that the
 * receiving end is not what bounds a delivery benchmark (the sink simulator
 * validates and records every event; this one only counts). Prints {url} once
 * listening.
 *
 * - POST anything else: 200; counts 1 event, or the array length of a batch
 *   (application/cloudevents-batch+json).
 * - GET /_state: {events, latency: {count, p50Ms, p99Ms}}.
 * - POST /_reset?latency=1: zeroes the count; with latency=1 it records, per
 *   event, receipt time minus the event's `time` (ce-time header, or `time` in
 *   a structured body) until the next reset.
 */
import http from 'node:http';

let events = 0;
let recordLatency = false;
let latencies: number[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number) : NaN;
}

function record(time: string | undefined, now: number): void {
  if (!time) return;
  const at = Date.parse(decodeURIComponent(time));
  if (!Number.isNaN(at)) latencies.push(now - at);
}

function received(req: http.IncomingMessage, body: string): void {
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/cloudevents-batch+json')) {
    const list = JSON.parse(body) as { time?: string }[];
    events += list.length;
    if (recordLatency) for (const e of list) record(e.time, Date.now());
    return;
  }
  events++;
  if (!recordLatency) return;
  const header = req.headers['ce-time'];
  if (typeof header === 'string') record(header, Date.now());
  else if (type.startsWith('application/cloudevents+json'))
    record((JSON.parse(body) as { time?: string }).time, Date.now());
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/_state') {
      const sorted = [...latencies].sort((a, b) => a - b);
      const latency = {
        count: sorted.length,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events, latency }));
      return;
    }
    if (req.method === 'POST' && url.startsWith('/_reset')) {
      events = 0;
      latencies = [];
      recordLatency = url.includes('latency=1');
      res.writeHead(204).end();
      return;
    }
    received(req, Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-length': '0' }).end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
