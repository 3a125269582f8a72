/**
 * Subscribing and reading an entry's current state, page by page: APIC
 * replays nothing, so every (re)subscription reads what is there now (a log
 * only from a time: log-window.ts). Each page is handed on as it comes, so a
 * read costs the memory of one page, however many objects the entry has.
 * Pages are sorted by dn where the answer holds one class, so objects that
 * change while they are paged do not shift the pages.
 */
import { CodedError } from '../../common/errors';
import { entryUrl, orderClass, type WatchEntry } from '../entries';
import { ApicCodes, type ApicAnswer, type ApicSession } from '../session';
import type { Connection } from './connection';
import { floorFilter } from './log-window';
import { toAciObject } from './push';
import type { AciObject } from './types';

export { orderClass } from '../entries';

/** Reads of one subscription's state when objects keep coming and going while it is paged. */
const MAX_READS = 3;

/** What a read is handed: one page of objects, and how far it has come (objects read, of the total). */
export type PageHandler = (objects: AciObject[], read: number, total: number) => void | Promise<void>;

export class PageReader {
  /** Sort page reads with order-by, until an APIC refuses it with a subscription. */
  private sorted = true;

  constructor(
    private readonly pageSize: number,
    private readonly debug: (text: string) => void,
  ) {}

  /**
   * page, page-size and, when the entry's result has one class, order-by=<class>.dn
   * so pages stay put; with a floor (a log), only the records created from then on.
   */
  private pageParams(
    entry: WatchEntry,
    page: number,
    options: { sorted?: boolean; size?: number; floor?: string } = {},
  ): Record<string, string> {
    const size = options.size ?? this.pageSize;
    const params: Record<string, string> = { page: String(page), 'page-size': String(size) };
    const cls = (options.sorted ?? this.sorted) ? orderClass(entry) : undefined;
    if (cls) params['order-by'] = `${cls}.dn`;
    if (options.floor) params['query-target-filter'] = floorFilter(entry, options.floor);
    return params;
  }

  /**
   * Subscribes to an entry: its first page, with subscription=yes (`size`: of
   * another page size, 1 when the answer is not read). Resolves with the
   * answer and its id.
   */
  async subscribe(
    session: ApicSession,
    entry: WatchEntry,
    timeoutSec: number,
    size?: number,
  ): Promise<{ first: ApicAnswer; id: string }> {
    const request = (sorted = this.sorted) =>
      session.get(
        entryUrl(session.host, entry, {
          subscription: 'yes',
          'refresh-timeout': String(timeoutSec),
          ...this.pageParams(entry, 0, { sorted, size }),
        }),
      );
    let first: ApicAnswer;
    try {
      first = await request();
    } catch (err) {
      // No source shows order-by together with subscription=yes: an APIC that refuses
      // the pair gets unsorted pages from now on (the re-read on a changed totalCount remains).
      const sorted = this.sorted && orderClass(entry) !== undefined;
      if (!sorted || (err as CodedError).details?.status !== 400) throw err;
      first = await request(false); // refused again: the entry itself is wrong
      this.sorted = false;
      this.debug(`${session.host} refused order-by with a subscription; reading pages unsorted`);
    }
    if (!first.subscriptionId) {
      throw new CodedError(
        ApicCodes.NOT_APIC,
        `${session.host} answered a subscription to ${entry.key} without a subscriptionId.`,
      );
    }
    return { first, id: first.subscriptionId };
  }

  /**
   * Reads the current state page by page until a short or empty page, handing
   * each page on as it comes (`first`: the subscription's answer, when it is
   * the first page of this read). Objects created or deleted meanwhile shift
   * the pages (one can be read twice or skipped), which a change of
   * totalCount shows: then it reads again, a few times at most (what a page
   * said before, the handler has heard). The next page is asked for before
   * this one is handed on (one request ahead); `between` runs before it is
   * taken. False when the connection ended before the read did.
   */
  async readPages(
    connection: Connection,
    entry: WatchEntry,
    first: ApicAnswer | undefined,
    floor: string | undefined,
    between: () => Promise<void>,
    onPage: PageHandler,
  ): Promise<boolean> {
    const { session } = connection;
    const read = (page: number) =>
      session.get(entryUrl(session.host, entry, this.pageParams(entry, page, { floor })));
    for (let pass = 1; ; pass++) {
      let answer = pass === 1 && first ? first : await read(0);
      const totals = new Set([answer.totalCount]);
      let seen = 0;
      for (let page = 1; ; page++) {
        // A short page is the end; an APIC that does not page would answer the same page forever.
        const last = answer.imdata.length < this.pageSize || seen + answer.imdata.length >= answer.totalCount;
        // The next page is asked for while this one is worked on: the APIC's work and ours overlap.
        const next = last ? undefined : read(page);
        next?.catch(() => undefined); // awaited below, or abandoned with the connection
        const objects = answer.imdata.map(toAciObject).filter((o): o is AciObject => o !== undefined);
        seen += objects.length;
        await onPage(objects, seen, answer.totalCount);
        if (connection.done) return false;
        if (!next) break;
        await between();
        if (connection.done) return false;
        const following = await next;
        if (samePage(following, answer)) break;
        answer = following;
        totals.add(answer.totalCount);
      }
      if (totals.size === 1 || pass >= MAX_READS) return true;
      this.debug(
        `${entry.key} changed while it was read (${[...totals].join(' → ')} objects); reading again`,
      );
    }
  }
}

/** Does a page hold the same objects as the one before (an APIC that ignores page)? */
function samePage(a: ApicAnswer, b: ApicAnswer): boolean {
  if (a.imdata.length === 0 || a.imdata.length !== b.imdata.length) return false;
  const dn = (answer: ApicAnswer, i: number) => toAciObject(answer.imdata[i]!)?.dn;
  return dn(a, 0) === dn(b, 0) && dn(a, a.imdata.length - 1) === dn(b, b.imdata.length - 1);
}
