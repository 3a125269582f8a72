/**
 * VMware Cloud Director OpenAPI session: version negotiation, login with a
 * password or an API token, renewal before expiry and on 401, and logout.
 * Plain TypeScript; the vcd-login node adapts it to Node-RED.
 */
import { EventEmitter } from 'node:events';
import { Backoff, type BackoffOptions } from '../common/backoff';
import { CodedError, errorMessage } from '../common/errors';
import { HttpClient, excerpt, header, type HttpResponse } from '../common/http';
import type { TlsSettings } from '../common/tls';
import { parseXml, xmlList, xmlText } from '../common/xml';

export const VcdCodes = {
  CONFIG_INVALID: 'VCD_CONFIG_INVALID',
  AUTH_FAILED: 'VCD_AUTH_FAILED',
  NOT_VCD: 'VCD_NOT_VCD',
  VERSION_TOO_OLD: 'VCD_VERSION_TOO_OLD',
  UNAVAILABLE: 'VCD_UNAVAILABLE',
  HTTP_ERROR: 'VCD_HTTP_ERROR',
  CLOSED: 'VCD_SESSION_CLOSED',
} as const;

/** 38.1 or 38.1.0; not 39.0.0-alpha. */
const RELEASED_VERSION = /^\d+\.\d+(\.\d+)?$/;
/** The oldest API with /cloudapi login. */
export const MIN_API_VERSION = '33.0';
/** The newest API this client was written against; newer servers still offer it. */
export const MAX_API_VERSION = '40.0';
/** DELETE /cloudapi/1.0.0/sessions/current exists from API 36. */
const CLOUDAPI_LOGOUT_VERSION = '36.0';

export type VcdAuthType = 'password' | 'apiToken';

export interface VcdSessionOptions {
  /** https://host[:port]; any path is ignored. */
  url: string;
  /** Tenant organization name, or `System` for a provider login. */
  org: string;
  authType: VcdAuthType;
  username?: string;
  password?: string;
  apiToken?: string;
  tls?: TlsSettings;
  timeoutMs?: number;
  /** Delay between failed logins (a wrong password must not hammer VCD). */
  retry?: BackoffOptions;
  /** Renew when this share of the token's life has passed. */
  renewAt?: number;
}

export interface VcdRef {
  name: string;
  id: string;
}

export interface VcdSessionInfo {
  apiVersion: string;
  /** The site origin, e.g. https://vcd.example.com */
  site: string;
  org: VcdRef;
  user: VcdRef;
  /** Bare UUIDs, as MQTT topics use them. */
  orgUuid: string;
  userUuid: string;
  operatingOrg?: VcdRef;
  roles: string[];
  provider: boolean;
  authType: VcdAuthType;
  /** When the current token is expected to expire (ms since epoch). */
  expiresAt: number;
}

interface Credential {
  token: string;
  info: VcdSessionInfo;
  issuedAt: number;
}

export interface VersionInfo {
  version: string;
  deprecated: boolean;
}

/** Compares dotted API versions numerically ("39.0.0-alpha" counts as 39.0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.isNaN(pa[i] ?? 0) ? 0 : (pa[i] ?? 0);
    const y = Number.isNaN(pb[i] ?? 0) ? 0 : (pb[i] ?? 0);
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * Reads `GET /api/versions` in either of its forms (XML by default, JSON when
 * asked) into a list of versions.
 */
export function parseVersions(res: HttpResponse): VersionInfo[] {
  const type = header(res.headers, 'content-type') ?? '';
  if (type.includes('json')) {
    const body = JSON.parse(res.text) as { versionInfo?: { version?: string; deprecated?: boolean }[] };
    return (body.versionInfo ?? [])
      .filter((v) => typeof v.version === 'string')
      .map((v) => ({ version: String(v.version), deprecated: v.deprecated === true }));
  }
  const doc = parseXml(res.text);
  const root = doc.SupportedVersions as Record<string, unknown> | undefined;
  if (!root) throw new Error('no SupportedVersions element');
  return xmlList(root.VersionInfo)
    .map((v) => ({ version: xmlText(v.Version) ?? '', deprecated: v['@deprecated'] === 'true' }))
    .filter((v) => /^\d+\.\d+/.test(v.version));
}

/**
 * The highest non-deprecated version both sides support. Throws
 * VCD_VERSION_TOO_OLD when the server offers nothing from 33.0 on.
 */
