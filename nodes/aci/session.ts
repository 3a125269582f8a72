/**
 * Cisco APIC sessions: password login (aaaLogin / aaaRefresh / aaaLogout) or
 * certificate (request signature) authentication, across the APICs of one
 * cluster, tried in turn. Plain TypeScript; the aci-controller node adapts it
 * to Node-RED.
 */
import { EventEmitter } from 'node:events';
import { Backoff } from '../common/backoff';
import { CodedError, errorMessage, toCoded } from '../common/errors';
import { HttpClient, SMALL_ANSWER_BYTES, header, type HttpResponse } from '../common/http';
import type { OutboundSettings } from '../common/outbound';
import type { ProxySettings } from '../common/proxy';
import { ServerClock } from '../common/server-clock';
import { tlsConnectOptions, type TlsSettings } from '../common/tls';
import { parseHosts } from './addresses';
import { makeSigner, signatureCookie, type Signer } from './cert-signing';
import { ApicCodes } from './codes';
import { loginAttributes, parseAnswer, serverSeconds, type ApicAnswer } from './rest-answers';

export { hostLabel, parseHosts } from './addresses';
export { normalizePem } from './cert-signing';
export { APIC_KEYS, ApicCodes, isNetworkFailure } from './codes';
export { SERVER_TIMER_BOUNDS, versionAtLeast, type ApicAnswer, type ApicMo } from './rest-answers';

export type ApicAuthType = 'password' | 'certificate';

export interface ApicClusterOptions {
  /** One or more APICs of one cluster: "apic1, apic2:8443, https://apic3". */
  hosts: string | string[];
  authType: ApicAuthType;
  /** Local user, or `apic#DOMAIN\user` for a login domain. */
  username?: string;
  password?: string;
  /** PEM private key of the user's certificate (certificate authentication). */
  privateKey?: string;
  /** Name of the certificate object under the local user (aaaUserCert). */
  certificateName?: string;
  tls?: TlsSettings;
  /** The controller's own proxy; without it, the environment's (HTTPS_PROXY, NO_PROXY). */
  proxy?: ProxySettings;
  timeoutMs?: number;
  /** Refresh when this share of refreshTimeoutSeconds has passed (default 0.5). */
  refreshAt?: number;
}

export interface ApicLoginInfo {
  /** Origin of the APIC this session is on, e.g. https://apic1.example.com */
  host: string;
  user: string;
  authType: ApicAuthType;
  /** APIC software version, e.g. "5.2(7f)", when known. */
  version?: string;
  refreshTimeoutSeconds?: number;
  maximumLifetimeSeconds?: number;
  loggedInAt: number;
}

/** One REST call's options: its body, the session token, an abort signal, and its limits. */
export interface CallOptions {
  body?: string;
  token?: string;
  signal?: AbortSignal;
  /** What the call is, in error texts ("login", "aaaRefresh"); default: the path. */
  what?: string;
  timeoutMs?: number;
  /** Largest answer read; default: the client's (data pages). Logins and refreshes are small. */
  maxBodyBytes?: number;
}

/**
 * The cluster: settings, the one HTTP client (TLS included) and the order in
 * which the APICs are tried. `login()` gives an ApicSession on the first APIC
 * that answers, starting with the one that worked last.
 */
export class ApicCluster {
  readonly hosts: string[];
  readonly http: HttpClient;
  readonly authType: ApicAuthType;
  readonly tls: TlsSettings;
  /** TLS and proxy, for the cluster's HTTP and its sockets. */
  readonly outbound: OutboundSettings;
  /** Share of refreshTimeoutSeconds after which a session refreshes; clamped so it is never too late or a loop. */
  readonly refreshAt: number;
  private readonly options: ApicClusterOptions;
  private readonly signer: Signer | undefined;
  private preferred = 0;
  private readonly clocks = new Map<string, ServerClock>();

