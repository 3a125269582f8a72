/**
 * One set of counters for every node of this package: what the status line,
 * the editor's sidebar tab and the Prometheus endpoint all read. Nodes only
 * increment fields; times and rates are taken by a once-a-second sampler, so
 * nothing on the hot path costs more than an increment. No Node-RED import.
 */

/** A long piece of work under way: "recovering 1,200/5,000". */
export interface Progress {
  label: string;
  done: number;
  /** Unknown until the server says. */
  total?: number;
}

export interface LastError {
  code: string;
  /** ms since the epoch */
  at: number;
}

/** The counters a delivery reports (cloudevent emit), read as they are. */
export interface DeliveryCounts {
  queued: number;
  inFlight: number;
  waiting: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
  /** Events kept on disk, when the delivery has a spool. */
  spooled?: number;
}

/** Minutes of history kept for the sparkline. */
export const HISTORY_MINUTES = 30;
const SAMPLE_MS = 1000;

export class NodeMetrics {
  // Counters: only ever incremented (or taken over from a client's own counters).
  received = 0;
  decoded = 0;
  sent = 0;
  delivered = 0;
  retried = 0;
  deadLettered = 0;
  dropped = 0;
  errors = 0;
  reconnects = 0;
  logins = 0;
  refreshes = 0;
  /** alert gate: events let through, doubles dropped, events held in a storm, storm summaries sent. */
  passed = 0;
  doubles = 0;
  held = 0;
  summaries = 0;
  // Gauges
  queueDepth = 0;
  spoolDepth = 0;
  state = 'idle';
  /** The status the node shows in the workspace. */
  status: { fill?: string; shape?: string; text?: string } = {};
  progress: Progress | undefined;
  lastError: LastError | undefined;
  /** When `received` last moved (to the sampler's second). */
  lastEventAt: number | undefined;
  /** Events received per minute, oldest first; the last entry is the current minute. */
  readonly perMinute: number[] = [];

  /** `received` at each of the last 60 samples (from 0 at the start): the rolling one-minute rate. */
  private readonly seconds: number[] = [0];
  private minute = 0;
  private minuteBase = 0;

  constructor(
    readonly id: string,
    readonly type: string,
    public name: string,
    /** The flow (tab) the node is on. */
    public z: string | undefined,
  ) {}

  /** Connection states; a drop from connected counts as a reconnect. */
  setState(state: string): void {
    if (state === 'reconnecting' && this.state === 'connected') this.reconnects++;
    this.state = state;
  }

  error(code: string | undefined): void {
    this.errors++;
    this.lastError = { code: code || 'UNEXPECTED', at: Date.now() };
  }

  /** Sets or (without `done`) ends the long work shown in the status and the tab. */
  setProgress(label: string, done?: number, total?: number): void {
    this.progress = done === undefined ? undefined : { label, done, total };
  }

  fromDelivery(s: DeliveryCounts): void {
    this.queueDepth = s.queued + s.inFlight + s.waiting;
    this.spoolDepth = s.spooled ?? 0;
    this.delivered = s.delivered;
    this.deadLettered = s.failed;
    this.dropped = s.dropped;
    this.retried = s.retries;
  }

  /** Events received in the last 60 seconds. */
  get perMinuteNow(): number {
    return this.received - this.seconds[0];
  }

  /** Called once a second by the sampler. */
  sample(now: number): void {
    const previous = this.seconds[this.seconds.length - 1];
    if (this.received !== previous) this.lastEventAt = now;
    this.seconds.push(this.received);
    if (this.seconds.length > 61) this.seconds.shift();
    const minute = Math.floor(now / 60_000);
    if (this.perMinute.length === 0 || minute !== this.minute) {
      // A new minute (and zeros for minutes no sample saw); events since the last sample count in it.
      const gap =
        this.perMinute.length === 0 ? 1 : Math.min(HISTORY_MINUTES, Math.max(1, minute - this.minute));
      for (let i = 0; i < gap; i++) this.perMinute.push(0);
      if (this.perMinute.length > HISTORY_MINUTES)
        this.perMinute.splice(0, this.perMinute.length - HISTORY_MINUTES);
      this.minute = minute;
      this.minuteBase = previous;
    }
    this.perMinute[this.perMinute.length - 1] = this.received - this.minuteBase;
  }

  /** What the sidebar tab shows of this node. */
  snapshot(): NodeSnapshot {
    const fields = Object.fromEntries(SNAPSHOT_FIELDS.map((f) => [f, this[f]])) as Pick<
      NodeMetrics,
      SnapshotField
    >;
    return { ...fields, perMinute: this.perMinuteNow, history: [...this.perMinute] };
  }
}

/** The fields of a node's metrics the sidebar tab receives as they are. */
const SNAPSHOT_FIELDS = [
  'id',
  'type',
  'name',
  'z',
  'state',
  'status',
  'received',
  'decoded',
  'sent',
  'delivered',
  'retried',
  'deadLettered',
  'dropped',
  'errors',
  'reconnects',
  'logins',
  'refreshes',
  'passed',
  'doubles',
  'held',
  'summaries',
  'queueDepth',
  'spoolDepth',
  'lastEventAt',
  'lastError',
  'progress',
] as const;
type SnapshotField = (typeof SNAPSHOT_FIELDS)[number];

export type NodeSnapshot = Pick<NodeMetrics, SnapshotField> & { perMinute: number; history: number[] };

/** The node fields the counters are keyed and labelled by. */
export interface NodeIdentity {
  id: string;
  type: string;
  name?: string;
  z?: string;
}

const all = new Map<string, NodeMetrics>();
let sampler: NodeJS.Timeout | undefined;

function sampleAll(): void {
  const now = Date.now();
  for (const m of all.values()) m.sample(now);
}

/**
 * The counters of a node, made on first use. A redeployed node (same id) goes
 * on with its counters, so rates and history survive a deploy; a node no
 * longer in the flows is dropped by `retain`.
 */
export function metricsFor(node: NodeIdentity): NodeMetrics {
  let m = all.get(node.id);
  if (!m || m.type !== node.type) {
    m = new NodeMetrics(node.id, node.type, node.name ?? '', node.z);
    all.set(node.id, m);
  } else {
    m.name = node.name ?? '';
    m.z = node.z;
  }
  if (!sampler) {
    sampler = setInterval(sampleAll, SAMPLE_MS);
    sampler.unref();
  }
  return m;
}

/** Every node's counters. */
export function allMetrics(): NodeMetrics[] {
  return [...all.values()];
}

/** Keeps the counters of the nodes `deployed` says exist; forgets the rest. */
export function retain(deployed: (id: string) => boolean): void {
  for (const id of all.keys()) if (!deployed(id)) all.delete(id);
  if (all.size === 0 && sampler) {
    clearInterval(sampler);
    sampler = undefined;
  }
}

/** For tests: one sampler tick now. */
export function sampleNow(now = Date.now()): void {
  for (const m of all.values()) m.sample(now);
}
