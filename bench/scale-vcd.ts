/**
 * scale-vcd: what a busy cloud costs vcd subscribe, at growing sizes. A VCD
 * simulator (its own process) with N organizations, an administrator and a
 * user in each, publishes events at a rate that grows with them; vcd
 * subscribe's layers (scale-vcd-child.ts, its own process: a provider login
 * on `publish/#`, missed-events recovery with its saved mark, output `event`)
 * take them:
 *
 * - organizations: start → live (from the subscription to the first event
 *   out), a steady stretch (events/s, CPU per event, bytes per minute of the
 *   saved mark), reconnect → live (from the new connection);
 * - recovery after a gap: the connection cut and refused while R events are
 *   written to the audit trail only, then the time from the new connection to
 *   the last of them recovered, and how many came (each once: no loss, no double).
 *
 *   node dist/bench/scale-vcd.js [--quick]   runs it alone
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';
import { cpuSeconds } from './procs';
import type { ScaleRow } from './results';
import {
  LineChild,
  MiB,
  control,
  load,
  runAlone,
  steadyStretchMs,
  stopOnExit,
  type ChildStats,
  type Live,
} from './scale';
import { startSimProcess, type SimProcess } from './harness';

interface Stats extends ChildStats {
  events: number;
  recovered: number;
  recovery: { ms: number; cpuMs: number };
}

const MINUTE = 60_000;

/** N organizations, each with an administrator and a user who act (and the provider's administrator). */
function users(orgs: number) {
  const list = [{ name: 'administrator', org: 'System', password: DEFAULT_PASSWORD, role: 'sysAdmin' }];
  for (let i = 1; i <= orgs; i++) {
    const org = `org-${String(i).padStart(3, '0')}`;
    list.push({ name: `${org}-admin`, org, password: DEFAULT_PASSWORD, role: 'orgAdmin' });
    list.push({ name: `${org}-user`, org, password: DEFAULT_PASSWORD, role: 'user' });
  }
  return list;
}

async function subscriber(sim: SimProcess, userDir: string): Promise<[LineChild, number]> {
  const config = { url: sim.url, caFile: sim.caFile, userDir, nodeId: 'scale-vcd' };
  const child = new LineChild('scale-vcd-child.js', [JSON.stringify(config)], ['--max-old-space-size=6144']);
  const { rss } = await child.next<{ rss: number }>('ready', 60_000);
  return [child, rss];
}

async function withSim<T>(
  options: object,
  work: (sim: SimProcess, ca: string, userDir: string) => Promise<T>,
) {
  const sim = await startSimProcess('vcd', [JSON.stringify(options)]);
  const release = stopOnExit(() => sim.stop());
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-vcd-'));
  try {
    return await work(sim, fs.readFileSync(sim.caFile, 'utf8'), userDir);
  } finally {
    release();
    sim.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

/** N organizations publishing `rate` events a second in all. */
function organizations(orgs: number, rate: number, steadyMs: number): Promise<ScaleRow> {
  const loadBefore = load();
  return withSim({ users: users(orgs), ratePerSec: rate }, async (sim, ca, userDir) => {
    const [child, base] = await subscriber(sim, userDir);
    const start = await child.next<Live>('live', 120_000);
    const before = await child.ask<Stats>('stats');
    const simCpu = cpuSeconds(sim.pid);
    await new Promise((r) => setTimeout(r, steadyMs));
    const after = await child.ask<Stats>('stats');
    const simShare = (cpuSeconds(sim.pid) - simCpu) / (steadyMs / 1000);
    child.send('expect-reconnect');
    await control(`${sim.url}/_sim/broker/drop`, ca);
    const reconnect = await child.next<Live>('live', 120_000);
    const last = await child.ask<Stats>('stats');
    const peak = child.peakRss();
    await child.stop();
    const events = after.events - before.events;
    return {
      benchmark: 'scale-vcd',
      contender: `organizations, ${rate} events/s`,
      size: orgs,
      figures: {
        startS: start.ms / 1000,
        reconnectS: reconnect.ms / 1000,
        eventsPerSec: (events / steadyMs) * 1000,
        cpuUsPerEvent: ((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, events),
        peakRssMiB: peak / MiB,
        maxStallMs: last.maxStallMs,
        ownStallMs: last.ownStallMs,
        stateKiBPerMin: ((after.stateBytes - before.stateBytes) / 1024) * (MINUTE / steadyMs),
      },
      load: Math.max(loadBefore, load()),
      boundBy: `VCD simulator ${Math.round(simShare * 100)}% of a core; base RSS ${Math.round(base / MiB)} MiB`,
    };
  });
}

/** Waits until `recovered` stops growing (or reaches `want`); the stats then. */
async function recoveredAll(child: LineChild, want: number, quietMs: number): Promise<Stats> {
  let last = await child.ask<Stats>('stats');
  let since = Date.now();
  while (last.recovered < want && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await child.ask<Stats>('stats');
    if (now.recovered !== last.recovered) since = Date.now();
    last = now;
  }
  return last;
}

/** A gap in which `records` events happened: how long their recovery takes, and whether all came. */
function recovery(records: number): Promise<ScaleRow> {
  const loadBefore = load();
  return withSim({ users: users(10), ratePerSec: 0 }, async (sim, ca, userDir) => {
    const [child] = await subscriber(sim, userDir);
    // One event, live: the mark.
    await new Promise((r) => setTimeout(r, 2000));
    await control(`${sim.url}/_sim/events`, ca);
    await child.next<Live>('live', 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    // Away: the connection cut and refused, the events only in the audit trail (dated after the mark).
    await control(`${sim.url}/_sim/broker/restart?downMs=3000`, ca);
    await control(`${sim.url}/_sim/audit/backlog`, ca, { count: records, spanMs: 500 });
    const done = await recoveredAll(child, records, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const settled = await child.ask<Stats>('stats');
    const peak = child.peakRss();
    await child.stop();
    return {
      benchmark: 'scale-vcd',
      contender: 'recovery after a gap (records missed)',
      size: records,
      figures: {
        recoveryS: done.recovery.ms / 1000,
        recovered: settled.recovered,
        cpuUsPerEvent: (done.recovery.cpuMs * 1000) / Math.max(1, done.recovered),
        peakRssMiB: peak / MiB,
        maxStallMs: settled.maxStallMs,
        ownStallMs: settled.ownStallMs,
      },
      load: Math.max(loadBefore, load()),
      boundBy: settled.recovered === records ? 'every record once' : `${records - settled.recovered} missing`,
    };
  });
}

export async function scaleVcd(quick: boolean): Promise<ScaleRow[]> {
  const shapes: [number, number][] = quick
    ? [[1, 50]]
    : [
        [1, 100],
        [10, 1000],
        [50, 2500],
      ];
  const gaps = quick ? [2000] : [10_000, 50_000, 100_000];
  const rows: ScaleRow[] = [];
  for (const [orgs, rate] of shapes) rows.push(await organizations(orgs, rate, steadyStretchMs(quick)));
  for (const records of gaps) rows.push(await recovery(records));
  return rows;
}

export const SCALE_VCD_TITLE =
  'scale-vcd: a VCD of N organizations, and recoveries after gaps of N records, taken by vcd subscribe';

if (require.main === module) runAlone(SCALE_VCD_TITLE, scaleVcd);