  constructor(options: ApicClusterOptions) {
    this.options = options;
    this.hosts = parseHosts(options.hosts);
    this.authType = options.authType;
    this.tls = options.tls ?? {};
    this.outbound = { tls: this.tls, proxy: options.proxy };
    this.refreshAt = Math.min(0.8, Math.max(0.1, options.refreshAt ?? 0.5));
    tlsConnectOptions(this.tls); // refuses a bad CA field now, not at the first connect
    if (options.authType === 'password') {
      if (!options.username?.trim() || !options.password) {
        throw new CodedError(ApicCodes.CONFIG_INVALID, 'Set the user name and password.');
      }
    } else if (options.authType === 'certificate') {
      this.signer = makeSigner(options.username, options.certificateName, options.privateKey);
    } else {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        `Unknown authentication type "${String(options.authType)}".`,
      );
    }
    this.http = new HttpClient({ ...this.outbound, timeoutMs: options.timeoutMs });
  }

  /** The user as the APIC knows it. */
  get user(): string {
    return (this.options.username ?? '').trim();
  }

  /** The APIC that is tried first (the one that worked last). */
  get preferredHost(): string {
    return this.hosts[this.preferred] as string;
  }

  /** An APIC's clock as measured from the Date of its answers (each APIC of a cluster keeps its own). */
  clockOf(host: string): ServerClock {
    let clock = this.clocks.get(host);
    if (!clock) this.clocks.set(host, (clock = new ServerClock()));
    return clock;
  }

  /** Start with the next APIC at the next login (this one failed at network level). */
  failover(host: string): void {
    const i = this.hosts.indexOf(host);
    if (i === this.preferred && this.hosts.length > 1) this.preferred = (i + 1) % this.hosts.length;
  }

  /**
   * Logs in on the first APIC that answers, in turn from the preferred one. A
   * refused login stops at once (every APIC of a cluster gives the same
   * answer, and retrying only risks a lockout).
   */
  async login(signal?: AbortSignal): Promise<ApicSession> {
    const failures: CodedError[] = [];
    for (let i = 0; i < this.hosts.length; i++) {
      const index = (this.preferred + i) % this.hosts.length;
      const host = this.hosts[index] as string;
      try {
        const session = await this.loginAt(host, signal);
        this.preferred = index;
        return session;
      } catch (err) {
        const error = toCoded(err, host);
        if (error.code === ApicCodes.AUTH_FAILED || signal?.aborted) throw error;
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    const codes = new Set(failures.map((f) => f.code));
    const text = failures.map((f) => f.message).join(' ');
    if (codes.size === 1) throw new CodedError(failures[0]!.code, text, { hosts: this.hosts });
    if (codes.has(ApicCodes.THROTTLED))
      throw new CodedError(ApicCodes.THROTTLED, text, { hosts: this.hosts });
    throw new CodedError(ApicCodes.UNREACHABLE, `No APIC of the cluster answered. ${text}`, {
      hosts: this.hosts,
    });
  }

  /** Logs in on one APIC. */
  async loginAt(host: string, signal?: AbortSignal): Promise<ApicSession> {
    const loggedInAt = Date.now();
    if (this.signer) {
      // Signed requests need no session; the socket needs a token to name it.
      const answer = await this.call(host, 'GET', '/api/webtokenSession.json', {
        signal,
        what: 'login',
        maxBodyBytes: SMALL_ANSWER_BYTES,
      });
      const attrs = loginAttributes(answer, host, 'webtokenSession');
      const session = new ApicSession(this, host, attrs.token, {
        host,
        user: this.signer.user,
        authType: 'certificate',
        version: attrs.version,
        refreshTimeoutSeconds: serverSeconds(attrs.refreshTimeoutSeconds, 'refreshTimeoutSeconds'),
        maximumLifetimeSeconds: serverSeconds(attrs.maximumLifetimeSeconds, 'maximumLifetimeSeconds'),
        loggedInAt,
      });
      if (!session.info.version)
        session.info.version = await session.firmwareVersion().catch(() => undefined);
      return session;
    }
    const name = this.user;
    const body = JSON.stringify({ aaaUser: { attributes: { name, pwd: this.options.password ?? '' } } });
    const answer = await this.call(host, 'POST', '/api/aaaLogin.json', {
      body,
      signal,
      what: 'login',
      maxBodyBytes: SMALL_ANSWER_BYTES,
    });
    const attrs = loginAttributes(answer, host, 'aaaLogin');
    return new ApicSession(this, host, attrs.token, {
      host,
      user: name,
      authType: 'password',
      version: attrs.version,
      refreshTimeoutSeconds: serverSeconds(attrs.refreshTimeoutSeconds, 'refreshTimeoutSeconds'),
      maximumLifetimeSeconds: serverSeconds(attrs.maximumLifetimeSeconds, 'maximumLifetimeSeconds'),
      loggedInAt,
    });
  }

  /**
   * One REST call to one APIC, with the session's credentials: the one
   * APIC-cookie of a password session, or the request signature (plus the
   * socket token) of a certificate session. Returns the parsed answer or throws
   * a CodedError that says what failed.
   */
  async call(
    host: string,
    method: string,
    pathAndQuery: string,
    options: CallOptions = {},
  ): Promise<ApicAnswer> {
    const what = options.what ?? new URL(pathAndQuery, host).pathname;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const cookie = this.signer
      ? this.signatureCookie(method, pathAndQuery, options.body, options.token)
      : options.token
        ? `APIC-cookie=${options.token}`
        : undefined;
    if (cookie) headers.cookie = cookie;
    let res: HttpResponse;
    try {
      res = await this.http.send(method, host + pathAndQuery, {
        headers,
        body: options.body,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        maxBodyBytes: options.maxBodyBytes,
      });
    } catch (err) {
      throw toCoded(err, host);
    }
    this.clockOf(host).observe(header(res.headers, 'date'));
    return parseAnswer(res, host, what, what === 'login');
  }

  /** The cookies of a signed request (PROTOCOLS: certificate authentication). */
  signatureCookie(method: string, pathAndQuery: string, body?: string, socketToken?: string): string {
    return signatureCookie(this.signer as Signer, method, pathAndQuery, body, socketToken);
  }

  /**
   * For the "test connection" button: logs in on every APIC and reports who
   * answered, with which version, or exactly what failed.
   */
  async probe(): Promise<ProbeResult[]> {
    return Promise.all(
      this.hosts.map(async (host): Promise<ProbeResult> => {
        try {
          const session = await this.loginAt(host);
          await session.logout();
          return { host, ok: true, version: session.info.version, user: session.info.user };
        } catch (err) {
          const e = toCoded(err, host);
          return { host, ok: false, code: e.code, message: e.message };
        }
      }),
    );
  }

  close(): Promise<void> {
    return this.http.close().catch(() => undefined);
  }
}

export interface ProbeResult {
  host: string;
  ok: boolean;
  version?: string;
  user?: string;
  code?: string;
  message?: string;
}

/** No timer of a session fires sooner than this, whatever the server said. */
const MIN_TIMER_MS = 1000;

/**
 * One logged-in session on one APIC. Keeps itself alive with aaaRefresh at
 * about half the refresh timeout and says when it must be replaced:
 * `lost` (CodedError) when a refresh or a call finds it dead, `aging` shortly
 * before its maximum lifetime ends (refresh cannot extend that).
 */
export class ApicSession extends EventEmitter {
  readonly host: string;
  readonly info: ApicLoginInfo;
  private currentToken: string;
  private readonly cluster: ApicCluster;
  private refreshTimer: NodeJS.Timeout | undefined;
  private agingTimer: NodeJS.Timeout | undefined;
  private readonly retry = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  private lastRefreshAt: number;
  private ended = false;

  constructor(cluster: ApicCluster, host: string, token: string, info: ApicLoginInfo) {
    super();
    this.cluster = cluster;
    this.host = host;
    this.currentToken = token;
    this.info = info;
    this.lastRefreshAt = info.loggedInAt;
  }

  /** This APIC's clock as measured from the Date of its answers. */
  get clock(): ServerClock {
    return this.cluster.clockOf(this.host);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** wss://<apic>/socket<token> */
  get socketUrl(): string {
    return `${this.host.replace(/^http/, 'ws')}/socket${this.currentToken}`;
  }

  /** Headers for the socket upgrade: a certificate session signs it. */
  socketHeaders(): Record<string, string> {
    if (this.info.authType !== 'certificate') return {};
    return {
      cookie: this.cluster.signatureCookie('GET', `/socket${this.currentToken}`, '', this.currentToken),
    };
  }

  /** Starts the refresh and lifetime timers. */
  start(): void {
    const refresh = this.info.refreshTimeoutSeconds;
    if (this.info.authType === 'password' && refresh)
      this.scheduleRefresh(refresh * 1000 * this.cluster.refreshAt);
    const lifetime = this.info.maximumLifetimeSeconds;
    if (lifetime) {
      // Log in afresh a little before the end: a tenth of the lifetime, at most one refresh period.
      const margin = Math.min(lifetime / 10, refresh ?? lifetime / 10);
      const at = this.info.loggedInAt + (lifetime - margin) * 1000;
      this.agingTimer = setTimeout(
        () => !this.ended && this.emit('aging'),
        Math.max(MIN_TIMER_MS, at - Date.now()),
      );
      this.agingTimer.unref();
    }
  }

  private scheduleRefresh(delayMs: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(
      () => {
        this.refresh().catch((err: unknown) => this.emit('debug', `refresh: ${errorMessage(err)}`));
      },
      Math.max(MIN_TIMER_MS, delayMs),
    );
    this.refreshTimer.unref();
  }

  /** aaaRefresh: the token changes; the socket stays. */
  async refresh(): Promise<void> {
    if (this.ended) return;
    try {
      const answer = await this.cluster.call(this.host, 'GET', '/api/aaaRefresh.json', {
        token: this.currentToken,
        what: 'aaaRefresh',
        maxBodyBytes: SMALL_ANSWER_BYTES,
      });
      if (this.ended) return;
      const attrs = loginAttributes(answer, this.host, 'aaaLogin');
      this.currentToken = attrs.token as string;
      this.lastRefreshAt = Date.now();
      this.retry.reset();
      const timeout =
        serverSeconds(attrs.refreshTimeoutSeconds, 'refreshTimeoutSeconds') ??
        this.info.refreshTimeoutSeconds ??
        300;
      this.info.refreshTimeoutSeconds = timeout;
      this.scheduleRefresh(timeout * 1000 * this.cluster.refreshAt);
      this.emit('refreshed', this.info);
    } catch (err) {
      if (this.ended) return;
      const error = toCoded(err, this.host);
      // Throttled with time to spare: try the refresh again rather than a password login.
      const deadline = this.lastRefreshAt + (this.info.refreshTimeoutSeconds ?? 0) * 1000;
      const wait = this.retry.next();
      if (error.code === ApicCodes.THROTTLED && Date.now() + wait < deadline - 1000) {
        this.scheduleRefresh(wait);
        return;
      }
      this.lose(error);
    }
  }

  /** Marks the session dead (once) and tells the owner. */
  lose(error: CodedError): void {
    if (this.ended) return;
    this.stopTimers();
    this.ended = true;
    this.emit('lost', error);
  }

  /** An authenticated GET; a 401/403 marks the session lost. */
  get(url: URL | string, signal?: AbortSignal): Promise<ApicAnswer> {
    return this.send('GET', url, undefined, signal);
  }

  /** An authenticated call (a configuration POST carries `body`); a 401/403 marks the session lost. */
  async send(method: string, url: URL | string, body?: string, signal?: AbortSignal): Promise<ApicAnswer> {
    const u = typeof url === 'string' ? new URL(url, this.host) : url;
    if (this.ended) throw new CodedError(ApicCodes.CLOSED, 'The APIC session has ended.');
    const token = this.currentToken;
    try {
      return await this.cluster.call(this.host, method, u.pathname + u.search, { token, signal, body });
    } catch (err) {
      const error = toCoded(err, this.host);
      if (error.code === ApicCodes.SESSION_EXPIRED) {
        // Refreshed while this call was on its way: once more with the new token.
        if (token !== this.currentToken && !this.ended) return this.send(method, u, body, signal);
        this.lose(error);
      }
      throw error;
    }
  }

  /** The running controller version (certificate logins do not report it). */
  async firmwareVersion(): Promise<string | undefined> {
    const answer = await this.get('/api/class/firmwareCtrlrRunning.json');
    return answer.imdata[0]?.firmwareCtrlrRunning?.attributes?.version;
  }

  private stopTimers(): void {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.agingTimer);
  }

  /** Stops the timers without logging out. */
  close(): void {
    this.stopTimers();
    this.ended = true;
  }

  /** Logs out (password sessions; best effort, short) and stops the timers. */
  async logout(): Promise<void> {
    const wasLive = !this.ended;
    this.close();
    if (!wasLive || this.info.authType !== 'password') return;
    const body = JSON.stringify({ aaaUser: { attributes: { name: this.info.user } } });
    await this.cluster
      .call(this.host, 'POST', '/api/aaaLogout.json', {
        body,
        token: this.currentToken,
        what: 'aaaLogout',
        maxBodyBytes: SMALL_ANSWER_BYTES,
        timeoutMs: 5000,
      })
      .catch((err: unknown) => this.emit('debug', `logout: ${errorMessage(err)}`));
  }
}
