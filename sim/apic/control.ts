/**
 * The simulator's own control API under /_sim/ (no real APIC has it): tests,
 * benchmarks and the demo read its state, switch faults on and make changes
 * over HTTP, from another process too.
 */
import { Router, sendJson, type SimRequest } from '../http';
import { KNOWN_CLASSES, apicTimestamp, type Change } from './tree';

/** The most changes one flood makes. */
const MAX_FLOOD = 1_000_000;
/** The most objects one population holds (its MAC addresses count to 2^24). */
const MAX_POPULATION = 10_000_000;

/** The fault settings that are plain numbers, set as they are sent. */
const NUMBER_FAULTS = [
  'loginsPerSecond',
  'refreshTimeoutSeconds',
  'maximumLifetimeSeconds',
  'subscriptionEarlyMs',
  'noSubscriptionId',
] as const;

/** What the control API reads and drives of the simulator (its public face; no import of it, no cycle). */
interface ApicSimulator {
  readonly faults: Record<(typeof NUMBER_FAULTS)[number], number> & {
    failNext: { count: number; status: number; on: 'query' | 'subscriptionRefresh' } | undefined;
    refuseOrderByWithSubscription: boolean;
  };
  readonly stats: object;
  readonly tree: { readonly size: number; dnsOf(className: string, max: number): string[] };
  readonly urls: string[];
  readonly sessions: {
    user: { name: string };
    kind: string;
    apic: number;
    socket?: unknown;
    subscriptions: { size: number };
  }[];
  isUp(index: number): boolean;
  throttle(ms: number): void;
  setRate(perSec: number): void;
  setPopulationRate(perSec: number): void;
  populate(className: string, count: number): void;
  expireTokens(): void;
  dropSockets(): void;
  forgetSockets(): void;
  change(): Change[];
  modify(dn: string, attributes: Record<string, string>): Change;
  flood(count: number, className: string): Promise<object>;
  stopApic(index: number): Promise<void>;
  startApic(index: number): Promise<void>;
}

function body(req: SimRequest): Record<string, unknown> {
  return JSON.parse(req.body || '{}') as Record<string, unknown>;
}

function state(sim: ApicSimulator) {
  return {
    faults: sim.faults,
    stats: sim.stats,
    apics: sim.urls.map((url, i) => ({ url, up: sim.isUp(i) })),
    sessions: sim.sessions.map((s) => ({
      user: s.user.name,
      kind: s.kind,
      apic: s.apic,
      socket: Boolean(s.socket),
      subscriptions: s.subscriptions.size,
    })),
    objects: sim.tree.size,
  };
}

function setFaults(sim: ApicSimulator, b: Record<string, unknown>): void {
  if (typeof b.throttleMs === 'number') sim.throttle(b.throttleMs);
  for (const k of NUMBER_FAULTS) {
    if (typeof b[k] === 'number') sim.faults[k] = b[k];
  }
  if (typeof b.refuseOrderByWithSubscription === 'boolean')
    sim.faults.refuseOrderByWithSubscription = b.refuseOrderByWithSubscription;
  const f = b.failNext as Record<string, unknown> | undefined;
  if (f && typeof f === 'object') {
    sim.faults.failNext = {
      count: Number(f.count) || 1,
      status: Number(f.status) || 500,
      on: f.on === 'subscriptionRefresh' ? 'subscriptionRefresh' : 'query',
    };
  }
  if (typeof b.ratePerSec === 'number') sim.setRate(b.ratePerSec);
  if (typeof b.populationRatePerSec === 'number') sim.setPopulationRate(b.populationRatePerSec);
}

/** One object changed as asked (`dn`, `attributes`), or `count` random changes. */
function makeChanges(sim: ApicSimulator, b: Record<string, unknown>): Change[] {
  if (typeof b.dn === 'string') {
    const attributes = b.attributes ?? { descr: `changed at ${apicTimestamp(Date.now())}` };
    return [sim.modify(b.dn, attributes as Record<string, string>)];
  }
  return Array.from({ length: Math.min(1000, Number(b.count) || 1) }, () => sim.change()).flat();
}

/** Why a flood cannot be made as asked, if it cannot. */
function floodProblem(sim: ApicSimulator, count: unknown, className: unknown): string | undefined {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_FLOOD) {
    return `count must be a whole number from 1 to ${MAX_FLOOD}`;
  }
  if (typeof className !== 'string' || !KNOWN_CLASSES.has(className)) {
    return `unknown class ${String(className)}`;
  }
  if (sim.tree.dnsOf(className, 1).length === 0) return `no ${className} objects to modify`;
  return undefined;
}

export function controlRoutes(r: Router, sim: ApicSimulator): void {
  r.on('GET', '/_sim/state', (_req, res) => sendJson(res, 200, state(sim)));
  r.on('POST', '/_sim/faults', (req, res) => {
    setFaults(sim, body(req));
    sendJson(res, 200, sim.faults);
  });
  r.action('/_sim/tokens/expire', 'expired', () => sim.expireTokens());
  r.action('/_sim/sockets/drop', 'dropped', () => sim.dropSockets());
  r.action('/_sim/sockets/forget', 'forgotten', () => sim.forgetSockets());
  r.on('POST', '/_sim/changes', (req, res) => {
    sendJson(
      res,
      200,
      makeChanges(sim, body(req)).map(({ full: _full, ...c }) => c),
    );
  });
  r.on('POST', '/_sim/flood', async (req, res) => {
    const b = body(req);
    const count = b.count ?? 1000;
    const className = b.className ?? 'fvBD';
    const problem = floodProblem(sim, count, className);
    if (problem) return sendJson(res, 400, { message: problem });
    sendJson(res, 200, await sim.flood(count as number, className as string));
  });
  // Large sets of one class, made on demand: {className, count}.
  r.on('POST', '/_sim/populate', (req, res) => {
    const b = body(req);
    const count = b.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_POPULATION) {
      return sendJson(res, 400, { message: `count must be a whole number from 1 to ${MAX_POPULATION}` });
    }
    try {
      sim.populate(String(b.className), count);
    } catch (err) {
      return sendJson(res, 400, { message: (err as Error).message });
    }
    sendJson(res, 200, { className: b.className, count, objects: sim.tree.size });
  });
  r.on('POST', /^\/_sim\/apics\/(\d+)\/(stop|start)$/, (req, res) => {
    const index = Number(req.params[0]) - 1;
    if (index < 0 || index >= sim.urls.length) return sendJson(res, 404, { message: 'no such APIC' });
    sendJson(res, 200, { apic: index + 1, action: req.params[1] });
    // After the answer has gone: this request may be on the APIC being stopped.
    const act = req.params[1] === 'stop' ? () => sim.stopApic(index) : () => sim.startApic(index);
    setImmediate(() => void act().catch(() => undefined));
  });
}
