/**
 * CloudEvents delivery over HTTP: an undici Pool with keep-alive, a bounded
 * queue with a concurrency limit, binary / structured / batch mode, retries
 * with exponential backoff and jitter that honour Retry-After (Knative's
 * contract: retry 404, 409, 429, 5xx and network errors; not 400 and other
 * 4xx), and 410 as "stop sending" (Webhook spec). Every event ends in a
 * resolved result or a rejected CodedError: none is dropped silently.
 */
import { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import { Backoff, retryAfterMs, sleep, type BackoffOptions } from '../common/backoff';
import { CodedError, classifyNetworkError } from '../common/errors';
import { excerpt } from '../common/http';
import { tlsConnectOptions, type TlsSettings } from '../common/tls';
import { BATCH_TYPE, STRUCTURED_TYPE, type CloudEvent, toBatch, toBinary, toStructured } from './cloudevent';

export const DeliveryCodes = {
  CONFIG_INVALID: 'CE_CONFIG_INVALID',
  REJECTED: 'CE_DELIVERY_REJECTED',
  FAILED: 'CE_DELIVERY_FAILED',
  GONE: 'CE_SINK_GONE',
  QUEUE_FULL: 'CE_QUEUE_FULL',
  DROPPED: 'CE_DROPPED',
  CLOSED: 'CE_DELIVERY_CLOSED',
  HANDSHAKE_FAILED: 'CE_HANDSHAKE_FAILED',
} as const;

export type DeliveryMode = 'binary' | 'structured' | 'batch';
export type FullPolicy = 'wait' | 'drop-oldest' | 'reject-new';

export interface DeliveryAuth {
  type: 'none' | 'bearer' | 'basic';
  token?: string;
  username?: string;
  password?: string;
}

export interface DeliveryOptions {
  url: string;
  mode?: DeliveryMode;
  /** Batch mode: events per request, and how long a partial batch waits for more. */
  batchSize?: number;
  lingerMs?: number;
  headers?: Record<string, string>;
  auth?: DeliveryAuth;
  tls?: TlsSettings;
  /** Per request (headers and body). */
  timeoutMs?: number;
  /** Backoff between attempts, and how long one event may keep retrying in all. */
  retry?: BackoffOptions & { budgetMs?: number };
  /** Events waiting to be sent (not counting those in requests). */
  queueLimit?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  onFull?: FullPolicy;
  /** Do the Webhook OPTIONS handshake before the first delivery. */
  handshake?: boolean;
  /** WebHook-Request-Origin for the handshake. */
  origin?: string;
}

export interface DeliveryResult {
  status: number;
  attempts: number;
  latencyMs: number;
  /** Events in the request (1, or the batch size). */
  events: number;
}

export interface DeliveryStats {
  queued: number;
  inFlight: number;
  waiting: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

interface Item {
  ce: CloudEvent;
  resolve(result: DeliveryResult): void;
  reject(error: CodedError): void;
}

const RETRYABLE = (status: number) => status === 404 || status === 409 || status === 429 || status >= 500;

export class Delivery extends EventEmitter {
  private readonly options: Required<
    Pick<
      DeliveryOptions,
      'mode' | 'batchSize' | 'lingerMs' | 'timeoutMs' | 'queueLimit' | 'concurrency' | 'onFull'
    >
  > &
    DeliveryOptions;
  private readonly url: URL;
  private readonly pool: Pool;
  private readonly headers: Record<string, string>;
  private readonly queue: Item[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private handshaken: Promise<void> | undefined;
  private gone: CodedError | undefined;
  private closed = false;

  constructor(options: DeliveryOptions) {
    super();
    try {
      this.url = new URL(options.url);
    } catch {
      throw new CodedError(DeliveryCodes.CONFIG_INVALID, `"${options.url}" is not a URL.`);
    }
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new CodedError(DeliveryCodes.CONFIG_INVALID, 'The sink URL must start with https:// or http://.');
    }
    this.options = {
      mode: 'binary',
      batchSize: 10,
      lingerMs: 50,
      timeoutMs: 10_000,
      queueLimit: 1000,
      concurrency: 4,
      onFull: 'wait',
      ...options,
    };
    this.headers = { ...options.headers };
    const auth = options.auth;
    if (auth?.type === 'bearer' && auth.token) this.headers.authorization = `Bearer ${auth.token}`;
    if (auth?.type === 'basic' && auth.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    }
    this.pool = new Pool(this.url.origin, {
      connections: this.options.concurrency,
      keepAliveTimeout: 30_000,
      connect: { ...tlsConnectOptions(options.tls ?? {}), timeout: this.options.timeoutMs },
    });
  }

  get stats(): DeliveryStats {
    return {
      queued: this.queue.length,
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      ...this.counts,
    };
  }

  /** Queues one event; resolves when it is delivered, rejects when it finally is not. */
  async send(ce: CloudEvent): Promise<DeliveryResult> {
    if (this.closed) throw new CodedError(DeliveryCodes.CLOSED, 'The delivery is closed.');
    if (this.gone) throw this.gone;
    while (this.queue.length >= this.options.queueLimit) {
      if (this.options.onFull === 'reject-new') {
        this.counts.dropped++;
        this.changed();
        throw new CodedError(
          DeliveryCodes.QUEUE_FULL,
          `The queue is full (${this.options.queueLimit}): event ${ce.id} refused.`,
        );
      }
      if (this.options.onFull === 'drop-oldest') {
        const oldest = this.queue.shift() as Item;
        this.counts.dropped++;
        oldest.reject(
          new CodedError(
            DeliveryCodes.DROPPED,
            `The queue was full: event ${oldest.ce.id} dropped for a newer one.`,
          ),
        );
        break;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        this.changed();
      });
      if (this.closed)
        throw new CodedError(DeliveryCodes.CLOSED, 'The delivery closed while the event waited.');
    }
    return new Promise<DeliveryResult>((resolve, reject) => {
      this.queue.push({ ce, resolve, reject });
      this.pump();
    });
  }

  /**
   * Stops: waiting and queued events are rejected with CE_DELIVERY_CLOSED,
   * retries stop, requests in flight finish (each within its timeout).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lingerTimer);
    this.abort.abort(new CodedError(DeliveryCodes.CLOSED, 'The delivery closed.'));
    this.failAll(new CodedError(DeliveryCodes.CLOSED, 'The delivery closed before the event was sent.'));
    for (const wake of this.waiters.splice(0)) wake();
    while (this.inFlight > 0) await new Promise((r) => this.once('idle', r));
    await this.pool.close();
  }

  private changed(): void {
    this.emit('change', this.stats);
  }

  private failAll(error: CodedError): void {
    for (const item of this.queue.splice(0)) {
      this.counts.failed++;
      item.reject(error);
    }
    this.changed();
  }

  /** Starts requests while there is room and work; batch mode waits `lingerMs` for a fuller batch. */
  private pump(): void {
    const { mode, batchSize, lingerMs, concurrency } = this.options;
    while (!this.closed && this.inFlight < concurrency && this.queue.length > 0) {
      if (mode === 'batch' && this.queue.length < batchSize && lingerMs > 0) {
        this.lingerTimer ??= setTimeout(() => {
          this.lingerTimer = undefined;
          this.flush();
        }, lingerMs);
        break;
      }
      this.flush();
    }
    this.changed();
  }

  private flush(): void {
    if (this.queue.length === 0 || this.inFlight >= this.options.concurrency) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const items = this.queue.splice(0, this.options.mode === 'batch' ? this.options.batchSize : 1);
    for (let i = 0; i < items.length; i++) this.waiters.shift()?.();
    this.inFlight++;
    void this.deliver(items).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) this.emit('idle');
      this.pump();
    });
  }

  private request(items: Item[]): { headers: Record<string, string>; body: string | Buffer | undefined } {
    if (this.options.mode === 'binary') {
      const { headers, body } = toBinary((items[0] as Item).ce);
      return { headers: { ...this.headers, ...headers }, body };
    }
    if (this.options.mode === 'structured') {
      return {
        headers: { ...this.headers, 'content-type': STRUCTURED_TYPE },
        body: toStructured((items[0] as Item).ce),
      };
    }
    return {
      headers: { ...this.headers, 'content-type': BATCH_TYPE },
      body: toBatch(items.map((i) => i.ce)),
    };
  }

  private async deliver(items: Item[]): Promise<void> {
    const started = Date.now();
    const budget = this.options.retry?.budgetMs ?? 300_000;
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, ...this.options.retry });
    const settle = (error?: CodedError, status = 0, attempts = 0) => {
      const result = { status, attempts, latencyMs: Date.now() - started, events: items.length };
      if (error) this.counts.failed += items.length;
      else this.counts.delivered += items.length;
      for (const item of items) {
        if (error) item.reject(error);
        else item.resolve(result);
      }
    };
    try {
      if (this.options.handshake) await this.handshake();
    } catch (err) {
      return settle(err as CodedError);
    }
    const { headers, body } = this.request(items);
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let retryAfter: number | undefined;
      let failure: CodedError | undefined;
      try {
        const res = await this.pool.request({
          method: 'POST',
          path: this.url.pathname + this.url.search,
          headers,
          body,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
        status = res.statusCode;
        retryAfter = retryAfterMs(res.headers['retry-after']);
        const text = await res.body.text(); // always consume: the socket goes back to the pool
        if (status >= 200 && status < 300) return settle(undefined, status, attempt);
        failure = new CodedError(
          status === 410
            ? DeliveryCodes.GONE
            : RETRYABLE(status)
              ? DeliveryCodes.FAILED
              : DeliveryCodes.REJECTED,
          status === 410
            ? `The sink answered 410 Gone: it wants no more events; delivery stopped. ${excerpt(text, 80)}`
            : `The sink answered ${status}${text ? `: ${excerpt(text, 120)}` : ''}`,
          { status, attempts: attempt },
        );
      } catch (err) {
        failure = classifyNetworkError(err, this.url.origin);
        // A certificate problem does not heal by retrying: say so now.
        if (failure.code.startsWith('TLS_')) return settle(failure, 0, attempt);
      }
      if (status === 410) {
        this.gone = failure;
        settle(failure, status, attempt);
        this.failAll(failure);
        this.emit('gone', failure);
        return;
      }
      if (status && !RETRYABLE(status)) return settle(failure, status, attempt);
      const delay = Math.max(backoff.next(), retryAfter ?? 0);
      if (this.closed || Date.now() - started + delay > budget) {
        const why = this.closed ? 'the delivery closed' : `retries ran out after ${attempt} attempts`;
        return settle(
          new CodedError(DeliveryCodes.FAILED, `${failure.message} (${why}).`, { status, attempts: attempt }),
          status,
          attempt,
        );
      }
      this.counts.retries++;
      this.changed();
      try {
        await sleep(delay, this.abort.signal);
      } catch {
        return settle(
          new CodedError(DeliveryCodes.CLOSED, `${failure.message} (the delivery closed while retrying).`),
          status,
          attempt,
        );
      }
    }
  }

  /** Webhook abuse protection: OPTIONS with WebHook-Request-Origin, once (again after a failure). */
  private handshake(): Promise<void> {
    this.handshaken ??= (async () => {
      const origin = this.options.origin ?? 'node-red';
      let res;
      try {
        res = await this.pool.request({
          method: 'OPTIONS',
          path: this.url.pathname + this.url.search,
          headers: { ...this.headers, 'webhook-request-origin': origin },
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
      } catch (err) {
        throw classifyNetworkError(err, this.url.origin);
      }
      await res.body.text();
      const allowed = String(res.headers['webhook-allowed-origin'] ?? '');
      if (res.statusCode >= 300 || (allowed !== '*' && allowed !== origin)) {
        throw new CodedError(
          DeliveryCodes.HANDSHAKE_FAILED,
          `The sink did not allow this origin in the webhook handshake (${res.statusCode}, allowed: "${allowed}").`,
          { status: res.statusCode },
        );
      }
    })().catch((err: CodedError) => {
      this.handshaken = undefined;
      throw err;
    });
    return this.handshaken;
  }
}
