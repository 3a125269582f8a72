/**
 * ACI push notifications for every node of one controller: one session and
 * one WebSocket (wss://<apic>/socket<token>, opened before any subscription,
 * pinged by the client) carry all subscriptions. A socket close, a refused
 * token or a failed session refresh means a new login (the next APIC when one
 * fails), a new socket and every subscription again; what changed while away
 * is found by comparing the new answers with the last known state, because
 * APIC replays nothing. Subscriptions are refreshed one id per call, each
 * well before its deadline; a refresh that fails resubscribes that one.
 *
 * This file holds the public API and the orchestration; each job has a file:
 * socket.ts, push.ts, subscription-refresh.ts (all refresh timing), paging.ts,
 * resync.ts, fan-out.ts, failures.ts; the reconnect loop is common/reconnect-loop.ts.
 */
import { EventEmitter } from 'node:events';
import type { RawData } from 'ws';
import { Backoff } from '../../common/backoff';
import { CodedError, toCoded } from '../../common/errors';
import { ReconnectLoop, type ConnectionEnd, type ConnectionState } from '../../common/reconnect-loop';
import type { WatchEntry } from '../entries';
import { ApicCodes, isNetworkFailure, type ApicCluster } from '../session';
import { Connection, type EndReason } from './connection';
import {
  connectionError,
  endsConnection,
  isRefusal,
  needsPerson,
  passingBackoff,
  postpone,
  refuse,
} from './failures';
import { ChangeBatch, fanOut } from './fan-out';
import { PageReader } from './paging';
import { parsePush, type Push } from './push';
import {
  newRecipientEntry,
  Recipients,
  settleWaiters,
  type Recipient,
  type RecipientEntry,
} from './recipients';
import { EntryRead } from './entry-read';
import { openSocket, watchSocket } from './socket';
import {
  newSubscription,
  nextRefreshAt,
  refreshDue,
  subscriptionTimeoutSec,
  type BatchSlot,
  type RefreshContext,
} from './subscription-refresh';
import {
  SubscriptionCodes,
  type StateInfo,
  type SubscriberOptions,
  type WatchHandlers,
  type WatchOptions,
} from './types';

export * from './types';

/** Held objects handed over between two turns of the event loop after a sync. */
const HELD_SLICE = 500;

/** How one session ended, and on which APIC. */
interface SessionEnd extends ConnectionEnd, EndReason {
  host?: string;
}

/**
 * Events: `state` (ConnectionState, StateInfo) on every change; `synced` after
 * subscriptions were (re)made; `subscription-refreshed` (id); `resubscribing`
 * (entry key); `debug` (text); `handler-error` (error) when a handler throws.
 */
export class ApicSubscriber extends EventEmitter {
  readonly cluster: ApicCluster;
  private readonly options: SubscriberOptions;
  private readonly recipients = new Recipients();
  private readonly loop: ReconnectLoop<SessionEnd>;
  private readonly authBackoff: Backoff;
  /** Between retries of a throttled subscription on a live connection. */
  private readonly throttleBackoff: Backoff;
  private readonly pages: PageReader;
  /** What subscription refreshes and entry retries need of the subscriber. */
  private readonly refreshing: RefreshContext;
  private readonly handlerError = (err: unknown) => this.emit('handler-error', err);
  private readonly logouts = new Set<Promise<void>>();
  private connection: Connection | undefined;
  private everConnected = false;
  private currentState: ConnectionState = 'idle';
  private info: StateInfo = {};

