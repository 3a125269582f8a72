/**
 * Missed-event recovery for one message-bus subscription. VCD's broker keeps
 * nothing for a client that is away (clean sessions only); the audit trail keeps
 * every event. A mark follows the newest event delivered, in VCD's own clock;
 * after a reconnect the audit records past the mark that fall under the topic
 * filter are read page by page, oldest first, and delivered once.
 *
 * The mark is bounded by VCD's clock as measured (the Date of its answers), not
 * by what events say of themselves: an event dated beyond it (a cell with a
 * wrong clock, a publisher on a matching topic) is delivered but moves nothing.
 */
import { getHeapStatistics } from 'node:v8';
import { Backoff } from '../common/backoff';
import { CodedError, errorMessage } from '../common/errors';
import { excerpt } from '../common/http';
import { timeMillis } from '../common/times';
import {
  auditTopic,
  isVcdAuditRecord,
  notificationFromAudit,
  type VcdAuditRecord,
} from '../events/decode/vcd-audit';
import { topicMatches } from './topics';

export const CatchUpCodes = {
  FAILED: 'VCD_CATCHUP_FAILED',
  /** Memory is short: the recovery stopped where it was, and goes on from there later. */
  PAUSED: 'VCD_CATCHUP_PAUSED',
  /** An audit record without the fields an event needs (its ids, type and time): skipped. */
  BAD_RECORD: 'VCD_CATCHUP_BAD_RECORD',
  /** After a restart, the missed events reach back further than the node may read. */
  TOO_OLD: 'VCD_CATCHUP_TOO_OLD',
} as const;

/** An authenticated OpenAPI GET (VcdSession.request). */
export type AuditRequest = (method: 'GET', path: string) => Promise<unknown>;

export interface CatchUpOptions {
  /** Records per page (VCD allows at most 128). */
  pageSize?: number;
  /**
   * Is memory short? Checked before each further page: a recovery reads on,
   * with no bound on how many records, while it is not (default: the heap
   * holds more than MEMORY_SHARE of what it may grow to).
   */
  memoryShort?: () => boolean;
  /** Event ids remembered to drop doubles between recovery and live delivery. */
  remember?: number;
  /** Retry of a failed recovery while connected. */
  retry?: { initialMs?: number; maxMs?: number };
  /** VCD's time now as measured (ms); undefined until measured, then this machine's clock stands in. */
  vcdNow?: () => number | undefined;
}

/**
 * How far an event's time may lie past VCD's measured time and still move the
 * mark: the Date header is cut to the second, and the cells of a VCD keep their
 * clocks within a fraction of one.
 */
export const CLOCK_SLACK_MS = 2000;

export interface CatchUpHandlers {
  /** A recovered event: the notification as the message bus would have sent it, and its topic. */
  deliver(topic: string, notification: Record<string, unknown>): void;
  /** Recovery failed or was cut short (it is retried, and nothing is lost twice), or a record was skipped. */
  failed(error: CodedError): void;
  /** A recovery under way (records read of the total VCD reports), or over (undefined). */
  progress?(state: { read: number; total?: number } | undefined): void;
}

interface AuditPage {
  values?: VcdAuditRecord[];
  pageCount?: number;
  resultTotal?: number;
}

const AUDIT = '/cloudapi/1.0.0/auditTrail';

/**
 * The share of the heap's limit (node --max-old-space-size) beyond which a
 * recovery pauses: what it reads leaves one page at a time, but the flow after
 * the node may hold what it sent.
 */
export const MEMORY_SHARE = 0.75;

/** Does the heap hold more than MEMORY_SHARE of its limit? */
export function heapShort(): boolean {
  const heap = getHeapStatistics();
  return heap.used_heap_size > heap.heap_size_limit * MEMORY_SHARE;
}

/** Whether a topic filter can match audit-trail events (publish/<org>/<user>; metrics cannot). */
export function catchUpApplies(filter: string): boolean {
  const first = filter.split('/')[0];
  return first === 'publish' || first === '+' || first === '#';
}

const optionalId = (ref: unknown) =>
  ref === undefined ||
  ref === null ||
  (typeof ref === 'object' && ['string', 'undefined'].includes(typeof (ref as { id?: unknown }).id));

/** What recovery needs of a record: string ids (URNs), a type and a time; anything else is skipped. */
function isWellFormed(record: unknown): record is VcdAuditRecord {
  if (!isVcdAuditRecord(record) || !/^[\w:.-]+$/.test(record.eventId)) return false;
  return [record.operatingOrg, record.user, record.eventEntity].every(optionalId);
}

