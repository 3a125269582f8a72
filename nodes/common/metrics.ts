/**
 * One set of counters for every node of this package: what the status line,
 * the editor's sidebar tab and the Prometheus endpoint all read. Nodes only
 * increment fields; times and per-minute history are taken by a once-a-second
 * sampler, so nothing on the hot path costs more than an increment. No
 * Node-RED import.
 *
 * Each counter has one meaning whatever the node (docs/operations.md), and a
 * node says which of them apply to it (`uses`) and which states it can be in
 * (`canBe`): only those are served, from zero. The shared helpers in glue say
 * it for what they do (an input, a connection, bad settings), so a new node
 * type gets its counters without a list of types anywhere.
 */

/** Long work under way: "recovering 1,200 of 5,000", "reading fvBD 2,000 of 5,000". */
export interface Progress {
  /** What the work is (a word the views translate): recovering missed events, reading an entry's objects. */
  work: 'recovering' | 'reading';
  /** What it works on (an APIC class or DN), if anything. */
  subject?: string;
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
  /** Events in the spool, when the delivery has one (they include those queued and in flight). */
  spooled?: number;
  spooledBytes?: number;
}

/** The counters, each with one meaning for every node it applies to, in the order the sidebar tab shows them. */
export const COUNTERS = [
  /** Messages that arrived on the node's input. */
  'inputs',
  /** Events received from VCD or an APIC (live, and recovered after a gap). */
  'received',
  /** Of those, events recovered after a gap (the VCD audit trail; an APIC read compared with the last known state). */
  'recovered',
  /** Recoveries paused for memory (to go on later from where they stopped). */
  'paused',
  /** Events decoded into InfraEvents. */
  'decoded',
  /** Messages sent on the node's outputs. */
  'sent',
  /** CloudEvents a sink accepted. */
  'delivered',
  /** Delivery attempts repeated after a passing failure. */
  'retried',
  /** Events finally not delivered (to output 2, or to Catch). */
  'deadLettered',
  /** Events dropped for room by a full queue or spool. */
  'dropped',
  /** Alert gate: events let through, doubles dropped, events held in a storm, storm summaries sent. */
  'passed',
  'doubles',
  'held',
  'summaries',
  /** Logins: VCD sessions opened or renewed, APIC sessions opened. */
  'logins',
  /** Connections lost after they were up (the node that holds the connection). */
  'reconnects',
  /** APIC subscription refreshes. */
  'refreshes',
  /** Errors the node reported. */
  'errors',
] as const;
export type CounterName = (typeof COUNTERS)[number];

/** What a node may say applies to it: counters, and the gauges of a delivery. */
export type Measure = CounterName | 'queue' | 'spool' | 'latency';

/** The states of a connection (common/reconnect-loop), which every node that shows one can be in. */
export const CONNECTION_STATES = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'auth-failed',
  'closed',
] as const;

/** Upper bounds (seconds) of the delivery latency buckets: a request takes milliseconds, retries take minutes. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A histogram of durations, counted into fixed buckets (an increment per observation). */
export class Histogram {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = LATENCY_BUCKETS) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > (this.bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += seconds;
    this.count++;
  }
}

/** Minutes of history kept for the sparkline. */
export const HISTORY_MINUTES = 30;
const SAMPLE_MS = 1000;

export class NodeMetrics {
  // Counters (COUNTERS): only ever incremented (or taken over from a client's own counters).
  inputs = 0;
  received = 0;
  recovered = 0;
  paused = 0;
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
  passed = 0;
  doubles = 0;
  held = 0;
  summaries = 0;
  // Gauges
  /** Events taken and not yet delivered or failed (in memory or in the spool), and those waiting for room. */
  queueDepth = 0;
  spoolBytes = 0;
  spoolLimitBytes = 0;
  state = 'idle';
  /** cloudevent emit: from taking an event to the sink's answer, for delivered events. */
  readonly deliveryLatency = new Histogram();
  /** The status the node shows in the workspace. */
  status: { fill?: string; shape?: string; text?: string } = {};
  progress: Progress | undefined;
  lastError: LastError | undefined;
  /** When the node last took an event (to the sampler's second). */
  lastEventAt: number | undefined;
  /** Events taken per minute, oldest first; the last entry is the current minute. */
  readonly perMinute: number[] = [];

  /** What applies to this node (said by the node and the helpers it uses). */
  private readonly measures = new Set<Measure>();
  /** The states the node can be in. */
  private readonly possible = new Set<string>();
  /** Events taken at each of the last 60 samples (from 0 at the start): the rolling one-minute count. */
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

  /** Says which counters and gauges apply to this node; they are served from zero. */
  uses(...measures: Measure[]): this {
    for (const m of measures) this.measures.add(m);
    return this;
  }

