/** A fake VCD audit trail and a recovery reading it, for the catch-up tests. */
import type { CodedError } from '../../nodes/common/errors';
import { MissedEvents, type AuditRequest, type CatchUpOptions } from '../../nodes/vcd/catch-up';

export const ORG = '0b8a1c2d-0000-4000-8000-000000000001';
export const USER = '832c1c2d-0000-4000-8000-000000000002';
export const OTHER = '999c1c2d-0000-4000-8000-000000000003';
export const FILTER = `publish/${ORG}/+`;

/** An audit record of `n` seconds past noon, by USER in ORG unless told. */
export function record(n: number, org = ORG) {
  return {
    eventId: `urn:vcloud:audit:e${n}`,
    eventType: 'com/vmware/vcloud/event/vm/create',
    eventStatus: 'SUCCESS',
    timestamp: new Date(Date.UTC(2026, 10, 22, 12, 0, n)).toISOString(),
    operatingOrg: { name: 'acme', id: `urn:vcloud:org:${org}` },
    user: { name: 'acmeadmin', id: `urn:vcloud:user:${USER}` },
    eventEntity: { name: `vm-${n}`, id: `urn:vcloud:vm:v${n}` },
  };
}
export const at = (n: number) => record(n).timestamp;

/** A fake audit trail: answers like VCD from `records`, and logs every path asked for. */
export function auditTrail(records: ReturnType<typeof record>[], fail?: (path: string) => boolean) {
  const paths: string[] = [];
  const request = (_method: 'GET', path: string) => {
    paths.push(path);
    if (fail?.(path)) return Promise.reject(new Error('GET auditTrail answered 503'));
    const q = new URL(path, 'https://vcd').searchParams;
    const size = Number(q.get('pageSize'));
    const page = Number(q.get('page'));
    const since = /timestamp=ge=(.+)/.exec(q.get('filter') ?? '')?.[1];
    // Sorted by time, as VCD sorts: a record dated wrongly sorts where its date puts it. Each time is read
    // once per request, not once per comparison, so a trail of 25,000 records stays quick to page through.
    const times = new Map(records.map((r) => [r, Date.parse(r.timestamp)]));
    const from = since ? Date.parse(since) : -Infinity;
    let rows = records.filter((r) => times.get(r)! >= from).sort((a, b) => times.get(a)! - times.get(b)!);
    if (q.get('sortDesc') === 'timestamp') rows = [...rows].reverse();
    return Promise.resolve({
      resultTotal: rows.length,
      pageCount: Math.ceil(rows.length / size),
      values: rows.slice((page - 1) * size, page * size),
    });
  };
  return { request, paths };
}

export function recovery(trail: { request: AuditRequest }, options: CatchUpOptions = {}) {
  const delivered: string[] = [];
  const errors: CodedError[] = [];
  const progress: ({ read: number; total?: number } | undefined)[] = [];
  const missed = new MissedEvents(
    trail.request,
    {
      deliver: (_topic, n) => delivered.push(n.eventId as string),
      failed: (e) => errors.push(e),
      progress: (state) => progress.push(state),
    },
    { pageSize: 2, retry: { initialMs: 20, maxMs: 40 }, ...options },
  );
  return { missed, delivered, errors, progress };
}
