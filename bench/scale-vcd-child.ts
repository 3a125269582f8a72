/**
 * The process scale-vcd measures: what vcd subscribe runs, without Node-RED.
 * A provider login, the message bus on `publish/#`, missed-events recovery
 * with its mark kept in a user directory, and output `event` (the InfraEvent)
 * for every event, live or recovered. Talks to the benchmark over stdio, one
 * JSON line each way:
 *
 *   out: {"ready": {"rss"}}, {"live": {"after", "ms", "cpuMs"}}
 *   in:  "stats" → {"stats": {"maxStallMs", "ownStallMs", "stateBytes", "events", "recovered", "recovery", "cpuMs"}};
 *        "expect-reconnect"; "stop" → exits
 *
 * `recovery`: from the latest new connection to the latest recovered event,
 * in ms and CPU ms (what a recovery after a gap cost).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { NodeFiles } from '../nodes/common/node-files';
import { parseVcdEnvelope, vcdEnvelopeEvent } from '../nodes/events/decode/vcd-envelope';
import { MissedEvents } from '../nodes/vcd/catch-up';
import { CatchUpStore, FILE_PURPOSE, MarkKeeper } from '../nodes/vcd/catch-up-store';
import { VcdMessaging } from '../nodes/vcd/messaging';
import { VcdSession } from '../nodes/vcd/session';
import { Stalls } from './stalls';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';

export interface ScaleVcdConfig {
  url: string;
  caFile: string;
  userDir: string;
  nodeId: string;
}

const TOPIC = 'publish/#';
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Waiting {
  after: 'start' | 'reconnect';
  since: number;
  cpu: number;
}

function main(): void {
  const config = JSON.parse(process.argv[2] as string) as ScaleVcdConfig;
  const stalls = new Stalls();
  const tls = { ca: fs.readFileSync(config.caFile, 'utf8') };
  const session = new VcdSession({
    url: config.url,
    org: 'System',
    authType: 'password',
    username: 'administrator',
    password: DEFAULT_PASSWORD,
    tls,
  });
  const messaging = new VcdMessaging({ site: session.site, tokens: session, tls });
  const counts = { events: 0, recovered: 0 };
  const connected = { at: 0, cpu: 0 };
  const recovery = { ms: 0, cpuMs: 0 };
  const emit = (topic: string, payload: unknown, recovered: boolean) => {
    const envelope = recovered
      ? { type: 'EVENT', headers: { source: 'auditTrail' }, payload }
      : parseVcdEnvelope(payload as string);
    const inner = envelope.payload as { eventId?: unknown; timestamp?: unknown };
    keeper.delivered(inner.eventId, inner.timestamp);
    vcdEnvelopeEvent(envelope, { source: session.site, topic });
    counts.events++;
    if (!recovered) return;
    counts.recovered++;
    recovery.ms = performance.now() - connected.at;
    recovery.cpuMs = cpuMs() - connected.cpu;
  };
  const missed = new MissedEvents(
    (method, path) => session.request(method, path),
    {
      deliver: (topic, notification) => emit(topic, notification, true),
      failed: (error) => console.error(`${error.code}: ${error.message}`),
    },
    { vcdNow: () => session.clock.now() },
  );
  const store = new CatchUpStore(new NodeFiles(config.userDir, FILE_PURPOSE), config.nodeId, TOPIC, {
    vcdNow: () => session.clock.now(),
  });
  const keeper = new MarkKeeper(missed, store, (m) => console.error(m));
  let waiting: Waiting | undefined = { after: 'start', since: performance.now(), cpu: cpuMs() };
  const startedCpu = cpuMs();
  messaging.on('state', (state: string) => {
    if (state !== 'connected') return missed.disconnected();
    Object.assign(connected, { at: performance.now(), cpu: cpuMs() });
    if (waiting?.after === 'reconnect') Object.assign(waiting, { since: connected.at, cpu: connected.cpu });
  });
  stalls.start();
  messaging.add('bench', TOPIC, 1, {
    message(topic, payload) {
      const text = payload.toString('utf8');
      const inner = (JSON.parse(text) as { payload?: string }).payload;
      const event =
        typeof inner === 'string' ? (JSON.parse(inner) as { eventId?: unknown; timestamp?: unknown }) : {};
      if (!missed.seen(event.eventId, event.timestamp)) return;
      emit(topic, text, false);
      if (waiting && !Number.isNaN(waiting.since)) {
        say({
          live: { after: waiting.after, ms: performance.now() - waiting.since, cpuMs: cpuMs() - waiting.cpu },
        });
        waiting = undefined;
      }
    },
    granted: (filter) => void missed.granted(filter),
  });
  messaging.start();
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const command = line.trim();
    if (command === 'stats') {
      const { rawMs: maxStallMs, ownMs: ownStallMs } = stalls.max;
      say({
        stats: {
          maxStallMs,
          ownStallMs,
          stateBytes: store.bytesWritten,
          ...counts,
          recovery,
          cpuMs: cpuMs() - startedCpu,
        },
      });
    } else if (command === 'expect-reconnect') {
      waiting = { after: 'reconnect', since: NaN, cpu: NaN };
    } else if (command === 'stop') {
      missed.close();
      keeper.close(false);
      void messaging
        .stop()
        .then(() => session.close())
        .finally(() => process.exit(0));
    }
  });
  say({ ready: { rss: process.memoryUsage().rss } });
}

main();
