/**
 * alert-gate: what deciding costs per event, the gate alone (no Node-RED):
 * a bare Set of source + id as the ceiling, the gate in memory, with its
 * journal on disk (one fsync per turn of the event loop: one event per turn,
 * the worst case, and bursts of 100), and with the HA pair's Redis (every
 * event claimed there). Events of 500 objects: most are held in storms.
 *   node dist/bench/alerts.js   runs it alone
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../nodes/common/node-files';
import type { InfraEvent } from '../nodes/common/infra-event';
import { AlertGate, type GateOptions } from '../nodes/alerts/gate';
import { Journal } from '../nodes/alerts/journal';
import { RedisStore } from '../nodes/alerts/redis-store';
import { stormKeyOf } from '../nodes/alerts/storm-key';
import { TestRedis } from '../test/support/redis';
import type { ResultRow } from './results';

const turn = () => new Promise<void>((r) => setImmediate(r));

function events(count: number): InfraEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `urn:vcloud:event:${i.toString(16).padStart(8, '0')}-6a3b-4c1e-9f2d-0c2a1f6d7e8b`,
    source: 'https://vcd.example.com',
    type: 'com.vmware.vcloud.event.vm.deploy',
    time: '2026-11-22T10:04:00.123+01:00',
    subject: `urn:vcloud:vm:${i % 500}`,
    summary: `vm web-${i % 500} deployed by acmeadmin in acme: failed`,
    origin: 'vcd',
    data: {},
  }));
}

type Run = (list: InfraEvent[]) => Promise<void>;

/** The gate over `list`, `perTurn` events per turn of the event loop, flushed after each turn. */
function gateRun(options: GateOptions, files: NodeFiles | undefined, perTurn: number): Run {
  return async (list) => {
    const gate = new AlertGate(new Journal(files, `bench-${Date.now()}`), options);
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      await gate.take(e, stormKeyOf(e, 'subject'));
      if ((i + 1) % perTurn === 0) {
        await turn();
        gate.flush();
      }
    }
    gate.flush();
  };
}

async function measure(contender: string, count: number, run: Run): Promise<ResultRow> {
  const list = events(count);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(list);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  return {
    benchmark: 'alert-gate',
    contender,
    events: count,
    eventsPerSec: count / seconds,
    cpuMsPer1k: (cpuMs / count) * 1000,
    p50Ms: null,
    p99Ms: null,
    rssGrowthMiB: null,
    boundBy: `this process ${Math.round((cpuMs / 1000 / seconds) * 100)}%`,
  };
}

export async function alertGate(count: number): Promise<ResultRow[]> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gate-'));
  const files = new NodeFiles(userDir, 'alert-gate');
  const doubles = { windowMs: 3600_000, maxEntries: 100_000 };
  const storms = { windowMs: 300_000, maxStorms: 10_000, passClears: false };
  const contenders: [string, Run][] = [
    [
      'ceiling: a Set of source + id',
      async (list) => {
        const seen = new Set<string>();
        for (const e of list) seen.add(`${e.source}\n${e.id}`);
      },
    ],
    ['alert gate, in memory (doubles + storms)', gateRun({ doubles, storms }, undefined, 1)],
    ['alert gate, journal on disk, 1 event per turn (an fsync each)', gateRun({ doubles, storms }, files, 1)],
    ['alert gate, journal on disk, 100 events per turn', gateRun({ doubles, storms }, files, 100)],
  ];
  let redis: TestRedis | undefined;
  let store: RedisStore | undefined;
  try {
    redis = await TestRedis.start();
    store = new RedisStore({ url: redis.url, prefix: 'bench:' });
    store.start();
    const shared = store;
    while (shared.state !== 'connected') await new Promise((r) => setTimeout(r, 20));
    contenders.push([
      'alert gate, doubles only, journal on disk + Redis (HA pair: a claim per event), 100 per turn',
      gateRun({ doubles, shared }, files, 100),
    ]);
  } catch (err) {
    console.log(`(Redis row skipped: ${(err as Error).message.split('\n')[0]})`);
  }
  try {
    const rows: ResultRow[] = [];
    for (const [name, run] of contenders) rows.push(await measure(name, count, run));
    return rows;
  } finally {
    await store?.close();
    await redis?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  alertGate(Number(process.env.BENCH_EVENTS) || 20_000)
    .then((rows) =>
      console.table(
        rows.map((r) => ({
          contender: r.contender,
          'events/s': Math.round(r.eventsPerSec ?? 0),
          'CPU ms/1k': r.cpuMsPer1k?.toFixed(1),
        })),
      ),
    )
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
