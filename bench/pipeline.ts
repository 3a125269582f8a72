/**
 * The pipeline benchmarks: events from the source (VCD message bus or APIC
 * socket) to the counting sink, through each contender. A run is timed from
 * the first publish to the sink's count reaching N; CPU is read per process.
 */
import { PATHS, VCD_USERS } from './flows';
import {
  type Proc,
  boundBy,
  peakRssBytes,
  resetPeakRss,
  rssBytes,
  snapshot,
  spent,
  waitUntil,
} from './procs';
import type { Benchmark, ResultRow } from './results';
import type { Stack } from './stack';

export interface Sizes {
  pipeline: number;
  /** Objects per contender of aci-ingest (bench/aci.ts). */
  aciObjects: number;
  delivery: number;
  warmup: number;
  latencySeconds: number;
  memoryWarmup: number;
  memory: number;
  /** Events the segment log holds in spool-index (bench/spool-index.ts). */
  spoolIndex: number;
}

export const FULL: Sizes = {
  pipeline: 200_000,
  aciObjects: 100_000,
  delivery: 50_000,
  warmup: 5000,
  latencySeconds: Number(process.env.BENCH_LATENCY_SECONDS ?? 30),
  memoryWarmup: Number(process.env.BENCH_MEMORY_EVENTS ?? 1_000_000) / 10,
  memory: Number(process.env.BENCH_MEMORY_EVENTS ?? 1_000_000),
  spoolIndex: 1_000_000,
};
export const QUICK: Sizes = {
  pipeline: 500,
  aciObjects: 1000,
  delivery: 500,
  warmup: 100,
  latencySeconds: 1,
  memoryWarmup: 500,
  memory: 1000,
  spoolIndex: 20_000,
};
/** The seed's Python approach carries a fraction of the others' events per second: it gets a tenth of N. */
const SEED_SHARE = 0.1;

/**
 * A contender of a pipeline: its process, the sink path it posts to, and how
 * to send it events (the VCD simulator publishing as its user, or its APIC
 * changing bridge domains).
 */
interface Contender {
  name: string;
  proc: Proc;
  path: string;
  /** The source's processes for this contender (broker and VCD simulator, or its APIC). */
  sources: Proc[];
  send(count: number, ratePerSec?: number): Promise<void>;
  /** Run before the contender's first event (sets `proc` for a contender started late). */
  prepare?(): Promise<void>;
}

export function vcdContenders(stack: Stack): Contender[] {
  const vcd = (name: string, user: string, path: string, proc: Proc): Contender => ({
    name,
    proc,
    path,
    sources: stack.vcdSources,
    send: (count, rate) => stack.floodVcd(user, count, rate),
  });
  const red = stack.red.proc;
  const list = [
    vcd('ceiling: mqtt.js + JSON.parse + undici Pool', VCD_USERS.ceiling, PATHS.ceilingVcd, stack.ceilingVcd),
    vcd('vcd subscribe → event decode → cloudevent emit', VCD_USERS.ours, PATHS.ours, red),
    vcd('vcd subscribe (output event) → cloudevent emit', VCD_USERS.oursEvent, PATHS.oursEvent, red),
    vcd('core: mqtt in → json → function → http request', VCD_USERS.core, PATHS.core, red),
  ];
  if (typeof stack.seed !== 'string') {
    list.push(vcd('seed approach: Python paho-mqtt + requests', VCD_USERS.seed, PATHS.seedVcd, stack.seed));
  }
  // BENCH_CONTENDER=<text>: only the contenders whose name contains it (to profile one).
  const only = process.env.BENCH_CONTENDER;
  return only ? list.filter((c) => c.name.includes(only)) : list;
}

