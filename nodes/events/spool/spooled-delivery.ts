/**
 * A Delivery fed from a spool on disk. An event counts as taken once it is
 * written (group commit, see SegmentLog); it leaves the spool when the sink has
 * acknowledged it or when it finally failed (and left by the dead-letter
 * output). Up to `window` events are held in memory and handed to the delivery
 * in order; the rest wait on disk and are read back as room appears. After a
 * restart, what is left in the spool is sent first, in order, then new events.
 * Events cut off by close() stay in the spool for the next start.
 */
import { EventEmitter } from 'node:events';
import { CodedError, errorMessage } from '../../common/errors';
import { Fifo } from '../../common/fifo';
import { CeCodes, type CloudEvent, toStructured } from '../cloudevent';
import {
  DeliveryCodes,
  type Delivery,
  type DeliveryResult,
  type DeliveryStats,
  type FullPolicy,
} from '../delivery';
import { RECORD_OVERHEAD, SegmentLog } from './segment-log';

/** What an output message keeps of the input message that brought the event. */
export interface EventMeta {
  _msgid?: string;
  topic?: string;
}

export interface SpooledEvent {
  ce: CloudEvent;
  meta: EventMeta;
}

export interface SpoolOptions {
  dir: string;
  limitBytes: number;
  /** Events held in memory: handed to the delivery or ready for it. */
  window: number;
  onFull: FullPolicy;
}

export interface SpoolStats extends DeliveryStats {
  /** Events in the spool (taken, not yet acknowledged or failed). */
  spooled: number;
  spooledBytes: number;
}

interface Waiter {
  size: number;
  resolve(): void;
  reject(err: CodedError): void;
}

function decode(payload: Buffer | undefined): SpooledEvent | undefined {
  if (!payload) return undefined;
  const parsed = JSON.parse(payload.toString('utf8')) as { ce: CloudEvent; meta?: EventMeta };
  return { ce: parsed.ce, meta: parsed.meta ?? {} };
}

/** The event as it is kept on disk: its JSON format (the encoder's errors are the node's errors), plus meta. */
function serialize(ce: CloudEvent, meta: EventMeta): Buffer {
  let json: string;
  try {
    json = toStructured(ce);
  } catch (err) {
    if (err instanceof CodedError) throw err;
    throw new CodedError(CeCodes.INVALID, `Event ${ce.id} cannot be written as JSON: ${errorMessage(err)}`);
  }
  return Buffer.from(`{"ce":${json},"meta":${JSON.stringify(meta)}}`, 'utf8');
}

/**
 * Events: `delivered` (event, result), `failed` (event, CodedError) for events
 * that left by failure or were dropped for room, `change` (SpoolStats),
 * `warning` (text).
 */