export function negotiateVersion(offered: VersionInfo[]): string {
  if (offered.length === 0) {
    throw new CodedError(VcdCodes.NOT_VCD, 'GET /api/versions lists no API versions: is this a VCD?');
  }
  const usable = offered
    // Pre-release versions (e.g. 39.0.0-alpha) are previews of the next API, not a contract.
    .filter((v) => !v.deprecated && RELEASED_VERSION.test(v.version))
    .map((v) => v.version)
    .filter((v) => compareVersions(v, MIN_API_VERSION) >= 0)
    .sort(compareVersions);
  const inRange = usable.filter((v) => compareVersions(v, MAX_API_VERSION) <= 0);
  if (inRange.length > 0) return inRange[inRange.length - 1] as string;
  // A server newer than this client: the oldest version it still offers is the closest.
  if (usable.length > 0) return usable[0] as string;
  const newest = offered
    .map((v) => v.version)
    .sort(compareVersions)
    .pop() as string;
  const onlyDeprecated = compareVersions(newest, MIN_API_VERSION) >= 0;
  throw new CodedError(
    VcdCodes.VERSION_TOO_OLD,
    onlyDeprecated
      ? `This VMware Cloud Director offers no current (non-deprecated) API from ${MIN_API_VERSION} on.`
      : `This VMware Cloud Director offers API ${newest}; at least ${MIN_API_VERSION} (VCD 10.0) is needed.`,
    { offered: offered.map((v) => v.version) },
  );
}

/** `urn:vcloud:org:<uuid>` → `<uuid>` */
export function bareId(urn: string): string {
  const i = urn.lastIndexOf(':');
  return i === -1 ? urn : urn.slice(i + 1);
}

/**
 * How long a JWT was granted for (`exp` − `iat`, in ms), without verifying it
 * (the server does that). A lifetime, not a time: VCD's clock may differ from ours.
 */