function aciContenders(stack: Stack): Contender[] {
  const aci = (name: string, apic: Stack['apicOurs'], path: string, proc: Proc | (() => Promise<Proc>)) => {
    const c: Contender = {
      name,
      proc: typeof proc === 'function' ? { name: 'not started', pid: 0 } : proc,
      path,
      sources: [{ name: 'APIC sim', pid: apic.pid }],
      send: (count) => stack.floodAci(apic, count),
    };
    // A client that logs in once starts right before its run: the APIC ends a session 600 s after login.
    if (typeof proc === 'function') c.prepare = async () => void (c.proc = await proc());
    return c;
  };
  const list = [
    aci('ceiling: ws + JSON.parse + undici Pool', stack.apicCeiling, PATHS.ceilingAci, stack.startCeilingAci),
    aci('aci subscribe (output event) → cloudevent emit', stack.apicOurs, PATHS.oursAci, stack.red.proc),
  ];
  if (typeof stack.seedAci !== 'string') {
    const { apic, start } = stack.seedAci;
    list.push(aci('seed approach: Python websocket-client + requests', apic, PATHS.seedAci, start));
  }
  return list;
}

interface Measured {
  events: number;
  seconds: number;
  cpu: Map<string, number>;
  rssGrowth: number;
  /** Of a run at a fixed rate. */
  latency?: { p50Ms: number; p99Ms: number };
}

/** How long the sink's count may stand still before a run ends with what arrived (a stall). */
const STALL_MS = 30_000;

/** Sends `count` events through a contender and waits for the sink to count them. */
async function measured(stack: Stack, c: Contender, count: number, rate = 0): Promise<Measured> {
  const procs = [...c.sources, stack.sinkProc, c.proc];
  await stack.sink.reset(rate > 0);
  const rssBefore = rssBytes(c.proc.pid);
  const before = snapshot(procs);
  const started = performance.now();
  let last = 0;
  let lastArrival = performance.now();
  await c.send(count, rate);
  await waitUntil(
    async () => {
      const { events } = await stack.sink.state(c.path);
      if (events !== last) {
        last = events;
        lastArrival = performance.now();
      }
      return events >= count || performance.now() - lastArrival > STALL_MS;
    },
    `${count} events at the sink`,
    24 * 3600_000,
    20,
  );
  const state = await stack.sink.state(c.path, rate > 0);
  // A stalled run counts the time until the last event arrived, not the wait after it.
  const ended = state.events >= count ? performance.now() : lastArrival;
  const seconds = (ended - started) / 1000;
  const cpu = spent(before, snapshot(procs));
  return {
    events: state.events,
    seconds,
    cpu,
    rssGrowth: (rssBytes(c.proc.pid) - rssBefore) / 2 ** 20,
    latency: state.latency,
  };
}

function row(
  benchmark: Benchmark,
  c: Contender,
  count: number,
  m: Measured,
  extra: Partial<ResultRow> = {},
): ResultRow {
  const lost = count - m.events;
  return {
    benchmark,
    contender: c.name,
    events: m.events,
    eventsPerSec: m.events / m.seconds,
    cpuMsPer1k: ((m.cpu.get(c.proc.name) ?? NaN) * 1e6) / m.events,
    p50Ms: null,
    p99Ms: null,
    rssGrowthMiB: null,
    boundBy:
      boundBy(m.cpu, m.seconds) + (lost > 0 ? `; stalled: ${lost} of ${count} events not arrived` : ''),
    ...extra,
  };
}

/** Waits until a contender carries events (it subscribed): one probe event at a time. */
async function ready(stack: Stack, c: Contender): Promise<void> {
  await waitUntil(
    async () => {
      await stack.sink.reset();
      await c.send(1);
      await new Promise((r) => setTimeout(r, 300));
      return (await stack.sink.state(c.path)).events > 0;
    },
    `${c.name} to carry events`,
    60_000,
    0,
  );
}

/** Throughput: a warm-up, then N events (a tenth for the seed's Python approach). */
async function throughput(stack: Stack, benchmark: Benchmark, list: Contender[], sizes: Sizes) {
  const rows: ResultRow[] = [];
  for (const c of list) {
    await c.prepare?.();
    const count = c.proc.name === 'Python' ? Math.ceil(sizes.pipeline * SEED_SHARE) : sizes.pipeline;
    await ready(stack, c);
    await measured(stack, c, sizes.warmup);
    rows.push(row(benchmark, c, count, await measured(stack, c, count)));
  }
  return rows;
}

export const pipelineVcd = (stack: Stack, sizes: Sizes) =>
  throughput(stack, 'pipeline-vcd', vcdContenders(stack), sizes);

