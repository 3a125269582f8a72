/**
 * CloudEvents delivery over HTTP: an undici Pool with keep-alive, a bounded
 * queue with a concurrency limit, binary / structured / batch mode, retries
 * with exponential backoff and jitter that honour Retry-After (Knative's
 * contract: retry 404, 409, 429, 5xx and network errors; not 400 and other
 * 4xx), and 410 as "stop sending" (Webhook spec). Every event ends in a
 * resolved result or a rejected CodedError: none is dropped silently.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import { Backoff, retryAfterMs, sleep, type BackoffOptions } from '../common/backoff';
import { CodedError, classifyNetworkError, errorMessage } from '../common/errors';
import { excerpt } from '../common/http';
import type Dispatcher from 'undici/types/dispatcher';
import { tlsConnectOptions, type TlsSettings } from '../common/tls';
import { BATCH_TYPE, STRUCTURED_TYPE, type CloudEvent, batchOf, toBinary, toStructured } from './cloudevent';

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
  /** Policy "wait": events waiting for room in the queue, at most (default: queueLimit); beyond, CE_QUEUE_FULL. */
  waitLimit?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  onFull?: FullPolicy;
  /** Do the Webhook OPTIONS handshake before the first delivery. */
  handshake?: boolean;
  /** WebHook-Request-Origin for the handshake. */
  origin?: string;
  /** On close, how long queued and in-flight events may still be delivered (default 5 s). */
  closeGraceMs?: number;
}

/** What close() could not deliver. */
export interface CloseReport {
  lost: number;
  /** The first few of their ids. */
  ids: string[];
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
  /** The sink answered 410: nothing more is sent. */
  gone: boolean;
}

/** An event as it goes out: encoded once, when it is queued, so a bad one is refused at once. */
type Encoded = { headers: Record<string, string>; body: string | Buffer | undefined } | string;

interface Item {
  ce: CloudEvent;
  encoded: Encoded;
  resolve(result: DeliveryResult): void;
  reject(error: CodedError): void;
}

const RETRYABLE = (status: number) => status === 404 || status === 409 || status === 429 || status >= 500;

/** An error answer is read only this far (for the excerpt); a 50 MB error page is not buffered. */
const ERROR_BODY_BYTES = 4096;

