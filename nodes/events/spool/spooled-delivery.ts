/**
 * A Delivery fed from a spool on disk. An event counts as taken once it is
 * written (group commit, see SegmentLog); it leaves the spool when the sink has
 * acknowledged it or when it finally failed (and left by the dead-letter
 * output). Up to `window` events are held in memory and handed to the delivery
 * in order; the rest wait on disk and are read back as room appears. After a
 * restart, what is left in the spool is sent first, in order, then new events.
 * Events cut off by close() stay in the spool for the next start. A record that
 * cannot be read back is skipped and counted as dropped (`damaged`), never
 * retried: delivery goes on past it.
 */
import { EventEmitter } from 'node:events';
import { CodedError, errorMessage } from '../../common/errors';
import { Fifo } from '../../common/fifo';
import { CeCodes, type CloudEvent, toStructured } from '../cloudevent-model';
import {
  DeliveryCodes,
  type Delivery,
  type DeliveryResult,
  type DeliveryStats,
  type FullPolicy,
} from '../delivery';
import { type Entry, MAX_PAYLOAD, RECORD_OVERHEAD, SegmentLog, SpoolCodes } from './segment-log';

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

/** The event an entry holds, or undefined when it holds none (a record that is whole but not an event). */
function decode(payload: Buffer): SpooledEvent | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { ce?: CloudEvent; meta?: EventMeta };
    if (!parsed || typeof parsed.ce !== 'object' || parsed.ce === null) return undefined;
    return { ce: parsed.ce, meta: parsed.meta ?? {} };
  } catch {
    return undefined;
  }
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
 * that left by failure or were dropped for room, `damaged` (lost, CodedError)
 * for records that could not be read back (skipped and counted as dropped),
 * `locked` (CodedError) when another process took the folder over, `change`
 * (SpoolStats), `warning` (text).
 */
export class SpooledDelivery extends EventEmitter {
  /** Events written and not yet handed to the delivery, still in memory (not read back from disk). */
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
    delivery.on('change', () => this.changed());
  }

  /**
   * Opens the spool in `options.dir` and starts sending what it holds.
   * Rejects with CE_SPOOL_LOCKED while another process has the folder.
   */
  static async open(
    delivery: Delivery,
    options: SpoolOptions,
    onWarning?: (text: string) => void,
  ): Promise<SpooledDelivery> {
    // What the log reports once it runs goes to the spool made from it.
    const relay: { to?: SpooledDelivery } = {};
    const log = await SegmentLog.open(options.dir, {
      limitBytes: options.limitBytes,
      onWarning,
      onDamage: (lost, err) => relay.to?.damaged(lost, err),
      onLockLost: (err) => relay.to?.emit('locked', err),
    });
    const spooled = (relay.to = new SpooledDelivery(delivery, log, options));
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
    if (payload.length > MAX_PAYLOAD)
      throw this.tooFull(ce.id, 'is larger than one spool record may be (64 MiB)');
    if (!this.log.fits(payload.length) || this.waiters.length > 0 || this.admitting) {
      await this.makeRoom(payload.length, ce.id);
      if (this.closing) throw closed();
    }
    const written = this.log.append(payload);
    this.admitting = false;
    this.admit();
    this.writing++;
    const seq = await written.finally(() => this.writing--);
    // Kept in memory unless the cursor already read it back (or the memory window is full).
    if (this.fresh.size < this.options.window && !this.log.taken(seq)) this.fresh.set(seq, { ce, meta });
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

  /** Records the reader could not take: skipped, counted as dropped, never retried. */
  private damaged(lost: number, err: CodedError): void {
    this.dropped += lost;
    for (const seq of this.fresh.keys()) if (this.log.taken(seq)) this.fresh.delete(seq);
    this.emit('damaged', lost, err);
    this.changed();
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
      const [entry] = this.log.unread > 0 ? await this.log.next(1) : [];
      if (!entry) {
        // Older events still being written are the oldest: wait for them to be droppable.
        if (this.writing === 0) return false;
        await this.log.idle();
        continue;
      }
      const event = this.eventOf(entry);
      this.log.ack(entry.seq);
      if (!event) continue;
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

  /**
   * Hands events to the delivery in order while it has room, reading them back
   * from disk. A read that fails is a warning; the next kick tries again.
   */
  private async feed(): Promise<void> {
    if (this.feeding) return;
    this.feeding = true;
    try {
      while (!this.closing && this.log.unread > 0 && this.handed < this.options.window) {
        let entries: Entry[];
        try {
          entries = await this.log.next(Math.min(this.options.window - this.handed, 256));
        } catch (err) {
          this.emit('warning', `The spool could not be read: ${errorMessage(err)}`);
          return;
        }
        if (entries.length === 0) break;
        for (const entry of entries) {
          const event = this.eventOf(entry);
          if (event) this.send(entry.seq, event);
          else this.log.ack(entry.seq);
        }
      }
    } finally {
      this.feeding = false;
    }
  }

  /** The event of an entry: the one still in memory, or read from its record (damage when it is none). */
  private eventOf(entry: Entry): SpooledEvent | undefined {
    const kept = this.fresh.get(entry.seq);
    if (kept) {
      this.fresh.delete(entry.seq);
      return kept;
    }
    const event = decode(entry.payload);
    if (!event)
      this.damaged(
        1,
        new CodedError(SpoolCodes.DAMAGED, `Spool entry ${entry.seq} is whole but holds no event: skipped.`),
      );
    return event;
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
