/**
 * The counters in the Prometheus text format, from a registry of this
 * package's own (never prom-client's global one, which other packages in the
 * same Node-RED may fill). Values are read from the counters at each scrape.
 *
 * Named and labelled by Prometheus' guidelines: one meaning per metric name
 * (so a sum() over nodes counts each thing once), a series only for what
 * applies to a node (from zero), no rates (counters: use rate()), states as
 * 0/1 series, and the editable node name only in dcevents_node_info, which
 * queries join on node_id.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { allMetrics, type CounterName, type NodeMetrics } from '../common/metrics';

export const PREFIX = 'dcevents_';
const PACKAGE = '@dcevents/node-red-vcd-aci';

/** The labels of every per-node series: neither changes while the node exists. */
const LABELS = ['node_id', 'type'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

/** Each counter's name (without the prefix and _total) and help: one meaning, whatever the node. */
const COUNTERS: Record<CounterName, [string, string]> = {
  inputs: ['input_messages', "Messages that arrived on a node's input."],
  received: [
    'received_events',
    'Events a subscribe node received from VCD or an APIC, live or recovered after a gap.',
  ],
  recovered: [
    'recovered_events',
    'Of the received events, those recovered after a gap (the VCD audit trail; an APIC read compared with the last known state).',
  ],
  paused: [
    'recoveries_paused',
    'Recoveries of missed VCD events paused because memory was short; each goes on later from where it stopped.',
  ],
  decoded: ['decoded_events', 'Events decoded into InfraEvents.'],
  sent: ['output_messages', 'Messages a node sent on its outputs.'],
  delivered: ['delivered_events', 'CloudEvents the sink accepted.'],
  retried: ['delivery_retries', 'Delivery attempts repeated after a passing failure.'],
  deadLettered: ['dead_letters', 'Events finally not delivered (to output 2, or to Catch).'],
  dropped: ['dropped_events', 'Events dropped for room by a full queue or spool.'],
  errors: ['errors', 'Errors a node reported.'],
  reconnects: [
    'reconnects',
    'Connections lost after they were up, counted by the node that holds the connection.',
  ],
  logins: ['logins', 'Logins: VCD sessions opened or renewed, APIC sessions opened.'],
  refreshes: ['subscription_refreshes', 'APIC subscription refreshes.'],
  passed: ['gate_passed_events', 'Events an alert gate let through.'],
  doubles: [
    'gate_dropped_doubles',
    'Events an alert gate dropped as doubles (source + id passed within the window, or by the other node of an HA pair).',
  ],
  held: ['gate_held_events', 'Events an alert gate held in a storm (told in the storm summary).'],
  summaries: ['gate_storm_summaries', 'Storm summaries an alert gate sent.'],
};

/** Gauges of one value per node: name, help, and the value (undefined: no series for this node). */
const GAUGES: [string, string, (m: NodeMetrics) => number | undefined][] = [
  [
    'queued_events',
    'Events cloudevent emit took and has not yet delivered or failed (in memory or in its spool), and those waiting for room.',
    (m) => (m.applies('queue') ? m.queueDepth : undefined),
  ],
  [
    'spool_bytes',
    "Bytes cloudevent emit's spool holds on disk.",
    (m) => (m.applies('spool') ? m.spoolBytes : undefined),
  ],
  [
    'spool_limit_bytes',
    "The size cloudevent emit's spool may reach.",
    (m) => (m.applies('spool') ? m.spoolLimitBytes : undefined),
  ],
  [
    'last_event_timestamp_seconds',
    'When the node last took an event (from VCD or an APIC, or on its input); absent before the first.',
    (m) => (m.lastEventAt === undefined ? undefined : Math.floor(m.lastEventAt / 1000)),
  ],
];

/** A state as a label value: lower case, no spaces ("bad settings" → bad_settings). */
export function stateLabel(state: string): string {
  return state.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

function labelsOf(m: NodeMetrics): Labels {
  return { node_id: m.id, type: m.type };
}

/** What the registry needs from the runtime around it. */
export interface RegistryContext {
  /** Node-RED's version. */
  nodered?: string;
  /** A flow's name (its tab's label) from its id. */
  flowName?(z: string | undefined): string;
}

/** A registry whose metrics read every node's counters when scraped. */
export function prometheusRegistry(context: RegistryContext = {}): Registry {
  const registry = new Registry();
  const registers = [registry];
  for (const [field, [name, help]] of Object.entries(COUNTERS) as [CounterName, [string, string]][]) {
    new Counter({
      name: `${PREFIX}${name}_total`,
      help,
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const m of allMetrics()) if (m.applies(field)) this.inc(labelsOf(m), m[field]);
      },
    });
  }
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const m of allMetrics()) {
          const value = read(m);
          if (value !== undefined) this.set(labelsOf(m), value);
        }
      },
    });
  }
  stateMetrics(registers);
  progressMetrics(registers);
  infoMetrics(registers, context);
  new LatencyHistogram(registers);
  return registry;
}