/** The start of a response body as text; the rest is discarded (the connection then closes). */
async function readHead(body: Dispatcher.ResponseData['body'], max = ERROR_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= max) break; // leaving the loop destroys the stream
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/** One attempt's outcome: done, or a failure and whether another attempt may help. */
interface Attempt {
  status: number;
  failure?: CodedError;
  retryable: boolean;
  retryAfter?: number;
}

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
  /** Events that found the queue full (policy "wait"), in order; at most waitLimit. */
  private readonly waiters: Item[] = [];
  /** Cancels requests and retry waits at close; one listener per request in flight, removed after it. */
  private readonly abort = new AbortController();
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private handshaken: Promise<Attempt> | undefined;
  private handshakeDone = false;
  private gone: CodedError | undefined;
  /** No new events (close() was called); queued ones may still go out until the deadline. */
  private closed = false;
  /** The close deadline passed: everything still open fails. */
  private stopped = false;

  constructor(options: DeliveryOptions) {
    super();
    // Many requests in flight each listen on it: that is no leak, so no warning in the Node-RED log.
    setMaxListeners(0, this.abort.signal);
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
      gone: this.gone !== undefined,
    };
  }

  /**
   * Queues one event; resolves when it is delivered, rejects when it finally is
   * not (or cannot be encoded: CE_DATA_UNSERIALIZABLE, or finds no room: CE_QUEUE_FULL).
   */
  async send(ce: CloudEvent): Promise<DeliveryResult> {
    if (this.closed) {
      this.counts.failed++;
      this.changed();
      throw new CodedError(DeliveryCodes.CLOSED, `The delivery is closed: event ${ce.id} not sent.`);
    }
    if (this.gone) {
      this.counts.failed++;
      this.changed();
      throw new CodedError(
        DeliveryCodes.GONE,
        `The sink answered 410 Gone earlier and wants no more events: event ${ce.id} not sent (redeploy to try again).`,
        { status: 410 },
      );
    }
    let encoded: Encoded;
    try {
      encoded = this.options.mode === 'binary' ? toBinary(ce) : toStructured(ce);
    } catch (err) {
      this.counts.failed++;
      this.changed();
      throw err;
    }
    // Behind events already waiting for room, a new one waits too (first come, first sent).
    if (this.queue.length >= this.options.queueLimit || this.waiters.length > 0) {
      const { onFull, queueLimit } = this.options;
      const waitLimit = this.options.waitLimit ?? queueLimit;
      if (onFull === 'reject-new' || (onFull === 'wait' && this.waiters.length >= waitLimit)) {
        this.counts.dropped++;
        this.changed();
        throw new CodedError(
          DeliveryCodes.QUEUE_FULL,
          onFull === 'wait'
            ? `The queue is full (${queueLimit}) and ${waitLimit} more events wait for room: event ${ce.id} refused.`
            : `The queue is full (${queueLimit}): event ${ce.id} refused.`,
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
      } else {
        return new Promise<DeliveryResult>((resolve, reject) => {
          this.waiters.push({ ce, encoded, resolve, reject });
          this.changed();
        });
      }
    }
    return new Promise<DeliveryResult>((resolve, reject) => {
      this.queue.push({ ce, encoded, resolve, reject });
      this.pump();
    });
  }

  /**
   * Stops taking events and delivers what is queued, in flight or waiting for
   * room, for at most `closeGraceMs`; then aborts requests and retries, fails
   * what is left with CE_DELIVERY_CLOSED, and reports how many events that was.
   */
  async close(): Promise<CloseReport> {
    if (this.closed) return { lost: 0, ids: [] };
    this.closed = true;
    const lostIds: string[] = [];
    let lost = 0;
    const note = (ce: CloudEvent) => {
      lost++;
      if (lostIds.length < 5) lostIds.push(ce.id);
    };
    // A partial batch goes now, not after its linger time.
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.pump(true);
    const grace = this.options.closeGraceMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      const check = () => {
        if (this.inFlight === 0 && this.queue.length === 0 && this.waiters.length === 0) resolve();
      };
      this.on('idle', check);
      check();
      timer = setTimeout(resolve, grace);
    });
    await drained;
    clearTimeout(timer);
    this.removeAllListeners('idle');
    this.stopped = true;
    const error = new CodedError(DeliveryCodes.CLOSED, 'The flow stopped before the event was delivered.');
    for (const item of [...this.queue, ...this.waiters]) note(item.ce);
    this.failAll(error);
    this.onSettled = (items, failed) => {
      if (failed) for (const item of items) note(item.ce);
    };
    this.abort.abort(error);
    await this.pool.destroy().catch(() => undefined);
    while (this.inFlight > 0) await new Promise((r) => this.once('idle', r));
    this.onSettled = undefined;
    return { lost, ids: lostIds };
  }

  private changed(): void {
    this.emit('change', this.stats);
  }

  /** While close() aborts in-flight requests, it counts what they fail. */
  private onSettled: ((items: Item[], failed: boolean) => void) | undefined;

  private failAll(error: CodedError): void {
    for (const item of [...this.queue.splice(0), ...this.waiters.splice(0)]) {
      this.counts.failed++;
      item.reject(error);
    }
    this.changed();
  }

  /** Starts requests while there is room and work; batch mode waits `lingerMs` for a fuller batch. */
  private pump(now = false): void {
    const { mode, batchSize, lingerMs, concurrency } = this.options;
    while (!this.stopped && this.inFlight < concurrency && this.queue.length > 0) {
      if (mode === 'batch' && this.queue.length < batchSize && lingerMs > 0 && !now && !this.closed) {
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
    while (this.queue.length < this.options.queueLimit && this.waiters.length > 0)
      this.queue.push(this.waiters.shift() as Item);
    this.inFlight++;
    this.deliver(items)
      .catch((err: unknown) => {
        // deliver() settles its events itself; this is for a failure it did not foresee.
        const error = new CodedError(DeliveryCodes.FAILED, `Delivery failed: ${errorMessage(err)}`);
        this.counts.failed += items.length;
        for (const item of items) item.reject(error);
      })
      .finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0) this.emit('idle');
      });
  }

  private request(items: Item[]): { headers: Record<string, string>; body: string | Buffer | undefined } {
    const first = (items[0] as Item).encoded;
    if (typeof first !== 'string')
      return { headers: { ...this.headers, ...first.headers }, body: first.body };
    if (this.options.mode === 'structured') {
      return { headers: { ...this.headers, 'content-type': STRUCTURED_TYPE }, body: first };
    }
    return {
      headers: { ...this.headers, 'content-type': BATCH_TYPE },
      body: batchOf(items.map((i) => i.encoded as string)),
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
      this.onSettled?.(items, !!error);
      for (const item of items) {
        if (error) item.reject(error);
        else item.resolve(result);
      }
    };
    const { headers, body } = this.request(items);
    for (let attempt = 1; ; attempt++) {
      // The handshake is part of the attempt: a sink that is briefly down or busy gets
      // the same retries for its OPTIONS as for the events themselves.
      const outcome =
        this.options.handshake && !this.handshakeDone
          ? await this.handshake()
          : { status: 0, retryable: false };
      const { status, failure, retryable, retryAfter } = outcome.failure
        ? outcome
        : await this.post(headers, body);
      if (!failure) return settle(undefined, status, attempt);
      if (failure.details) (failure.details as { attempts?: number }).attempts = attempt;
      if (status === 410) {
        this.gone = failure;
        settle(failure, status, attempt);
        this.failAll(failure);
        this.emit('gone', failure);
        return;
      }
      if (!retryable) return settle(failure, status, attempt);
      const delay = Math.max(backoff.next(), retryAfter ?? 0);
      if (this.stopped || Date.now() - started + delay > budget) {
        const why = this.stopped ? 'the flow stopped' : `retries ran out after ${attempt} attempts`;
        return settle(
          new CodedError(
            this.stopped ? DeliveryCodes.CLOSED : DeliveryCodes.FAILED,
            `${failure.message} (${why}).`,
            {
              status,
              attempts: attempt,
            },
          ),
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
          new CodedError(DeliveryCodes.CLOSED, `${failure.message} (the flow stopped while retrying).`, {
            status,
            attempts: attempt,
          }),
          status,
          attempt,
        );
      }
    }
  }

  /** One POST of the events. */
  private async post(headers: Record<string, string>, body: string | Buffer | undefined): Promise<Attempt> {
    let res;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: this.url.pathname + this.url.search,
        headers,
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: this.abort.signal,
      });
    } catch (err) {
      return this.networkFailure(err);
    }
    const status = res.statusCode;
    const retryAfter = retryAfterMs(res.headers['retry-after']);
    if (status >= 200 && status < 300) {
      // Always consume: the socket goes back to the pool.
      await res.body.dump().catch(() => undefined);
      return { status, retryable: false };
    }
    const text = await readHead(res.body).catch(() => '');
    const failure = new CodedError(
      status === 410 ? DeliveryCodes.GONE : RETRYABLE(status) ? DeliveryCodes.FAILED : DeliveryCodes.REJECTED,
      status === 410
        ? `The sink answered 410 Gone: it wants no more events; delivery stopped. ${excerpt(text, 80)}`
        : `The sink answered ${status}${text ? `: ${excerpt(text, 120)}` : ''}`,
      { status },
    );
    return { status, failure, retryable: RETRYABLE(status), retryAfter };
  }

  private networkFailure(err: unknown): Attempt {
    if (this.abort.signal.aborted) {
      return {
        status: 0,
        failure: new CodedError(DeliveryCodes.CLOSED, 'The flow stopped while the request was in flight.'),
        retryable: false,
      };
    }
    const failure = classifyNetworkError(err, this.url.origin);
    // A certificate problem does not heal by retrying: say so now.
    return { status: 0, failure, retryable: !failure.code.startsWith('TLS_') };
  }

  /**
   * Webhook abuse protection: OPTIONS with WebHook-Request-Origin, shared by the
   * requests that need it at the same time, until it has succeeded once. A
   * network error or a retryable status is retried like a delivery;
   * CE_HANDSHAKE_FAILED is only for a sink that answers and refuses.
   */
  private handshake(): Promise<Attempt> {
    this.handshaken ??= (async (): Promise<Attempt> => {
      const origin = this.options.origin ?? 'node-red';
      let res;
      try {
        res = await this.pool.request({
          method: 'OPTIONS',
          path: this.url.pathname + this.url.search,
          headers: { ...this.headers, 'webhook-request-origin': origin },
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
          signal: this.abort.signal,
        });
      } catch (err) {
        const out = this.networkFailure(err);
        if (out.failure && out.retryable)
          out.failure = new CodedError(
            out.failure.code,
            `Webhook handshake: ${out.failure.message}`,
            out.failure.details,
          );
        return out;
      }
      const status = res.statusCode;
      const text = await readHead(res.body).catch(() => '');
      const allowed = String(res.headers['webhook-allowed-origin'] ?? '');
      if (status >= 200 && status < 300 && (allowed === '*' || allowed === origin)) {
        this.handshakeDone = true;
        return { status: 0, retryable: false };
      }
      if (RETRYABLE(status)) {
        return {
          status,
          retryable: true,
          retryAfter: retryAfterMs(res.headers['retry-after']),
          failure: new CodedError(
            DeliveryCodes.FAILED,
            `The sink answered ${status} to the webhook handshake (OPTIONS)${text ? `: ${excerpt(text, 80)}` : ''}`,
            { status },
          ),
        };
      }
      if (status === 410) {
        return {
          status,
          retryable: false,
          failure: new CodedError(
            DeliveryCodes.GONE,
            'The sink answered 410 Gone to the webhook handshake: it wants no events.',
            {
              status,
            },
          ),
        };
      }
      return {
        status,
        retryable: false,
        failure: new CodedError(
          DeliveryCodes.HANDSHAKE_FAILED,
          status >= 200 && status < 300
            ? `The sink did not allow this origin in the webhook handshake (allowed: "${excerpt(allowed, 60)}").`
            : `The sink refused the webhook handshake (OPTIONS answered ${status}${text ? `: ${excerpt(text, 80)}` : ''}).`,
          { status },
        ),
      };
    })().finally(() => {
      this.handshaken = undefined;
    });
    return this.handshaken;
  }
}
