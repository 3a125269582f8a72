/**
 * Cisco APIC sessions: password login (aaaLogin / aaaRefresh / aaaLogout) or
 * certificate (request signature) authentication, across the APICs of one
 * cluster, tried in turn. Plain TypeScript; the aci-controller node adapts it
 * to Node-RED.
 */
import { EventEmitter } from 'node:events';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { Backoff } from '../common/backoff';
import { CodedError, NetCodes, classifyNetworkError, errorMessage } from '../common/errors';
import { HttpClient, excerpt, type HttpResponse } from '../common/http';
import { tlsConnectOptions, type TlsSettings } from '../common/tls';

export const ApicCodes = {
  CONFIG_INVALID: 'APIC_CONFIG_INVALID',
  AUTH_FAILED: 'APIC_AUTH_FAILED',
  THROTTLED: 'APIC_THROTTLED',
  UNREACHABLE: 'APIC_UNREACHABLE',
  SESSION_EXPIRED: 'APIC_SESSION_EXPIRED',
  NOT_APIC: 'APIC_NOT_APIC',
  HTTP_ERROR: 'APIC_HTTP_ERROR',
  CLOSED: 'APIC_SESSION_CLOSED',
} as const;

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

/** One managed object as the APIC writes it: {"fvBD": {"attributes": {...}, "children": [...]}}. */
export type ApicMo = Record<string, { attributes?: Record<string, string>; children?: ApicMo[] }>;

export interface ApicAnswer {
  totalCount: number;
  imdata: ApicMo[];
  /** A string in subscribe answers. */
  subscriptionId?: string;
}

/** `host`, `host:port` or `https://host[:port]` → origin; http:// stays for labs. */
/** Active controllers of the largest cluster plus its standbys. */
const MAX_APICS = 9;

export function parseHosts(hosts: string | string[]): string[] {
  const list = (Array.isArray(hosts) ? hosts : String(hosts ?? '').split(/[,\s]+/))
    .map((h) => h.trim())
    .filter(Boolean);
  const origins: string[] = [];
  for (const h of list) {
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(h) ? h : `https://${h}`);
    } catch {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        `"${h}" is not an APIC address; use host, host:port or https://host.`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new CodedError(ApicCodes.CONFIG_INVALID, `"${h}": the address must use https://.`);
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
      throw new CodedError(ApicCodes.CONFIG_INVALID, `"${h}": give the APIC address without a path.`);
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  if (origins.length === 0) throw new CodedError(ApicCodes.CONFIG_INVALID, 'Give at least one APIC address.');
  // Bounds what one request (a login, a test connection) can make the runtime contact.
  if (origins.length > MAX_APICS) {
    throw new CodedError(
      ApicCodes.CONFIG_INVALID,
      `An APIC cluster has at most 7 controllers and 2 standbys: give at most ${MAX_APICS} addresses.`,
    );
  }
  return origins;
}

/** A short name for status labels: the IP, or the first label of a host name. */
export function hostLabel(origin: string): string {
  const { hostname } = new URL(origin);
  if (/^[\d.]+$/.test(hostname) || hostname.startsWith('[')) return hostname;
  return hostname.split('.')[0] ?? hostname;
}

/** Compares APIC versions such as "3.2(3n)" and "4.2(7f)" by their numbers. */
export function versionAtLeast(version: string | undefined, wanted: [number, number, number]): boolean {
  const m = /^(\d+)\.(\d+)\((\d+)/.exec(version ?? '');
  if (!m) return true; // unknown: assume a current APIC
  const have = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (have[i] !== wanted[i]) return (have[i] as number) > wanted[i]!;
  }
  return true;
}

/**
 * A PEM block pasted into a one-line field loses its line breaks: rebuild
 * them (header, base64 in lines of 64, footer) so the key still reads.
 */
export function normalizePem(text: string): string {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text.trim());
  if (!m) return text;
  const body = (m[2] as string).replace(/\s+/g, '');
  return `-----BEGIN ${m[1]}-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${m[1]}-----\n`;
}

/** Names that end up inside a cookie: no separators, spaces or quotes. */
const COOKIE_SAFE = /^[A-Za-z0-9_.@-]+$/;

function toCoded(err: unknown, target: string): CodedError {
  return err instanceof CodedError ? err : classifyNetworkError(err, target);
}