/** Which state each node is in, as 0/1 per state it can be in; the last error with its code. */
function stateMetrics(registers: Registry[]): void {
  new Gauge({
    name: `${PREFIX}state`,
    help: '1 for the state a node is in, 0 for the other states it can be in.',
    labelNames: [...LABELS, 'state'],
    registers,
    collect() {
      this.reset();
      for (const m of allMetrics())
        for (const state of m.states())
          this.set({ ...labelsOf(m), state: stateLabel(state) }, state === m.state ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}last_error_timestamp_seconds`,
    help: 'When the node last reported an error, labelled by its code.',
    labelNames: [...LABELS, 'code'],
    registers,
    collect() {
      this.reset();
      for (const m of allMetrics())
        if (m.lastError) this.set({ ...labelsOf(m), code: m.lastError.code }, m.lastError.at / 1000);
    },
  });
}

/** Long work under way (a recovery from the audit trail, a paged read): absent when none runs. */
function progressMetrics(registers: Registry[]): void {
  const series = (name: string, help: string, read: (m: NodeMetrics) => number | undefined) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: [...LABELS, 'work'],
      registers,
      collect() {
        this.reset();
        for (const m of allMetrics()) {
          const value = m.progress && read(m);
          if (m.progress && value !== undefined) this.set({ ...labelsOf(m), work: m.progress.work }, value);
        }
      },
    });
  series(
    'progress_done_items',
    'Long work under way (recovering, reading): items done.',
    (m) => m.progress?.done,
  );
  series('progress_target_items', 'Long work under way: items in all, once known.', (m) => m.progress?.total);
}

/** Names (editable) and the build, each as an info metric of value 1 to join on. */
function infoMetrics(registers: Registry[], context: RegistryContext): void {
  new Gauge({
    name: `${PREFIX}node_info`,
    help: "A node's name and flow (both editable), to join on node_id.",
    labelNames: ['node_id', 'type', 'name', 'flow'],
    registers,
    collect() {
      this.reset();
      for (const m of allMetrics())
        this.set({ ...labelsOf(m), name: m.name, flow: context.flowName?.(m.z) ?? m.z ?? '' }, 1);
    },
  });
  const build = {
    version: packageVersion(),
    nodered: context.nodered ?? '',
    nodejs: process.versions.node,
  };
  new Gauge({
    name: `${PREFIX}build_info`,
    help: 'The versions of this package, Node-RED and Node.js.',
    labelNames: ['version', 'nodered', 'nodejs'],
    registers,
    collect() {
      this.set(build, 1);
    },
  }).set(build, 1);
}

/** This package's version, from the package.json above this file. */
function packageVersion(): string {
  for (let dir = __dirname, i = 0; i < 5; dir = path.dirname(dir), i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === PACKAGE) return pkg.version ?? '';
    } catch {
      // not here: one folder up
    }
  }
  return '';
}

const LATENCY = `${PREFIX}delivery_latency_seconds`;
const LATENCY_HELP =
  'cloudevent emit: seconds from taking an event to the answer of the sink that accepted it.';

interface HistogramValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, never>;
  value: number;
  metricName: string;
}

/**
 * cloudevent emit's delivery latency (from taking an event to the sink's
 * answer), read from each node's own buckets: the nodes count an observation
 * with an increment, prom-client only writes them out (its get() reads this too).
 */
class LatencyHistogram extends Histogram<'node_id' | 'type'> {
  constructor(registers: Registry[]) {
    super({ name: LATENCY, help: LATENCY_HELP, labelNames: LABELS, buckets: [], registers });
  }

  /** What the registry writes out: prom-client asks for this first. */
  async getForPromString() {
    const values: HistogramValue[] = [];
    const value = (labels: HistogramValue['labels'], v: number, suffix: string) =>
      values.push({ labels, sharedLabels: {}, value: v, metricName: `${LATENCY}${suffix}` });
    for (const m of allMetrics()) {
      if (!m.applies('latency')) continue;
      const { bounds, counts, sum, count } = m.deliveryLatency;
      let below = 0;
      bounds.forEach((le, i) => {
        below += counts[i] as number;
        value({ ...labelsOf(m), le }, below, '_bucket');
      });
      value({ ...labelsOf(m), le: '+Inf' }, count, '_bucket');
      value(labelsOf(m), sum, '_sum');
      value(labelsOf(m), count, '_count');
    }
    return { name: LATENCY, help: LATENCY_HELP, type: 'histogram', values, aggregator: 'sum' };
  }
}
