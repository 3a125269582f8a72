/**
 * The process scale-aci measures: what aci subscribe runs for its objects,
 * without Node-RED. The controller's subscriber, the node's saved state
 * (`initial: changes`, its files in a user directory) and output `event` for
 * every change. Talks to the benchmark over stdio, one JSON line each way:
 *
 *   out: {"ready": {"rss"}}, {"live": {"after": "start" | "reconnect", "ms", "cpuMs", "changes"}}
 *   in:  "stats" → {"stats": {"maxStallMs", "ownStallMs", "stateBytes", "changes", "cpuMs"}}; "stop" → exits
 *
 * `live` is the first change APIC pushed that leaves after a start or a
 * reconnect (pushes wait while a read is under way): the read's whole cost.
 * `ms` counts from `subscriber.add` at start, from the new socket after a
 * reconnect (the login and backoff before it cost the same at any size).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { NodeFiles } from '../nodes/common/node-files';
import { parseEntries } from '../nodes/aci/entries';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore } from '../nodes/aci/known-store';
import { toMessage } from '../nodes/aci/output';
import { ApicCluster } from '../nodes/aci/session';
import { ApicSubscriber } from '../nodes/aci/subscriber';
import { Stalls } from './stalls';
import { DEFAULT_APIC_PASSWORD } from '../sim/apic';

export interface ScaleAciConfig {
  url: string;
  caFile: string;
  /** Watch entries, one per line. */
  entries: string;
  userDir: string;
  nodeId: string;
}

const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as ScaleAciConfig;
  const stalls = new Stalls();
  const cluster = new ApicCluster({
    hosts: config.url,
    authType: 'password',
    username: 'admin',
    password: DEFAULT_APIC_PASSWORD,
    tls: { ca: fs.readFileSync(config.caFile, 'utf8') },
  });
  const source = cluster.hosts[0] as string;
  const subscriber = new ApicSubscriber({ cluster });
  const store = new KnownStore(new NodeFiles(config.userDir, ACI_STATE_PURPOSE), config.nodeId);
  const entries = parseEntries(config.entries);
  let changes = 0;
  const startedCpu = cpuMs();
  stalls.start();
  // The start counts from reading what was kept (a restart's state), as a node's does.
  let waiting: { after: 'start' | 'reconnect'; since: number; cpu: number } | undefined = {
    after: 'start',
    since: performance.now(),
    cpu: startedCpu,
  };
  const keeper = new KnownKeeper(
    store,
    () => entries.map((e) => e.key),
    (m) => console.error(m),
  );
  say({ ready: { rss: process.memoryUsage().rss } });
  await keeper.ready;
  subscriber.on('state', (state: string) => {
    // The new socket after a loss: from here every entry is read again.
    if (state === 'connected' && waiting?.after === 'reconnect') {
      waiting.since = performance.now();
      waiting.cpu = cpuMs();
    }
  });
  subscriber.add(
    'bench',
    entries,
    {
      changes(list) {
        keeper.send(() => {
          for (const change of list) toMessage(change, 'event', source);
          changes += list.length;
          if (waiting && !Number.isNaN(waiting.since) && list.some((c) => c.reason === 'push')) {
            say({
              live: {
                after: waiting.after,
                ms: performance.now() - waiting.since,
                cpuMs: cpuMs() - waiting.cpu,
                changes,
              },
            });
            waiting = undefined;
          }
        });
      },
      tracked: (entry, dn, state, baseline) => keeper.tracked(entry, dn, state, baseline),
      baseline: (entry, complete) => keeper.baseline(entry, complete),
    },
    {
      initial: 'changes',
      restore: (entry) => keeper.restored.get(entry),
      refreshTimeoutSec: 900,
    },
  );
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'stats') {
      say({
        stats: {
          maxStallMs: stalls.max.rawMs,
          ownStallMs: stalls.max.ownMs,
          longStalls: stalls.long,
          stateBytes: store.bytesWritten,
          changes,
          cpuMs: cpuMs() - startedCpu,
        },
      });
    } else if (line === 'expect-reconnect') {
      waiting = { after: 'reconnect', since: NaN, cpu: NaN };
    } else if (line === 'stop') {
      void keeper
        .close(false)
        .then(() => subscriber.stop())
        .then(() => cluster.close())
        .finally(() => process.exit(0));
    }
  });
}

void main();
