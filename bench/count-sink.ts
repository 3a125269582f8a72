/**
 * A minimal counting CloudEvents sink, in a process of its own, so that the
 * receiving end is not what bounds a delivery benchmark (the sink simulator
 * validates and records every event; this one only counts). Prints {url} once
 * listening. Each contender posts to a path of its own, so that a late event
 * of one is never counted for another.
 *
 * - POST <path>: 200; counts 1 event for the path, or the array length of a
 *   batch (application/cloudevents-batch+json).
 * - GET /_state?path=<path>: {events} of that path; with latency=1 also
 *   {latency: {count, p50Ms, p99Ms}} (sorting them is left to that one call: the
 *   benchmark asks for the count every 20 ms, and a sink busy sorting would
 *   delay the events it times).
 * - POST /_reset?latency=1: zeroes every count; with latency=1 it records, per
 *   event, receipt time minus the event's `time` (ce-time header, or `time` in
 *   a structured body) until the next reset.
 */
import http from 'node:http';

const counts = new Map<string, number>();
const latencies = new Map<string, number[]>();
let recordLatency = false;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number) : NaN;
}

function received(req: http.IncomingMessage, path: string, body: string): void {
  const record = (time: string | undefined) => {
    const at = time ? Date.parse(decodeURIComponent(time)) : NaN;
    if (Number.isNaN(at)) return;
    const list = latencies.get(path) ?? [];
    list.push(Date.now() - at);
    latencies.set(path, list);
  };
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/cloudevents-batch+json')) {
    const list = JSON.parse(body) as { time?: string }[];
    counts.set(path, (counts.get(path) ?? 0) + list.length);
    if (recordLatency) for (const e of list) record(e.time);
    return;
  }
  counts.set(path, (counts.get(path) ?? 0) + 1);
  if (!recordLatency) return;
  const header = req.headers['ce-time'];
  if (typeof header === 'string') record(header);
  else if (type.startsWith('application/cloudevents+json'))
    record((JSON.parse(body) as { time?: string }).time);
}

function state(path: string, withLatency: boolean): string {
  const events = counts.get(path) ?? 0;
  if (!withLatency) return JSON.stringify({ events });
  const sorted = [...(latencies.get(path) ?? [])].sort((a, b) => a - b);
  return JSON.stringify({
    events,
    latency: { count: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) },
  });
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://sink');
    if (req.method === 'GET' && url.pathname === '/_state') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(state(url.searchParams.get('path') ?? '', url.searchParams.get('latency') === '1'));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/_reset') {
      counts.clear();
      latencies.clear();
      recordLatency = url.searchParams.get('latency') === '1';
      res.writeHead(204).end();
      return;
    }
    received(req, url.pathname, Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-length': '0' }).end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
