/**
 * ACI push notifications for every node of one controller: one session and
 * one WebSocket (wss://<apic>/socket<token>, opened before any subscription,
 * pinged by the client) carry all subscriptions. A socket close, a refused
 * token or a failed session refresh means a new login (the next APIC when one
 * fails), a new socket and every subscription again; what changed while away
 * is found by comparing the new answers with the last known state, because
 * APIC replays nothing. Subscriptions are refreshed one id per call, each
 * well before its deadline; a refresh that fails resubscribes that one.
 */
import { EventEmitter } from 'node:events';
import WebSocket, { type RawData } from 'ws';
import { Backoff, sleep, type BackoffOptions } from '../common/backoff';
import { CodedError, classifyNetworkError, errorMessage } from '../common/errors';
import { excerpt } from '../common/http';
import { tlsConnectOptions } from '../common/tls';
import { entryUrl, type WatchEntry } from './entries';
import { datedDeletion, isNewer, sameState, stampOf, updatedStamp, type Stamp } from './object-facts';
import {
  ApicCodes,
  isNetworkFailure,
  versionAtLeast,
  type ApicAnswer,
  type ApicCluster,
  type ApicMo,
  type ApicSession,
} from './session';

export const SubscriptionCodes = {
  SOCKET_FAILED: 'APIC_SOCKET_FAILED',
  CONNECTION_LOST: 'APIC_CONNECTION_LOST',
  SUBSCRIBE_REFUSED: 'APIC_SUBSCRIBE_REFUSED',
  SUBSCRIBE_FAILED: 'APIC_SUBSCRIBE_FAILED',
  BAD_PUSH: 'APIC_BAD_PUSH',
} as const;

export type AciState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'auth-failed' | 'closed';

/** One managed object out of a push or a query answer. */
export interface AciObject {
  className: string;
  dn: string;
  /** created | modified | deleted in pushes; '' in query answers. */
  status: string;
  attributes: Record<string, string>;
  children?: ApicMo[];
}

/**
 * What a watcher receives. `reason`: `push` (APIC pushed it), `snapshot` (the
 * current state at start, when asked for), `resync` (found by comparing after
 * a gap: changed, created or gone while the connection was down).
 */
export interface AciChange extends AciObject {
  reason: 'push' | 'snapshot' | 'resync';
  /** This watcher's subscriptions it came through (once, however many matched). */
  subscriptionIds: string[];
  /** The entries (canonical text) of those subscriptions. */
  entries: string[];
  /** The APIC that sent it. */
  apic: string;
}

export interface WatchHandlers {
  changes(changes: AciChange[]): void;
  /** APIC refused an entry (e.g. an unknown class). */
  refused?(error: CodedError, entry: WatchEntry): void;
  /** An entry keeps failing for a passing reason (5xx, no subscriptionId); it is still retried. Once per streak. */
  failing?(error: CodedError, entry: WatchEntry): void;
  /** A push that could not be read; the raw text comes along. */
  invalid?(error: CodedError, raw: string): void;
  /** An entry was read in full: what is known of its objects now; `baseline`: a first read, nothing of it sent. */
  read?(entry: string, known: ReadonlyMap<string, Known>, baseline: boolean): void;
  /** What is known of one object changed with a push (undefined: deleted). */
  tracked?(entry: string, dn: string, state: Known | undefined): void;
  /** A paged first read (or re-read) under way: objects read of `total`; `done` once read. */
  progress?(entry: WatchEntry, read: number, total: number, done: boolean): void;
}

export interface WatchOptions {
  /** changes: like skip, but compared with `restore` (what was known when the node last ran) at the first read. */
  initial: 'emit' | 'skip' | 'changes';
  /** The last known state of an entry's objects, from before this run. */
  restore?(entry: string): Map<string, Known> | undefined;
  /** refresh-timeout of each subscription, in seconds. */
  refreshTimeoutSec: number;
}

export interface SubscriberOptions {
  cluster: ApicCluster;
  /** Objects per page when reading a subscription's current state (default 1000). */
  pageSize?: number;
  /** Client pings on the socket; a ping unanswered by the next one ends it (default 30 s). */
  pingIntervalMs?: number;
  /** Delay between reconnects (grows, with jitter). */
  backoff?: BackoffOptions;
  /**
   * Delay between logins the APIC refused (a wrong password or certificate):
   * long, because a person must fix it and repeated failures can lock the
   * account (default 10 min growing to 30, with jitter: at least 5 min).
   */
  authBackoff?: BackoffOptions;
  /** A connection that lived this long resets the backoff (default 10 s). */
  stableMs?: number;
  connectTimeoutMs?: number;
}

export interface StateInfo {
  /** The APIC in use (or last tried). */
  host?: string;
  error?: CodedError;
}