export class SpooledDelivery extends EventEmitter {
  /** Sequence numbers on disk not yet handed to the delivery, oldest first. */
  private readonly backlog: Fifo<number>;
  /** Events of the backlog still in memory (not read back from disk). */
  private readonly fresh = new Map<number, SpooledEvent>();
  private readonly waiters = new Fifo<Waiter>();
  private handed = 0;
  /** Events being written (not yet in the backlog). */
  private writing = 0;
  private dropped = 0;
  private feeding = false;
  private closing = false;
  /** A waiter was let in and has not reserved its room yet. */
  private admitting = false;
  /** Drops for room run one at a time, so concurrent events do not drop more than they need. */
  private dropping: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly delivery: Delivery,
    private readonly log: SegmentLog,
    private readonly options: SpoolOptions,
  ) {
    super();
    this.backlog = new Fifo(log.sequence());
    delivery.on('change', () => this.changed());
  }

  /** Opens the spool in `options.dir` and starts sending what it holds. */
  static async open(
    delivery: Delivery,
    options: SpoolOptions,
    onWarning?: (text: string) => void,
  ): Promise<SpooledDelivery> {
    const log = await SegmentLog.open(options.dir, { limitBytes: options.limitBytes, onWarning });
    const spooled = new SpooledDelivery(delivery, log, options);
    spooled.kick();
    return spooled;
  }

  get stats(): SpoolStats {
    const s = this.delivery.stats;
    return {
      ...s,
      waiting: s.waiting + this.waiters.length,
      dropped: s.dropped + this.dropped,
      spooled: this.log.count,
      spooledBytes: this.log.bytes,
    };
  }

  /** Resolves once the event is on disk; rejects when the spool has no room for it (policy `onFull`). */
  async take(ce: CloudEvent, meta: EventMeta): Promise<void> {
    const closed = () =>
      new CodedError(DeliveryCodes.CLOSED, `The delivery is closed: event ${ce.id} not taken.`);
    if (this.closing) throw closed();
    const payload = serialize(ce, meta);
    if (!this.log.fits(payload.length) || this.waiters.length > 0 || this.admitting) {
      await this.makeRoom(payload.length, ce.id);
      if (this.closing) throw closed();
    }
    const written = this.log.append(payload);
    this.admitting = false;
    this.admit();
    this.writing++;
    const seq = await written.finally(() => this.writing--);
    if (this.fresh.size < this.options.window) this.fresh.set(seq, { ce, meta });
    this.backlog.push(seq);
    this.changed();
    this.kick();
  }

  /**
   * Stops taking events, lets the delivery finish what it can (its close
   * grace), and closes the spool: what was not acknowledged stays on disk.
   * `lost`: events that were waiting for room and never reached the spool.
   */
  async close(): Promise<{ kept: number; lost: number }> {
    if (this.closing) return { kept: this.log.count, lost: 0 };
    this.closing = true;
    const error = new CodedError(DeliveryCodes.CLOSED, 'The flow stopped before the event was taken.');
    const lost = this.waiters.length;
    for (const w of this.waiters.drain()) w.reject(error);
    await this.delivery.close();
    while (this.handed > 0) await new Promise((resolve) => this.once('settled', resolve));
    await this.log.close();
    return { kept: this.log.count, lost };
  }

  /** Closes and removes the spool's files (the node was deleted). */
  async destroy(): Promise<void> {
    await this.close();
    await this.log.destroy();
  }

  private changed(): void {
    this.emit('change', this.stats);
  }

  private tooFull(id: string, why: string): CodedError {
    this.dropped++;
    this.changed();
    const mb = Math.round((this.options.limitBytes / 1024 / 1024) * 10) / 10;
    return new CodedError(DeliveryCodes.QUEUE_FULL, `The spool is full (${mb} MB): event ${id} ${why}.`);
  }

  private async makeRoom(size: number, id: string): Promise<void> {
    if (size + RECORD_OVERHEAD > this.options.limitBytes)
      throw this.tooFull(id, 'is larger than the whole spool');
    if (this.options.onFull === 'reject-new') throw this.tooFull(id, 'refused');
    if (this.options.onFull === 'drop-oldest') {
      const made = this.dropping.then(() => this.dropUntilFits(size));
      this.dropping = made.catch(() => undefined);
      if (!(await made)) throw this.tooFull(id, 'refused (every event in it is being sent)');
      return;
    }
    if (this.waiters.length >= this.options.window)
      throw this.tooFull(id, 'refused (too many events wait for room)');
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ size, resolve, reject });
      this.changed();
      this.admit();
    });
  }

  /** Lets the first waiter in once its event fits (one at a time: it reserves its room when it appends). */
  private admit(): void {
    const first = this.waiters.peek();
    if (!first || this.admitting || !this.log.fits(first.size)) return;
    this.waiters.shift();
    this.admitting = true;
    first.resolve();
  }

  /** Drops the oldest events not yet handed to the delivery until `size` fits; each leaves as failed. */
  private async dropUntilFits(size: number): Promise<boolean> {
    while (!this.log.fits(size)) {
      const seq = this.backlog.shift();
      if (seq === undefined) {
        // Older events still being written are the oldest: wait for them to be droppable.
        if (this.writing === 0) return false;
        await this.log.idle();
        continue;
      }
      const event = this.fresh.get(seq) ?? decode((await this.log.read([seq])).get(seq));
      this.fresh.delete(seq);
      if (!this.log.ack(seq) || !event) continue;
      this.dropped++;
      this.emit(
        'failed',
        event,
        new CodedError(
          DeliveryCodes.DROPPED,
          `The spool was full: event ${event.ce.id} dropped for a newer one.`,
        ),
      );
    }
    return true;
  }

  /** Feeds the delivery now; a failure feed() did not foresee is a warning, and the next event tries again. */
  private kick(): void {
    this.feed().catch((err: unknown) =>
      this.emit('warning', `The spool could not be read: ${errorMessage(err)}`),
    );
  }

  /** Hands events to the delivery in order while it has room, reading them back from disk where needed. */
  private async feed(): Promise<void> {
    if (this.feeding) return;
    this.feeding = true;
    try {
      while (!this.closing && this.backlog.length > 0 && this.handed < this.options.window) {
        const seqs = this.backlog.take(Math.min(this.options.window - this.handed, 256));
        const cold = seqs.filter((seq) => !this.fresh.has(seq));
        let read: Map<number, Buffer> | undefined;
        try {
          read = cold.length > 0 ? await this.log.read(cold) : undefined;
        } catch (err) {
          this.backlog.putBack(seqs);
          this.emit('warning', `The spool could not be read: ${errorMessage(err)}`);
          return;
        }
        for (const seq of seqs) this.handOver(seq, read);
      }
    } finally {
      this.feeding = false;
    }
  }

  private handOver(seq: number, read: Map<number, Buffer> | undefined): void {
    let event = this.fresh.get(seq);
    this.fresh.delete(seq);
    try {
      event ??= decode(read?.get(seq));
    } catch (err) {
      this.log.ack(seq);
      this.emit('warning', `A spooled event could not be read and was skipped: ${errorMessage(err)}`);
      return;
    }
    if (event) this.send(seq, event);
  }

  private send(seq: number, event: SpooledEvent): void {
    this.handed++;
    this.delivery
      .send(event.ce)
      .then(
        (result: DeliveryResult) => {
          this.finish(seq);
          this.emit('delivered', event, result);
        },
        (err: CodedError) => {
          // Cut off by close(): it stays in the spool and goes first at the next start.
          if (err.code === DeliveryCodes.CLOSED) return;
          this.finish(seq);
          this.emit('failed', event, err);
        },
      )
      .catch((err: unknown) => this.emit('warning', `cloudevent emit: ${errorMessage(err)}`))
      .finally(() => {
        this.handed--;
        this.emit('settled');
        this.changed();
        this.kick();
      });
  }

  private finish(seq: number): void {
    this.log.ack(seq);
    this.admit();
  }
}