  /** Says which states the node can be in: each is served as a 0/1 series. */
  canBe(...states: readonly string[]): this {
    for (const s of states) this.possible.add(s);
    return this;
  }

  /** A node that shows the state of a connection (its own or its config node's). */
  showsConnection(): this {
    return this.canBe(...CONNECTION_STATES, 'bad settings').uses('errors');
  }

  /** A node that holds a connection (a config node): a drop from connected counts as a reconnect. */
  holdsConnection(): this {
    return this.showsConnection().uses('reconnects');
  }

  /** Does a counter or gauge apply? A counter that moved does, whoever forgot to say so. */
  applies(measure: Measure): boolean {
    if (this.measures.has(measure)) return true;
    return (COUNTERS as readonly string[]).includes(measure) && this[measure as CounterName] > 0;
  }

  /** The counters that apply, in the order of COUNTERS. */
  counters(): CounterName[] {
    return COUNTERS.filter((c) => this.applies(c));
  }

  /** The states the node can be in, the current one included (a node that has none is idle: none). */
  states(): string[] {
    if (this.possible.has(this.state)) return [...this.possible];
    if (this.possible.size === 0 && this.state === 'idle') return [];
    return [...this.possible, this.state];
  }

  /**
   * A new instance of the node (deployed again, same id): its counters go on,
   * what it is and shows starts afresh, and it says again what applies.
   */
  restart(): void {
    this.measures.clear();
    this.possible.clear();
    this.state = 'idle';
    this.status = {};
    this.progress = undefined;
  }

  /** The node's state; where reconnects apply (it holds the connection), a drop from connected counts as one. */
  setState(state: string): void {
    if (state === 'reconnecting' && this.state === 'connected' && this.measures.has('reconnects'))
      this.reconnects++;
    this.state = state;
  }

  error(code: string | undefined): void {
    this.errors++;
    this.lastError = { code: code || 'UNEXPECTED', at: Date.now() };
  }

  /** Sets or (without `done`) ends the long work shown in the status and the tab. */
  setProgress(work: Progress['work'], done?: number, total?: number, subject?: string): void {
    this.progress = done === undefined ? undefined : { work, done, total, subject };
  }

  fromDelivery(s: DeliveryCounts): void {
    this.queueDepth = s.spooled === undefined ? s.queued + s.inFlight + s.waiting : s.spooled + s.waiting;
    this.spoolBytes = s.spooledBytes ?? 0;
    this.delivered = s.delivered;
    this.deadLettered = s.failed;
    this.dropped = s.dropped;
    this.retried = s.retries;
  }

  /**
   * Events the node took: those it receives from VCD or an APIC where it
   * does (its input then carries commands), else the messages on its input.
   */
  get taken(): number {
    return this.measures.has('received') ? this.received : this.inputs;
  }

  /** Events taken in the last 60 seconds. */
  get perMinuteNow(): number {
    return this.taken - (this.seconds[0] as number);
  }

  /** Called once a second by the sampler. */
  sample(now: number): void {
    const taken = this.taken;
    const previous = this.seconds[this.seconds.length - 1] as number;
    if (taken !== previous) this.lastEventAt = now;
    this.seconds.push(taken);
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
    this.perMinute[this.perMinute.length - 1] = taken - this.minuteBase;
  }

  /** What the sidebar tab shows of this node: what applies, as it is now. */
  snapshot(): NodeSnapshot {
    const counts: Partial<Record<CounterName, number>> = {};
    for (const c of this.counters()) counts[c] = this[c];
    return {
      id: this.id,
      type: this.type,
      name: this.name,
      z: this.z,
      state: this.state,
      status: { ...this.status },
      counts,
      ...(this.applies('spool') ? { spool: { bytes: this.spoolBytes, limit: this.spoolLimitBytes } } : {}),
      perMinute: this.perMinuteNow,
      history: [...this.perMinute],
      lastEventAt: this.lastEventAt,
      lastError: this.lastError && { ...this.lastError },
      progress: this.progress && { ...this.progress },
    };
  }
}

/** A node as the sidebar tab receives it. */
export interface NodeSnapshot {
  id: string;
  type: string;
  name: string;
  z: string | undefined;
  state: string;
  status: NodeMetrics['status'];
  /** The counters that apply to the node. */
  counts: Partial<Record<CounterName, number>>;
  spool?: { bytes: number; limit: number };
  /** Events taken in the last 60 seconds, and per minute over the last 30. */
  perMinute: number;
  history: number[];
  lastEventAt: number | undefined;
  lastError: LastError | undefined;
  progress: Progress | undefined;
}

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
