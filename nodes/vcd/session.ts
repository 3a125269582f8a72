/**
 * VMware Cloud Director OpenAPI session: one login at a time (the version
 * negotiated first), renewal before expiry and on 401, and logout.
 * Plain TypeScript; the vcd-login node adapts it to Node-RED.
 */
import { EventEmitter } from 'node:events';
import { Backoff, type BackoffOptions } from '../common/backoff';
import { CodedError, errorMessage } from '../common/errors';
import { unsetVariableMessage } from '../common/guards';
import { HttpClient, SMALL_ANSWER_BYTES, excerpt, header, type HttpResponse } from '../common/http';
import { ServerClock } from '../common/server-clock';
import type { ProxySettings } from '../common/proxy';
import type { TlsSettings } from '../common/tls';
import { VcdCodes } from './codes';
import {
  apiTokenLogin,
  passwordLogin,
  type Credential,
  type VcdAuthType,
  type VcdSessionInfo,
} from './login';
import { MIN_API_VERSION, compareVersions, fetchApiVersion } from './version-negotiation';

export { VCD_KEYS, VcdCodes } from './codes';
export type { VcdAuthType, VcdRef, VcdSessionInfo } from './login';

/** DELETE /cloudapi/1.0.0/sessions/current exists from API 36. */
const CLOUDAPI_LOGOUT_VERSION = '36.0';

/** One call through the session: where, how, and what it carries. */
export interface VcdCall {
  method: string;
  /** Path and query on the site, starting with `/`. */
  path: string;
  /** The answer's format; default JSON, XML for `/api/...`. */
  accept?: 'json' | 'xml';
  body?: string;
  contentType?: string;
  /** The whole call, from sending to the answer's last byte; default: the session's. */
  timeoutMs?: number;
  /** Largest answer read (default: the client's); an answer that will be parsed as XML wants less. */
  maxBodyBytes?: number;
}

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
  /** The login's own proxy; without it, the environment's (HTTPS_PROXY, NO_PROXY). */
  proxy?: ProxySettings;
  timeoutMs?: number;
  /** Delay between failed logins (a wrong password must not hammer VCD). */
  retry?: BackoffOptions;
  /** Renew when this share of the token's life has passed. */
  renewAt?: number;
}

/**
 * Events: `login` (info) after every successful login or renewal, `failure`
 * (CodedError) when a login fails, `rotated` (new API token) when the server
 * rotated the refresh token, `closed`.
 */
export class VcdSession extends EventEmitter {
  readonly site: string;
  /** VCD's clock, as measured from the Date of its answers (logins and requests). */
  readonly clock = new ServerClock();
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
    this.http = new HttpClient({
      tls: options.tls ?? {},
      proxy: options.proxy,
      timeoutMs: options.timeoutMs,
    });
    this.retry = new Backoff({ initialMs: 5000, maxMs: 300_000, ...options.retry });
  }

  /** Checks the settings; returns the site origin. Throws VCD_CONFIG_INVALID. */
  static validate(options: VcdSessionOptions): string {
    const fail = (m: string) => {
      throw new CodedError(VcdCodes.CONFIG_INVALID, m);
    };
    const unset =
      unsetVariableMessage('URL', options.url) ?? unsetVariableMessage('organization', options.org);
    if (unset) fail(unset);
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
    const res = await this.send({
      method,
      path,
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : 'application/json',
    });
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

  /**
   * Any authenticated call on this site (`path` starts with `/`, query
   * included), in the negotiated API version: JSON for the OpenAPI, XML for the
   * legacy API unless told. A 401 renews the token once and repeats the call.
   * Every answer is returned as it is; only network failures throw.
   */
  async send(call: VcdCall): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      const version = this.current?.info.apiVersion ?? MIN_API_VERSION;
      const accept = call.accept ?? (call.path.startsWith('/api/') ? 'xml' : 'json');
      const res = await this.http.send(call.method, this.site + call.path, {
        headers: {
          accept:
            accept === 'xml' ? `application/*+xml;version=${version}` : `application/json;version=${version}`,
          authorization: `Bearer ${token}`,
          ...(call.contentType ? { 'content-type': call.contentType } : {}),
        },
        body: call.body,
        timeoutMs: call.timeoutMs,
        maxBodyBytes: call.maxBodyBytes,
      });
      this.clock.observe(header(res.headers, 'date'));
      if (res.status === 401 && attempt === 0) {
        this.invalidate(token);
        continue;
      }
      return res;
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
        maxBodyBytes: SMALL_ANSWER_BYTES,
      })
      .catch(() => undefined);
  }

  /** `GET /api/versions` and pick the version (cached for the session's life). */
  async negotiate(): Promise<string> {
    this.apiVersion ??= await fetchApiVersion(this.http, this.site);
    return this.apiVersion;
  }

  private async doLogin(): Promise<Credential> {
    const { authType, username = '', password = '' } = this.options;
    const target = {
      http: this.http,
      site: this.site,
      org: this.options.org.trim(),
      authType,
      clock: this.clock,
    };
    const apiVersion = await this.negotiate();
    if (authType !== 'apiToken') return passwordLogin({ ...target, apiVersion }, username, password);
    return apiTokenLogin({ ...target, apiVersion }, this.apiToken ?? '', (rotated) => {
      // Service accounts hand out a new refresh token on every use; the old one is now spent.
      this.apiToken = rotated;
      this.emit('rotated', rotated);
    });
  }

  /** Renews after `delay`; a failed renewal tries again after the backoff while the token still lives. */
  private scheduleRenewal(cred: Credential, delay: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => {
      // Timers and Date.now() round apart: a retry may fire a moment before the backoff's end, which login() refuses.
      const early = (this.lastFailure?.retryAt ?? 0) - Date.now();
      if (early > 0) return this.scheduleRenewal(cred, early);
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
