/**
 * APIC simulator: one cluster of several APICs (listeners that share the
 * object tree and the users, each with its own sessions, as real APICs do).
 * Password and certificate logins, aaaRefresh with real expiry, the
 * /socket<token> WebSocket, class and DN queries and subscriptions with strict
 * expiry (optionally early, as APICs are reported to do), one-id refresh, and
 * pushes naming every matching subscription of the session. Fault switches
 * and /_sim/* control endpoints cover what goes wrong in the field: throttling
 * (503 with an HTML body), expired tokens, dropped sockets, an APIC down;
 * /_sim/flood makes many changes fast, for benchmarks. The fabric itself
 * (fabric.ts) changes as a real one does: faults through their life cycle,
 * health scores, audit and event records, with modTs "never" where APICs
 * write it.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { Router, listen, sendJson, sendText, type Handler, type SimRequest, type SimServer } from '../http';
import { seededRandom } from '../ids';
import {
  ApicDirectory,
  parseCookies,
  type SimApicSession,
  type SimApicUser,
  type SimSubscription,
} from './auth';
import {
  KNOWN_CLASSES,
  MoTree,
  SIM_APIC_VERSION,
  parseFilter,
  parseOrderBy,
  type Change,
  type Mo,
  type QueryOptions,
} from './tree';
import { ConfigRefused, configure } from './config';
import { controlRoutes } from './control';
import { FAULTS, advanceFault, auditRecord, raiseFault, randomChange, seedFabric } from './fabric';
import { SCALE_KINDS, populationChange } from './scale-kinds';

export { DEFAULT_APIC_PASSWORD } from './auth';

export interface ApicSimOptions {
  host?: string;
  /** HTTPS with the simulator certificate (default), or plain HTTP. */
  tls?: boolean;
  /** One port per APIC of the cluster; 0 picks a free port. Default: three APICs on free ports. */
  ports?: number[];
  refreshTimeoutSeconds?: number;
  maximumLifetimeSeconds?: number;
  /** Subscriptions die this much before their refresh timeout (APICs are reported to expire them early). */
  subscriptionEarlyMs?: number;
  /** Generated changes per second (0: only what tests make). */
  ratePerSec?: number;
  /** Large sets of objects made on demand, by class (scale-kinds.ts): `{ fvCEp: 300000 }`. */
  populations?: Record<string, number>;
  /** Generated changes of the populations per second (0: none). */
  populationRatePerSec?: number;
  seed?: number;
  users?: SimApicUser[];
  /** Serve /_sim/* control endpoints (default true). */
  control?: boolean;
}

export interface ApicSimStats {
  logins: number;
  failedLogins: number;
  refreshes: number;
  logouts: number;
  webtokens: number;
  signedRequests: number;
  badSignatures: number;
  throttled: number;
  requests: number[];
  socketsOpened: number;
  rejectedSockets: number;
  subscriptions: number;
  subscriptionRefreshes: number;
  deadRefreshes: number;
  expiredSubscriptions: number;
  refusedSubscriptions: number;
  /** Answers spoiled on purpose by failNext / noSubscriptionId. */
  injectedFailures: number;
  pushes: number;
  changes: number;
  /** Objects sent in query answers (what reads cost the APIC). */
  objectsAnswered: number;
}

const THROTTLE_PAGE =
  '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n' +
  '<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** Which requests a failNext fault spoils: class and DN queries (subscribing or paging), or subscriptionRefresh. */
export type FailTarget = 'query' | 'subscriptionRefresh';

export interface FailNext {
  count: number;
  /** 503 sends the HTML throttling page; anything else an APIC error object. */
  status: number;
  on: FailTarget;
}

/** A class or DN query as it arrives, for tests that act between pages (onQuery). */
export interface SimQuery {
  apic: number;
  kind: 'class' | 'dn';
  target: string;
  subscription: boolean;
  page: number;
  /** query-target-filter as sent, if any. */
  filter?: string;
  /** The request target exactly as sent (path and query, still %-encoded). */
  url: string;
}

