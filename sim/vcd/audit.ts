/**
 * The simulated audit trail (`GET /cloudapi/1.0.0/auditTrail`), as real VCDs
 * keep and answer it (docs/vcd.md, "Times"): timestamps written with an offset
 * without a colon (`2020-07-19T18:57:34.398+0000`), the FIQL filter
 * `timestamp=gt=` / `=ge=` taking the form go-vcloud-director sends
 * (`2006-01-02T15:04:05.000Z`) and refusing others, pages, sorted by
 * timestamp (not by when a record was written: a cell with a wrong clock
 * writes records out of order), a tenant seeing its own organization only.
 */

/** The records kept by default; VCD keeps weeks (by age), the simulator the newest million. */
const KEPT = 1_000_000;

/** What go-vcloud-director sends in `timestamp=gt=` (types/v56 FiqlQueryTimestampFormat). */
const FIQL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** One record of the audit trail, as VCD answers it. */
export interface AuditRecord {
  eventId: string;
  eventType: string;
  eventStatus: 'SUCCESS' | 'FAILURE';
  timestamp: string;
  operatingOrg: { name: string; id: string };
  user: { name: string; id: string };
  eventEntity: { name: string; id: string };
  description: string;
  additionalProperties: Record<string, string>;
}

/** An instant as the audit trail writes it: milliseconds and `+0000`. */
export function auditTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

interface Kept {
  /** The record's time in ms (NaN for a timestamp a test made unreadable). */
  at: number;
  record: AuditRecord;
}

export interface AuditAnswer {
  status: number;
  body: unknown;
}

/** Where `at` would go in a list sorted by time: after every record at or (`after`) before it. */
function bound(list: Kept[], at: number, after: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = list[mid]!.at;
    if (t < at || (after && t === at)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds a record to a list sorted by time, after those of the same time (records mostly come in order). */
function insert(list: Kept[], kept: Kept): void {
  let at = list.length;
  while (at > 0 && list[at - 1]!.at > kept.at) at--;
  list.splice(at, 0, kept);
}

/**
 * The audit trail, kept sorted by time (all of it, and per organization), so
 * that a page past a time is a binary search and a slice however long the
 * trail is: a recovery of a hundred thousand records reads in linear time.
 */
export class AuditTrail {
  private readonly all: Kept[] = [];
  private readonly byOrg = new Map<string, Kept[]>();
  /** Records whose timestamp a test made unreadable: no filter matches them; unfiltered reads end with them. */
  private readonly undated: Kept[] = [];

  constructor(private readonly keep = KEPT) {}

  get size(): number {
    return this.all.length + this.undated.length;
  }

  add(record: AuditRecord): void {
    const kept = { at: Date.parse(record.timestamp), record };
    if (!Number.isFinite(kept.at)) {
      this.undated.push(kept);
      return;
    }
    insert(this.all, kept);
    const org = record.operatingOrg.id;
    const list = this.byOrg.get(org) ?? [];
    this.byOrg.set(org, list);
    insert(list, kept);
    // The oldest go in batches (a splice per record would move the whole list every time).
    if (this.all.length > this.keep * 1.1) this.trim();
  }

  private trim(): void {
    const oldest = this.all.splice(0, this.all.length - this.keep);
    const cut = oldest[oldest.length - 1]!.at;
    for (const list of this.byOrg.values()) list.splice(0, bound(list, cut, false));
  }

  /** One page of the records `orgId` may read (every organization's when undefined: a system administrator). */
  read(query: URLSearchParams, orgId: string | undefined): AuditAnswer {
    const filter = query.get('filter') ?? '';
    const [, op, after] = /timestamp=(gt|ge)=([^;,]+)/.exec(filter) ?? [];
    if (after !== undefined && !FIQL_TIME.test(after)) {
      return {
        status: 400,
        body: {
          minorErrorCode: 'BAD_REQUEST',
          message: `Cannot parse the timestamp in filter "${filter}"`,
          stackTrace: null,
        },
      };
    }
    const org = orgId === undefined ? undefined : `urn:vcloud:org:${orgId}`;
    const mine = (k: Kept) => org === undefined || k.record.operatingOrg.id === org;
    const list = org === undefined ? this.all : (this.byOrg.get(org) ?? []);
    // Sorted by time, oldest first; records of one millisecond keep the order they were written in.
    const from = after === undefined ? 0 : bound(list, Date.parse(after), op === 'gt');
    const undated = after === undefined ? this.undated.filter(mine) : [];
    const total = list.length - from + undated.length;
    const pageSize = Math.min(128, Math.max(1, Number(query.get('pageSize') ?? 25)));
    const page = Math.max(1, Number(query.get('page') ?? 1));
    const start = (page - 1) * pageSize;
    const at = (n: number) => (n < list.length - from ? list[from + n] : undated[n - (list.length - from)]);
    const desc = query.get('sortDesc') === 'timestamp';
    const values: AuditRecord[] = [];
    for (let n = start; n < Math.min(total, start + pageSize); n++) {
      values.push(at(desc ? total - 1 - n : n)!.record);
    }
    return {
      status: 200,
      body: {
        resultTotal: total,
        pageCount: Math.max(1, Math.ceil(total / pageSize)),
        page,
        pageSize,
        values,
      },
    };
  }
}
