/**
 * The counters in the Prometheus text format, from a registry of this
 * package's own (never prom-client's global one, which other packages in the
 * same Node-RED may fill). Values are read from the counters at each scrape.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { allMetrics, type NodeMetrics } from '../common/metrics';

const LABELS = ['id', 'name', 'type'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

/** Counter name (without the prefix and _total) → help and the field it reads. */
const COUNTERS: [string, string, (m: NodeMetrics) => number][] = [
  [
    'received',
    'Messages and events a node received (input messages, bus notifications, APIC changes).',
    (m) => m.received,
  ],
  ['decoded', 'Events decoded into InfraEvents.', (m) => m.decoded],
  ['sent', 'Messages a node sent on its outputs.', (m) => m.sent],
  ['delivered', 'CloudEvents the sink accepted.', (m) => m.delivered],
  ['retries', 'Delivery attempts repeated after a passing failure.', (m) => m.retried],
  ['dead_lettered', 'Events finally not delivered (to output 2 or Catch).', (m) => m.deadLettered],
  ['dropped', 'Events dropped by a full queue (drop-oldest / reject-new).', (m) => m.dropped],
  ['errors', 'Errors a node reported (each distinct connection failure once).', (m) => m.errors],
  ['reconnects', 'Times a connection was lost after it was up.', (m) => m.reconnects],
  ['logins', 'Logins (VCD: sessions and renewals; APIC: sessions opened).', (m) => m.logins],
  ['refreshes', 'APIC subscription refreshes.', (m) => m.refreshes],
  ['passed', 'Events an alert gate let through.', (m) => m.passed],
  [
    'doubles_dropped',
    'Events an alert gate dropped as doubles (source + id passed within the window).',
    (m) => m.doubles,
  ],
  ['held', 'Events an alert gate held in a storm (told in the storm summary).', (m) => m.held],
  ['storm_summaries', 'Storm summaries an alert gate sent.', (m) => m.summaries],
];

/** Gauge name → help and the value it reads (undefined: no sample for this node). */
const GAUGES: [string, string, (m: NodeMetrics) => number | undefined][] = [
  ['queue_depth', 'Events waiting or in flight in a delivery queue.', (m) => m.queueDepth],
  ['spool_depth', 'Events kept on disk by a delivery spool.', (m) => m.spoolDepth],
  ['events_per_minute', 'Events received in the last 60 seconds.', (m) => m.perMinuteNow],
  ['last_event_timestamp_seconds', 'When the node last received an event.', (m) => seconds(m.lastEventAt)],
  ['progress_done', 'Long work under way (catch-up, paged read): items done.', (m) => m.progress?.done],
  ['progress_total', 'Long work under way: items in all, when known.', (m) => m.progress?.total],
];

const STATES = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'auth-failed',
  'closed',
  'bad settings',
  'sink gone',
  'store down',
];

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

function labelsOf(m: NodeMetrics): Labels {
  return { id: m.id, name: m.name, type: m.type };
}

export const PREFIX = 'dcevents_';

/** A registry whose metrics read every node's counters when scraped. */
export function prometheusRegistry(): Registry {
  const registry = new Registry();
  for (const [name, help, read] of COUNTERS) {
    new Counter({
      name: `${PREFIX}${name}_total`,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const m of allMetrics()) this.inc(labelsOf(m), read(m));
      },
    });
  }
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const m of allMetrics()) {
          const value = read(m);
          if (value !== undefined) this.set(labelsOf(m), value);
        }
      },
    });
  }
  new Gauge({
    name: `${PREFIX}state`,
    help: `1 for the state a node is in (${STATES.join(', ')}).`,
    labelNames: [...LABELS, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of allMetrics()) this.set({ ...labelsOf(m), state: m.state }, 1);
    },
  });
  new Gauge({
    name: `${PREFIX}last_error_timestamp_seconds`,
    help: 'When the node last reported an error, labelled by its code.',
    labelNames: [...LABELS, 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of allMetrics())
        if (m.lastError) this.set({ ...labelsOf(m), code: m.lastError.code }, m.lastError.at / 1000);
    },
  });
  return registry;
}
