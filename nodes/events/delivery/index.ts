/**
 * CloudEvents delivery over HTTP: a bounded queue with a concurrency limit,
 * binary / structured / batch mode, retries with exponential backoff and
 * jitter that honour Retry-After, and 410 as "stop sending". Every event ends
 * in a resolved result or a rejected CodedError: none is dropped silently.
 * The requests themselves, and what the sink's answers mean, are in sink.ts;
 * several deliveries may share one Sink.
 *
 * Events: `change` (stats) as counts move; `retrying` (error) whenever an
 * attempt failed and will be tried again, `recovered` (how long attempts
 * failed) when a request succeeds after that; `gone` (error) when the sink
 * answered 410.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { Backoff, sleep } from '../../common/backoff';
import { CodedError, errorMessage } from '../../common/errors';
import { Fifo } from '../../common/fifo';
import {
  BATCH_TYPE,
  STRUCTURED_TYPE,
  type CloudEvent,
  batchOf,
  toBinary,
  toStructured,
} from '../cloudevent-model';
import { Sink, type Attempt } from './sink';
import {
  DeliveryCodes,
  type CloseReport,
  type DeliveryOptions,
  type DeliveryResult,
  type DeliveryStats,
} from './types';

export * from './types';

/** An event as it goes out: encoded once, when it is queued, so a bad one is refused at once. */
type Encoded = { headers: Record<string, string>; body: string | Buffer | undefined } | string;

interface Item {
  ce: CloudEvent;
  encoded: Encoded;
  /** When send() took it (performance.now()). */
  at: number;
  resolve(result: DeliveryResult): void;
  reject(error: CodedError): void;
}

export class Delivery extends EventEmitter {
  private readonly options: Required<
    Pick<
      DeliveryOptions,
      'mode' | 'batchSize' | 'lingerMs' | 'timeoutMs' | 'queueLimit' | 'concurrency' | 'onFull'
    >
  > &
    DeliveryOptions;
  private readonly sink: Sink;
  /** The sink was made for this delivery (and goes with it), not shared. */
  private readonly ownsSink: boolean;
  /** Since when attempts fail (undefined: the last one succeeded). */
  private failingSince: number | undefined;
  private readonly queue = new Fifo<Item>();
  /** Events that found the queue full (policy "wait"), in order; at most waitLimit. */
  private readonly waiters = new Fifo<Item>();
  /** Cancels requests and retry waits at close; one listener per request in flight, removed after it. */
  private readonly abort = new AbortController();
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private handshaken: Promise<Attempt> | undefined;
  private gone: CodedError | undefined;
  /** No new events (close() was called); queued ones may still go out until the deadline. */
  private closed = false;
  /** The close deadline passed: everything still open fails. */
  private stopped = false;

  /**
   * `sink`: a sink shared with other deliveries (a cloudevent-sink config
   * node's); without it, the delivery makes its own from `options`.
   */
  constructor(options: DeliveryOptions, sink?: Sink) {
    super();
    // Every request in flight and every retry waiting for its time listens on it: no leak, so no warning.
    setMaxListeners(0, this.abort.signal);
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
    this.ownsSink = !sink;
    // Its own sink keeps no more connections than the delivery has requests at once.
    this.sink =
      sink ?? new Sink({ connections: this.options.concurrency, ...this.options, url: options.url ?? '' });
  }

