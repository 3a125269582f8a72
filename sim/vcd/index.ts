/**
 * VCD simulator: the OpenAPI login surface (versions, password and API-token
 * logins, current session, logout, audit trail) and the message bus at
 * /messaging/mqtt (a real MQTT broker over WebSocket that checks the Bearer
 * token at the upgrade and topic permissions by role). Strict where VCD is
 * strict; fault switches for what goes wrong in the field.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'ws';
import {
  Router,
  listen,
  sendJson,
  sendText,
  type ServeOptions,
  type SimRequest,
  type SimServer,
} from '../http';
import { seededRandom } from '../ids';
import {
  DEFAULT_API_TOKENS,
  DEFAULT_USERS,
  Directory,
  type ApiTokenSpec,
  type SimSession,
  type SimUser,
} from './directory';
import { AuditTrail } from './audit';
import { BlockingTasks } from './blocking-tasks';
import { Inventory } from './inventory';
import {
  legacyControlRoutes,
  legacyRoutes,
  type BlockingFault,
  reconfigureAs,
  taskEndedEvents,
  type LegacyDeps,
} from './legacy-api';
import {
  EventFactory,
  activityVerb,
  auditRecord,
  vcdTimestamp,
  type EventOptions,
  type Published,
} from './events';

export interface VcdSimOptions extends ServeOptions {
  /** API versions offered by /api/versions. */
  versions?: { version: string; deprecated?: boolean }[];
  users?: SimUser[];
  apiTokens?: ApiTokenSpec[];
  /** Lifetime of every access token (JWT exp and expires_in). */
  tokenLifetimeSec?: number;
  /**
   * VCD's clock runs this many seconds ahead of ours (negative: behind); it shows in the JWT iat and exp,
   * event and audit times, and the Date header of every answer.
   */
  clockSkewSec?: number;
  /** Generated events per second (0: only what tests publish). */
  ratePerSec?: number;
  /** Close a message-bus connection when its token expires (default true). */
  dropOnExpiry?: boolean;
  /** Seed for a repeatable event stream. */
  seed?: number;
  /** Serve /_sim/* control endpoints (default true). */
  control?: boolean;
  /**
   * An external MQTT broker (mqtt://host:port) to carry the message bus instead of the built-in one, for
   * benchmarks: the simulator checks the Bearer token at the upgrade, then relays the bytes to the broker
   * and publishes there. The broker itself checks nothing.
   */
  broker?: string;
  /** With `broker`: accept upgrades without a token too (the core mqtt node cannot send the header). */
  anonymousBus?: boolean;
}

export const DEFAULT_VERSIONS = [
  { version: '33.0', deprecated: true },
  { version: '34.0', deprecated: true },
  { version: '35.0', deprecated: false },
  { version: '36.0', deprecated: false },
  { version: '37.0', deprecated: false },
  { version: '38.0', deprecated: false },
  { version: '38.1', deprecated: false },
  { version: '39.0', deprecated: false },
  { version: '39.1', deprecated: false },
];

export interface VcdSimStats {
  passwordLogins: number;
  tokenLogins: number;
  failedLogins: number;
  logouts: number;
  upgrades: number;
  rejectedUpgrades: Record<number, number>;
  mqttConnects: number;
  refusedSubscriptions: number;
  /** Audit-trail requests answered (pages included). */
  auditReads: number;
  published: number;
}

interface Connection {
  ws: WebSocket;
  session?: SimSession;
  expiryTimer?: NodeJS.Timeout;
  subscriptions: Set<string>;
}

type AedesBroker = import('aedes').Aedes;
type AedesClient = import('aedes').Client;

/** A well-formed VCD error body. */
function vcdError(res: http.ServerResponse, status: number, minor: string, message: string): void {
  sendJson(res, status, { minorErrorCode: minor, message, stackTrace: null });
}

