import assert from 'node:assert/strict';
import { MissedEvents, catchUpApplies } from '../../nodes/vcd/catch-up';
import { FILTER, ORG, OTHER, USER, at, auditTrail, record, recovery } from '../support/vcd-audit';
import { waitFor } from '../support/wait';

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

  it('reads on past 10,000 records, page by page, each once and in order (no bound on how many)', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    const { missed, delivered, errors } = recovery(trail, { pageSize: 128 });
    await missed.granted(FILTER);
    const start = Date.UTC(2026, 10, 22, 12, 0, 2);
    for (let n = 0; n < 25_000; n++) {
      records.push({
        ...record(2),
        eventId: `urn:vcloud:audit:g${n}`,
        timestamp: new Date(start + n).toISOString(),
      });
    }
    const before = trail.paths.length;
    await missed.granted(FILTER);
    assert.equal(delivered.length, 25_000, 'every one');
    assert.deepEqual(delivered.slice(0, 2), ['g0', 'g1']);
    assert.equal(delivered.at(-1), 'g24999');
    assert.equal(new Set(delivered).size, 25_000, 'each once');
    assert.deepEqual(errors, []);
    assert.equal(
      trail.paths.length - before,
      Math.ceil(25_001 / 128),
      'pages of 128, the mark’s record included',
    );
  });

  it('pauses when memory is short, keeping its place, says so once, and goes on later without loss', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    let pages = 0;
    let short = true;
    const { missed, delivered, errors } = recovery(trail, {
      // Short after the third page, for as long as `short` holds.
      memoryShort: () => ++pages >= 3 && short,
    });
    await missed.granted(FILTER);
    for (let n = 2; n <= 40; n++) records.push(record(n));
    await missed.granted(FILTER);
    // Pages of two from e1: [e1 e2] [e3 e4] [e5 e6], then paused.
    assert.deepEqual(delivered, ['e2', 'e3', 'e4', 'e5', 'e6']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'VCD_CATCHUP_PAUSED');
    assert.match(errors[0]!.message, /memory is short/);
    assert.deepEqual(errors[0]!.details, { sent: 5, left: 34 }, 'e1 was a double; 6 of 40 read');
    await new Promise((r) => setTimeout(r, 150)); // retries come every 20–40 ms: still short
    assert.equal(errors.length, 1, 'told once, not at every try');
    short = false;
    await waitFor(() => delivered.length === 39, 'the rest, once memory allows', 2000);
    assert.deepEqual(
      delivered,
      Array.from({ length: 39 }, (_, i) => `e${i + 2}`),
      'from where it stopped, each once',
    );
    const resumed = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
    assert.match(resumed!, /^timestamp=ge=/);
    missed.close();
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

  describe("bounded by VCD's clock, not by what events say of themselves", () => {
    const FUTURE = '2099-01-01T00:00:00.000+0000';
    const noon = (seconds: number) => Date.UTC(2026, 10, 22, 12, 0, 0) + seconds * 1000;
    const dated = (n: number, timestamp: string) => ({ ...record(n), timestamp });

    it('a live event dated beyond it is delivered but does not move the mark', async () => {
      const records = [record(1)];
      const trail = auditTrail(records);
      const { missed, delivered } = recovery(trail, { vcdNow: () => noon(10) });
      await missed.granted(FILTER);
      assert.equal(missed.seen('e2', at(2)), true);
      assert.equal(missed.seen('f1', FUTURE), true, 'delivered');
      missed.disconnected();
      records.push(record(3), record(4));
      await missed.granted(FILTER);
      const asked = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
      assert.equal(asked, `timestamp=ge=${at(2)}`, 'from the last event VCD’s clock allows');
      assert.deepEqual(delivered, ['e3', 'e4']);
    });

    it('the start is VCD’s time when the newest audit record lies beyond it', async () => {
      const records = [record(1), dated(99, FUTURE)];
      const trail = auditTrail(records);
      const vcd = { now: noon(5) };
      const { missed, delivered } = recovery(trail, { vcdNow: () => vcd.now });
      await missed.granted(FILTER);
      missed.disconnected();
      records.push(record(6));
      vcd.now = noon(10);
      await missed.granted(FILTER);
      const asked = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
      assert.equal(asked, `timestamp=ge=${new Date(noon(5)).toISOString()}`);
      assert.deepEqual(delivered, ['e6'], 'the future record came before the start: not recovered');
    });

    it('a recovery cut short after a record dated beyond it resumes from VCD’s time, missing nothing', async () => {
      const records = [record(1)];
      let failing = true;
      const trail = auditTrail(records, (p) => failing && p.includes('page=3&'));
      const { missed, delivered, errors } = recovery(trail, { vcdNow: () => noon(3) + 500 });
      await missed.granted(FILTER);
      missed.disconnected();
      records.push(record(2), record(3), dated(98, FUTURE), dated(99, FUTURE));
      // Pages of two from e1: [e1 e2] [e3 e98] [e99]: the third fails.
      await missed.granted(FILTER);
      assert.equal(errors[0]?.code, 'VCD_CATCHUP_FAILED');
      records.push(record(4)); // written while the recovery waits to retry
      failing = false;
      await waitFor(() => delivered.includes('e4'), 'e4 recovered by the retry', 2000);
      missed.close();
      assert.deepEqual(delivered, ['e2', 'e3', 'e98', 'e4', 'e99']);
    });

    it('a failed first read starts from VCD’s time as measured at login, and says so', async () => {
      const records = [record(1)];
      const trail = auditTrail(records, () => records.length === 1);
      const { missed, delivered, errors } = recovery(trail, { vcdNow: () => noon(1) + 500 });
      await missed.granted(FILTER);
      assert.match(errors[0]!.message, /VCD's time as measured at login/);
      missed.disconnected();
      records.push(record(2));
      await missed.granted(FILTER);
      assert.deepEqual(delivered, ['e2']);
      const asked = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
      assert.equal(asked, `timestamp=ge=${new Date(noon(1) + 500).toISOString()}`);
    });

    it('reads the audit trail’s own times (+0000) and asks in the form its filter takes', async () => {
      const vcdWritten = (n: number) => at(n).replace('Z', '+0000');
      const records = [dated(1, vcdWritten(1))];
      const trail = auditTrail(records);
      const { missed, delivered } = recovery(trail, { vcdNow: () => noon(10) });
      await missed.granted(FILTER);
      missed.disconnected();
      records.push(dated(2, vcdWritten(2)), dated(3, vcdWritten(3)));
      await missed.granted(FILTER);
      assert.deepEqual(delivered, ['e2', 'e3']);
      const asked = new URL(trail.paths.at(-1)!, 'https://vcd').searchParams.get('filter');
      assert.equal(asked, 'timestamp=ge=2026-11-22T12:00:01.000Z');
    });
  });

  it('applies to publish topics, not to metrics', () => {
    assert.equal(catchUpApplies('publish/{org}/+'), true);
    assert.equal(catchUpApplies('#'), true);
    assert.equal(catchUpApplies('+/{org}/+'), true);
    assert.equal(catchUpApplies('metrics/{org}/+'), false);
  });
});
