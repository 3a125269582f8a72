/**
 * The pipeline benchmarks: events from the source (VCD message bus or APIC
 * socket) to the counting sink, through each contender. A run is timed from
 * the first publish to the sink's count reaching N; CPU is read per process.
 */
import { VCD_USERS } from './flows';
import { type Proc, boundBy, rssBytes, snapshot, spent, waitUntil } from './procs';
import type { Benchmark, ResultRow } from './results';
import type { Stack } from './stack';

export interface Sizes {
  pipeline: number;
  delivery: number;
  warmup: number;
  latencySeconds: number;
  memoryWarmup: number;
  memory: number;
}

export const FULL: Sizes = {
  pipeline: 200_000,
  delivery: 50_000,
  warmup: 5000,
  latencySeconds: Number(process.env.BENCH_LATENCY_SECONDS ?? 30),
  memoryWarmup: 100_000,
  memory: 1_000_000,
};
export const QUICK: Sizes = {
  pipeline: 500,
  delivery: 500,
  warmup: 100,
  latencySeconds: 1,
  memoryWarmup: 500,
  memory: 1000,
};
/** The seed's Python approach carries a fraction of the others' events per second: it gets a tenth of N. */
const SEED_SHARE = 0.1;

/** A contender of the VCD pipeline: the user whose topic it reads, and its process. */
interface VcdContender {
  name: string;
  user: string;
  proc: Proc;
}

export function vcdContenders(stack: Stack): VcdContender[] {
  const list: VcdContender[] = [
    { name: 'ceiling: mqtt.js + JSON.parse + undici Pool', user: VCD_USERS.ceiling, proc: stack.ceilingVcd },
    { name: 'vcd subscribe → event decode → cloudevent emit', user: VCD_USERS.ours, proc: stack.red.proc },
    {
      name: 'vcd subscribe (output event) → cloudevent emit',
      user: VCD_USERS.oursEvent,
      proc: stack.red.proc,
    },
    { name: 'core: mqtt in → json → function → http request', user: VCD_USERS.core, proc: stack.red.proc },
  ];
  if (typeof stack.seed !== 'string') {
    list.push({ name: 'seed approach: Python paho-mqtt + requests', user: VCD_USERS.seed, proc: stack.seed });
  }
  // BENCH_CONTENDER=<text>: only the contenders whose name contains it (to profile one).
  const only = process.env.BENCH_CONTENDER;
  return only ? list.filter((c) => c.name.includes(only)) : list;
}

interface Measured {
  events: number;
  seconds: number;
  cpu: Map<string, number>;
  rssGrowth: number;
  latency: { p50Ms: number; p99Ms: number };
}

/**
 * Sends `count` events with `send` and waits for the sink to count them; stops
 * early, with what arrived, when the count stalls for 20 s (events lost).
 */
async function measured(
  stack: Stack,
  procs: Proc[],
  contender: Proc,
  count: number,
  send: () => Promise<void>,
  latency = false,
): Promise<Measured> {
  await stack.sink.reset(latency);
  const rssBefore = rssBytes(contender.pid);
  const before = snapshot(procs);
  const started = performance.now();
  let last = 0;
  let lastChange = Date.now();
  await send();
  await waitUntil(
    async () => {
      const { events } = await stack.sink.state();
      if (events !== last) ((last = events), (lastChange = Date.now()));
      return events >= count || Date.now() - lastChange > 20_000;
    },
    `${count} events at the sink`,
    24 * 3600_000,
    20,
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = spent(before, snapshot(procs));
  const state = await stack.sink.state();
  return {
    events: state.events,
    seconds,
    cpu,
    rssGrowth: (rssBytes(contender.pid) - rssBefore) / 2 ** 20,
    latency: state.latency,
  };
}

function row(
  benchmark: Benchmark,
  name: string,
  contender: Proc,
  count: number,
  m: Measured,
  extra: Partial<ResultRow> = {},
): ResultRow {
  const lost = count - m.events;
  return {
    benchmark,
    contender: name,
    events: m.events,
    eventsPerSec: m.events / m.seconds,
    cpuMsPer1k: ((m.cpu.get(contender.name) ?? NaN) * 1e6) / m.events,
    p50Ms: null,
    p99Ms: null,
    rssGrowthMiB: null,
    boundBy: boundBy(m.cpu, m.seconds) + (lost > 0 ? `; ${lost} events lost` : ''),
    ...extra,
  };
}

/** Waits until a contender carries events (it subscribed): one probe event at a time. */
async function ready(stack: Stack, user: string): Promise<void> {
  await waitUntil(
    async () => {
      await stack.sink.reset();
      await stack.floodVcd(user, 1);
      await new Promise((r) => setTimeout(r, 300));
      return (await stack.sink.state()).events > 0;
    },
    `${user}'s pipeline to carry events`,
    60_000,
    0,
  );
}

const procsOf = (stack: Stack, c: Proc) => [...stack.infrastructure, c];

export async function pipelineVcd(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const c of vcdContenders(stack)) {
    const count = c.proc.name === 'Python' ? Math.ceil(sizes.pipeline * SEED_SHARE) : sizes.pipeline;
    await ready(stack, c.user);
    await measured(stack, procsOf(stack, c.proc), c.proc, sizes.warmup, () =>
      stack.floodVcd(c.user, sizes.warmup),
    );
    const m = await measured(stack, procsOf(stack, c.proc), c.proc, count, () =>
      stack.floodVcd(c.user, count),
    );
    rows.push(row('pipeline-vcd', c.name, c.proc, count, m));
  }
  return rows;
}