export class VcdSimulator {
  readonly directory: Directory;
  readonly stats: VcdSimStats = {
    passwordLogins: 0,
    tokenLogins: 0,
    failedLogins: 0,
    logouts: 0,
    upgrades: 0,
    rejectedUpgrades: {},
    mqttConnects: 0,
    refusedSubscriptions: 0,
    auditReads: 0,
    published: 0,
  };
  readonly faults = {
    loginDown: false,
    /** Logins answer this much later. */
    loginDelayMs: 0,
    /** The audit trail answers 503. */
    auditDown: false,
    brokerDownUntil: 0,
    tokenLifetimeSec: 1800,
    dropOnExpiry: true,
    /** VCD's clock against ours, in seconds (JWT iat/exp, event times, Date); tokens still expire after their lifetime. */
    clockSkewSec: 0,
    /**
     * A proxy in front that does not pass the upgrade's Authorization header on: the bus then asks for the
     * MQTT login (user@org and the JWT) and, without one, refuses in CONNACK (return code 4).
     */
    upgradeAuthDropped: false,
    /** The connection is lost while the next SUBSCRIBE waits for its SUBACK (once): no SUBACK comes. */
    subscribeCut: false,
    /** The next answer to a blocking task (once): VCD fails it, or the task times out just before. */
    blockingAnswer: '' as BlockingFault,
  };
  readonly audit = new AuditTrail();
  /** vApps, VMs and their tasks (legacy API). */
  readonly inventory: Inventory;
  /** Blocking tasks: settings, the held ones, their AMQP-style notifications. */
  readonly blocking: BlockingTasks;
  private readonly options: VcdSimOptions;
  private readonly factory: EventFactory;
  private readonly connections = new Set<Connection>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  private server!: SimServer;
  private broker!: AedesBroker;
  /** With options.broker: the client that publishes there. */
  private publisher: MqttClient | undefined;
  private generator: NodeJS.Timeout | undefined;

  private constructor(options: VcdSimOptions) {
    this.options = options;
    this.directory = new Directory(options.users ?? DEFAULT_USERS, options.apiTokens ?? DEFAULT_API_TOKENS);
    this.faults.tokenLifetimeSec = options.tokenLifetimeSec ?? 1800;
    this.faults.dropOnExpiry = options.dropOnExpiry ?? true;
    this.faults.clockSkewSec = options.clockSkewSec ?? 0;
    this.factory = new EventFactory(this.directory, seededRandom(options.seed ?? Date.now()), () =>
      this.vcdNow(),
    );
    this.inventory = new Inventory(this.directory, () => this.vcdNow());
    this.blocking = new BlockingTasks({
      directory: this.directory,
      inventory: this.inventory,
      publish: (o) => this.publishEvent(o),
      site: () => this.url,
      now: () => this.vcdNow(),
    });
    this.inventory.onEnded = (task) => {
      for (const o of taskEndedEvents(task)) this.publishEvent(o);
    };
  }

  /** VCD's clock (ms): ours, skewed by the fault switch. */
  vcdNow(): number {
    return Date.now() + this.faults.clockSkewSec * 1000;
  }

  static async start(options: VcdSimOptions = {}): Promise<VcdSimulator> {
    const sim = new VcdSimulator(options);
    await sim.startBroker();
    sim.server = await listen(options, sim.routes());
    // Every answer dates itself in VCD's clock, as HTTP servers do (RFC 9110 6.6.1).
    sim.server.server.prependListener('request', (_req, res) =>
      res.setHeader('date', new Date(sim.vcdNow()).toUTCString()),
    );
    sim.server.server.on('upgrade', (req, socket, head) => sim.upgrade(req, socket, head));
    sim.setRate(options.ratePerSec ?? 0);
    return sim;
  }

  get url(): string {
    return this.server.url;
  }

