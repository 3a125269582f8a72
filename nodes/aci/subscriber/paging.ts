/**
 * Subscribing and reading an entry's whole current state, page by page: APIC
 * replays nothing, so every (re)subscription reads what is there now. Pages are
 * sorted by dn where the answer holds one class, so objects that change while
 * they are paged do not shift the pages.
 */
import { CodedError } from '../../common/errors';
import { entryUrl, type WatchEntry } from '../entries';
import { ApicCodes, type ApicAnswer, type ApicSession } from '../session';
import type { Connection } from './connection';
import { toAciObject } from './push';
import type { AciObject } from './types';

const MAX_PAGES = 10_000;
/** Reads of one subscription's state when objects keep coming and going while it is paged. */
const MAX_READS = 3;

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

export class PageReader {
  /** Sort page reads with order-by, until an APIC refuses it with a subscription. */
  private sorted = true;

  constructor(
    private readonly pageSize: number,
    private readonly debug: (text: string) => void,
  ) {}

  /** page, page-size and, when the entry's result has one class, order-by=<class>.dn so pages stay put. */
  private pageParams(entry: WatchEntry, page: number, sorted = this.sorted): Record<string, string> {
    const params: Record<string, string> = { page: String(page), 'page-size': String(this.pageSize) };
    const cls = sorted ? orderClass(entry) : undefined;
    if (cls) params['order-by'] = `${cls}.dn`;
    return params;
  }

  /** Subscribes to an entry: its first page, with subscription=yes. Resolves with the answer and its id. */
  async subscribe(
    session: ApicSession,
    entry: WatchEntry,
    timeoutSec: number,
  ): Promise<{ first: ApicAnswer; id: string }> {
    const request = (sorted = this.sorted) =>
      session.get(
        entryUrl(session.host, entry, {
          subscription: 'yes',
          'refresh-timeout': String(timeoutSec),
          ...this.pageParams(entry, 0, sorted),
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
   * Reads the whole current state, page by page, until a short or empty page.
   * Objects created or deleted meanwhile shift the pages (one can be read
   * twice or skipped), which a change of totalCount shows: then it reads
   * again, a few times at most. `between` runs before each further request;
   * `progress` hears of every page (objects read, of the total) and the end.
   * Undefined when the connection ended.
   */
  async readAll(
    connection: Connection,
    entry: WatchEntry,
    first: ApicAnswer,
    between: () => Promise<void>,
    progress: (read: number, total: number, done: boolean) => void,
  ): Promise<AciObject[] | undefined> {
    const { session } = connection;
    const read = (page: number) => session.get(entryUrl(session.host, entry, this.pageParams(entry, page)));
    for (let pass = 1; ; pass++) {
      const byDn = new Map<string, AciObject>();
      let answer = pass === 1 ? first : await read(0);
      const totals = new Set([answer.totalCount]);
      for (let page = 1; ; page++) {
        const before = byDn.size;
        for (const o of answer.imdata.map(toAciObject)) if (o) byDn.set(o.dn, o);
        progress(byDn.size, answer.totalCount, false);
        // A page with nothing new: the end, or an APIC that does not page (it would answer the same forever).
        if (answer.imdata.length < this.pageSize || byDn.size === before || page >= MAX_PAGES) break;
        await between();
        if (connection.done) return undefined;
        answer = await read(page);
        totals.add(answer.totalCount);
      }
      if (connection.done) return undefined;
      if (totals.size === 1 || pass >= MAX_READS) {
        progress(byDn.size, answer.totalCount, true);
        return [...byDn.values()];
      }
      this.debug(
        `${entry.key} changed while it was read (${[...totals].join(' → ')} objects); reading again`,
      );
    }
  }
}