  /** Attempts fail and are retried (until one succeeds). */
  get failing(): boolean {
    return this.failingSince !== undefined;
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
    const at = performance.now();
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
          this.waiters.push({ ce, encoded, at, resolve, reject });
          this.changed();
        });
      }
    }
    return new Promise<DeliveryResult>((resolve, reject) => {
      this.queue.push({ ce, encoded, at, resolve, reject });
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
    if (this.ownsSink) await this.sink.close();
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
    for (const item of [...this.queue.drain(), ...this.waiters.drain()]) {
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
    const items = this.queue.take(this.options.mode === 'batch' ? this.options.batchSize : 1);
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
    if (typeof first !== 'string') return { headers: this.sink.headersWith(first.headers), body: first.body };
    if (this.options.mode === 'structured') {
      return { headers: this.sink.headersWith({ 'content-type': STRUCTURED_TYPE }), body: first };
    }
    return {
      headers: this.sink.headersWith({ 'content-type': BATCH_TYPE }),
      body: batchOf(items.map((i) => i.encoded as string)),
    };
  }

  /** Ends a request's events: each resolved with the result, or rejected with the error. */
  private settle(items: Item[], started: number, attempts: number, status: number, error?: CodedError): void {
    const result = { status, attempts, latencyMs: Date.now() - started, events: items.length };
    if (error) this.counts.failed += items.length;
    else this.counts.delivered += items.length;
    const onDelivered = error ? undefined : this.options.onDelivered;
    if (onDelivered) {
      const now = performance.now();
      for (const item of items) onDelivered(now - item.at);
    }
    this.onSettled?.(items, !!error);
    for (const item of items) {
      if (error) item.reject(error);
      else item.resolve(result);
    }
  }

  /** Sends a request's events until they are delivered, refused, or out of retries. */
  private async deliver(items: Item[]): Promise<void> {
    const started = Date.now();
    const budget = this.options.retry?.budgetMs ?? 300_000;
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, ...this.options.retry });
    const { headers, body } = this.request(items);
    for (let attempt = 1; ; attempt++) {
      const { status, failure, retryable, retryAfter } = await this.attempt(headers, body);
      const settle = (error?: CodedError) => this.settle(items, started, attempt, status, error);
      if (!failure) {
        settle();
        return this.succeeded();
      }
      if (failure.details) (failure.details as { attempts?: number }).attempts = attempt;
      if (status === 410) {
        this.gone = failure;
        settle(failure);
        this.failAll(failure);
        this.emit('gone', failure);
        return;
      }
      if (!retryable) return settle(failure);
      const delay = Math.max(backoff.next(), retryAfter ?? 0);
      if (this.stopped || Date.now() - started + delay > budget) {
        const why = this.stopped ? 'the flow stopped' : `retries ran out after ${attempt} attempts`;
        const code = this.stopped ? DeliveryCodes.CLOSED : DeliveryCodes.FAILED;
        return settle(new CodedError(code, `${failure.message} (${why}).`, { status, attempts: attempt }));
      }
      this.counts.retries++;
      this.retrying(failure);
      this.changed();
      try {
        await sleep(delay, this.abort.signal);
      } catch {
        const message = `${failure.message} (the flow stopped while retrying).`;
        return settle(new CodedError(DeliveryCodes.CLOSED, message, { status, attempts: attempt }));
      }
    }
  }

  /** An attempt failed and will be tried again. */
  private retrying(failure: CodedError): void {
    this.failingSince ??= Date.now();
    this.emit('retrying', failure);
  }

  /** A request succeeded: after failures, `recovered` (with how long they lasted). */
  private succeeded(): void {
    if (this.failingSince === undefined) return;
    const failedMs = Date.now() - this.failingSince;
    this.failingSince = undefined;
    this.emit('recovered', failedMs);
  }

  /**
   * One attempt: the handshake first while the sink has not accepted one (a
   * sink that is briefly down or busy gets the same retries for its OPTIONS as
   * for the events themselves), then the POST.
   */
  private async attempt(
    headers: Record<string, string>,
    body: string | Buffer | undefined,
  ): Promise<Attempt> {
    if (this.sink.wantsHandshake && !this.sink.handshaken) {
      const outcome = await this.handshake();
      if (outcome.failure) return outcome;
    }
    return this.sink.post(headers, body, this.abort.signal);
  }

  /** The Webhook handshake, shared by this delivery's requests that need it at the same time. */
  private handshake(): Promise<Attempt> {
    this.handshaken ??= this.sink.handshake(this.abort.signal).finally(() => {
      this.handshaken = undefined;
    });
    return this.handshaken;
  }
}
