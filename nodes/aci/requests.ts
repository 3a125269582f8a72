/**
 * What an aci-request node asks of an APIC: a class or DN query with the same
 * checked options as aci subscribe (entries.ts), read page by page (sorted by
 * dn where the answer holds one class, as the subscriber reads), and
 * configuration posts to one DN, such as acknowledging a fault or tagging an
 * object. Plain TypeScript; no Node-RED import.
 */
import { CodedError } from '../common/errors';
import { isRecord } from '../common/guards';
import { RequestCodes } from '../common/request-guard';
import { ENTRY_INVALID, entryUrl, parseEntry, type WatchEntry } from './entries';
import type { ApicRest } from './rest-client';
import { ApicCodes, type ApicMo } from './session';
import { orderClass } from './subscriber/paging';

/** Largest configuration post (APIC's own limit is far above what one object needs). */
const MAX_POST_BYTES = 1024 * 1024;

export interface QueryPage {
  /** 0-based, as APIC counts. */
  page: number;
  pageCount: number;
  totalCount: number;
  objects: ApicMo[];
  host: string;
}

/** The class or DN a message or node names, checked as aci subscribe checks its entries. */
export function requestTarget(text: unknown): WatchEntry {
  if (typeof text !== 'string' || !text.trim()) {
    throw new CodedError(
      ENTRY_INVALID,
      'Give the class or DN to ask, e.g. fvBD or uni/tn-prod?query-target=subtree.',
    );
  }
  return parseEntry(text);
}

/** path?query of an entry with the node's own parameters. */
function pathOf(entry: WatchEntry, extra: Record<string, string> = {}): string {
  const url = entryUrl('https://apic', entry, extra);
  return url.pathname + url.search;
}

/**
 * Every page of a query, in order (page-size objects each, at most
 * `maxPages`), until a short page; CodedError APIC_TOO_MANY_PAGES beyond.
 */
export async function* queryPages(
  rest: ApicRest,
  entry: WatchEntry,
  pageSize = 1000,
  maxPages = 1000,
): AsyncGenerator<QueryPage> {
  const cls = orderClass(entry);
  for (let page = 0; ; page++) {
    const params: Record<string, string> = { page: String(page), 'page-size': String(pageSize) };
    if (cls) params['order-by'] = `${cls}.dn`;
    const answer = await rest.call('GET', pathOf(entry, params));
    const pageCount = Math.max(1, Math.ceil(answer.totalCount / pageSize));
    yield { page, pageCount, totalCount: answer.totalCount, objects: answer.imdata, host: answer.host };
    if (answer.imdata.length < pageSize || page + 1 >= pageCount) return;
    if (page + 1 >= maxPages) {
      throw new CodedError(
        ApicCodes.TOO_MANY_PAGES,
        `${entry.key} has ${pageCount} pages; this node reads ${maxPages} at most.`,
        {
          pageCount,
        },
      );
    }
  }
}

/**
 * A configuration post to one DN: `payload` is one object named by its class
 * (`{"faultInst": {"attributes": {"ack": "yes"}}}`), for that DN (a `dn` in
 * it must be that DN or below it). Returns the APIC's answer.
 */
export async function postConfig(rest: ApicRest, entry: WatchEntry, payload: unknown) {
  if (entry.kind !== 'dn' || entry.options.length > 0) {
    throw new CodedError(
      ENTRY_INVALID,
      `A configuration post goes to one DN without options, not ${entry.key}.`,
    );
  }
  const mo = typeof payload === 'string' ? parseJson(payload) : payload;
  const [className, body] = (isRecord(mo) && Object.keys(mo).length === 1 ? Object.entries(mo)[0] : []) as [
    string?,
    unknown?,
  ];
  if (!isRecord(body) || !/^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$/.test(className ?? '')) {
    throw new CodedError(
      RequestCodes.BODY_INVALID,
      'msg.payload must be one APIC object named by its class, e.g. {"faultInst": {"attributes": {"ack": "yes"}}}.',
    );
  }
  const dn = isRecord(body.attributes) ? body.attributes.dn : undefined;
  if (
    dn !== undefined &&
    dn !== entry.target &&
    !(typeof dn === 'string' && dn.startsWith(`${entry.target}/`))
  ) {
    throw new CodedError(
      RequestCodes.BODY_INVALID,
      `The object's dn ${JSON.stringify(dn)} is not ${entry.target} or below it.`,
    );
  }
  const text = JSON.stringify(mo);
  if (Buffer.byteLength(text) > MAX_POST_BYTES) {
    throw new CodedError(RequestCodes.BODY_INVALID, 'msg.payload is larger than 1 MiB.');
  }
  return rest.call('POST', pathOf(entry), text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CodedError(RequestCodes.BODY_INVALID, 'msg.payload is text that is not JSON.');
  }
}