/** Latency at a fixed 1k events/s: the sink's receipt minus the event's timestamp (set as it is published). */
export async function latency(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rate = 1000;
  const count = rate * sizes.latencySeconds;
  const rows: ResultRow[] = [];
  for (const c of vcdContenders(stack)) {
    const m = await measured(
      stack,
      procsOf(stack, c.proc),
      c.proc,
      count,
      () => stack.floodVcd(c.user, count, rate),
      true,
    );
    rows.push(row('latency', c.name, c.proc, count, m, { p50Ms: m.latency.p50Ms, p99Ms: m.latency.p99Ms }));
  }
  return rows;
}

/** Resident memory growth over `memory` events after a warm-up, for the ceiling and our pipeline. */
export async function memory(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const c of vcdContenders(stack).slice(0, 2)) {
    const procs = procsOf(stack, c.proc);
    await measured(stack, procs, c.proc, sizes.memoryWarmup, () =>
      stack.floodVcd(c.user, sizes.memoryWarmup),
    );
    const m = await measured(stack, procs, c.proc, sizes.memory, () => stack.floodVcd(c.user, sizes.memory));
    rows.push(row('memory', c.name, c.proc, sizes.memory, m, { rssGrowthMiB: m.rssGrowth }));
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
  const rows: ResultRow[] = [];
  for (const [name, user] of [
    ['cloudevent emit, spool: memory', VCD_USERS.spoolMemory],
    ['cloudevent emit, spool: disk', VCD_USERS.spoolDisk],
  ] as const) {
    const c = stack.red.proc;
    await ready(stack, user);
    await measured(stack, procsOf(stack, c), c, sizes.warmup, () => stack.floodVcd(user, sizes.warmup));
    const m = await measured(stack, procsOf(stack, c), c, sizes.pipeline, () =>
      stack.floodVcd(user, sizes.pipeline),
    );
    rows.push(row('spool', name, c, sizes.pipeline, m));
  }
  return rows;
}

/** aci subscribe → cloudevent emit against the ceiling (each with an APIC of its own). */
export async function pipelineAci(stack: Stack, sizes: Sizes): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const contenders = [
    { name: 'ceiling: ws + JSON.parse + undici Pool', apic: stack.apicCeiling, proc: stack.ceilingAci },
    { name: 'aci subscribe (output event) → cloudevent emit', apic: stack.apicOurs, proc: stack.red.proc },
  ];
  if (typeof stack.seedAci !== 'string') {
    const { apic, proc } = stack.seedAci;
    contenders.push({ name: 'seed approach: Python websocket-client + requests', apic, proc });
  }
  for (const c of contenders) {
    const count = c.proc.name === 'Python' ? Math.ceil(sizes.pipeline * SEED_SHARE) : sizes.pipeline;
    const procs = [
      ...stack.infrastructure.filter(
        (p) => p.name !== 'APIC sim' && p.name !== 'VCD sim' && p.name !== 'broker',
      ),
      { name: 'APIC sim', pid: c.apic.pid },
      c.proc,
    ];
    await waitUntil(
      async () => {
        await stack.sink.reset();
        await stack.floodAci(c.apic, 1);
        await new Promise((r) => setTimeout(r, 300));
        return (await stack.sink.state()).events > 0;
      },
      `${c.name} to carry events`,
      60_000,
      0,
    );
    await measured(stack, procs, c.proc, sizes.warmup, () => stack.floodAci(c.apic, sizes.warmup));
    const m = await measured(stack, procs, c.proc, count, () => stack.floodAci(c.apic, count));
    rows.push(row('pipeline-aci', c.name, c.proc, count, m));
  }
  return rows;
}
