/**
 * The simulated audit trail (`GET /cloudapi/1.0.0/auditTrail`), as real VCDs
 * keep and answer it (docs/vcd.md, "Times"): timestamps written with an offset
 * without a colon (`2020-07-19T18:57:34.398+0000`), the FIQL filter
 * `timestamp=gt=` / `=ge=` taking the form go-vcloud-director sends
 * (`2006-01-02T15:04:05.000Z`) and refusing others, pages, sorted by
 * timestamp (not by when a record was written: a cell with a wrong clock
 * writes records out of order), a tenant seeing its own organization only.
 */

/** The records kept; VCD keeps weeks, the simulator the newest ten thousand. */
const KEPT = 10_000;

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

export class AuditTrail {
  private readonly kept: Kept[] = [];

  get size(): number {
    return this.kept.length;
  }

  add(record: AuditRecord): void {
    this.kept.push({ at: Date.parse(record.timestamp), record });
    if (this.kept.length > KEPT) this.kept.splice(0, this.kept.length - KEPT);
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
    const from = after === undefined ? -Infinity : Date.parse(after);
    const rows = this.kept
      .filter((k) => orgId === undefined || k.record.operatingOrg.id === `urn:vcloud:org:${orgId}`)
      .filter((k) => after === undefined || (op === 'gt' ? k.at > from : k.at >= from))
      // Sorted by time, oldest first; the sort is stable, so records of one millisecond keep their order.
      .sort((a, b) => a.at - b.at);
    if (query.get('sortDesc') === 'timestamp') rows.reverse();
    const pageSize = Math.min(128, Math.max(1, Number(query.get('pageSize') ?? 25)));
    const page = Math.max(1, Number(query.get('page') ?? 1));
    return {
      status: 200,
      body: {
        resultTotal: rows.length,
        pageCount: Math.max(1, Math.ceil(rows.length / pageSize)),
        page,
        pageSize,
        values: rows.slice((page - 1) * pageSize, page * pageSize).map((k) => k.record),
      },
    };
  }
}