/** APICs before 3.2(3) ignore refresh-timeout and expire subscriptions after about 60 s. */
const LEGACY_TIMEOUT_SEC = 60;
/** Refresh when this share of the refresh timeout has passed: APICs may expire them early. */
const REFRESH_SHARE = 0.5;
/** A throttled refresh is retried until this share of the refresh timeout; then the subscription is made anew. */
const REFRESH_GIVE_UP = 0.75;
const MAX_PAGES = 10_000;
/** Reads of one subscription's state when objects keep coming and going while it is paged. */
const MAX_READS = 3;
/** Consecutive passing failures of one entry before they are reported (a one-off blip only goes to debug). */
const REPORT_AFTER = 3;

export interface Known {
  className: string;
  /** Its time and life-cycle attributes (modTs is "never" on many classes). */
  stamp: Stamp;
}

interface Watcher {
  key: string;
  handlers: WatchHandlers;
  options: WatchOptions;
  watches: Map<string, Watch>;
}

interface Watch {
  watcher: Watcher;
  entry: WatchEntry;
  /** dn → last known state, after the first full read. */
  known?: Map<string, Known>;
  /** Input messages waiting for this watch to be subscribed (or refused). */
  waiters: ((error?: CodedError) => void)[];
}

/** A subscription on the APIC. */
interface Sub {
  id: string;
  /** When to refresh it next. */
  due: number;
  /** When it was made or last refreshed: it lives a refresh timeout from then (or less: APICs expire early). */
  aliveSince: number;
  /** Between refreshes refused by throttling (503). */
  retry?: Backoff;
}

/** An entry that failed for a passing reason, and when to try it again. */
interface Retry {
  at: number;
  backoff: Backoff;
  failures: number;
}

interface Push {
  ids: string[];
  objects: AciObject[];
}

interface EndReason {
  error?: CodedError;
  /** Reconnect without waiting (the session reached its lifetime: nothing is wrong). */
  immediate?: boolean;
}

/** One session + socket, and the subscriptions made on it. */
class Channel {
  readonly subs = new Map<Watch, Sub>();
  readonly byId = new Map<string, Watch>();
  readonly refused = new Set<Watch>();
  /** Entries waiting out a passing failure (5xx, an answer without subscriptionId). */
  readonly retry = new Map<Watch, Retry>();
  /** No subscribing before this time: the APIC is throttling (503). */
  pausedUntil = 0;
  /** Pushes held while subscriptions are being (re)read, so answers and pushes stay in order. */
  buffer: Push[] | undefined;
  /** Per watch read (and sent or compared) in the current sync: DNs reported gone by the comparison. */
  readonly resynced = new Map<Watch, Set<string>>();
  readonly ended: Promise<EndReason>;
  done = false;
  private finish!: (reason: EndReason) => void;
  private wakeUp: (() => void) | undefined;
  pingTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: ApicSession,
    readonly ws: WebSocket,
  ) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  end(reason: EndReason): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.pingTimer);
    this.wake();
    this.finish(reason);
  }

  /** Waits until woken (work to do) or `ms` passed. */
  idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}

function toCoded(err: unknown, target: string): CodedError {
  return err instanceof CodedError ? err : classifyNetworkError(err, target);
}

/**
 * 405 "Unable to locate opened web socket": the APIC no longer ties our socket
 * to the session, so nothing would be pushed on it.
 */
function isSocketLost(err: CodedError): boolean {
  return err.details?.status === 405;
}

/** Failures that end the session or the connection (not just one subscription). */
function endsChannel(err: CodedError): boolean {
  return (
    err.code === ApicCodes.SESSION_EXPIRED ||
    err.code === ApicCodes.CLOSED ||
    err.code === SubscriptionCodes.CONNECTION_LOST ||
    isNetworkFailure(err) ||
    isSocketLost(err)
  );
}

/** The error a channel ends with: a lost socket says so, and what happens next. */
function channelError(err: CodedError, host: string): CodedError {
  if (!isSocketLost(err) || err.code === SubscriptionCodes.CONNECTION_LOST) return err;
  return new CodedError(
    SubscriptionCodes.CONNECTION_LOST,
    `${host} no longer knows this session's socket (${err.message}); logging in again and resubscribing. ` +
      'If this repeats, a load balancer may send the socket and the requests to different APICs.',
    { status: 405, host },
  );
}

/**
 * The APIC says the request itself is wrong (an unknown class, a bad filter:
 * 400-type answers): asking again cannot help. Everything else that does not
 * end the channel (5xx, odd answers) may pass, and is retried.
 */