/** Network-level failures: the APIC (not the session) is the problem. */
export function isNetworkFailure(err: unknown): boolean {
  const code = (err as CodedError | undefined)?.code;
  return (Object.values(NetCodes) as string[]).includes(code ?? '') || code === ApicCodes.UNREACHABLE;
}

interface Signer {
  user: string;
  dn: string;
  key: KeyObject;
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
  /** Share of refreshTimeoutSeconds after which a session refreshes; clamped so it is never too late or a loop. */
  readonly refreshAt: number;
  private readonly options: ApicClusterOptions;
  private readonly signer: Signer | undefined;
  private preferred = 0;

  constructor(options: ApicClusterOptions) {
    this.options = options;
    this.hosts = parseHosts(options.hosts);
    this.authType = options.authType;
    this.tls = options.tls ?? {};
    this.refreshAt = Math.min(0.8, Math.max(0.1, options.refreshAt ?? 0.5));
    tlsConnectOptions(this.tls); // refuses a bad CA field now, not at the first connect
    if (options.authType === 'password') {
      if (!options.username?.trim() || !options.password) {
        throw new CodedError(ApicCodes.CONFIG_INVALID, 'Set the user name and password.');
      }
    } else if (options.authType === 'certificate') {
      this.signer = ApicCluster.makeSigner(options);
    } else {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        `Unknown authentication type "${String(options.authType)}".`,
      );
    }
    this.http = new HttpClient({ tls: this.tls, timeoutMs: options.timeoutMs });
  }

  private static makeSigner(options: ApicClusterOptions): Signer {
    const user = options.username?.trim() ?? '';
    const cert = options.certificateName?.trim() ?? '';
    if (!COOKIE_SAFE.test(user) || user.includes('#') || user.includes('\\')) {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        'Certificate authentication works for local users only: give the plain user name.',
      );
    }
    if (!COOKIE_SAFE.test(cert)) {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        'Set the certificate name (the name of the certificate under the user on the APIC).',
      );
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(normalizePem(String(options.privateKey ?? '')));
    } catch {
      throw new CodedError(ApicCodes.CONFIG_INVALID, 'The private key is not a readable PEM private key.');
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new CodedError(ApicCodes.CONFIG_INVALID, 'The private key must be an RSA key.');
    }
    return { user, key, dn: `uni/userext/user-${user}/usercert-${cert}` };
  }

  /** The user as the APIC knows it. */
  get user(): string {
    return (this.options.username ?? '').trim();
  }

  /** The APIC that is tried first (the one that worked last). */
  get preferredHost(): string {
    return this.hosts[this.preferred] as string;
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
      const answer = await this.call(host, 'GET', '/api/webtokenSession.json', { signal, what: 'login' });
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
    const answer = await this.call(host, 'POST', '/api/aaaLogin.json', { body, signal, what: 'login' });
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
    options: { body?: string; token?: string; signal?: AbortSignal; what?: string; timeoutMs?: number } = {},
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
      });
    } catch (err) {
      throw toCoded(err, host);
    }
    return parseAnswer(res, host, what, what === 'login');
  }

  /** The cookies of a signed request (PROTOCOLS: certificate authentication). */
  signatureCookie(method: string, pathAndQuery: string, body?: string, socketToken?: string): string {
    const signer = this.signer as Signer;
    const payload = `${method}${decodeURIComponent(pathAndQuery)}${body ?? ''}`;
    const signature = sign('sha256', Buffer.from(payload, 'utf8'), signer.key).toString('base64');
    const cookies = [
      `APIC-Request-Signature=${signature}`,
      'APIC-Certificate-Algorithm=v1.0',
      'APIC-Certificate-Fingerprint=fingerprint',
      `APIC-Certificate-DN=${signer.dn}`,
    ];
    if (socketToken) cookies.push(`APIC-WebSocket-Session=${socketToken}`);
    return cookies.join('; ');
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

/**
 * Timer values the APIC sends, kept within sane bounds: a server that says 0
 * or 0.001 must not drive a tight refresh or login loop, and one that says
 * 1e12 must not overflow a timer (Node fires those at once). Refresh timeouts
 * of real APICs are 300..9600 s and lifetimes 86400 s; labs go lower.
 */
export const SERVER_TIMER_BOUNDS = {
  refreshTimeoutSeconds: { min: 2, max: 86_400 },
  maximumLifetimeSeconds: { min: 60, max: 7 * 86_400 },
} as const;

function serverSeconds(
  value: string | undefined,
  name: keyof typeof SERVER_TIMER_BOUNDS,
): number | undefined {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const { min, max } = SERVER_TIMER_BOUNDS[name];
  return Math.min(max, Math.max(min, n));
}

/** No timer of a session fires sooner than this, whatever the server said. */
const MIN_TIMER_MS = 1000;

/** The APIC's own error object, if the answer is one. */
function apicError(body: unknown): { code: string; text: string } | undefined {
  const first = (body as { imdata?: ApicMo[] } | undefined)?.imdata?.[0];
  const attrs = first?.error?.attributes;
  return attrs ? { code: String(attrs.code ?? ''), text: String(attrs.text ?? '') } : undefined;
}

function parseAnswer(res: HttpResponse, host: string, what: string, isLogin: boolean): ApicAnswer {
  if (res.status === 503) {
    // APIC's nginx rate limits answer 503 with an HTML page and no Retry-After.
    throw new CodedError(
      ApicCodes.THROTTLED,
      `${host} is throttling requests (503 at ${what}); backing off before trying again.`,
      { status: 503, host },
    );
  }
  let body: unknown;
  try {
    body = res.text ? JSON.parse(res.text) : {};
  } catch {
    throw new CodedError(
      res.status >= 500 ? ApicCodes.HTTP_ERROR : ApicCodes.NOT_APIC,
      `${host} answered ${res.status} at ${what} with something that is not APIC JSON: ${excerpt(res.text, 80)}`,
      { status: res.status, host },
    );
  }
  const error = apicError(body);
  if (res.status === 401 || res.status === 403) {
    throw new CodedError(
      isLogin ? ApicCodes.AUTH_FAILED : ApicCodes.SESSION_EXPIRED,
      isLogin
        ? `${host} refused the login (${res.status}${error?.text ? `: ${error.text}` : ''}); check the user name, login domain and password or certificate.`
        : `${host} no longer accepts the session (${res.status} at ${what}${error?.text ? `: ${error.text}` : ''}).`,
      { status: res.status, host },
    );
  }
  if (res.status < 200 || res.status >= 300 || error) {
    throw new CodedError(
      ApicCodes.HTTP_ERROR,
      `${host} answered ${res.status} at ${what}${error ? `: ${error.text} (${error.code})` : `: ${excerpt(res.text, 80)}`}`,
      { status: res.status, host, apicCode: error?.code },
    );
  }
  const answer = body as { totalCount?: unknown; imdata?: unknown; subscriptionId?: unknown };
  if (!Array.isArray(answer.imdata)) {
    throw new CodedError(ApicCodes.NOT_APIC, `${host} does not look like an APIC: no imdata at ${what}.`, {
      host,
    });
  }
  return {
    totalCount: Number(answer.totalCount ?? answer.imdata.length) || 0,
    imdata: answer.imdata as ApicMo[],
    subscriptionId: typeof answer.subscriptionId === 'string' ? answer.subscriptionId : undefined,
  };
}

function loginAttributes(answer: ApicAnswer, host: string, key: string): Record<string, string> {
  const first = answer.imdata[0];
  // aaaRefresh answers under aaaLogin; accept either name.
  const attrs = first?.[key]?.attributes ?? first?.aaaLogin?.attributes ?? first?.aaaRefresh?.attributes;
  if (!attrs || typeof attrs.token !== 'string' || !attrs.token) {
    throw new CodedError(ApicCodes.NOT_APIC, `${host} answered the login without a token.`, { host });
  }
  return attrs;
}

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

  get token(): string {
    return this.currentToken;
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
  async get(url: URL | string, signal?: AbortSignal): Promise<ApicAnswer> {
    const u = typeof url === 'string' ? new URL(url, this.host) : url;
    if (this.ended) throw new CodedError(ApicCodes.CLOSED, 'The APIC session has ended.');
    const token = this.currentToken;
    try {
      return await this.cluster.call(this.host, 'GET', u.pathname + u.search, { token, signal });
    } catch (err) {
      const error = toCoded(err, this.host);
      if (error.code === ApicCodes.SESSION_EXPIRED) {
        // Refreshed while this call was on its way: once more with the new token.
        if (token !== this.currentToken && !this.ended) return this.get(u, signal);
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
        timeoutMs: 5000,
      })
      .catch((err: unknown) => this.emit('debug', `logout: ${errorMessage(err)}`));
  }
}