export class MissedEvents {
  /** Newest event time delivered (ms, VCD's clock). */
  private mark: number | undefined;
  /** Where the unfinished recovery starts; set at a reconnect, cleared when read to the end. */
  private pendingSince: number | undefined;
  private readonly recent = new Set<string>();
  /** The newest audit record at the start: never recovered (it came before this node), but sent if it arrives live. */
  private beforeStart: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private grantedBefore = false;
  /** A pause for memory was told (to Catch) and the recovery is not over yet. */
  private pauseTold = false;
  private filter = '';
  private closed = false;

  constructor(
    private readonly request: AuditRequest,
    private readonly handlers: CatchUpHandlers,
    private readonly options: CatchUpOptions = {},
  ) {
    this.backoff = new Backoff({ initialMs: 30_000, maxMs: 300_000, ...options.retry });
  }

  /** A live event arrived. False when it was delivered already (by a recovery): drop it. */
  seen(eventId: unknown, timestamp: unknown): boolean {
    if (typeof eventId === 'string' && eventId) {
      if (this.recent.has(eventId)) return false;
      this.remember(eventId);
    }
    this.advance(timestamp);
    return true;
  }

  /**
   * The broker granted the filter. The first time, the newest audit record sets
   * the mark; every later time is a reconnect: read what was missed. Never
   * rejects: failures go to `failed`.
   */
  granted(filter: string): Promise<void> {
    this.filter = filter;
    if (!this.grantedBefore) {
      this.grantedBefore = true;
      return this.start();
    }
    this.pendingSince ??= this.mark;
    return this.run();
  }

  /**
   * The connection is gone: what comes from here on was missed. Fixing the mark
   * now matters because live events may arrive before the next SUBACK (MQTT
   * allows it, and another node's filter on the same connection may match them)
   * and would move the mark past what was missed.
   */
  disconnected(): void {
    if (this.grantedBefore) this.pendingSince ??= this.mark;
  }

  /**
   * Starts from a saved point instead of the newest record (a restart): the
   * first grant reads what came since, dropping the ids already delivered.
   */
  resumeFrom(since: number, delivered: Iterable<string>): void {
    this.mark = since;
    this.pendingSince = since;
    this.grantedBefore = true;
    for (const id of delivered) this.remember(id);
  }