/** aci subscribe → cloudevent emit against the ceiling and the seed (each with an APIC of its own). */
export const pipelineAci = (stack: Stack, sizes: Sizes) =>
  throughput(stack, 'pipeline-aci', aciContenders(stack), sizes);

/** Latency at a fixed 1k events/s: the sink's receipt minus the event's timestamp (set as it is published). */
const LATENCY_WARMUP_SECONDS = 5;

export async function latency(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rate = 1000;
  const count = rate * sizes.latencySeconds;
  const rows: ResultRow[] = [];
  for (const c of vcdContenders(stack)) {
    await ready(stack, c);
    // A warm-up at the same rate: the first second of a process (code not yet optimized, connections
    // still opening) is not what a pipeline that runs for days sees, and it alone fills the top 1%.
    await measured(stack, c, Math.min(LATENCY_WARMUP_SECONDS, sizes.latencySeconds) * rate, rate);
    const m = await measured(stack, c, count, rate);
    rows.push(
      row('latency', c, count, m, { p50Ms: m.latency?.p50Ms ?? null, p99Ms: m.latency?.p99Ms ?? null }),
    );
  }
  return rows;
}

/** Events the memory runs let travel at once: the pipeline is never more than this behind. */
const MEMORY_WINDOW = 2000;

/**
 * The contender fed in windows: the next window once the sink has all but one, so that memory growth is
 * what the pipeline keeps, not a backlog (a burst waits in cloudevent emit's queue, by design of onFull: wait),
 * whatever the speed of the machine.
 */
function windowed(stack: Stack, c: Contender): Contender {
  const send = async (count: number) => {
    for (let sent = 0; sent < count;) {
      const n = Math.min(MEMORY_WINDOW, count - sent);
      await c.send(n);
      sent += n;
      const behind = sent - MEMORY_WINDOW;
      await waitUntil(async () => (await stack.sink.state(c.path)).events >= behind, 'the sink', 600_000, 20);
    }
  };
  return { ...c, send };
}

/**
 * Resident memory growth over `memory` events after a warm-up, for the ceiling and our pipeline: the peak
 * during the run minus the peak during the warm-up. A garbage-collected heap swings by a hundred MiB and
 * more between major collections, so two single readings differ by wherever in that cycle each one fell;
 * the peaks compare like with like, and a leak raises the second. Where the peak cannot be reset (not
 * Linux, not allowed), the two single readings are all there is, and the row says so.
 */
export async function memory(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const c of vcdContenders(stack)
    .slice(0, 2)
    .map((c) => windowed(stack, c))) {
    await ready(stack, c);
    const peaks = resetPeakRss(c.proc.pid);
    await measured(stack, c, sizes.memoryWarmup);
    const warmupPeak = peakRssBytes(c.proc.pid);
    resetPeakRss(c.proc.pid);
    const m = await measured(stack, c, sizes.memory);
    const growth = peaks ? (peakRssBytes(c.proc.pid) - warmupPeak) / 2 ** 20 : m.rssGrowth;
    const r = row('memory', c, sizes.memory, m, { rssGrowthMiB: growth });
    if (!peaks) r.boundBy += '; RSS read once before and once after (the peak could not be reset)';
    rows.push(r);
  }
  return rows;
}

/** Our pipeline with cloudevent emit's spool in memory and on disk, once the build has the property. */
export async function spool(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  if (!stack.spool) {
    return [
      {
        benchmark: 'spool',
        contender: 'skipped: no disk spool in this build',
        events: 0,
        eventsPerSec: null,
        cpuMsPer1k: null,
        p50Ms: null,
        p99Ms: null,
        rssGrowthMiB: null,
        boundBy: '–',
      },
    ];
  }
  const red = stack.red.proc;
  const list: Contender[] = [
    ['cloudevent emit, spool: memory', VCD_USERS.spoolMemory, PATHS.spoolMemory] as const,
    ['cloudevent emit, spool: disk', VCD_USERS.spoolDisk, PATHS.spoolDisk] as const,
  ].map(([name, user, path]) => ({
    name,
    proc: red,
    path,
    sources: stack.vcdSources,
    send: (count: number) => stack.floodVcd(user, count),
  }));
  return throughput(stack, 'spool', list, sizes);
}