  /** PEM of the self-signed server certificate (HTTPS only). */
  get cert(): string | undefined {
    return this.server.cert;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Every MQTT filter currently subscribed, across connections. */
  get subscriptions(): string[] {
    return [...this.connections].flatMap((c) => [...c.subscriptions]);
  }

  setRate(perSec: number): void {
    clearInterval(this.generator);
    this.generator = undefined;
    if (perSec <= 0) return;
    // Up to 100 ticks a second, several events a tick at high rates.
    const tickMs = Math.max(10, 1000 / perSec);
    const perTick = Math.max(1, Math.round((perSec * tickMs) / 1000));
    this.generator = setInterval(() => {
      for (let i = 0; i < perTick; i++) this.publishEvent();
    }, tickMs);
    this.generator.unref();
  }

  /** Generates one event (actor and fields may be given), publishes and records it. */
  publishEvent(options: EventOptions = {}): Published {
    const published = this.factory.next(options);
    this.audit.add(auditRecord(published.event, activityVerb(published.event.type)));
    this.publishRaw(published.topic, JSON.stringify(published.envelope));
    return published;
  }

  /**
   * `count` events that happened while no one listened: written to the audit
   * trail only, dated evenly over the last `spanMs` of VCD's clock, oldest
   * first (what a subscriber away that long finds there).
   */
  backlog(count: number, spanMs: number, options: EventOptions = {}): void {
    const end = this.vcdNow();
    for (let i = 0; i < count; i++) {
      const at = end - spanMs + Math.floor(((i + 1) * spanMs) / count);
      const { event } = this.factory.next({
        ...options,
        event: { ...options.event, timestamp: vcdTimestamp(at) },
      });
      this.audit.add(auditRecord(event, activityVerb(event.type)));
    }
  }

  /** Publishes any text on a topic (tests use it for malformed messages). */
  publishRaw(topic: string, text: string, done: () => void = () => undefined): void {
    this.stats.published++;
    if (this.publisher) {
      this.publisher.publish(topic, text, { qos: 1 }, () => done());
      return;
    }
    this.broker.publish(
      { cmd: 'publish', topic, payload: Buffer.from(text, 'utf8'), qos: 1, retain: false, dup: false },
      done,
    );
  }

  /**
   * Publishes `count` events as fast as the broker takes them (at most 500 in
   * flight); resolves when all are handed over. For benchmarks.
   */
  async flood(count: number, options: EventOptions = {}, ratePerSec = 0): Promise<void> {
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      // Paced: event i leaves at i / rate seconds (its timestamp is taken as it leaves).
      const due = ratePerSec > 0 ? started + (i * 1000) / ratePerSec - performance.now() : 0;
      if (due >= 1) await new Promise((r) => setTimeout(r, due));
      const { topic, envelope } = this.factory.next(options);
      inFlight++;
      this.publishRaw(topic, JSON.stringify(envelope), () => {
        inFlight--;
        wake?.();
      });
      while (inFlight >= 500) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  }

  /** `user@org` changes a VM of their org (reconfigureVm): held when vappUpdateVm blocks. */
  reconfigureVm(actor: string, vm: string, rename?: string) {
    return reconfigureAs(this.legacyDeps(), actor, vm, rename);
  }

  /** Closes every message-bus connection and refuses new ones for `downMs`. */
  restartBroker(downMs = 1000): void {
    this.faults.brokerDownUntil = Date.now() + downMs;
    this.dropConnections();
  }

  /** Drops every message-bus connection (clients see the socket close). */
  dropConnections(): void {
    for (const c of this.connections) c.ws.terminate();
  }

  expireAllTokens(): void {
    this.directory.expireAll();
    if (this.faults.dropOnExpiry) {
      for (const c of this.connections) if (c.session) c.ws.close(1008, 'token expired');
    }
  }

  async stop(): Promise<void> {
    this.setRate(0);
    this.blocking.stop();
    this.inventory.stop();
    for (const c of this.connections) {
      clearTimeout(c.expiryTimer);
      c.ws.terminate();
    }
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await this.publisher?.endAsync();
    this.wss.close();
    await this.server.close();
  }

  private async startBroker(): Promise<void> {
    if (this.options.broker) {
      this.publisher = await connectAsync(this.options.broker, { protocolVersion: 4, reconnectPeriod: 0 });
    }
    const { Aedes } = await import('aedes');
    this.broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const conn = this.connectionOf(client);
        if (conn?.session) return done(null, true);
        // The extension-SDK way: MQTT user "user@org", password the JWT.
        const session = this.directory.session(password?.toString('utf8'));
        if (
          conn &&
          session &&
          username?.toLowerCase() === `${session.user.name}@${session.user.org}`.toLowerCase()
        ) {
          conn.session = session;
          this.watchExpiry(conn);
          return done(null, true);
        }
        const error = Object.assign(new Error('Bad user name or password'), { returnCode: 4 as const });
        done(error, false);
      },
      authorizeSubscribe: (client, sub, done) => {
        const conn = this.connectionOf(client);
        if (this.faults.subscribeCut && conn) {
          this.faults.subscribeCut = false;
          conn.ws.terminate();
          return done(new Error('connection lost'), null);
        }
        if (conn?.session && this.directory.maySubscribe(conn.session, sub.topic)) return done(null, sub);
        this.stats.refusedSubscriptions++;
        done(null, null); // SUBACK failure (0x80)
      },
      // Notifications flow outward only: clients may not publish.
      authorizePublish: (_client, _packet, done) => done(new Error('publishing is not allowed')),
    });
    this.broker.on('clientReady', () => this.stats.mqttConnects++);
    // Counted once the broker routes to it (after authorizeSubscribe, a publish could still miss it).
    this.broker.on('subscribe', (subs, client) => {
      const conn = this.connectionOf(client);
      for (const s of subs) if ((s.qos as number) !== 128) conn?.subscriptions.add(s.topic);
    });
    this.broker.on('unsubscribe', (topics, client) => {
      const conn = this.connectionOf(client);
      for (const t of topics) conn?.subscriptions.delete(t);
    });
  }

  private connectionOf(client: AedesClient | null): Connection | undefined {
    const req = client?.req as (http.IncomingMessage & { vcd?: Connection }) | undefined;
    return req?.vcd;
  }

  private watchExpiry(conn: Connection): void {
    if (!this.faults.dropOnExpiry || !conn.session) return;
    clearTimeout(conn.expiryTimer);
    conn.expiryTimer = setTimeout(
      () => conn.ws.close(1008, 'token expired'),
      conn.session.expiresAt - Date.now(),
    );
    conn.expiryTimer.unref();
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // After 'upgrade' the HTTP server no longer listens for the socket's errors: a client that resets the
    // connection while it is refused (a retry with a stale token that gives up) must not stop the server.
    socket.on('error', () => socket.destroy());
    const reject = (status: number, text: string) => {
      this.stats.rejectedUpgrades[status] = (this.stats.rejectedUpgrades[status] ?? 0) + 1;
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
    };
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path !== '/messaging/mqtt') return reject(404, 'Not Found');
    if (Date.now() < this.faults.brokerDownUntil) return reject(503, 'Service Unavailable');
    let session: SimSession | undefined;
    if (this.faults.upgradeAuthDropped) delete req.headers.authorization;
    if (req.headers.authorization !== undefined) {
      session = this.directory.bearer(req.headers.authorization);
      if (!session) return reject(401, 'Unauthorized');
    } else if (this.options.broker && !this.options.anonymousBus) {
      // The external broker checks no MQTT login: the token at the upgrade is the only check.
      return reject(401, 'Unauthorized');
    }
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!protocols.includes('mqtt')) return reject(400, 'Bad Request: subprotocol mqtt required');

    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.stats.upgrades++;
      const conn: Connection = { ws, session, subscriptions: new Set() };
      (req as http.IncomingMessage & { vcd?: Connection }).vcd = conn;
      this.connections.add(conn);
      this.watchExpiry(conn);
      const stream = createWebSocketStream(ws);
      stream.on('error', () => undefined);
      ws.on('close', () => {
        clearTimeout(conn.expiryTimer);
        this.connections.delete(conn);
      });
      if (this.options.broker) this.relay(stream);
      else this.broker.handle(stream, req);
    });
  }

  /** Relays a message-bus connection to the external broker, byte for byte. */
  private relay(stream: Duplex): void {
    const url = new URL(this.options.broker as string);
    const tcp = net.connect(Number(url.port || 1883), url.hostname);
    tcp.setNoDelay(true);
    tcp.on('error', () => stream.destroy());
    stream.on('error', () => tcp.destroy());
    stream.on('close', () => tcp.destroy());
    tcp.on('close', () => stream.destroy());
    stream.pipe(tcp).pipe(stream);
  }

  private routes(): Router {
    const r = new Router();
    r.on('GET', '/api/versions', (req, res) => this.versions(req, res));
    // Logins answer after loginDelayMs (a busy cell); the session is made at answer time.
    const slow =
      (handler: (req: SimRequest, res: http.ServerResponse) => void) =>
      (req: SimRequest, res: http.ServerResponse) => {
        if (this.faults.loginDelayMs <= 0) return handler(req, res);
        setTimeout(() => handler(req, res), this.faults.loginDelayMs).unref();
      };
    r.on(
      'POST',
      '/cloudapi/1.0.0/sessions',
      slow((req, res) => this.passwordLogin(req, res, false)),
    );
    r.on(
      'POST',
      '/cloudapi/1.0.0/sessions/provider',
      slow((req, res) => this.passwordLogin(req, res, true)),
    );
    r.on(
      'POST',
      /^\/oauth\/tenant\/([^/]+)\/token$/,
      slow((req, res) => this.tokenLogin(req, res, req.params[0] as string)),
    );
    r.on(
      'POST',
      '/oauth/provider/token',
      slow((req, res) => this.tokenLogin(req, res, 'System')),
    );
    r.on('GET', '/cloudapi/1.0.0/sessions/current', (req, res) => {
      const s = this.authorized(req, res);
      if (s) sendJson(res, 200, this.directory.sessionJson(s, this.acceptedVersion(req) ?? ''));
    });
    r.on('DELETE', '/cloudapi/1.0.0/sessions/current', (req, res) => {
      const version = this.acceptedVersion(req);
      if (version && Number.parseFloat(version) < 36) return vcdError(res, 404, 'NOT_FOUND', 'Not found');
      this.logout(req, res);
    });
    r.on('DELETE', '/api/session', (req, res) => this.logout(req, res));
    r.on('GET', '/cloudapi/1.0.0/auditTrail', (req, res) => this.auditTrail(req, res));
    legacyRoutes(r, this.legacyDeps());
    if (this.options.control !== false) {
      this.controlRoutes(r);
      legacyControlRoutes(r, this.legacyDeps());
    }
    return r;
  }

  private legacyDeps(): LegacyDeps {
    const versions = this.options.versions ?? DEFAULT_VERSIONS;
    return {
      directory: this.directory,
      inventory: this.inventory,
      blocking: this.blocking,
      versions: () => versions.map((v) => v.version),
      site: () => this.url,
      takeBlockingFault: () => {
        const fault = this.faults.blockingAnswer;
        this.faults.blockingAnswer = '';
        return fault;
      },
    };
  }

  private versions(_req: SimRequest, res: http.ServerResponse): void {
    const versions = this.options.versions ?? DEFAULT_VERSIONS;
    const body = versions
      .map(
        (v) =>
          `  <VersionInfo deprecated="${v.deprecated === true}">\n    <Version>${v.version}</Version>\n` +
          `    <LoginUrl>${this.url}/api/sessions</LoginUrl>\n  </VersionInfo>`,
      )
      .join('\n');
    sendText(
      res,
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">\n${body}\n</SupportedVersions>\n`,
      'application/xml;version=1.0',
    );
  }

  /** The version from `Accept: application/json;version=x`, if offered (VCD answers 406 otherwise). */
  private acceptedVersion(req: SimRequest): string | undefined {
    const m = /version=([\d.]+)/.exec(String(req.headers.accept ?? ''));
    const offered = (this.options.versions ?? DEFAULT_VERSIONS).map((v) => v.version);
    return m && offered.includes(m[1] as string) ? m[1] : undefined;
  }

  private requireVersion(req: SimRequest, res: http.ServerResponse): string | undefined {
    const v = this.acceptedVersion(req);
    if (!v) {
      vcdError(
        res,
        406,
        'NOT_ACCEPTABLE',
        'The request has an invalid accept header: version missing or not supported',
      );
    }
    return v;
  }

  private authorized(req: SimRequest, res: http.ServerResponse): SimSession | undefined {
    if (!this.requireVersion(req, res)) return undefined;
    const s = this.directory.bearer(req.headers.authorization);
    if (!s)
      vcdError(res, 401, 'UNAUTHORIZED', 'Unauthorized: the access token is missing, invalid or expired');
    return s;
  }

  private passwordLogin(req: SimRequest, res: http.ServerResponse, provider: boolean): void {
    if (this.faults.loginDown) return vcdError(res, 503, 'SERVICE_UNAVAILABLE', 'Service unavailable');
    const version = this.requireVersion(req, res);
    if (!version) return;
    const m = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const login = colon === -1 ? '' : decoded.slice(0, colon);
    const at = login.lastIndexOf('@');
    const user =
      colon === -1 || at === -1
        ? undefined
        : this.directory.checkPassword(login.slice(0, at), login.slice(at + 1), decoded.slice(colon + 1));
    // Provider users must use /sessions/provider and tenants /sessions.
    if (!user || (user.org.toLowerCase() === 'system') !== provider) {
      this.stats.failedLogins++;
      return vcdError(res, 401, 'UNAUTHORIZED', 'Invalid credentials');
    }
    this.stats.passwordLogins++;
    const s = this.directory.createSession(user, this.faults.tokenLifetimeSec, this.faults.clockSkewSec);
    sendJson(res, 200, this.directory.sessionJson(s, version), {
      'x-vmware-vcloud-access-token': s.token,
      'x-vmware-vcloud-token-type': 'Bearer',
    });
  }

  private tokenLogin(req: SimRequest, res: http.ServerResponse, org: string): void {
    if (this.faults.loginDown) return vcdError(res, 503, 'SERVICE_UNAVAILABLE', 'Service unavailable');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
    }
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'refresh_token') {
      return sendJson(res, 400, { error: 'unsupported_grant_type' });
    }
    const used = this.directory.useApiToken(form.get('refresh_token') ?? '', org);
    if (!used) {
      this.stats.failedLogins++;
      return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
    }
    this.stats.tokenLogins++;
    const s = this.directory.createSession(used.user, this.faults.tokenLifetimeSec, this.faults.clockSkewSec);
    sendJson(res, 200, {
      access_token: s.token,
      token_type: 'Bearer',
      expires_in: this.faults.tokenLifetimeSec,
      refresh_token: used.next,
    });
  }

  private logout(req: SimRequest, res: http.ServerResponse): void {
    const s = this.directory.bearer(req.headers.authorization);
    if (!s) return vcdError(res, 401, 'UNAUTHORIZED', 'Unauthorized');
    s.loggedOut = true;
    this.stats.logouts++;
    res.writeHead(204).end();
  }

  private auditTrail(req: SimRequest, res: http.ServerResponse): void {
    const s = this.authorized(req, res);
    if (!s) return;
    if (this.faults.auditDown) return vcdError(res, 503, 'SERVICE_UNAVAILABLE', 'Audit trail unavailable');
    this.stats.auditReads++;
    const answer = this.audit.read(req.query, s.user.role === 'sysAdmin' ? undefined : s.org.id);
    sendJson(res, answer.status, answer.body);
  }

  private controlRoutes(r: Router): void {
    r.on('GET', '/_sim/state', (_req, res) =>
      sendJson(res, 200, {
        faults: this.faults,
        stats: this.stats,
        connections: this.connectionCount,
        subscriptions: this.subscriptions,
        liveSessions: this.directory.liveSessions().length,
      }),
    );
    r.on('POST', '/_sim/faults', (req, res) => {
      const body = JSON.parse(req.body || '{}') as Partial<typeof this.faults> & { ratePerSec?: number };
      if (typeof body.loginDown === 'boolean') this.faults.loginDown = body.loginDown;
      if (typeof body.loginDelayMs === 'number') this.faults.loginDelayMs = body.loginDelayMs;
      if (typeof body.auditDown === 'boolean') this.faults.auditDown = body.auditDown;
      if (typeof body.upgradeAuthDropped === 'boolean')
        this.faults.upgradeAuthDropped = body.upgradeAuthDropped;
      if (typeof body.tokenLifetimeSec === 'number') this.faults.tokenLifetimeSec = body.tokenLifetimeSec;
      if (typeof body.dropOnExpiry === 'boolean') this.faults.dropOnExpiry = body.dropOnExpiry;
      if (typeof body.clockSkewSec === 'number') this.faults.clockSkewSec = body.clockSkewSec;
      if (typeof body.subscribeCut === 'boolean') this.faults.subscribeCut = body.subscribeCut;
      if (['', 'refused', 'endsFirst'].includes(body.blockingAnswer as string))
        this.faults.blockingAnswer = body.blockingAnswer as BlockingFault;
      if (typeof body.ratePerSec === 'number') this.setRate(body.ratePerSec);
      sendJson(res, 200, this.faults);
    });
    r.action('/_sim/broker/restart', 'restarted', (req) =>
      this.restartBroker(Number(req.query.get('downMs') ?? 2000)),
    );
    r.action('/_sim/broker/drop', 'dropped', () => this.dropConnections());
    r.action('/_sim/tokens/expire', 'expired', () => this.expireAllTokens());
    r.on('POST', '/_sim/flood', async (req, res) => {
      const body = JSON.parse(req.body || '{}') as EventOptions & { count?: number; ratePerSec?: number };
      const started = Date.now();
      await this.flood(Math.min(2_000_000, body.count ?? 1000), body, body.ratePerSec);
      sendJson(res, 200, { published: body.count ?? 1000, ms: Date.now() - started });
    });
    r.on('POST', '/_sim/audit/backlog', (req, res) => {
      const body = JSON.parse(req.body || '{}') as EventOptions & { count?: number; spanMs?: number };
      const count = Math.min(2_000_000, Math.max(0, Math.floor(body.count ?? 1000)));
      this.backlog(count, Math.max(1, body.spanMs ?? 60_000), body);
      sendJson(res, 200, { written: count, kept: this.audit.size });
    });
    r.on('POST', '/_sim/events', (req, res) => {
      const published = this.publishEvent(JSON.parse(req.body || '{}') as EventOptions);
      sendJson(res, 200, published);
    });
  }
}