  /** Where a recovery would start now: the open gap, else the newest event delivered (ms, VCD's clock). */
  resumePoint(): number | undefined {
    return this.pendingSince ?? this.mark;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  /** VCD's time now: as measured, else this machine's. */
  private vcdNow(): number {
    return this.options.vcdNow?.() ?? Date.now();
  }

  /**
   * The start: the newest audit record is the mark (or VCD's time, when the
   * trail is empty or its newest record lies beyond VCD's clock).
   */
  private async start(): Promise<void> {
    try {
      const page = (await this.request('GET', `${AUDIT}?page=1&pageSize=1&sortDesc=timestamp`)) as AuditPage;
      const newest = page?.values?.[0];
      if (!this.advance(newest?.timestamp)) this.advanceTo(this.vcdNow());
      // It happened before this node started: a recovery from the mark reads it again and skips it. Its
      // live message may still be on its way (published just before the subscription): that one goes out.
      if (isWellFormed(newest)) this.beforeStart = String(notificationFromAudit(newest).eventId);
    } catch (err) {
      // Without the newest record, VCD's time as measured at login (or this machine's) has to do.
      const measured = this.options.vcdNow?.() !== undefined;
      this.advanceTo(this.vcdNow());
      this.handlers.failed(
        new CodedError(
          CatchUpCodes.FAILED,
          `Could not read the VCD audit trail (${errorMessage(err)}); missed events are recovered from ` +
            (measured
              ? "VCD's time as measured at login."
              : "this machine's clock, which may differ from VCD's."),
        ),
      );
    }
  }

  /** One recovery at a time; a reconnect during one runs another after it. */
  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.retryTimer);
    this.running = this.recover()
      .then(
        () => {
          this.backoff.reset();
          this.pauseTold = false;
        },
        (err: unknown) => {
          const paused = (err as CodedError).code === CatchUpCodes.PAUSED;
          // A pause is told once until the recovery is over, not at every try while memory stays short.
          if (paused && !this.pauseTold) this.handlers.failed(err as CodedError);
          else if (!paused) {
            this.handlers.failed(
              new CodedError(
                CatchUpCodes.FAILED,
                `Could not read missed events from the VCD audit trail: ${errorMessage(err)}`,
              ),
            );
          }
          this.pauseTold ||= paused;
          this.retryLater();
        },
      )
      // A handler that throws must not leave a rejection nobody handles.
      .catch(() => undefined)
      .finally(() => {
        this.handlers.progress?.(undefined);
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.run().catch(() => undefined);
        }
      });
    return this.running;
  }

  private retryLater(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.run().catch(() => undefined);
    }, this.backoff.next());
    this.retryTimer.unref();
  }

  private async recover(): Promise<void> {
    const since = this.pendingSince;
    if (since === undefined || this.closed) return;
    const pageSize = Math.min(128, this.options.pageSize ?? 128);
    const memoryShort = this.options.memoryShort ?? heapShort;
    // ge, not gt: events of the same millisecond as the mark are read and dropped as doubles if seen.
    const filter = encodeURIComponent(`timestamp=ge=${new Date(since).toISOString()}`);
    let read = 0;
    let sent = 0;
    for (let page = 1; ; page++) {
      const path = `${AUDIT}?filter=${filter}&sortAsc=timestamp&page=${page}&pageSize=${pageSize}`;
      const answer = (await this.request('GET', path)) as AuditPage;
      const values = answer?.values ?? [];
      if (!Array.isArray(values)) throw new Error('the answer has no list of records ("values")');
      for (const record of values) {
        if (this.closed) return;
        read++;
        if (this.recovered(record)) sent++;
      }
      this.handlers.progress?.({ read, total: answer?.resultTotal });
      if (values.length === 0 || page >= (answer.pageCount ?? page)) break;
      // No bound on how many: the records read leave a page at a time. Only short memory stops it, for now.
      if (memoryShort()) throw this.paused(sent, read, answer.resultTotal);
    }
    // A reconnect during this recovery opened a gap after the pages read: the run after it reads from here.
    if (!this.again) this.pendingSince = undefined;
  }

  /** The recovery stops where it is (its place kept: pendingSince) and goes on after the retry's wait. */
  private paused(sent: number, read: number, total: number | undefined): CodedError {
    const left = Math.max(0, (total ?? read) - read);
    return new CodedError(
      CatchUpCodes.PAUSED,
      `Recovering missed events paused after ${sent} sent: memory is short (the heap holds more than ` +
        `${Math.round(MEMORY_SHARE * 100)}% of its limit). About ${left} audit records are left; the ` +
        'recovery goes on from where it stopped once memory allows.',
      { sent, left },
    );
  }

  /** Sends one record unless it is a double, not under the filter or malformed; true if sent. */
  private recovered(record: VcdAuditRecord): boolean {
    if (!isWellFormed(record)) {
      // Skipped, not retried: reading it again would fail again, for ever.
      this.progressTo((record as { timestamp?: unknown })?.timestamp);
      this.handlers.failed(
        new CodedError(
          CatchUpCodes.BAD_RECORD,
          `Skipped an audit record without a well-formed eventId, eventType, timestamp or ids: ${excerpt(record, 120)}`,
        ),
      );
      return false;
    }
    const topic = auditTopic(record);
    const notification = notificationFromAudit(record);
    const id = notification.eventId as string | undefined;
    this.advance(record.timestamp);
    this.progressTo(record.timestamp);
    if (!topicMatches(this.filter, topic) || (id && (this.recent.has(id) || id === this.beforeStart)))
      return false;
    if (id) this.remember(id);
    this.handlers.deliver(topic, notification);
    return true;
  }

  /**
   * Progress is kept record by record (not the mark, which live events move too): a failure resumes here.
   * A record dated beyond VCD's clock counts at VCD's time: whatever comes after it is not skipped.
   */
  private progressTo(timestamp: unknown): void {
    const t = timeMillis(timestamp);
    if (t !== undefined) this.pendingSince = Math.min(t, this.vcdNow());
  }

  /** Moves the mark to an event's time if it is later and not beyond VCD's clock; false when it is not a time or beyond. */
  private advance(timestamp: unknown): boolean {
    const t = timeMillis(timestamp);
    if (t === undefined || t > this.vcdNow() + CLOCK_SLACK_MS) return false;
    this.advanceTo(t);
    return true;
  }

  private advanceTo(t: number): void {
    if (this.mark === undefined || t > this.mark) this.mark = t;
  }

  private remember(id: string): void {
    this.recent.add(id);
    const limit = this.options.remember ?? 5000;
    // A Set iterates in insertion order: the first is the oldest.
    if (this.recent.size > limit) this.recent.delete(this.recent.values().next().value as string);
  }
}