/** The default when a subscription names no refresh-timeout. */
const DEFAULT_SUBSCRIPTION_TIMEOUT_SEC = 60;
/** Event records age out beyond this many (as APIC's retention does), without pushes. */
const MAX_EVENT_RECORDS = 5000;
/** The most objects one answer holds: a real APIC refuses larger ones ("result dataset is too big"). */
export const MAX_ANSWER = 100_000;
/** Pushes a flood lets wait unwritten before it waits for them. */
const FLOOD_IN_FLIGHT = 500;

function apicError(
  res: http.ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
) {
  sendJson(
    res,
    status,
    { totalCount: '1', imdata: [{ error: { attributes: { code: String(status), text } } }] },
    extra,
  );
}

interface Auth {
  user: SimApicUser;
  /** The session that owns the socket for this request, if any. */
  session?: SimApicSession;
  duplicateCookie: boolean;
}

export class ApicSimulator {
  readonly tree = new MoTree();
  readonly directory: ApicDirectory;
  readonly stats: ApicSimStats;
  readonly faults = {
    /** Every request gets 503 (HTML) until then (ms since epoch). */
    throttleUntil: 0,
    /** Password logins allowed per second across the cluster (0: no limit). */
    loginsPerSecond: 0,
    refreshTimeoutSeconds: 600,
    maximumLifetimeSeconds: 86400,
    subscriptionEarlyMs: 0,
    /** The next `count` requests of one kind fail with `status` (then it is spent). */
    failNext: undefined as FailNext | undefined,
    /** The next this many subscription answers carry no subscriptionId (and subscribe nothing). */
    noSubscriptionId: 0,
    /** Refuse order-by together with subscription=yes (400), as an APIC might: no source says it takes both. */
    refuseOrderByWithSubscription: false,
    /** Generated changes of the populations per second (setPopulationRate). */
    populationRatePerSec: 0,
  };
  /**
   * Called for every class and DN query before it is answered (tests change
   * the tree here, between the pages of a read); the answer waits for it.
   */
  onQuery: ((query: SimQuery) => void | Promise<void>) | undefined;
  private readonly options: ApicSimOptions;
  private readonly random: () => number;
  private readonly counter = { n: 0 };
  private readonly servers: (SimServer | undefined)[] = [];
  private readonly ports: number[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly loginTimes: number[] = [];
  private nextSubscriptionId = 72057594037927937n;
  private generator: NodeJS.Timeout | undefined;
  private populationGenerator: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private origins: string[] = [];

  private constructor(options: ApicSimOptions) {
    this.options = options;
    this.directory = new ApicDirectory(options.users);
    this.random = seededRandom(options.seed ?? Date.now());
    this.faults.refreshTimeoutSeconds = options.refreshTimeoutSeconds ?? 600;
    this.faults.maximumLifetimeSeconds = options.maximumLifetimeSeconds ?? 86400;
    this.faults.subscriptionEarlyMs = options.subscriptionEarlyMs ?? 0;
    const n = options.ports?.length ?? 3;
    this.stats = {
      logins: 0,
      failedLogins: 0,
      refreshes: 0,
      logouts: 0,
      webtokens: 0,
      signedRequests: 0,
      badSignatures: 0,
      throttled: 0,
      requests: new Array<number>(n).fill(0),
      socketsOpened: 0,
      rejectedSockets: 0,
      subscriptions: 0,
      subscriptionRefreshes: 0,
      deadRefreshes: 0,
      expiredSubscriptions: 0,
      refusedSubscriptions: 0,
      injectedFailures: 0,
      pushes: 0,
      changes: 0,
      objectsAnswered: 0,
    };
    seedFabric(this.tree);
    for (const [className, count] of Object.entries(options.populations ?? {}))
      this.populate(className, count);
  }

  static async start(options: ApicSimOptions = {}): Promise<ApicSimulator> {
    const sim = new ApicSimulator(options);
    const ports = options.ports ?? [0, 0, 0];
    for (let i = 0; i < ports.length; i++) {
      sim.ports[i] = ports[i] as number;
      await sim.startApic(i);
    }
    sim.origins = sim.servers.map((s) => (s as SimServer).url);
    sim.sweeper = setInterval(() => sim.sweep(), 100);
    sim.sweeper.unref();
    sim.setRate(options.ratePerSec ?? 0);
    sim.setPopulationRate(options.populationRatePerSec ?? 0);
    return sim;
  }

  /** The address of every APIC of the cluster (kept while one is stopped). */
  get urls(): string[] {
    return [...this.origins];
  }

  get url(): string {
    return this.origins[0] as string;
  }

  /** Host:port of every APIC, comma separated, as a user types it. */
  get hosts(): string {
    return this.origins.map((o) => o.replace(/^https?:\/\//, '')).join(', ');
  }

  get cert(): string | undefined {
    return this.servers.find(Boolean)?.cert;
  }

  get certificateUser() {
    return this.directory.certificateUser;
  }

  /** Live sessions (with their sockets and subscriptions). */
  get sessions(): SimApicSession[] {
    return this.directory.live().filter((s) => !s.ended);
  }

  /** Subscriptions alive now, across sessions. */
  get liveSubscriptions(): SimSubscription[] {
    const now = Date.now();
    return this.sessions.flatMap((s) => [...s.subscriptions.values()]).filter((sub) => sub.expiresAt > now);
  }

  get openSockets(): number {
    return this.sessions.filter((s) => s.socket?.readyState === WebSocket.OPEN).length;
  }

  // --- faults ----------------------------------------------------------------------------------

  /** Every request (logins, queries, sockets) gets 503 with an HTML page for `ms`. */
  throttle(ms: number): void {
    this.faults.throttleUntil = Date.now() + ms;
  }

  /** The next `count` requests of one kind fail with `status` (a 5xx blip, a 503, a 400 ...). */
  failNext(count: number, status: number, on: FailTarget = 'query'): void {
    this.faults.failNext = { count, status, on };
  }

  /** Ends every session now, closing its socket (the client sees a 403 or a closed socket). */
  expireTokens(): void {
    for (const s of this.sessions) this.endSession(s, 'Token timeout');
  }

  /** Cuts every socket without ending the sessions. */
  dropSockets(): void {
    for (const s of this.sessions) s.socket?.terminate();
  }

  /**
   * The APIC loses track of every session's socket while the connections stay
   * open: nothing is pushed any more, and subscribing answers 405 "Unable to
   * locate opened web socket".
   */
  forgetSockets(): void {
    for (const s of this.sessions) s.socket = undefined;
  }

  /**
   * Every live subscription goes quiet: it still refreshes, but nothing is
   * pushed on it any more, as users of long-lived subscriptions report
   * (acitoolkit #259). Only reading the objects again tells what changed.
   */
  silenceSubscriptions(): void {
    for (const sub of this.liveSubscriptions) sub.broken = true;
  }

  /** Takes one APIC of the cluster down: its connections break and its sessions are gone. */
  async stopApic(index: number): Promise<void> {
    const server = this.servers[index];
    this.servers[index] = undefined;
    for (const s of this.sessions) if (s.apic === index) this.endSession(s, 'APIC down', true);
    await server?.close();
  }

  /** Brings a stopped APIC back on its port. */
  async startApic(index: number): Promise<void> {
    if (this.servers[index]) return;
    const server = await listen(
      { host: this.options.host, port: this.ports[index], tls: this.options.tls },
      this.routes(index),
    );
    server.server.on('upgrade', (req, socket, head) => this.upgrade(index, req, socket, head));
    this.ports[index] = Number(new URL(server.url).port);
    this.servers[index] = server;
  }

  isUp(index: number): boolean {
    return Boolean(this.servers[index]);
  }

  /** Adds `count` objects of a class the simulator can make in numbers (scale-kinds.ts). */
  populate(className: string, count: number): void {
    const kind = SCALE_KINDS.get(className);
    if (!kind) throw new Error(`no population kind for ${className}: ${[...SCALE_KINDS.keys()].join(', ')}`);
    this.tree.populate(kind, count);
  }

  /** Changes of the populations per second (several per tick at high rates), pushed as any other. */
  setPopulationRate(perSec: number): void {
    clearInterval(this.populationGenerator);
    this.populationGenerator = undefined;
    this.faults.populationRatePerSec = perSec;
    if (perSec <= 0) return;
    const tickMs = Math.max(10, 1000 / perSec);
    const perTick = Math.max(1, Math.round((perSec * tickMs) / 1000));
    this.populationGenerator = setInterval(() => {
      const changes: Change[] = [];
      for (let i = 0; i < perTick; i++) {
        const change = populationChange(this.tree, this.random);
        if (change) changes.push(change);
      }
      this.apply(changes);
    }, tickMs);
    this.populationGenerator.unref();
  }

  setRate(perSec: number): void {
    clearInterval(this.generator);
    this.generator = undefined;
    if (perSec <= 0) return;
    this.generator = setInterval(() => this.change(), Math.max(10, 1000 / perSec));
    this.generator.unref();
  }

  // --- changes -----------------------------------------------------------------------------------

  /** One random change of the fabric (plus its event record), pushed to subscribers. */
  change(): Change[] {
    return this.apply(randomChange(this.tree, this.random, this.counter));
  }

  /** Creates an object; with `user`, as that user's change, with the audit record (aaaModLR) APIC writes. */
  create(className: string, dn: string, attributes: Record<string, string> = {}, user?: string): Change {
    return this.apply(
      this.audited(user, dn, () => [this.tree.create(className, dn, attributes)]),
    )[0] as Change;
  }

  modify(dn: string, attributes: Record<string, string>, user?: string): Change {
    return this.apply(this.audited(user, dn, () => [this.tree.modify(dn, attributes)]))[0] as Change;
  }

  remove(dn: string, user?: string): Change[] {
    return this.apply(this.audited(user, dn, () => this.tree.delete(dn)));
  }

  /** A configuration post (POST /api/mo/<dn>.json) as `user`; throws ConfigRefused as APIC refuses. */
  configure(dn: string, body: string, user: string): Change[] {
    return this.apply(configure(this.tree, dn, body, (at, make) => this.audited(user, at, make)));
  }

  private audited(user: string | undefined, dn: string, make: () => Change[]): Change[] {
    const before = { ...this.tree.get(dn)?.attributes };
    const changes = make();
    const main = changes.find((c) => c.dn === dn);
    return user && main ? [...changes, auditRecord(this.tree, main, user, before, this.counter)] : changes;
  }

  /**
   * Raises a fault on an object (modTs "never", times in created and
   * lastTransition), `soaking` unless told otherwise; its health score follows.
   * Returns the fault's dn.
   */
  raiseFault(affected: string, code = 'F1527', lc = 'soaking'): string {
    const spec = FAULTS.find((f) => f.code === code) ?? { ...(FAULTS[2] as (typeof FAULTS)[number]), code };
    const changes = this.apply(raiseFault(this.tree, affected, spec, lc));
    return (changes[0] as Change).dn;
  }

  /** Moves a fault one step in its life cycle, or to `to` (an lc, "deleted", or a severity). */
  advanceFault(dn: string, to?: string): Change[] {
    return this.apply(advanceFault(this.tree, dn, this.random, to));
  }

  /** Pushes changes: one message per change and session, naming every subscription of that session it matches. */
  apply(changes: Change[]): Change[] {
    const now = Date.now();
    for (const change of changes) this.push(change, now);
    this.tree.prune('eventRecord', MAX_EVENT_RECORDS);
    this.tree.prune('aaaModLR', MAX_EVENT_RECORDS);
    return changes;
  }

  /**
   * Modifies objects of one class `count` times, in turn (their descr), each
   * change pushed as any other. Resolves when every push is written to its
   * socket, with at most FLOOD_IN_FLIGHT unwritten: benchmarks time clients
   * with it. Throws when the class is unknown or has no objects.
   */
  async flood(count: number, className = 'fvBD'): Promise<{ changes: number; pushes: number; ms: number }> {
    if (!KNOWN_CLASSES.has(className)) throw new Error(`Request failed, unresolved class for ${className}`);
    const dns = this.tree.dnsOf(className, count);
    if (dns.length === 0) throw new Error(`no ${className} objects to modify`);
    const started = Date.now();
    let pushes = 0;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const sent = () => {
      inFlight--;
      wake?.();
    };
    for (let i = 0; i < count; i++) {
      const change = this.tree.modify(dns[i % dns.length] as string, { descr: `flood ${i + 1}` });
      const n = this.push(change, Date.now(), sent);
      pushes += n;
      inFlight += n;
      while (inFlight >= FLOOD_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    return { changes: count, pushes, ms: Date.now() - started };
  }

  async stop(): Promise<void> {
    this.setRate(0);
    this.setPopulationRate(0);
    clearInterval(this.sweeper);
    for (const s of this.sessions) this.endSession(s, 'stopping', true);
    this.wss.close();
    await Promise.all(this.servers.map((s) => s?.close()));
  }

  // --- internals -------------------------------------------------------------------------------

  /** One change to every session with a matching subscription; `sent` is called once per push written. */
  private push(change: Change, now: number, sent?: () => void): number {
    this.stats.changes++;
    const mo = {
      className: change.className,
      dn: change.dn,
      attributes: { ...change.full, status: change.status },
    };
    let pushes = 0;
    for (const session of this.sessions) {
      const ws = session.socket;
      if (!ws || ws.readyState !== WebSocket.OPEN) continue;
      const ids: string[] = [];
      for (const sub of session.subscriptions.values()) {
        if (sub.expiresAt <= now) {
          this.expire(sub);
          continue;
        }
        if (!sub.broken && sub.matches(mo)) ids.push(sub.id);
      }
      if (ids.length === 0) continue;
      this.stats.pushes++;
      pushes++;
      // A socket that breaks meanwhile calls back with an error: the push is spent all the same.
      ws.send(
        JSON.stringify({
          subscriptionId: ids,
          imdata: [{ [change.className]: { attributes: change.attributes } }],
        }),
        sent && (() => sent()),
      );
    }
    return pushes;
  }

  private expire(sub: SimSubscription): void {
    if (sub.session.subscriptions.delete(sub.id)) this.stats.expiredSubscriptions++;
  }

  private endSession(session: SimApicSession, why: string, terminate = false): void {
    const ws = session.socket;
    this.directory.end(session);
    if (terminate) ws?.terminate();
    else ws?.close(1008, why);
  }

  /** Ends what has run out: sessions (closing their sockets) and unrefreshed subscriptions. */
  private sweep(): void {
    const now = Date.now();
    for (const s of this.directory.live()) {
      if (this.directory.expired(s, now)) {
        this.endSession(s, 'Token timeout');
        continue;
      }
      for (const sub of s.subscriptions.values()) if (sub.expiresAt <= now) this.expire(sub);
    }
  }

  private throttled(res: http.ServerResponse): boolean {
    if (Date.now() >= this.faults.throttleUntil) return false;
    this.stats.throttled++;
    sendText(res, 503, THROTTLE_PAGE, 'text/html');
    return true;
  }

  /** Spends one failNext of this kind, answering with its status; true when it did. */
  private injected(on: FailTarget, res: http.ServerResponse): boolean {
    const f = this.faults.failNext;
    if (!f || f.on !== on || f.count <= 0) return false;
    if (--f.count <= 0) this.faults.failNext = undefined;
    this.stats.injectedFailures++;
    if (f.status === 503) sendText(res, 503, THROTTLE_PAGE, 'text/html');
    else apicError(res, f.status, `Injected failure (${f.status})`);
    return true;
  }

  /** Who is asking: a signed request (certificate) or one APIC-cookie of a live session on this APIC. */
  private authenticate(apic: number, req: SimRequest, res: http.ServerResponse): Auth | undefined {
    const cookies = parseCookies(req.headers.cookie);
    if (cookies.has('apic-request-signature')) {
      this.stats.signedRequests++;
      const user = this.directory.checkSignature(cookies, req.method, req.url, req.body);
      if (!user) {
        this.stats.badSignatures++;
        apicError(res, 403, 'Request signature verification failed');
        return undefined;
      }
      const token = cookies.get('apic-websocket-session')?.[0];
      const session = this.directory.find(token);
      const ownSession = session && session.user === user && session.apic === apic ? session : undefined;
      return { user, session: ownSession, duplicateCookie: false };
    }
    const tokens = cookies.get('apic-cookie') ?? [];
    if (tokens.length === 0) {
      apicError(
        res,
        403,
        'Need a valid webtoken cookie (named APIC-Cookie) or a signed request with signature and certificate',
      );
      return undefined;
    }
    const session = this.directory.find(tokens[0]);
    if (!session || session.apic !== apic || session.kind !== 'password') {
      apicError(res, 403, 'Token was invalid (Error: Token timeout)');
      return undefined;
    }
    return { user: session.user, session, duplicateCookie: tokens.length > 1 };
  }

  private loginAnswer(session: SimApicSession, key: 'aaaLogin' | 'webtokenSession') {
    const u = session.user;
    return {
      totalCount: '1',
      imdata: [
        {
          [key]: {
            attributes: {
              token: session.token,
              siteFingerprint: 'simfingerprint0001',
              refreshTimeoutSeconds: String(session.refreshTimeoutSec),
              maximumLifetimeSeconds: String(session.maxLifetimeSec),
              guiIdleTimeoutSeconds: '1200',
              restTimeoutSeconds: '90',
              creationTime: String(Math.floor(session.createdAt / 1000)),
              firstLoginTime: String(Math.floor(session.createdAt / 1000)),
              userName: u.name,
              remoteUser: u.domain ? 'true' : 'false',
              unixUserId: '15374',
              sessionId: session.token.slice(-12),
              lastName: '',
              firstName: '',
              version: SIM_APIC_VERSION,
              buildTime: 'Tue Mar 05 15:32:26 UTC 2024',
              node: `topology/pod-1/node-${session.apic + 1}`,
            },
          },
        },
      ],
    };
  }

  private newSession(user: SimApicUser, kind: SimApicSession['kind'], apic: number): SimApicSession {
    return this.directory.createSession(user, kind, apic, {
      refreshTimeoutSec: this.faults.refreshTimeoutSeconds,
      maxLifetimeSec: this.faults.maximumLifetimeSeconds,
    });
  }

  private login(apic: number, req: SimRequest, res: http.ServerResponse): void {
    // The anti-DoS limit for password logins.
    const now = Date.now();
    while (this.loginTimes.length && this.loginTimes[0]! <= now - 1000) this.loginTimes.shift();
    if (this.faults.loginsPerSecond > 0 && this.loginTimes.length >= this.faults.loginsPerSecond) {
      this.stats.throttled++;
      return sendText(res, 503, THROTTLE_PAGE, 'text/html');
    }
    this.loginTimes.push(now);
    let attrs: { name?: unknown; pwd?: unknown } | undefined;
    try {
      attrs = (JSON.parse(req.body) as { aaaUser?: { attributes?: typeof attrs } }).aaaUser?.attributes;
    } catch {
      return apicError(res, 400, 'Failed to parse login request');
    }
    const user = this.directory.checkPassword(String(attrs?.name ?? ''), String(attrs?.pwd ?? ''));
    if (!user) {
      this.stats.failedLogins++;
      return apicError(res, 401, 'Username or password is incorrect - FAILED local authentication');
    }
    this.stats.logins++;
    const session = this.newSession(user, 'password', apic);
    sendJson(res, 200, this.loginAnswer(session, 'aaaLogin'), {
      'set-cookie': `APIC-cookie=${session.token}; path=/; HttpOnly; Secure`,
    });
  }

  private refresh(apic: number, req: SimRequest, res: http.ServerResponse): void {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    if (!auth.session || auth.session.kind !== 'password') {
      return apicError(res, 400, 'aaaRefresh needs a login session');
    }
    this.directory.renew(auth.session);
    this.stats.refreshes++;
    sendJson(res, 200, this.loginAnswer(auth.session, 'aaaLogin'), {
      'set-cookie': `APIC-cookie=${auth.session.token}; path=/; HttpOnly; Secure`,
    });
  }

  private queryOptions(req: SimRequest): QueryOptions | string {
    const qt = req.query.get('query-target') ?? undefined;
    if (qt && !['self', 'children', 'subtree'].includes(qt)) return `Invalid value ${qt} for query-target`;
    const tsc = req.query.get('target-subtree-class') ?? undefined;
    const classes = tsc?.split(',');
    const unknown = classes?.find((c) => !KNOWN_CLASSES.has(c));
    if (unknown) return `Request failed, unresolved class for ${unknown}`;
    const filterText = req.query.get('query-target-filter') ?? undefined;
    const orderText = req.query.get('order-by') ?? undefined;
    if (orderText && this.faults.refuseOrderByWithSubscription && req.query.get('subscription') === 'yes') {
      return 'order-by is not supported with subscription';
    }
    try {
      return {
        queryTarget: qt,
        targetSubtreeClass: classes,
        filter: filterText ? parseFilter(filterText) : undefined,
        orderBy: orderText ? parseOrderBy(orderText, KNOWN_CLASSES) : undefined,
      };
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async query(
    apic: number,
    kind: 'class' | 'dn',
    req: SimRequest,
    res: http.ServerResponse,
  ): Promise<void> {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    const target = req.params[0] as string;
    if (kind === 'class' && !KNOWN_CLASSES.has(target)) {
      return apicError(res, 400, `Request failed, unresolved class for ${target}`);
    }
    const options = this.queryOptions(req);
    if (typeof options === 'string') return apicError(res, 400, options);
    const subscribing = req.query.get('subscription') === 'yes';
    const page = Number.parseInt(req.query.get('page') ?? '0', 10) || 0;
    const filter = req.query.get('query-target-filter') ?? undefined;
    await this.onQuery?.({ apic, kind, target, subscription: subscribing, page, filter, url: req.url });
    if (this.injected('query', res)) return;

    // A real APIC answers at most 100,000 objects: a larger answer (unpaged, or a larger page) is refused.
    const size = Number.parseInt(req.query.get('page-size') ?? '', 10);
    const from = size > 0 ? page * size : 0;
    const answer = this.tree.page(kind, target, options, from, size > 0 ? size : MAX_ANSWER + 1);
    if (answer.mos.length > MAX_ANSWER) {
      return apicError(res, 400, 'Unable to process the query, result dataset is too big');
    }
    let subscriptionId: string | undefined;
    if (subscribing && this.faults.noSubscriptionId > 0) {
      this.faults.noSubscriptionId--;
      this.stats.injectedFailures++;
    } else if (subscribing) {
      const sub = this.subscribe(auth, kind, target, options, req.query.get('refresh-timeout'));
      if (!sub) return apicError(res, 405, 'Unable to locate opened web socket');
      subscriptionId = sub.id;
    }
    this.stats.objectsAnswered += answer.mos.length;
    sendJson(res, 200, {
      totalCount: String(answer.total),
      ...(subscriptionId ? { subscriptionId } : {}),
      imdata: answer.mos.map((mo) => ({ [mo.className]: { attributes: { ...mo.attributes, status: '' } } })),
    });
  }

  /** A subscription of the session that owns the socket; undefined when it has none open. */
  private subscribe(
    auth: Auth,
    kind: 'class' | 'dn',
    target: string,
    options: QueryOptions,
    refreshTimeout: string | null,
  ): SimSubscription | undefined {
    const session = auth.session;
    if (!session?.socket || session.socket.readyState !== WebSocket.OPEN) {
      this.stats.refusedSubscriptions++;
      return undefined;
    }
    const timeoutSec = Number.parseInt(refreshTimeout ?? '', 10) || DEFAULT_SUBSCRIPTION_TIMEOUT_SEC;
    const sub: SimSubscription = {
      id: String(this.nextSubscriptionId++),
      session,
      kind,
      target,
      timeoutSec,
      expiresAt: this.subscriptionDeadline(timeoutSec),
      broken: auth.duplicateCookie,
      matches: (mo) => this.tree.selects(kind, target, options, mo as Mo),
    };
    session.subscriptions.set(sub.id, sub);
    this.stats.subscriptions++;
    return sub;
  }

  private subscriptionDeadline(timeoutSec: number): number {
    const full = timeoutSec * 1000;
    return Date.now() + Math.max(full - this.faults.subscriptionEarlyMs, full * 0.3);
  }

  private subscriptionRefresh(apic: number, req: SimRequest, res: http.ServerResponse): void {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    if (this.injected('subscriptionRefresh', res)) return;
    const ids = req.query.getAll('id');
    if (ids.length !== 1 || !/^\d+$/.test(ids[0] as string)) {
      return apicError(res, 400, 'subscriptionRefresh takes exactly one subscription id');
    }
    const sub = auth.session?.subscriptions.get(ids[0] as string);
    if (!sub || sub.expiresAt <= Date.now()) {
      if (sub) this.expire(sub);
      this.stats.deadRefreshes++;
      return apicError(res, 400, `Subscription refresh failed: no subscription ${ids[0]}`);
    }
    sub.expiresAt = this.subscriptionDeadline(sub.timeoutSec);
    this.stats.subscriptionRefreshes++;
    sendJson(res, 200, { totalCount: '0', imdata: [] });
  }

  private upgrade(apic: number, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // After 'upgrade' the HTTP server no longer listens for the socket's errors: a client that resets the
    // connection while it is refused (a retry with a stale token that gives up) must not stop the server.
    socket.on('error', () => socket.destroy());
    const reject = (status: number, text: string, body = text) => {
      this.stats.rejectedSockets++;
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (Date.now() < this.faults.throttleUntil) {
      this.stats.throttled++;
      return reject(503, 'Service Temporarily Unavailable', THROTTLE_PAGE);
    }
    const target = req.url ?? '/';
    const m = /^\/socket([^/?]+)$/.exec(target);
    if (!m) return reject(404, 'Not Found');
    const session = this.directory.find(m[1]);
    if (!session || session.apic !== apic) return reject(403, 'Forbidden');
    if (session.kind === 'webtoken') {
      const user = this.directory.checkSignature(parseCookies(req.headers.cookie), 'GET', target, '');
      if (user !== session.user) return reject(403, 'Forbidden');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.stats.socketsOpened++;
      const previous = session.socket;
      session.socket = ws;
      previous?.close(1000, 'replaced');
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (session.socket === ws) session.socket = undefined;
      });
    });
  }

  private configPost(apic: number, req: SimRequest, res: http.ServerResponse): void {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    try {
      this.configure(req.params[0] as string, req.body, auth.user.name);
      sendJson(res, 200, { totalCount: '0', imdata: [] });
    } catch (err) {
      if (!(err instanceof ConfigRefused)) throw err;
      apicError(res, err.status, err.message);
    }
  }

  private logout(apic: number, req: SimRequest, res: http.ServerResponse): void {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    if (auth.session) this.endSession(auth.session, 'logged out');
    this.stats.logouts++;
    sendJson(res, 200, { totalCount: '0', imdata: [] });
  }

  private webtokenSession(apic: number, req: SimRequest, res: http.ServerResponse): void {
    const auth = this.authenticate(apic, req, res);
    if (!auth) return;
    if (!parseCookies(req.headers.cookie).has('apic-request-signature')) {
      return apicError(res, 400, 'webtokenSession needs a signed request');
    }
    this.stats.webtokens++;
    sendJson(res, 200, this.loginAnswer(this.newSession(auth.user, 'webtoken', apic), 'webtokenSession'));
  }

  /** The REST API of one APIC: every request counted, and answered 503 while throttled. */
  private routes(apic: number): Router {
    const endpoints: [method: string, path: string | RegExp, handler: Handler][] = [
      ['POST', '/api/aaaLogin.json', (req, res) => this.login(apic, req, res)],
      ['GET', '/api/aaaRefresh.json', (req, res) => this.refresh(apic, req, res)],
      ['POST', '/api/aaaRefresh.json', (req, res) => this.refresh(apic, req, res)],
      ['POST', '/api/aaaLogout.json', (req, res) => this.logout(apic, req, res)],
      ['GET', '/api/webtokenSession.json', (req, res) => this.webtokenSession(apic, req, res)],
      ['GET', /^\/api\/(?:node\/)?class\/(.+)\.json$/, (req, res) => this.query(apic, 'class', req, res)],
      ['GET', /^\/api\/(?:node\/)?mo\/(.+)\.json$/, (req, res) => this.query(apic, 'dn', req, res)],
      ['POST', /^\/api\/(?:node\/)?mo\/(.+)\.json$/, (req, res) => this.configPost(apic, req, res)],
      ['GET', '/api/subscriptionRefresh.json', (req, res) => this.subscriptionRefresh(apic, req, res)],
    ];
    const r = new Router();
    for (const [method, path, handler] of endpoints) {
      r.on(method, path, (req, res) => {
        this.stats.requests[apic] = (this.stats.requests[apic] ?? 0) + 1;
        return this.throttled(res) ? undefined : handler(req, res);
      });
    }
    if (this.options.control !== false) controlRoutes(r, this);
    return r;
  }
}
