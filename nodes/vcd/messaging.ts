/**
 * VCD push notifications: MQTT 3.1.1 over a WebSocket to /messaging/mqtt with
 * the session's Bearer token. One connection per login carries the topic
 * filters of every node that uses it. Every connect takes a current token (a
 * 401 at the upgrade renews it), subscribes everything again (VCD keeps no
 * session state), and reconnects with exponential backoff and jitter.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { MqttClient } from 'mqtt';
import WebSocket, { createWebSocketStream } from 'ws';
import { unlessAborted, type BackoffOptions } from '../common/backoff';
import { CodedError, errorMessage, isCoded } from '../common/errors';
import { ReconnectLoop, type ConnectionEnd, type ConnectionState } from '../common/reconnect-loop';
import { outboundFailure, webSocketOptions, type OutboundSettings } from '../common/outbound';
import type { ProxySettings } from '../common/proxy';
import type { TlsSettings } from '../common/tls';
import { expandTopic, topicMatches } from './topics';
import { VcdCodes } from './codes';

export const MessagingCodes = {
  UNAUTHORIZED: 'VCD_MQTT_UNAUTHORIZED',
  UPGRADE_FAILED: 'VCD_MQTT_UPGRADE_FAILED',
  SUBSCRIBE_REFUSED: 'VCD_SUBSCRIBE_REFUSED',
  CONNECTION_LOST: 'VCD_MQTT_CONNECTION_LOST',
  /** Why a connection under way ends when the client is stopped (never reported). */
  STOPPED: 'VCD_MQTT_STOPPED',
} as const;

export type QoS = 0 | 1 | 2;

/** What the messaging client needs from a session. */
export interface TokenSource {
  token(): Promise<string>;
  invalidate(token: string): void;
  /** Is this still the token token() hands out (not renewed, not expired)? */
  isCurrent(token: string): boolean;
  readonly info: { orgUuid: string; userUuid: string } | undefined;
}

export interface MessagingOptions {
  /** Site origin, https://host[:port] (http:// gives ws://). */
  site: string;
  tokens: TokenSource;
  tls?: TlsSettings;
  /** The login's own proxy; without it, the environment's (HTTPS_PROXY, NO_PROXY). */
  proxy?: ProxySettings;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** A connection that lived this long resets the backoff. */
  stableMs?: number;
}

export interface SubscriptionHandlers {
  message(topic: string, payload: Buffer): void;
  /** The broker granted the filter (SUBACK): from now on its messages arrive. */
  granted?(filter: string): void;
  /** The broker refused the filter (SUBACK failure): usually the role may not read it. */
  refused?(error: CodedError): void;
}

interface Subscription {
  /** Who subscribed (a node): it gets each message once, however many of its filters match. */
  group: string;
  template: string;
  qos: QoS;
  handlers: SubscriptionHandlers;
  /** The filter as sent, after {org}/{user} expansion. */
  filter?: string;
}

interface Outcome extends ConnectionEnd {
  error?: CodedError;
  /** The token it connected with. */
  token?: string;
  /** HTTP status of a failed upgrade. */
  status?: number;
  /** The broker refused the credentials in CONNACK (return code 4 or 5). */
  refused?: boolean;
}

/** A connection that lived this long on a token since renewed ended because of its token. */
const STALE_TOKEN_MIN_LIFE_MS = 1000;

/**
 * mqtt.js logs every packet through `debug`, which gathers its arguments into
 * an array even when no one listens: some 6% of what each event allocated.
 * With DEBUG naming mqttjs its own logger stays.
 */
const mqttLog = /mqttjs|\*/.test(process.env.DEBUG ?? '') ? undefined : () => {};

/**
 * Events: `state` (state, error?) on every change, `connected` after the
 * subscriptions are (re)established.
 */
export class VcdMessaging extends EventEmitter {
  readonly clientId = `node-red-vcd-${randomBytes(6).toString('hex')}`;
  private readonly options: MessagingOptions;
  private readonly url: string;
  private readonly outbound: OutboundSettings;
  private readonly subs = new Map<string, Subscription>();
  private readonly loop: ReconnectLoop<Outcome>;
  private client: MqttClient | undefined;
  private currentState: ConnectionState = 'idle';
  private lastError: CodedError | undefined;
  /** Tokens refused in a row (at the upgrade or in CONNACK). */
  private refusedInARow = 0;