  constructor(options: SubscriberOptions) {
    super();
    this.options = options;
    this.cluster = options.cluster;
    this.throttleBackoff = passingBackoff(options.backoff);
    this.authBackoff = new Backoff({ initialMs: 600_000, maxMs: 1_800_000, ...options.authBackoff });
    this.pages = new PageReader(options.pageSize ?? 1000, (text) => this.emit('debug', text));
    this.refreshing = {
      passingBackoff: () => passingBackoff(options.backoff),
      emit: (event, text) => this.emit(event, text),
    };
    this.loop = new ReconnectLoop<SessionEnd>({
      connect: (signal) => this.connectOnce(signal),
      failed: (err) => ({ connectedMs: 0, error: toCoded(err, this.cluster.preferredHost) }),
      ended: (end) => this.afterEnd(end),
      backoff: options.backoff,
      stableMs: options.stableMs,
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get stateInfo(): StateInfo {
    return this.info;
  }

  /** The APIC of the live connection, if any. */
  get host(): string | undefined {
    return this.connection?.host;
  }

  /** Aborted when the subscriber stops; each connection listens to it until it ends. */
  get signal(): AbortSignal {
    return this.loop.signal;
  }

  /** Subscription ids of a recipient on the live connection (entry key → id). */
  subscriptionIds(key: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.recipients.get(key)?.entries.values() ?? []) {
      const subscription = this.connection?.subscriptions.get(e);
      if (subscription) out[e.entry.key] = subscription.id;
    }
    return out;
  }

  /** Adds (or replaces) a recipient with its entries and starts the connection if needed. */
  add(key: string, entries: WatchEntry[], handlers: WatchHandlers, options: WatchOptions): void {
    this.remove(key);
    this.recipients.add(key, entries, handlers, options);
    this.connection?.wake();
    this.start();
  }

  /** Removes a recipient; its subscriptions are no longer refreshed and lapse on the APIC. */
  remove(key: string): void {
    const recipient = this.recipients.delete(key);
    for (const e of recipient?.entries.values() ?? []) this.forget(e);
  }

  /**
   * Changes a recipient's entries at run time. Resolves when the new ones are
   * subscribed on the live connection (at once when there is none: they are
   * subscribed at connect); rejects when the APIC refuses one, which is then
   * dropped again.
   */
  async update(key: string, add: WatchEntry[], remove: WatchEntry[]): Promise<void> {
    const recipient = this.recipients.get(key);
    if (!recipient) throw new CodedError(ApicCodes.CLOSED, 'This node is not connected to its controller.');
    for (const entry of remove) {
      const e = recipient.entries.get(entry.key);
      if (e) {
        recipient.entries.delete(entry.key);
        this.forget(e);
      }
    }
    const added: RecipientEntry[] = [];
    for (const entry of add) {
      if (recipient.entries.has(entry.key)) continue;
      const e = newRecipientEntry(recipient, entry);
      recipient.entries.set(entry.key, e);
      added.push(e);
    }
    if (this.connection) await this.read(this.connection, added);
  }

  /**
   * Reads a recipient's entries again and sends what changed since the last
   * read (reason `resync`), as after a reconnect: each is subscribed anew (the
   * old subscription is no longer refreshed and lapses on the APIC). Resolves
   * when all are read (at once without a connection: the next one reads them
   * anyway); rejects as `update` does. Entries the APIC refused wait for the
   * next login.
   */
  async resync(key: string): Promise<void> {
    const recipient = this.recipients.get(key);
    if (!recipient) throw new CodedError(ApicCodes.CLOSED, 'This node is not connected to its controller.');
    const connection = this.connection;
    if (!connection) return;
    const entries = [...recipient.entries.values()].filter((e) => !connection.refused.has(e));
    for (const e of entries) connection.drop(e);
    await this.read(connection, entries);
  }

  /** Waits until entries are subscribed and read (or the connection ends); their refusals reject. */
  private async read(connection: Connection, entries: RecipientEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const results = entries.map(
      (e) => new Promise<CodedError | undefined>((resolve) => e.waiters.push(resolve)),
    );
    connection.wake();
    const errors = (await Promise.all(results)).filter((e): e is CodedError => e !== undefined);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new CodedError(SubscriptionCodes.SUBSCRIBE_REFUSED, errors.map((e) => e.message).join(' '));
    }
  }

  /** Entries a recipient has now (after run-time changes). */
  entries(key: string): WatchEntry[] {
    return [...(this.recipients.get(key)?.entries.values() ?? [])].map((e) => e.entry);
  }

  get size(): number {
    return this.recipients.size;
  }

  start(): void {
    this.loop.start();
  }

  /** Closes the socket, logs out and stops reconnecting. */
  async stop(): Promise<void> {
    await this.loop.stop(new CodedError(ApicCodes.CLOSED, 'stopped'), () => this.connection?.end({}));
    await Promise.all([...this.logouts]);
    this.everConnected = false;
    this.setState('closed', {});
  }

  /** Cuts the live socket (it recovers as after any loss). */
  dropConnection(): void {
    this.connection?.ws.terminate();
  }

  private setState(state: ConnectionState, info: StateInfo): void {
    const same = state === this.currentState && info.host === this.info.host && !info.error;
    this.info = info;
    this.currentState = state;
    if (!same) this.emit('state', state, info);
  }

  private forget(e: RecipientEntry): void {
    this.connection?.drop(e);
    settleWaiters(e);
  }

  /** After a session ended: shows the state it leaves and says how long to wait (undefined: the backoff's). */
  private afterEnd(end: SessionEnd): number | undefined {
    // A black-holed APIC (timeouts) is skipped at the next login.
    if (end.host && end.error && isNetworkFailure(end.error)) this.cluster.failover(end.host);
    const stuck = needsPerson(end.error);
    this.setState(stuck ? 'auth-failed' : this.everConnected ? 'reconnecting' : 'connecting', {
      host: end.host ?? this.cluster.preferredHost,
      error: end.error,
    });
    if (end.immediate) return 0;
    if (!stuck) return undefined;
    // A refused login needs a person; trying often only risks the APIC's lockout policy.
    const wait = this.authBackoff.next();
    this.emit('debug', `${end.error?.message} Trying again in ${Math.round(wait / 1000)} s.`);
    return wait;
  }

  /** One session from login to its end; resolves with why it ended. */
  private async connectOnce(signal: AbortSignal): Promise<SessionEnd> {
    if (this.currentState === 'idle' || this.currentState === 'closed') {
      this.setState('connecting', { host: this.cluster.preferredHost });
    }
    const session = await this.cluster.login(signal);
    this.authBackoff.reset();
    session.start();
    const startedAt = Date.now();
    let connection: Connection | undefined;
    try {
      const ws = await openSocket(session, { ...this.options, outbound: this.cluster.outbound }, signal);
      connection = new Connection(session, ws);
      this.wire(connection, signal);
      this.connection = connection;
      this.everConnected = true;
      this.setState('connected', { host: session.host });
      const live = connection;
      this.work(live).catch((err: unknown) => live.end({ error: toCoded(err, live.host) }));
      const reason = await connection.ended;
      return { ...reason, connectedMs: Date.now() - startedAt, host: session.host };
    } catch (err) {
      return { error: toCoded(err, session.host), connectedMs: 0, host: session.host };
    } finally {
      connection?.end({});
      connection?.ws.terminate();
      if (this.connection === connection) this.connection = undefined;
      for (const e of this.recipients.allEntries()) settleWaiters(e);
      const logout = session.logout().finally(() => this.logouts.delete(logout));
      this.logouts.add(logout);
    }
  }

  /** Ends the connection when its session is lost or ages, the subscriber stops, or the socket goes. */
  private wire(connection: Connection, signal: AbortSignal): void {
    const { session, host } = connection;
    session.on('lost', (error: CodedError) => connection.end({ error }));
    session.on('aging', () => {
      this.emit('debug', `the session on ${host} nears its maximum lifetime: logging in afresh`);
      connection.end({ immediate: true });
    });
    session.on('debug', (text: string) => this.emit('debug', text));
    // Removed when the connection ends: a listener per session would keep every old connection alive.
    const onAbort = () => connection.end({});
    signal.addEventListener('abort', onAbort, { once: true });
    connection.onEnd(() => signal.removeEventListener('abort', onAbort));
    watchSocket(connection, this.options.pingIntervalMs ?? 30_000, (data) =>
      this.onMessage(connection, data),
    );
  }

  /** Subscribes what is missing and refreshes what is due, one request at a time (a failure ends the connection). */
  private async work(connection: Connection): Promise<void> {
    while (!connection.done) {
      // Refreshes first: a subscription that falls due must not wait behind new ones.
      await refreshDue(connection, this.refreshing);
      if (connection.done) break;
      const now = Date.now();
      const pending = this.recipients
        .allEntries()
        .filter((e) => !connection.subscriptions.has(e) && !connection.refused.has(e));
      const ready =
        now < connection.pausedUntil ? [] : pending.filter((e) => (connection.retry.get(e)?.at ?? 0) <= now);
      if (ready.length > 0) {
        await this.sync(connection, ready);
        continue;
      }
      // Sleep until the next refresh, or until a waiting entry may be tried again.
      let wake = nextRefreshAt(connection);
      for (const e of pending) {
        wake = Math.min(wake, Math.max(connection.pausedUntil, connection.retry.get(e)?.at ?? 0));
      }
      await connection.idle(Number.isFinite(wake) ? wake - now : undefined);
    }
  }

  /**
   * Subscribes a batch of entries while holding pushes, reads their current
   * state page by page, sending snapshots or what changed since the last
   * known state as each page comes, then releases the held pushes (minus what
   * the reads already said).
   */
  private async sync(connection: Connection, batch: RecipientEntry[]): Promise<void> {
    connection.held ??= [];
    const perRecipient = new Map<Recipient, number>();
    for (const e of batch) perRecipient.set(e.recipient, (perRecipient.get(e.recipient) ?? 0) + 1);
    const changes = new ChangeBatch([...perRecipient].filter(([, n]) => n > 1).map(([r]) => r));
    try {
      const start = Date.now();
      for (const [index, e] of batch.entries()) {
        if (connection.done) return;
        if (!this.recipients.has(e)) continue;
        if (!(await this.trySubscribe(connection, e, changes, { start, index, count: batch.length }))) return;
      }
      this.emit('synced', connection.subscriptions.size);
    } finally {
      changes.deliver(this.recipients, this.handlerError);
      await this.release(connection);
    }
  }

  /**
   * Hands over the pushes held during a sync (minus what the reads already
   * said), a slice per turn of the event loop: a long read may have held
   * thousands. Pushes that come meanwhile queue behind them, in order.
   */
  private async release(connection: Connection): Promise<void> {
    const held: Push[] = connection.held ?? [];
    let objects = 0;
    for (let i = 0; i < held.length; i++) {
      const push = held[i] as Push;
      fanOut(connection, push, true, this.recipients, this.handlerError);
      objects += push.objects.length;
      if (objects < HELD_SLICE) continue;
      objects = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    connection.held = undefined;
    connection.resynced.clear();
  }

  /** Subscribes one entry, applying the failure policy; false when the APIC throttles (stop the batch). */
  private async trySubscribe(
    connection: Connection,
    e: RecipientEntry,
    changes: ChangeBatch,
    slot: BatchSlot,
  ): Promise<boolean> {
    try {
      await refreshDue(connection, this.refreshing);
      await this.subscribe(connection, e, changes, slot);
      this.throttleBackoff.reset();
      connection.retry.delete(e);
    } catch (err) {
      const error = toCoded(err, connection.host);
      if (endsConnection(error)) throw connectionError(error, connection.host);
      if (error.code === ApicCodes.THROTTLED) {
        // The whole APIC is busy: no more subscribing for a while (what is missing is picked up then).
        this.emit('debug', error.message);
        connection.pausedUntil = Date.now() + this.throttleBackoff.next();
        return false;
      }
      if (isRefusal(error)) refuse(connection, e, error);
      else postpone(connection, e, error, this.refreshing);
    }
    return true;
  }

  /** Subscribes one entry and reads its current state: snapshots, or what changed since the last read. */
  private async subscribe(
    connection: Connection,
    e: RecipientEntry,
    changes: ChangeBatch,
    slot: BatchSlot,
  ): Promise<void> {
    const timeoutSec = subscriptionTimeoutSec(e, connection.session);
    // A log's subscription answer is not read (its records are read from a time): one object of it.
    const { first, id } = await this.pages.subscribe(
      connection.session,
      e.entry,
      timeoutSec,
      e.log ? 1 : undefined,
    );
    if (!this.recipients.has(e) || connection.done) return;
    connection.subscribed(e, newSubscription(id, timeoutSec, slot));
    const progress = e.recipient.handlers.progress;
    let complete: boolean;
    try {
      const read = new EntryRead(connection, e, changes);
      complete = await this.pages.readPages(
        connection,
        e.entry,
        read.log ? undefined : first,
        read.floor,
        () => this.pause(connection),
        (objects, done, total) => {
          read.page(objects);
          changes.deliver(this.recipients, this.handlerError);
          progress?.(e.entry, done, total, false);
        },
      );
      // Cut short by the end of the connection: keep the last full state for the next comparison.
      if (!complete || !this.recipients.has(e)) return;
      await read.finish(() => this.pause(connection));
      changes.deliver(this.recipients, this.handlerError);
      progress?.(e.entry, e.known?.size ?? 0, e.known?.size ?? 0, true);
    } catch (err) {
      // Half read: let this subscription lapse and make it again later, with a full read.
      connection.drop(e);
      throw err;
    }
    settleWaiters(e);
  }

  /** Between pages: subscriptions due are refreshed, and everything else waiting gets a turn. */
  private async pause(connection: Connection): Promise<void> {
    await refreshDue(connection, this.refreshing);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private onMessage(connection: Connection, data: RawData): void {
    const text = data.toString();
    let push: Push;
    try {
      push = parsePush(text);
    } catch (err) {
      for (const recipient of this.recipients.all()) recipient.handlers.invalid?.(err as CodedError, text);
      return;
    }
    if (connection.held) connection.held.push(push);
    else fanOut(connection, push, false, this.recipients, this.handlerError);
  }
}
