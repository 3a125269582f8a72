import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { MissedEvents, catchUpApplies } from '../../nodes/vcd/catch-up';
import { waitFor } from '../support/wait';

const ORG = '0b8a1c2d-0000-4000-8000-000000000001';
const USER = '832c1c2d-0000-4000-8000-000000000002';
const OTHER = '999c1c2d-0000-4000-8000-000000000003';
const FILTER = `publish/${ORG}/+`;

/** An audit record of `n` seconds past noon, by USER in ORG unless told. */
function record(n: number, org = ORG) {
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
const at = (n: number) => record(n).timestamp;

/** A fake audit trail: answers like VCD from `records`, and logs every path asked for. */
function auditTrail(records: ReturnType<typeof record>[], fail?: (path: string) => boolean) {
  const paths: string[] = [];
  const request = (_method: 'GET', path: string) => {
    paths.push(path);
    if (fail?.(path)) return Promise.reject(new Error('GET auditTrail answered 503'));
    const q = new URL(path, 'https://vcd').searchParams;
    const size = Number(q.get('pageSize'));
    const page = Number(q.get('page'));
    const since = /timestamp=ge=(.+)/.exec(q.get('filter') ?? '')?.[1];
    let rows = records.filter((r) => !since || Date.parse(r.timestamp) >= Date.parse(since));
    if (q.get('sortDesc') === 'timestamp') rows = [...rows].reverse();
    return Promise.resolve({
      resultTotal: rows.length,
      pageCount: Math.ceil(rows.length / size),
      values: rows.slice((page - 1) * size, page * size),
    });
  };
  return { request, paths };
}

function recovery(trail: ReturnType<typeof auditTrail>, options = {}) {
  const delivered: string[] = [];
  const errors: CodedError[] = [];
  const missed = new MissedEvents(
    trail.request,
    {
      deliver: (_topic, n) => delivered.push(n.eventId as string),
      failed: (e) => errors.push(e),
    },
    { pageSize: 2, retry: { initialMs: 20, maxMs: 40 }, ...options },
  );
  return { missed, delivered, errors };
}

describe('missed VCD events (audit-trail recovery)', () => {
  it('reads from where the connection was lost, even when a live event comes before the SUBACK', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const { missed, delivered } = recovery(trail);
    await missed.granted(FILTER);
    missed.disconnected();
    records.push(record(2), record(3)); // published while away
    // On the new connection, e3 arrives live before this node's subscription is granted.
    assert.equal(missed.seen('e3', at(3)), true);
    await missed.granted(FILTER);
    assert.deepEqual(delivered, ['e2'], 'e2 is recovered, e3 is not sent twice');
  });

  it('marks the newest record at the first grant, and reads from the newest event delivered after a reconnect', async () => {
    const records = [record(1), record(2)];
    const trail = auditTrail(records);
    const { missed, delivered } = recovery(trail);
    await missed.granted(FILTER);
    assert.match(trail.paths[0]!, /sortDesc=timestamp/);
    assert.deepEqual(delivered, [], 'what happened before the start is not sent');

    assert.equal(missed.seen('e3', at(3)), true);
    records.push(record(3), record(4), record(5), record(6), record(7));
    await missed.granted(FILTER);
    const asked = new URL(trail.paths[1]!, 'https://vcd').searchParams;
    assert.equal(asked.get('filter'), `timestamp=ge=${at(3)}`, 'from the last delivered event, in VCD time');
    assert.equal(asked.get('sortAsc'), 'timestamp');
    assert.deepEqual(delivered, ['e4', 'e5', 'e6', 'e7'], 'every page, e3 not twice');
    assert.equal(missed.seen('e5', at(5)), false, 'a recovered event arriving live is dropped');
    assert.equal(missed.seen('e8', at(8)), true);
  });

  it('sends the newest record of the start when its live message comes after the first read, never recovers it', async () => {
    const records = [record(1), record(2)];
    const trail = auditTrail(records);
    const { missed, delivered } = recovery(trail);
    await missed.granted(FILTER); // e2 was published just before the subscription: its message is on its way
    assert.equal(missed.seen('e2', at(2)), true, 'the live e2 goes out');
    const fresh = recovery(auditTrail(records));
    await fresh.missed.granted(FILTER);
    fresh.missed.disconnected();
    records.push(record(3));
    await fresh.missed.granted(FILTER);
    assert.deepEqual(fresh.delivered, ['e3'], 'a recovery skips what came before the start');
    assert.deepEqual(delivered, []);
  });

  it('sends only what falls under the topic filter', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const { missed, delivered } = recovery(trail);
    await missed.granted(`publish/${ORG}/${USER}`);
    records.push(record(2, OTHER), record(3), record(4, OTHER));
    await missed.granted(`publish/${ORG}/${USER}`);
    assert.deepEqual(delivered, ['e3']);
  });

  it('resumes from the last record read when a page fails, and retries on its own', async () => {
    const records = [record(1)];
    let failing = true;
    const trail = auditTrail(records, (p) => failing && p.includes('page=2&'));
    const { missed, delivered, errors } = recovery(trail);
    await missed.granted(FILTER);
    records.push(record(2), record(3), record(4), record(5));
    await missed.granted(FILTER);
    // Pages of two from e1 (the mark, dropped): [e1 e2] [e3 e4]: the second fails.
    assert.deepEqual(delivered, ['e2']);
    assert.equal(errors[0]?.code, 'VCD_CATCHUP_FAILED');
    failing = false;
    await waitFor(() => delivered.length === 4, 'the retry', 2000);
    assert.deepEqual(delivered, ['e2', 'e3', 'e4', 'e5']);
    const retried = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
    assert.equal(retried, `timestamp=ge=${at(2)}`, 'from the last record read');
    missed.close();
  });

  it('stops at the limit and says how many were left unread', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const { missed, delivered, errors } = recovery(trail, { maxRecords: 4 });
    await missed.granted(FILTER);
    for (let n = 2; n <= 11; n++) records.push(record(n));
    await missed.granted(FILTER);
    // Pages of two from e1: [e1 e2] [e3 e4]: four read (e1 was the mark, dropped), e5..e11 left.
    assert.deepEqual(delivered, ['e2', 'e3', 'e4']);
    assert.equal(errors[0]?.code, 'VCD_CATCHUP_TRUNCATED');
    assert.equal(errors[0]?.details?.left, 7);
  });

  it('counts the records it reads, not only those it sends: records of others do not page on for ever', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const { missed, delivered, errors } = recovery(trail, { maxRecords: 4 });
    await missed.granted(FILTER);
    for (let n = 2; n <= 40; n++) records.push(record(n, OTHER));
    const before = trail.paths.length;
    await missed.granted(FILTER);
    assert.deepEqual(delivered, []);
    assert.equal(trail.paths.length - before, 2, 'two pages of two records');
    assert.equal(errors[0]?.code, 'VCD_CATCHUP_TRUNCATED');
  });

  it('skips a record with a malformed id with a coded error, and recovers the rest once', async () => {
    const records: Record<string, unknown>[] = [record(1)];
    const trail = auditTrail(records as ReturnType<typeof record>[]);
    const { missed, delivered, errors } = recovery(trail);
    await missed.granted(FILTER);
    records.push(
      record(2),
      { ...record(3), eventId: 42 },
      { ...record(4), user: { name: 'x', id: { urn: 'not a string' } } },
      { ...record(5), eventId: 'urn:vcloud:audit:../../e5 <script>' },
      record(6),
    );
    await missed.granted(FILTER);
    await new Promise((r) => setTimeout(r, 100)); // a retry would come after 20 ms
    assert.deepEqual(delivered, ['e2', 'e6']);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['VCD_CATCHUP_BAD_RECORD', 'VCD_CATCHUP_BAD_RECORD', 'VCD_CATCHUP_BAD_RECORD'],
    );
    missed.close();
  });

  it('reports its progress page by page (records read of the total VCD counts), then that it is over', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const progress: ({ read: number; total?: number } | undefined)[] = [];
    const missed = new MissedEvents(
      trail.request,
      { deliver: () => undefined, failed: () => undefined, progress: (p) => progress.push(p) },
      { pageSize: 2 },
    );
    await missed.granted(FILTER);
    for (let n = 2; n <= 5; n++) records.push(record(n));
    await missed.granted(FILTER);
    // From e1 (the mark): [e1 e2] [e3 e4] [e5], then over.
    assert.deepEqual(progress.slice(-4), [
      { read: 2, total: 5 },
      { read: 4, total: 5 },
      { read: 5, total: 5 },
      undefined,
    ]);
  });

  it('applies to publish topics, not to metrics', () => {
    assert.equal(catchUpApplies('publish/{org}/+'), true);
    assert.equal(catchUpApplies('#'), true);
    assert.equal(catchUpApplies('metrics/{org}/+'), false);
  });
});