function isRefusal(err: CodedError): boolean {
  const status = err.details?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The first refresh of the `index`-th of `count` subscriptions made together:
 * evenly over (start, start + interval], so their refreshes never come in a
 * burst (each next one follows a whole interval later).
 */
export function spreadDue(start: number, intervalMs: number, index: number, count: number): number {
  return start + (intervalMs * (index + 1)) / Math.max(1, count);
}

/**
 * The class to sort a paged answer by, when the answer holds one class: the
 * class itself for a class query, the one target-subtree-class of a children
 * or subtree query. Mixed answers (or a single object) are read unsorted.
 */
export function orderClass(entry: WatchEntry): string | undefined {
  const option = (name: string) => entry.options.find(([k]) => k === name)?.[1];
  const target = option('query-target') ?? 'self';
  if (target === 'self') return entry.kind === 'class' ? entry.target : undefined;
  const classes = option('target-subtree-class')?.split(',') ?? [];
  return classes.length === 1 ? classes[0] : undefined;
}

/** {"fvBD": {"attributes": {...}}} → AciObject; undefined when it is not an object with a dn. */
export function toAciObject(mo: unknown): AciObject | undefined {
  if (!mo || typeof mo !== 'object') return undefined;
  const entries = Object.entries(mo as ApicMo);
  if (entries.length !== 1) return undefined;
  const [className, body] = entries[0] as [string, ApicMo[string]];
  const attributes = body?.attributes;
  if (!attributes || typeof attributes !== 'object' || typeof attributes.dn !== 'string') return undefined;
  const object: AciObject = {
    className,
    dn: attributes.dn,
    status: String(attributes.status ?? ''),
    attributes,
  };
  if (Array.isArray(body.children)) object.children = body.children;
  return object;
}

/** Reads a push: `subscriptionId` is an array in pushes (a string is accepted too). */
export function parsePush(text: string): Push {
  let body: { subscriptionId?: unknown; imdata?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push from the APIC is not JSON: ${excerpt(text, 80)}`,
    );
  }
  const raw = body?.subscriptionId;
  const ids = (Array.isArray(raw) ? raw : [raw]).filter(
    (id) => typeof id === 'string' || typeof id === 'number',
  );
  if (ids.length === 0 || !Array.isArray(body.imdata)) {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push from the APIC has no subscriptionId or imdata: ${excerpt(text, 80)}`,
    );
  }
  const objects = body.imdata.map(toAciObject);
  if (objects.some((o) => !o)) {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push holds an object without a dn: ${excerpt(text, 80)}`,
    );
  }
  return { ids: ids.map(String), objects: objects as AciObject[] };
}

/**
 * Events: `state` (AciState, StateInfo) on every change; `synced` after
 * subscriptions were (re)made; `refreshed` (id); `resubscribing` (entry key);
 * `debug` (text); `handler-error` (error) when a handler throws.
 */
export class ApicSubscriber extends EventEmitter {
  readonly cluster: ApicCluster;
  private readonly options: SubscriberOptions;
  private readonly watchers = new Map<string, Watcher>();
  private readonly backoff: Backoff;
  private readonly authBackoff: Backoff;
  /** Between retries of a throttled subscription on a live connection. */
  private readonly throttleBackoff: Backoff;
  private readonly logouts = new Set<Promise<void>>();
  /** Sort page reads with order-by, until an APIC refuses it with a subscription. */
  private sortPages = true;
  private channel: Channel | undefined;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();
  private currentState: AciState = 'idle';
  private info: StateInfo = {};

  constructor(options: SubscriberOptions) {
    super();
    this.options = options;
    this.cluster = options.cluster;
    this.backoff = this.retryBackoff();
    this.throttleBackoff = this.retryBackoff();
    this.authBackoff = new Backoff({ initialMs: 600_000, maxMs: 1_800_000, ...options.authBackoff });
  }

  /** Between retries of something passing (a lost connection, a 5xx, throttling): 1 s growing to 1 min. */
  private retryBackoff(): Backoff {
    return new Backoff({ initialMs: 1000, maxMs: 60_000, ...this.options.backoff });
  }

  get state(): AciState {
    return this.currentState;
  }

  get stateInfo(): StateInfo {
    return this.info;
  }

  /** The APIC of the live connection, if any. */
  get host(): string | undefined {
    return this.channel?.session.host;
  }

  /** Subscription ids of a watcher on the live connection (entry key → id). */
  subscriptionIds(key: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const w of this.watchers.get(key)?.watches.values() ?? []) {
      const sub = this.channel?.subs.get(w);
      if (sub) out[w.entry.key] = sub.id;
    }
    return out;
  }

  /** Adds (or replaces) a watcher with its entries and starts the connection if needed. */
  add(key: string, entries: WatchEntry[], handlers: WatchHandlers, options: WatchOptions): void {
    this.remove(key);
    const watcher: Watcher = { key, handlers, options, watches: new Map() };
    for (const entry of entries)
      watcher.watches.set(entry.key, { watcher, entry, waiters: [], known: options.restore?.(entry.key) });
    this.watchers.set(key, watcher);
    this.channel?.wake();
    this.start();
  }

  /** Removes a watcher; its subscriptions are no longer refreshed and lapse on the APIC. */
  remove(key: string): void {
    const watcher = this.watchers.get(key);
    if (!watcher) return;
    this.watchers.delete(key);
    for (const w of watcher.watches.values()) this.forget(w);
  }

  /**
   * Changes a watcher's entries at run time. Resolves when the new ones are
   * subscribed on the live connection (at once when there is none: they are
   * subscribed at connect); rejects when the APIC refuses one, which is then
   * dropped again.
   */
  async update(key: string, add: WatchEntry[], remove: WatchEntry[]): Promise<void> {
    const watcher = this.watchers.get(key);
    if (!watcher) throw new CodedError(ApicCodes.CLOSED, 'This node is not connected to its controller.');
    for (const entry of remove) {
      const w = watcher.watches.get(entry.key);
      if (w) {
        watcher.watches.delete(entry.key);
        this.forget(w);
      }
    }
    const added: Watch[] = [];
    for (const entry of add) {
      if (watcher.watches.has(entry.key)) continue;
      const w: Watch = { watcher, entry, waiters: [] };
      watcher.watches.set(entry.key, w);
      added.push(w);
    }
    const channel = this.channel;
    if (!channel || added.length === 0) return;
    const results = added.map(
      (w) => new Promise<CodedError | undefined>((resolve) => w.waiters.push(resolve)),
    );
    channel.wake();
    const errors = (await Promise.all(results)).filter((e): e is CodedError => e !== undefined);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new CodedError(SubscriptionCodes.SUBSCRIBE_REFUSED, errors.map((e) => e.message).join(' '));
    }
  }

  /** Entries a watcher has now (after run-time changes). */
  entries(key: string): WatchEntry[] {
    return [...(this.watchers.get(key)?.watches.values() ?? [])].map((w) => w.entry);
  }

  get size(): number {
    return this.watchers.size;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal).finally(() => {
      this.loop = undefined;
    });
  }

  /** Closes the socket, logs out and stops reconnecting. */
  async stop(): Promise<void> {
    this.abort.abort(new CodedError(ApicCodes.CLOSED, 'stopped'));
    this.channel?.end({});
    await this.loop;
    await Promise.all([...this.logouts]);
    this.setState('closed', {});
  }

  /** Cuts the live socket (it recovers as after any loss). */
  dropConnection(): void {
    this.channel?.ws.terminate();
  }

  private setState(state: AciState, info: StateInfo): void {
    const same = state === this.currentState && info.host === this.info.host && !info.error;
    this.info = info;
    this.currentState = state;
    if (!same) this.emit('state', state, info);
  }

  private forget(w: Watch): void {
    const sub = this.channel?.subs.get(w);
    if (sub) {
      this.channel?.subs.delete(w);
      this.channel?.byId.delete(sub.id);
    }
    for (const resolve of w.waiters.splice(0)) resolve();
  }

  private isWatched(w: Watch): boolean {
    return this.watchers.get(w.watcher.key)?.watches.get(w.entry.key) === w;
  }

  private allWatches(): Watch[] {
    return [...this.watchers.values()].flatMap((u) => [...u.watches.values()]);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let everConnected = false;
    while (!signal.aborted) {
      let reason: EndReason & { connectedMs?: number; host?: string };
      try {
        reason = await this.connectOnce(signal, () => (everConnected = true));
      } catch (err) {
        reason = { error: toCoded(err, this.cluster.preferredHost) };
      }
      if (signal.aborted) break;
      if ((reason.connectedMs ?? 0) >= (this.options.stableMs ?? 10_000)) this.backoff.reset();
      // A black-holed APIC (timeouts) is skipped at the next login.
      if (reason.host && reason.error && isNetworkFailure(reason.error)) this.cluster.failover(reason.host);
      const code = reason.error?.code;
      const stuck = code === ApicCodes.AUTH_FAILED || code === ApicCodes.CONFIG_INVALID;
      this.setState(stuck ? 'auth-failed' : everConnected ? 'reconnecting' : 'connecting', {
        host: reason.host ?? this.cluster.preferredHost,
        error: reason.error,
      });
      // A refused login needs a person; trying often only risks the APIC's lockout policy.
      const wait = reason.immediate ? 0 : stuck ? this.authBackoff.next() : this.backoff.next();
      if (stuck) this.emit('debug', `${reason.error?.message} Trying again in ${Math.round(wait / 1000)} s.`);
      try {
        await sleep(wait, signal);
      } catch {
        break;
      }
    }
  }

  /** One session from login to its end; resolves with why it ended. */
  private async connectOnce(
    signal: AbortSignal,
    onConnected: () => void,
  ): Promise<EndReason & { connectedMs: number; host: string }> {
    if (this.currentState === 'idle' || this.currentState === 'closed') {
      this.setState('connecting', { host: this.cluster.preferredHost });
    }
    const session = await this.cluster.login(signal);
    this.authBackoff.reset();
    session.start();
    const startedAt = Date.now();
    let channel: Channel | undefined;
    try {
      const ws = await this.openSocket(session, signal);
      channel = new Channel(session, ws);
      this.wire(channel, signal);
      this.channel = channel;
      onConnected();
      this.setState('connected', { host: session.host });
      void this.work(channel);
      const reason = await channel.ended;
      return { ...reason, connectedMs: Date.now() - startedAt, host: session.host };
    } catch (err) {
      return { error: toCoded(err, session.host), connectedMs: 0, host: session.host };
    } finally {
      channel?.end({});
      channel?.ws.terminate();
      if (this.channel === channel) this.channel = undefined;
      for (const w of this.allWatches()) for (const resolve of w.waiters.splice(0)) resolve();
      const logout = session.logout().finally(() => this.logouts.delete(logout));
      this.logouts.add(logout);
    }
  }

  private wire(channel: Channel, signal: AbortSignal): void {
    const { session, ws } = channel;
    const host = session.host;
    session.on('lost', (error: CodedError) => channel.end({ error }));
    session.on('aging', () => {
      this.emit('debug', `the session on ${host} nears its maximum lifetime: logging in afresh`);
      channel.end({ immediate: true });
    });
    session.on('debug', (text: string) => this.emit('debug', text));
    // Removed when the channel ends: a listener per session would keep every old channel alive.
    const onAbort = () => channel.end({});
    signal.addEventListener('abort', onAbort, { once: true });
    void channel.ended.then(() => signal.removeEventListener('abort', onAbort));
    let socketError: unknown;
    ws.on('error', (err) => (socketError ??= err));
    ws.on('close', (code: number, why: Buffer) => {
      const detail = socketError
        ? errorMessage(socketError)
        : `code ${code}${why.length ? `, ${why.toString()}` : ''}`;
      channel.end({
        error: new CodedError(
          SubscriptionCodes.CONNECTION_LOST,
          `The socket to ${host} closed (${detail}); logging in again and resubscribing.`,
        ),
      });
    });
    let alive = true;
    ws.on('pong', () => (alive = true));
    ws.on('message', (data: RawData) => {
      alive = true;
      this.onMessage(channel, data);
    });
    channel.pingTimer = setInterval(() => {
      if (!alive) {
        channel.end({
          error: new CodedError('TIMEOUT', `${host} did not answer socket pings; connecting again.`),
        });
        return;
      }
      alive = false;
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, this.options.pingIntervalMs ?? 30_000);
    channel.pingTimer.unref();
  }

  /** Opens wss://<apic>/socket<token>; resolves once it is open. */
  private openSocket(session: ApicSession, signal: AbortSignal): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(session.socketUrl, {
        headers: session.socketHeaders(),
        ...tlsConnectOptions(this.cluster.tls),
        handshakeTimeout: this.options.connectTimeoutMs ?? 30_000,
        perMessageDeflate: false,
      });
      const fail = (error: CodedError) => {
        signal.removeEventListener('abort', onAbort);
        ws.removeAllListeners('open');
        ws.on('error', () => undefined);
        ws.terminate();
        reject(error);
      };
      const onAbort = () => fail(new CodedError(ApicCodes.CLOSED, 'stopped'));
      signal.addEventListener('abort', onAbort, { once: true });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          session.lose(
            new CodedError(
              ApicCodes.SESSION_EXPIRED,
              `${session.host} refused the socket token (${status}).`,
            ),
          );
          fail(
            new CodedError(
              ApicCodes.SESSION_EXPIRED,
              `${session.host} refused the socket token (${status}).`,
            ),
          );
        } else if (status === 503) {
          fail(
            new CodedError(
              ApicCodes.THROTTLED,
              `${session.host} is throttling requests (503 at the socket).`,
            ),
          );
        } else {
          fail(
            new CodedError(
              SubscriptionCodes.SOCKET_FAILED,
              `Opening the socket on ${session.host} failed with HTTP ${status}. A proxy or load balancer in ` +
                'front of the APIC may not pass WebSocket upgrades.',
              { status },
            ),
          );
        }
      });
      ws.once('error', (err) => fail(toCoded(err, session.host)));
      ws.once('open', () => {
        signal.removeEventListener('abort', onAbort);
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        resolve(ws);
      });
    });
  }

  /** The refresh timeout asked for, or APIC's fixed one on versions that ignore it. */
  private timeoutFor(w: Watch, session: ApicSession): number {
    return versionAtLeast(session.info.version, [3, 2, 3])
      ? w.watcher.options.refreshTimeoutSec
      : LEGACY_TIMEOUT_SEC;
  }

  /** Subscribes what is missing and refreshes what is due, one request at a time. */
  private async work(channel: Channel): Promise<void> {
    try {
      while (!channel.done) {
        // Refreshes first: a subscription that falls due must not wait behind new ones.
        await this.refreshDue(channel);
        if (channel.done) break;
        const now = Date.now();
        const pending = this.allWatches().filter((w) => !channel.subs.has(w) && !channel.refused.has(w));
        const ready =
          now < channel.pausedUntil ? [] : pending.filter((w) => (channel.retry.get(w)?.at ?? 0) <= now);
        if (ready.length > 0) {
          await this.sync(channel, ready);
          continue;
        }
        // Sleep until the next refresh, or until a waiting entry may be tried again.
        let wake = Infinity;
        for (const sub of channel.subs.values()) wake = Math.min(wake, sub.due);
        for (const w of pending) {
          const retry = channel.retry.get(w);
          wake = Math.min(wake, Math.max(channel.pausedUntil, retry?.at ?? 0));
        }
        await channel.idle(Number.isFinite(wake) ? wake - now : undefined);
      }
    } catch (err) {
      channel.end({ error: toCoded(err, channel.session.host) });
    }
  }

  /**
   * Refreshes every subscription that is due, soonest first. Called between
   * the requests of a long read too, so no subscription lapses behind it.
   */
  private async refreshDue(channel: Channel): Promise<void> {
    while (!channel.done) {
      let next: [Watch, Sub] | undefined;
      for (const entry of channel.subs) if (!next || entry[1].due < next[1].due) next = entry;
      if (!next || next[1].due > Date.now()) return;
      await this.refresh(channel, next[0], next[1]);
    }
  }

  /**
   * subscriptionRefresh for one id. Throttled (503), it is tried again with
   * backoff while the subscription surely lives; any other failure, or the
   * deadline drawing near, resubscribes that one (with a comparison).
   */
  private async refresh(channel: Channel, w: Watch, sub: Sub): Promise<void> {
    const url = new URL('/api/subscriptionRefresh.json', channel.session.host);
    url.searchParams.set('id', sub.id);
    const timeoutMs = this.timeoutFor(w, channel.session) * 1000;
    try {
      await channel.session.get(url);
      sub.aliveSince = Date.now();
      sub.due = sub.aliveSince + timeoutMs * REFRESH_SHARE;
      sub.retry = undefined;
      this.emit('refreshed', sub.id);
    } catch (err) {
      const error = toCoded(err, channel.session.host);
      if (endsChannel(error)) throw channelError(error, channel.session.host);
      if (error.code === ApicCodes.THROTTLED) {
        const wait = (sub.retry ??= this.retryBackoff()).next();
        // Past three quarters of the timeout an early-expiring APIC may have dropped it already.
        if (Date.now() + wait < sub.aliveSince + timeoutMs * REFRESH_GIVE_UP) {
          sub.due = Date.now() + wait;
          this.emit('debug', `refresh of ${w.entry.key} throttled; trying again in ${wait} ms`);
          return;
        }
      }
      channel.subs.delete(w);
      channel.byId.delete(sub.id);
      this.emit('resubscribing', w.entry.key);
      this.emit('debug', `refresh of ${w.entry.key} failed (${error.message}); subscribing again`);
    }
  }

  /**
   * Subscribes a batch of watches while holding pushes, reads their current
   * state (all pages), emits snapshots or what changed since the last known
   * state, then releases the held pushes (minus what the reads already said).
   */
  private async sync(channel: Channel, batch: Watch[]): Promise<void> {
    channel.buffer ??= [];
    const out = new Map<Watcher, Map<string, AciChange>>();
    try {
      const start = Date.now();
      for (const [index, w] of batch.entries()) {
        if (channel.done) return;
        if (!this.isWatched(w)) continue;
        try {
          await this.refreshDue(channel);
          await this.subscribe(channel, w, out, { start, index, count: batch.length });
          this.throttleBackoff.reset();
          channel.retry.delete(w);
        } catch (err) {
          const error = toCoded(err, channel.session.host);
          if (endsChannel(error)) throw channelError(error, channel.session.host);
          if (error.code === ApicCodes.THROTTLED) {
            // The whole APIC is busy: no more subscribing for a while (what is missing is picked up then).
            this.emit('debug', error.message);
            channel.pausedUntil = Date.now() + this.throttleBackoff.next();
            return;
          }
          if (isRefusal(error)) this.refuse(channel, w, error);
          else this.postpone(channel, w, error);
        }
      }
      this.emit('synced', channel.subs.size);
    } finally {
      for (const [watcher, changes] of out) this.deliver(watcher, [...changes.values()]);
      const held = channel.buffer ?? [];
      channel.buffer = undefined;
      for (const push of held) this.dispatch(channel, push, true);
      channel.resynced.clear();
    }
  }

  /** A passing failure (5xx, no subscriptionId): try that entry again later, with backoff. */
  private postpone(channel: Channel, w: Watch, cause: CodedError): void {
    const retry = channel.retry.get(w) ?? {
      at: 0,
      backoff: this.retryBackoff(),
      failures: 0,
    };
    channel.retry.set(w, retry);
    retry.failures++;
    const wait = retry.backoff.next();
    retry.at = Date.now() + wait;
    this.emit('debug', `subscribing ${w.entry.key} failed (${cause.message}); trying again in ${wait} ms`);
    if (retry.failures !== REPORT_AFTER) return;
    const error = new CodedError(
      SubscriptionCodes.SUBSCRIBE_FAILED,
      `Subscribing ${w.entry.key} failed ${retry.failures} times in a row (${cause.message}); still trying.`,
      { entry: w.entry.key, status: cause.details?.status },
    );
    if (w.waiters.length > 0) {
      // The input message that asked for it gets the answer; the entry stays and is retried.
      for (const resolve of w.waiters.splice(0)) resolve(error);
    } else {
      w.watcher.handlers.failing?.(error, w.entry);
    }
  }

  private refuse(channel: Channel, w: Watch, cause: CodedError): void {
    channel.refused.add(w);
    const error = new CodedError(
      SubscriptionCodes.SUBSCRIBE_REFUSED,
      `The APIC refused the subscription to ${w.entry.key}: ${cause.message}`,
      { entry: w.entry.key, status: cause.details?.status },
    );
    if (w.waiters.length > 0) {
      // Asked for by an input message: that message fails, and the entry is not kept.
      w.watcher.watches.delete(w.entry.key);
      for (const resolve of w.waiters.splice(0)) resolve(error);
    } else {
      w.watcher.handlers.refused?.(error, w.entry);
    }
  }

  private async subscribe(
    channel: Channel,
    w: Watch,
    out: Map<Watcher, Map<string, AciChange>>,
    slot: { start: number; index: number; count: number },
  ): Promise<void> {
    const { session } = channel;
    const timeoutSec = this.timeoutFor(w, session);
    const request = (sorted = this.sortPages) =>
      session.get(
        entryUrl(session.host, w.entry, {
          subscription: 'yes',
          'refresh-timeout': String(timeoutSec),
          ...this.pageParams(w.entry, 0, sorted),
        }),
      );
    let first: Awaited<ReturnType<typeof request>>;
    try {
      first = await request();
    } catch (err) {
      // No source shows order-by together with subscription=yes: an APIC that refuses
      // the pair gets unsorted pages from now on (the re-read on a changed totalCount remains).
      const sorted = this.sortPages && orderClass(w.entry) !== undefined;
      if (!sorted || (err as CodedError).details?.status !== 400) throw err;
      first = await request(false); // refused again: the entry itself is wrong
      this.sortPages = false;
      this.emit('debug', `${session.host} refused order-by with a subscription; reading pages unsorted`);
    }
    if (!first.subscriptionId) {
      throw new CodedError(
        ApicCodes.NOT_APIC,
        `${session.host} answered a subscription to ${w.entry.key} without a subscriptionId.`,
      );
    }
    if (!this.isWatched(w) || channel.done) return;
    const id = first.subscriptionId;
    const interval = timeoutSec * 1000 * REFRESH_SHARE;
    channel.subs.set(w, {
      id,
      due: spreadDue(slot.start, interval, slot.index, slot.count),
      aliveSince: Date.now(),
    });
    channel.byId.set(id, w);

    let objects: AciObject[] | undefined;
    try {
      objects = await this.readAll(channel, w, first);
    } catch (err) {
      // Half read: let this subscription lapse and make it again later, with a full read.
      channel.subs.delete(w);
      channel.byId.delete(id);
      throw err;
    }
    // Cut short by the end of the channel: keep the last full state for the next comparison.
    if (!objects || !this.isWatched(w)) return;

    const previous = w.known;
    const known = new Map<string, Known>();
    for (const o of objects) known.set(o.dn, { className: o.className, stamp: stampOf(o.attributes) });
    w.known = known;
    w.watcher.handlers.read?.(w.entry.key, known, !previous && w.watcher.options.initial !== 'emit');
    const gone = new Set<string>();
    // Held pushes are compared with this read only when the read was sent (snapshots) or compared (resync):
    // on a first read with initial: skip the user knows nothing of it, so every push is news.
    if (previous || w.watcher.options.initial === 'emit') channel.resynced.set(w, gone);
    const add = (o: AciObject, status: string, reason: AciChange['reason']) =>
      this.collect(out, w, channel, { ...o, status, attributes: { ...o.attributes, status } }, reason);
    if (!previous) {
      if (w.watcher.options.initial === 'emit') for (const o of objects) add(o, 'snapshot', 'snapshot');
    } else {
      for (const o of objects) {
        const before = previous.get(o.dn);
        if (!before) add(o, 'created', 'resync');
        else if (!sameState(before.stamp, stampOf(o.attributes))) add(o, 'modified', 'resync');
      }
      for (const [dn, before] of previous) {
        if (known.has(dn)) continue;
        gone.add(dn);
        // APIC says nothing of a deletion it did not push: the last known times keep the event id deterministic.
        const attributes = datedDeletion({ dn }, before.stamp);
        add({ className: before.className, dn, status: '', attributes }, 'deleted', 'resync');
      }
    }
    for (const resolve of w.waiters.splice(0)) resolve();
  }

  /** page, page-size and, when the entry's result has one class, order-by=<class>.dn so pages stay put. */
  private pageParams(entry: WatchEntry, page: number, sorted = this.sortPages): Record<string, string> {
    const params: Record<string, string> = {
      page: String(page),
      'page-size': String(this.options.pageSize ?? 1000),
    };
    const cls = sorted ? orderClass(entry) : undefined;
    if (cls) params['order-by'] = `${cls}.dn`;
    return params;
  }

  /**
   * No replay on APIC: reads the whole current state, page by page, until a
   * short or empty page. Objects created or deleted meanwhile shift the pages
   * (one can be read twice or skipped), which a change of totalCount shows:
   * then it reads again, a few times at most. Undefined when the channel ended.
   */
  private async readAll(channel: Channel, w: Watch, first: ApicAnswer): Promise<AciObject[] | undefined> {
    const size = this.options.pageSize ?? 1000;
    const { session } = channel;
    for (let pass = 1; ; pass++) {
      const byDn = new Map<string, AciObject>();
      let answer =
        pass === 1 ? first : await session.get(entryUrl(session.host, w.entry, this.pageParams(w.entry, 0)));
      const totals = new Set([answer.totalCount]);
      for (let page = 1; ; page++) {
        const before = byDn.size;
        for (const o of answer.imdata.map(toAciObject)) if (o) byDn.set(o.dn, o);
        w.watcher.handlers.progress?.(w.entry, byDn.size, answer.totalCount, false);
        // A page with nothing new: the end, or an APIC that does not page (it would answer the same forever).
        if (answer.imdata.length < size || byDn.size === before || page >= MAX_PAGES) break;
        await this.refreshDue(channel);
        if (channel.done) return undefined;
        answer = await session.get(entryUrl(session.host, w.entry, this.pageParams(w.entry, page)));
        totals.add(answer.totalCount);
      }
      if (channel.done) return undefined;
      if (totals.size === 1 || pass >= MAX_READS) {
        w.watcher.handlers.progress?.(w.entry, byDn.size, answer.totalCount, true);
        return [...byDn.values()];
      }
      this.emit(
        'debug',
        `${w.entry.key} changed while it was read (${[...totals].join(' → ')} objects); reading again`,
      );
    }
  }

  /** Adds a change to a batch, once per watcher and object state, naming every subscription it came through. */
  private collect(
    out: Map<Watcher, Map<string, AciChange>>,
    w: Watch,
    channel: Channel,
    o: AciObject,
    reason: AciChange['reason'],
  ): void {
    const changes = out.get(w.watcher) ?? new Map<string, AciChange>();
    out.set(w.watcher, changes);
    const key = `${reason}|${o.dn}|${o.status}|${o.attributes.modTs ?? ''}`;
    const id = channel.subs.get(w)?.id as string;
    const existing = changes.get(key);
    if (existing) {
      existing.subscriptionIds.push(id);
      existing.entries.push(w.entry.key);
    } else {
      changes.set(key, {
        ...o,
        reason,
        subscriptionIds: [id],
        entries: [w.entry.key],
        apic: channel.session.host,
      });
    }
  }

  private onMessage(channel: Channel, data: RawData): void {
    const text = data.toString();
    let push: Push;
    try {
      push = parsePush(text);
    } catch (err) {
      for (const watcher of this.watchers.values()) watcher.handlers.invalid?.(err as CodedError, text);
      return;
    }
    if (channel.buffer) channel.buffer.push(push);
    else this.dispatch(channel, push, false);
  }

  /**
   * Sends a push to each watcher it names, once per object however many of
   * its subscriptions matched. A push held during a sync is dropped for a
   * watch when that watch's fresh read already said the same or newer.
   */
  private dispatch(channel: Channel, push: Push, held: boolean): void {
    const named = new Map<Watcher, Watch[]>();
    for (const id of push.ids) {
      const w = channel.byId.get(id);
      if (!w || !this.isWatched(w)) continue;
      const list = named.get(w.watcher) ?? [];
      if (!list.includes(w)) list.push(w);
      named.set(w.watcher, list);
    }
    for (const [watcher, watches] of named) {
      const changes: AciChange[] = [];
      for (const pushed of push.objects) {
        // A deletion of an object whose modTs is "never" carries no time: it gets the last known one.
        const known = watches.map((w) => w.known?.get(pushed.dn)?.stamp).find(Boolean);
        const o =
          pushed.status === 'deleted'
            ? { ...pushed, attributes: datedDeletion(pushed.attributes, known) }
            : pushed;
        const fresh = !held || watches.some((w) => this.isNews(channel, w, o));
        for (const w of watches) this.track(w, o);
        if (!fresh) continue;
        changes.push({
          ...o,
          reason: 'push',
          subscriptionIds: watches.map((w) => channel.subs.get(w)?.id as string),
          entries: watches.map((w) => w.entry.key),
          apic: channel.session.host,
        });
      }
      this.deliver(watcher, changes);
    }
  }

  /** Is a held push news for a watch that was just read? */
  private isNews(channel: Channel, w: Watch, o: AciObject): boolean {
    const gone = channel.resynced.get(w);
    if (!gone) return true;
    if (o.status === 'deleted') return !gone.has(o.dn);
    const known = w.known?.get(o.dn);
    return !known || isNewer(o.attributes, known.stamp);
  }

  /** Keeps the last known state current, for the comparison after a gap. */
  private track(w: Watch, o: AciObject): void {
    if (!w.known) return;
    if (o.status === 'deleted') w.known.delete(o.dn);
    else
      w.known.set(o.dn, {
        className: o.className,
        stamp:
          o.status === 'modified'
            ? updatedStamp(w.known.get(o.dn)?.stamp, o.attributes)
            : stampOf(o.attributes),
      });
    w.watcher.handlers.tracked?.(w.entry.key, o.dn, w.known.get(o.dn));
  }

  private deliver(watcher: Watcher, changes: AciChange[]): void {
    if (changes.length === 0 || this.watchers.get(watcher.key) !== watcher) return;
    try {
      watcher.handlers.changes(changes);
    } catch (err) {
      this.emit('handler-error', err);
    }
  }
}