export function jwtLifetime(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as {
      exp?: unknown;
      iat?: unknown;
    };
    const { exp, iat } = claims ?? {};
    return typeof exp === 'number' && typeof iat === 'number' && exp > iat ? (exp - iat) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bounds on the lifetime a token is taken to have: a server that grants 0 s
 * must not cause a login a moment, one that grants years must not overflow a
 * timer (Node fires those at once).
 */
export const TOKEN_LIFETIME_MS = { min: 2000, max: 86_400_000, fallback: 30 * 60_000 } as const;

/**
 * The lifetime of a token, from what the server grants: the shortest of
 * `expires_in` (seconds), the JWT's exp − iat and the session's idle timeout,
 * within TOKEN_LIFETIME_MS. The caller measures it on the local clock from the
 * login, so a VCD whose clock is off by hours still gets one login per lifetime.
 */
export function grantedLifetime(
  token: string,
  grant: { expiresInSeconds?: unknown; idleTimeoutMinutes?: unknown },
): number {
  const positive = (n: unknown, unit: number) =>
    typeof n === 'number' && Number.isFinite(n) && n > 0 ? n * unit : undefined;
  const granted = [
    positive(grant.expiresInSeconds, 1000),
    jwtLifetime(token),
    positive(grant.idleTimeoutMinutes, 60_000),
  ].filter((n): n is number => n !== undefined);
  const lifetime = granted.length > 0 ? Math.min(...granted) : TOKEN_LIFETIME_MS.fallback;
  return Math.min(TOKEN_LIFETIME_MS.max, Math.max(TOKEN_LIFETIME_MS.min, lifetime));
}

interface SessionBody {
  id?: string;
  site?: { name?: string; id?: string };
  user?: { name?: string; id?: string };
  org?: { name?: string; id?: string };
  operatingOrg?: { name?: string; id?: string };
  roles?: string[];
  sessionIdleTimeoutMinutes?: number;
}

function ref(value: { name?: string; id?: string } | undefined): VcdRef | undefined {
  return value && typeof value.id === 'string' ? { name: String(value.name ?? ''), id: value.id } : undefined;
}

export function isProviderOrg(org: string): boolean {
  return org.trim().toLowerCase() === 'system';
}

/**
 * Events: `login` (info) after every successful login or renewal, `failure`
 * (CodedError) when a login fails, `rotated` (new API token) when the server
 * rotated the refresh token, `closed`.
 */
export class VcdSession extends EventEmitter {
  readonly site: string;
  private readonly options: VcdSessionOptions;
  private readonly http: HttpClient;
  private readonly retry: Backoff;
  private apiToken: string | undefined;
  private apiVersion: string | undefined;
  private current: Credential | undefined;
  private pending: Promise<Credential> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private lastFailure: { error: CodedError; retryAt: number } | undefined;
  private closed = false;

  constructor(options: VcdSessionOptions) {
    super();
    this.options = options;
    this.site = VcdSession.validate(options);
    this.apiToken = options.apiToken?.trim();
    this.http = new HttpClient({ tls: options.tls ?? {}, timeoutMs: options.timeoutMs });
    this.retry = new Backoff({ initialMs: 5000, maxMs: 300_000, ...options.retry });
  }

  /** Checks the settings; returns the site origin. Throws VCD_CONFIG_INVALID. */
  static validate(options: VcdSessionOptions): string {
    const fail = (m: string) => {
      throw new CodedError(VcdCodes.CONFIG_INVALID, m);
    };
    let url: URL;
    try {
      url = new URL(options.url.trim());
    } catch {
      return fail(`"${options.url}" is not a URL; use https://host[:port].`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('The URL must start with https://.');
    if (!options.org?.trim()) fail('Set the organization (or System for a provider login).');
    if (options.authType === 'apiToken') {
      if (!options.apiToken?.trim()) fail('Set the API token.');
    } else if (options.authType === 'password') {
      if (!options.username?.trim() || !options.password) fail('Set the user name and password.');
      if (options.username?.includes('@'))
        fail('Give the user name without @org; the organization has its own field.');
    } else {
      fail(`Unknown authentication type "${String(options.authType)}".`);
    }
    return url.origin;
  }

  get info(): VcdSessionInfo | undefined {
    return this.current?.info;
  }

  /** The API token in use now (after rotations, not the configured one). */
  get currentApiToken(): string | undefined {
    return this.apiToken;
  }

  /** Goes on with a token that replaced ours elsewhere (a test login spent the one we had). */
  useApiToken(token: string): void {
    this.apiToken = token;
    this.lastFailure = undefined;
  }

  /**
   * A token that is valid now: the current one, or a fresh login when there is
   * none or it has expired. Concurrent callers share one login.
   */
  async token(): Promise<string> {
    const c = this.current;
    // Hand out a token only with some life left: 5 s, or a tenth of a short-lived one.
    const margin = c ? Math.min(5000, (c.info.expiresAt - c.issuedAt) / 10) : 0;
    if (c && Date.now() < c.info.expiresAt - margin) return c.token;
    return (await this.login()).token;
  }

  /** Is this the token token() hands out now? */
  isCurrent(token: string): boolean {
    const c = this.current;
    return c !== undefined && c.token === token && Date.now() < c.info.expiresAt;
  }

  /** Logs in (or renews); one login at a time however many ask. */
  login(): Promise<Credential> {
    if (this.closed) return Promise.reject(new CodedError(VcdCodes.CLOSED, 'The VCD session is closed.'));
    if (this.pending) return this.pending;
    const failure = this.lastFailure;
    if (failure && Date.now() < failure.retryAt) return Promise.reject(failure.error);
    this.pending = this.doLogin()
      .then(
        async (cred) => {
          if (this.closed) {
            // Closed while this login was under way: end the new session too.
            await this.logout(cred);
            throw new CodedError(VcdCodes.CLOSED, 'The VCD session is closed.');
          }
          this.current = cred;
          this.lastFailure = undefined;
          this.retry.reset();
          const life = cred.info.expiresAt - cred.issuedAt;
          this.scheduleRenewal(cred, Math.max(1000, life * (this.options.renewAt ?? 0.8)));
          this.emit('login', cred.info);
          return cred;
        },
        (err: unknown) => {
          const error =
            err instanceof CodedError
              ? err
              : new CodedError(VcdCodes.HTTP_ERROR, `Login failed: ${errorMessage(err)}`);
          this.lastFailure = { error, retryAt: Date.now() + this.retry.next() };
          if (this.listenerCount('failure') > 0) this.emit('failure', error);
          throw error;
        },
      )
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /**
   * A caller was refused with this token (401): forget it so the next token()
   * logs in again. A token that was already replaced is ignored.
   */
  invalidate(token: string): void {
    if (this.current?.token === token) {
      this.current = undefined;
      clearTimeout(this.renewTimer);
    }
  }

  /**
   * An authenticated OpenAPI call. A 401 renews the token once and repeats the
   * call. Returns the parsed JSON body.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      const res = await this.http.send(method, this.site + path, {
        headers: {
          accept: `application/json;version=${this.current?.info.apiVersion ?? MIN_API_VERSION}`,
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 401 && attempt === 0) {
        this.invalidate(token);
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        throw new CodedError(
          VcdCodes.HTTP_ERROR,
          `${method} ${path} answered ${res.status}: ${excerpt(res.text)}`,
          {
            status: res.status,
          },
        );
      }
      return (res.text ? JSON.parse(res.text) : undefined) as T;
    }
  }

  /**
   * Logs out (best effort) and stops renewing. A login under way is waited for
   * (a few seconds at most), so the session it opens is logged out as well.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.renewTimer);
    const cred = this.current;
    this.current = undefined;
    const pending = this.pending?.catch(() => undefined);
    await Promise.all([
      cred && this.logout(cred),
      pending && Promise.race([pending, new Promise((r) => setTimeout(r, 5000).unref())]),
    ]);
    await this.http.close().catch(() => undefined);
    this.emit('closed');
  }

  /** Ends one VCD session (best effort). */
  private async logout(cred: Credential): Promise<void> {
    if (Date.now() >= cred.info.expiresAt) return;
    const newLogout = compareVersions(cred.info.apiVersion, CLOUDAPI_LOGOUT_VERSION) >= 0;
    await this.http
      .send('DELETE', this.site + (newLogout ? '/cloudapi/1.0.0/sessions/current' : '/api/session'), {
        headers: {
          accept: newLogout
            ? `application/json;version=${cred.info.apiVersion}`
            : `application/*+xml;version=${cred.info.apiVersion}`,
          authorization: `Bearer ${cred.token}`,
        },
        timeoutMs: 5000,
      })
      .catch(() => undefined);
  }

  /** `GET /api/versions` and pick the version (cached for the session's life). */
  async negotiate(): Promise<string> {
    if (this.apiVersion) return this.apiVersion;
    const res = await this.http.send('GET', `${this.site}/api/versions`, {
      headers: { accept: 'application/*+xml;q=1.0, application/json;q=0.9' },
    });
    if (res.status !== 200) {
      throw new CodedError(
        VcdCodes.NOT_VCD,
        `${this.site} does not look like VMware Cloud Director: GET /api/versions answered ${res.status}.`,
        { status: res.status },
      );
    }
    let offered: VersionInfo[];
    try {
      offered = parseVersions(res);
    } catch {
      throw new CodedError(
        VcdCodes.NOT_VCD,
        `${this.site} does not look like VMware Cloud Director: /api/versions is not a version list (${excerpt(res.text, 60)}).`,
      );
    }
    this.apiVersion = negotiateVersion(offered);
    return this.apiVersion;
  }

  private async doLogin(): Promise<Credential> {
    const version = await this.negotiate();
    return this.options.authType === 'apiToken'
      ? this.loginWithApiToken(version)
      : this.loginWithPassword(version);
  }

  private async loginWithPassword(version: string): Promise<Credential> {
    const { username = '', password = '' } = this.options;
    const org = this.options.org.trim();
    const provider = isProviderOrg(org);
    const basic = Buffer.from(`${username.trim()}@${org}:${password}`, 'utf8').toString('base64');
    // Lifetimes count from when the login was sent: on our clock, and never later than the server's.
    const issuedAt = Date.now();
    const res = await this.http.send(
      'POST',
      `${this.site}/cloudapi/1.0.0/sessions${provider ? '/provider' : ''}`,
      {
        headers: { accept: `application/json;version=${version}`, authorization: `Basic ${basic}` },
      },
    );
    if (res.status === 401 || res.status === 403) {
      throw new CodedError(
        VcdCodes.AUTH_FAILED,
        `VCD refused the login of ${username.trim()}@${org} (${res.status}): check the user name, organization and password` +
          (provider ? '.' : ' (a provider administrator logs in to the organization System).'),
        { status: res.status },
      );
    }
    this.checkAnswer(res, 'login');
    const token = header(res.headers, 'x-vmware-vcloud-access-token');
    if (!token) {
      throw new CodedError(VcdCodes.NOT_VCD, 'The login answer has no X-VMWARE-VCLOUD-ACCESS-TOKEN header.');
    }
    const body = this.parseSession(res.text);
    const lifetime = grantedLifetime(token, { idleTimeoutMinutes: body.sessionIdleTimeoutMinutes });
    return { token, issuedAt, info: this.sessionInfo(body, version, issuedAt + lifetime) };
  }

  private async loginWithApiToken(version: string): Promise<Credential> {
    const org = this.options.org.trim();
    const provider = isProviderOrg(org);
    const path = provider ? '/oauth/provider/token' : `/oauth/tenant/${encodeURIComponent(org)}/token`;
    const issuedAt = Date.now();
    const res = await this.http.send('POST', this.site + path, {
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: this.apiToken ?? '',
      }).toString(),
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new CodedError(
        VcdCodes.AUTH_FAILED,
        `VCD refused the API token for organization ${org} (${res.status}): it may be revoked, belong to another ` +
          'organization, or be a service-account token that was already used (those rotate on every use).',
        { status: res.status },
      );
    }
    this.checkAnswer(res, 'token');
    let grant: { access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      grant = JSON.parse(res.text) as typeof grant;
    } catch {
      throw new CodedError(VcdCodes.NOT_VCD, `The token answer is not JSON: ${excerpt(res.text, 60)}`);
    }
    if (!grant.access_token) throw new CodedError(VcdCodes.NOT_VCD, 'The token answer has no access_token.');
    if (grant.refresh_token && grant.refresh_token !== this.apiToken) {
      // Service accounts hand out a new refresh token on every use; the old one is now spent.
      this.apiToken = grant.refresh_token;
      this.emit('rotated', grant.refresh_token);
    }
    const me = await this.http.send('GET', `${this.site}/cloudapi/1.0.0/sessions/current`, {
      headers: {
        accept: `application/json;version=${version}`,
        authorization: `Bearer ${grant.access_token}`,
      },
    });
    this.checkAnswer(me, 'session');
    const body = this.parseSession(me.text);
    const lifetime = grantedLifetime(grant.access_token, {
      expiresInSeconds: grant.expires_in,
      idleTimeoutMinutes: body.sessionIdleTimeoutMinutes,
    });
    return {
      token: grant.access_token,
      issuedAt,
      info: this.sessionInfo(body, version, issuedAt + lifetime),
    };
  }

  private checkAnswer(res: HttpResponse, what: string): void {
    if (res.status === 503 || res.status === 502 || res.status === 504) {
      throw new CodedError(VcdCodes.UNAVAILABLE, `VCD is unavailable (${res.status}) at ${what}.`, {
        status: res.status,
      });
    }
    if (res.status === 404) {
      throw new CodedError(
        VcdCodes.NOT_VCD,
        `${this.site} has no ${what} endpoint (404): is this VMware Cloud Director 10.3 or newer?`,
        {
          status: 404,
        },
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new CodedError(
        VcdCodes.HTTP_ERROR,
        `VCD answered ${res.status} at ${what}: ${excerpt(res.text)}`,
        {
          status: res.status,
        },
      );
    }
  }

  private parseSession(text: string): SessionBody {
    try {
      const body = JSON.parse(text) as SessionBody;
      if (body && typeof body === 'object' && ref(body.user) && ref(body.org)) return body;
    } catch {
      // reported below
    }
    throw new CodedError(VcdCodes.NOT_VCD, `The session answer is not a VCD session: ${excerpt(text, 60)}`);
  }

  private sessionInfo(body: SessionBody, apiVersion: string, expiresAt: number): VcdSessionInfo {
    const org = ref(body.org) as VcdRef;
    const user = ref(body.user) as VcdRef;
    return {
      apiVersion,
      site: this.site,
      org,
      user,
      orgUuid: bareId(org.id),
      userUuid: bareId(user.id),
      operatingOrg: ref(body.operatingOrg),
      roles: Array.isArray(body.roles) ? body.roles.map(String) : [],
      provider: isProviderOrg(org.name),
      authType: this.options.authType,
      expiresAt,
    };
  }

  /** Renews after `delay`; a failed renewal tries again after the backoff while the token still lives. */
  private scheduleRenewal(cred: Credential, delay: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => {
      this.login().catch(() => {
        // Reported through `failure`. After expiry, token() logs in on demand instead.
        if (this.closed || this.current !== cred) return;
        const wait = Math.max(1000, (this.lastFailure?.retryAt ?? Date.now()) - Date.now());
        if (Date.now() + wait < cred.info.expiresAt) this.scheduleRenewal(cred, wait);
      });
    }, delay);
    this.renewTimer.unref();
  }
}