  constructor(options: MessagingOptions) {
    super();
    this.options = options;
    this.url = `${options.site.replace(/^http/, 'ws')}/messaging/mqtt`;
    this.outbound = { tls: options.tls ?? {}, proxy: options.proxy };
    this.loop = new ReconnectLoop<Outcome>({
      connect: (signal) => this.connectWithToken(signal),
      failed: (err) => ({ connectedMs: 0, error: this.failure(err) }),
      ended: (outcome) => this.afterEnd(outcome),
      backoff: options.backoff,
      stableMs: options.stableMs,
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get error(): CodedError | undefined {
    return this.lastError;
  }

  /** Aborted when messaging stops; each connection listens to it until it closes. */
  get signal(): AbortSignal {
    return this.loop.signal;
  }

  /** Adds (or replaces) a topic filter of one user (`group`) and starts the connection if needed. */
  add(group: string, template: string, qos: QoS, handlers: SubscriptionHandlers): void {
    const key = `${group}\n${template}`;
    const previous = this.subs.get(key);
    const sub: Subscription = { group, template, qos, handlers };
    this.subs.set(key, sub);
    if (previous?.filter) this.dropFilter(previous.filter);
    if (this.client?.connected) this.subscribeAll([sub]);
    this.start();
  }

  /** Removes a user's filter, or all of them; the connection stays for the others. */
  remove(group: string, template?: string): void {
    for (const [key, sub] of this.subs) {
      if (sub.group !== group || (template !== undefined && sub.template !== template)) continue;
      this.subs.delete(key);
      if (sub.filter) this.dropFilter(sub.filter);
    }
  }

  start(): void {
    this.loop.start();
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    await this.loop.stop(new CodedError(MessagingCodes.STOPPED, 'stopped'), () => {
      const client = this.client;
      if (client) return new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    });
    this.refusedInARow = 0;
    this.setState('closed');
  }

  /** Forces the current connection closed (it reconnects as after any loss). */
  dropConnection(): void {
    this.client?.stream?.destroy();
  }

  private setState(state: ConnectionState, error?: CodedError): void {
    this.lastError = error;
    if (state === this.currentState && !error) return;
    this.currentState = state;
    this.emit('state', state, error);
  }

  /** One connection on a current token (a stop while logging in ends at once; the session logs it out). */
  private async connectWithToken(signal: AbortSignal): Promise<Outcome> {
    if (this.currentState === 'idle' || this.currentState === 'closed') this.setState('connecting');
    const token = await unlessAborted(this.options.tokens.token(), signal);
    return { ...(await this.connectOnce(token, signal)), token };
  }

  /** Shows what an end leaves and says how long to wait (undefined: the next backoff step). */
  private afterEnd(outcome: Outcome): number | undefined {
    const { token } = outcome;
    const unauthorized = outcome.status === 401 || outcome.status === 403 || outcome.refused === true;
    if (unauthorized && token) this.options.tokens.invalidate(token);
    // VCD may end a connection when its token expires; the renewed token reconnects at once.
    const stale =
      outcome.connectedMs >= STALE_TOKEN_MIN_LIFE_MS &&
      token !== undefined &&
      !this.options.tokens.isCurrent(token);
    this.refusedInARow = unauthorized ? this.refusedInARow + 1 : 0;
    const authFailed = isCoded(outcome.error, VcdCodes.AUTH_FAILED) || this.refusedInARow >= 2;
    this.setState(
      authFailed ? 'auth-failed' : 'reconnecting',
      outcome.error ??
        new CodedError(
          MessagingCodes.CONNECTION_LOST,
          'The VCD message bus closed the connection; reconnecting.',
        ),
    );
    // A first 401 usually means the token just expired: retry at once with a new one.
    return stale || (unauthorized && this.refusedInARow === 1) ? 0 : undefined;
  }

  /** A network failure as a CodedError, naming the proxy where it was the proxy's. */
  private failure(err: unknown): CodedError {
    return outboundFailure(err, this.url, this.outbound);
  }

  /** The WebSocket under mqtt.js, Bearer token at the upgrade; `seen` keeps what went wrong. */
  private socketStream(token: string, seen: { upgradeStatus?: number; socketError?: unknown }): Duplex {
    const ws = new WebSocket(this.url, 'mqtt', {
      headers: { authorization: `Bearer ${token}` },
      ...webSocketOptions(this.url, this.outbound, this.options.connectTimeoutMs ?? 30_000),
      handshakeTimeout: this.options.connectTimeoutMs ?? 30_000,
      perMessageDeflate: false,
    });
    ws.on('unexpected-response', (_req, res) => {
      seen.upgradeStatus = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      seen.socketError ??= err;
    });
    const stream = createWebSocketStream(ws);
    // The stream only ends when the socket closes; mqtt.js needs it destroyed to see the close.
    ws.on('close', () => stream.destroy());
    return stream;
  }

  /** One connection from upgrade to close; resolves when it is over. */
  private connectOnce(token: string, signal: AbortSignal): Promise<Outcome> {
    if (signal.aborted) return Promise.resolve({ connectedMs: 0 });
    return new Promise((resolve) => {
      const seen: { upgradeStatus?: number; socketError?: unknown } = {};
      let connectedAt = 0;
      const client = new MqttClient(() => this.socketStream(token, seen), {
        protocolVersion: 4,
        clean: true,
        clientId: this.clientId,
        keepalive: this.options.keepaliveSeconds ?? 60,
        reconnectPeriod: 0,
        connectTimeout: this.options.connectTimeoutMs ?? 30_000,
        resubscribe: false,
        log: mqttLog,
      });
      this.client = client;

      client.on('connect', () => {
        connectedAt = Date.now();
        this.setState('connected');
        this.subscribeAll([...this.subs.values()]);
        this.emit('connected');
      });
      client.on('message', (topic, payload) => this.dispatch(topic, payload));
      client.on('error', (err) => {
        seen.socketError ??= err;
      });
      // Removed again at close: a listener per connection would keep every old client alive.
      const onAbort = () => client.end(true);
      signal.addEventListener('abort', onAbort, { once: true });
      client.once('close', () => {
        signal.removeEventListener('abort', onAbort);
        client.removeAllListeners('message');
        client.end(true);
        if (this.client === client) this.client = undefined;
        const { upgradeStatus, socketError } = seen;
        const refused = !connectedAt && [4, 5].includes((socketError as { code?: unknown })?.code as number);
        resolve({
          connectedMs: connectedAt ? Date.now() - connectedAt : 0,
          status: upgradeStatus,
          refused,
          error: connectedAt ? undefined : this.describeFailure(upgradeStatus, socketError, refused),
        });
      });
    });
  }

  private describeFailure(status: number | undefined, err: unknown, refused: boolean): CodedError {
    if (refused) {
      return new CodedError(
        MessagingCodes.UNAUTHORIZED,
        `The VCD message bus refused the login in MQTT CONNACK (${errorMessage(err)}); logging in again.`,
      );
    }
    if (status === 401 || status === 403) {
      return new CodedError(
        MessagingCodes.UNAUTHORIZED,
        `The VCD message bus refused the token (${status}); logging in again.`,
        { status },
      );
    }
    if (status === 502 || status === 503 || status === 504) {
      // The broker restarting or a cell going down: passing, retried with backoff, not a setup problem.
      return new CodedError(
        MessagingCodes.CONNECTION_LOST,
        `The VCD message bus is unavailable (HTTP ${status} at the WebSocket upgrade); retrying.`,
        { status },
      );
    }
    if (status !== undefined) {
      return new CodedError(
        MessagingCodes.UPGRADE_FAILED,
        `The WebSocket upgrade to /messaging/mqtt failed with HTTP ${status}. A load balancer in front of the ` +
          'VCD cells may not pass WebSocket upgrades (Upgrade/Connection headers) to /messaging/mqtt.',
        { status },
      );
    }
    if (err && !(err instanceof Error && /connack|connection closed/i.test(err.message))) {
      return this.failure(err);
    }
    return new CodedError(
      MessagingCodes.CONNECTION_LOST,
      `The VCD message bus closed the connection before MQTT CONNACK${err ? ` (${errorMessage(err)})` : ''}.`,
    );
  }

  private subscribeAll(subs: Subscription[]): void {
    const client = this.client;
    const ids = this.options.tokens.info;
    if (!client || !ids) return;
    const wanted = new Map<string, { qos: QoS; subs: Subscription[] }>();
    for (const sub of subs) {
      sub.filter = expandTopic(sub.template, ids);
      const entry = wanted.get(sub.filter) ?? { qos: 0 as QoS, subs: [] };
      entry.qos = Math.max(entry.qos, sub.qos) as QoS;
      entry.subs.push(sub);
      wanted.set(sub.filter, entry);
    }
    // One SUBSCRIBE per filter, so a refusal (SUBACK 0x80) names its filter.
    for (const [filter, w] of wanted) {
      client.subscribe(filter, { qos: w.qos }, (_err, _granted, packet) => {
        const code = (packet as { granted?: number[] } | undefined)?.granted?.[0];
        if (code === undefined) return; // the connection is gone
        if ((code & 0x80) === 0) {
          for (const sub of w.subs) this.call(() => sub.handlers.granted?.(filter));
          return;
        }
        const error = new CodedError(
          MessagingCodes.SUBSCRIBE_REFUSED,
          `VCD refused the subscription to ${filter}: the user's role may not read that topic ` +
            '(publish/# needs a system administrator, publish/<org>/+ an organization administrator).',
          { topic: filter },
        );
        for (const sub of w.subs) this.call(() => sub.handlers.refused?.(error));
      });
    }
  }

  private dropFilter(filter: string): void {
    const stillUsed = [...this.subs.values()].some((s) => s.filter === filter);
    if (!stillUsed && this.client?.connected) this.client.unsubscribe(filter);
  }

  /** A message to each user with a matching filter, once (through the first of its filters that matches). */
  private dispatch(topic: string, payload: Buffer): void {
    let first: string | undefined;
    let served: Set<string> | undefined;
    for (const sub of this.subs.values()) {
      if (!sub.filter || !topicMatches(sub.filter, topic)) continue;
      if (sub.group === first || served?.has(sub.group)) continue;
      if (first === undefined) first = sub.group;
      else (served ??= new Set([first])).add(sub.group);
      this.call(() => sub.handlers.message(topic, payload));
    }
  }

  /** A handler's exception is reported, never thrown into mqtt.js. */
  private call(handler: () => void): void {
    try {
      handler();
    } catch (err) {
      this.emit('handler-error', err);
    }
  }
}
