import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { MissedEvents } from '../../nodes/vcd/catch-up';
import { CatchUpStore, FILE_PURPOSE, MarkKeeper } from '../../nodes/vcd/catch-up-store';
import { waitFor } from '../support/wait';

const ORG = '0b8a1c2d-0000-4000-8000-000000000001';
const USER = '832c1c2d-0000-4000-8000-000000000002';
const FILTER = `publish/${ORG}/+`;
const BASE = Date.UTC(2026, 10, 22, 12, 0, 0);
const SETTLE = 10_000;

/** Record i: every 100 ms from `base` (VCD's clock). */
function record(i: number, base = BASE) {
  return {
    eventId: `urn:vcloud:audit:e${i}`,
    eventType: 'com/vmware/vcloud/event/vm/create',
    eventStatus: 'SUCCESS',
    timestamp: new Date(base + i * 100).toISOString(),
    operatingOrg: { name: 'acme', id: `urn:vcloud:org:${ORG}` },
    user: { name: 'acmeadmin', id: `urn:vcloud:user:${USER}` },
    eventEntity: { name: `vm-${i}`, id: `urn:vcloud:vm:v${i}` },
  };
}

/** A fake audit trail that answers like VCD (filter timestamp=ge=, pages, sortDesc). */
function auditTrail(records: ReturnType<typeof record>[]) {
  return (_method: 'GET', p: string) => {
    const q = new URL(p, 'https://vcd').searchParams;
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
}

describe('missed VCD events: the mark kept across restarts', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-marks-'));
    files = new NodeFiles(userDir, FILE_PURPOSE);
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('saves the mark of the oldest event not yet settled, and the settled ids at or after it', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: SETTLE, vcdNow: () => BASE + 3000 });
    const at = (i: number) => new Date(BASE + i * 1000).toISOString();
    const local = 1_000_000;
    store.delivered('e1', at(1), local);
    store.delivered('e2', at(2), local + 1000);
    store.delivered('e3', at(3), local + 12_000);
    // At local + 12 s, e1 and e2 are settled, e3 is not: the mark stays at e3's time.
    const saved = store.checkpoint(BASE + 3000, local + 12_000)!;
    assert.equal(saved.mark, at(3));
    assert.deepEqual(saved.recent, [], 'e1 and e2 lie before the mark: they are not read again anyway');
    // Later, all settled: the mark is the newest, and its id is kept to drop it when read again (ge).
    const later = store.checkpoint(BASE + 3000, local + 30_000)!;
    assert.equal(later.mark, at(3));
    assert.deepEqual(later.recent, [['e3', BASE + 3000]]);
    // An open gap (a recovery not read to its end) holds the mark back.
    assert.equal(store.checkpoint(BASE + 1500, local + 30_000)!.mark, new Date(BASE + 1500).toISOString());
  });

  it('an event that arrived late (older than the newest) holds the mark back until it is settled', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: SETTLE, vcdNow: () => BASE + 5000 });
    store.delivered('e5', new Date(BASE + 5000).toISOString(), 0);
    store.delivered('e2', new Date(BASE + 2000).toISOString(), 20_000);
    assert.equal(store.checkpoint(BASE + 5000, 21_000)!.mark, new Date(BASE + 2000).toISOString());
  });

  it('reads back what it saved; a torn file or another topic filter starts anew', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: 0, vcdNow: () => BASE });
    store.delivered('e1', new Date(BASE).toISOString(), 0, BASE);
    assert.equal(store.save(BASE, 0, BASE), undefined);
    const resumed = new CatchUpStore(files, 'sub', FILTER).load(BASE + 1000)!;
    assert.equal(resumed.since, BASE);
    assert.deepEqual(resumed.recent, ['e1']);
    assert.equal(resumed.skipped, undefined);
    assert.equal(new CatchUpStore(files, 'sub', `publish/${ORG}/${USER}`).load(), undefined);
    assert.equal(new CatchUpStore(files, 'other', FILTER).load(), undefined);
    fs.writeFileSync(files.pathOf('sub'), '{"version":1,"filter":"publish/');
    assert.equal(new CatchUpStore(files, 'sub', FILTER).load(), undefined);
  });

  it('reaches back at most catchUpMaxAge (on this machine’s clock), naming what is skipped', () => {
    const hour = 3600_000;
    // VCD's clock runs 5 minutes behind this machine's.
    const skew = 5 * 60_000;
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: 0, vcdNow: () => BASE });
    store.delivered('e1', new Date(BASE).toISOString(), 0, BASE + skew);
    store.save(BASE, 0, BASE + skew);
    const fresh = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: 24 * hour }).load(
      BASE + skew + 23 * hour,
    )!;
    assert.equal(fresh.since, BASE, 'within the bound: from the mark');
    const old = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: 24 * hour }).load(
      BASE + skew + 30 * hour,
    )!;
    assert.equal(old.since, BASE + 6 * hour, 'the last 24 hours in VCD’s clock');
    assert.deepEqual(old.skipped, {
      from: new Date(BASE).toISOString(),
      to: new Date(BASE + 6 * hour).toISOString(),
    });
  });

  it('an event dated beyond VCD’s clock never becomes the saved mark, nor one far in the past: a kill before they settle starts again within "Reach back"', () => {
    const hour = 3600_000;
    const store = new CatchUpStore(files, 'sub', FILTER, {
      settleMs: SETTLE,
      maxAgeMs: 24 * hour,
      vcdNow: () => BASE,
    });
    store.delivered('future', '2099-01-01T00:00:00.000+0000', 0, BASE);
    store.delivered('stale', '1970-01-01T00:00:00.000+0000', 0, BASE);
    // Killed before either settled: the file holds what the last save wrote.
    assert.equal(store.save(undefined, 1000, BASE), undefined);
    const resumed = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: 24 * hour }).load(BASE + 60_000)!;
    assert.equal(
      resumed.since,
      BASE,
      'the future event holds the mark at VCD’s time, from where it is read again',
    );
    assert.equal(resumed.skipped, undefined, 'nothing beyond "Reach back" to report');
    // Once settled, the future event's id is kept, so reading it again from the mark drops it.
    assert.deepEqual(store.checkpoint(BASE, 1000 + SETTLE, BASE)!.recent, [['future', Date.UTC(2099, 0, 1)]]);
  });

  it('the offset between the clocks is measured from VCD’s clock, never from an event’s own time', () => {
    const skew = 5 * 60_000;
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: 0, vcdNow: () => BASE });
    // An hour-old event, delivered now (a recovery): its time says nothing of the clocks.
    store.delivered('old', new Date(BASE - 3600_000).toISOString(), 0, BASE + skew);
    assert.equal(store.checkpoint(BASE, 0, BASE + skew)!.offset, skew);
  });

  it('an offset of more than a day (an older version took it from an event’s time) is not believed', () => {
    const hour = 3600_000;
    const now = BASE + hour;
    fs.mkdirSync(path.dirname(files.pathOf('sub')), { recursive: true });
    fs.writeFileSync(
      files.pathOf('sub'),
      JSON.stringify({
        version: 1,
        filter: FILTER,
        mark: '1970-01-01T00:00:00.000Z',
        recent: [],
        offset: BASE,
      }),
    );
    const resumed = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: 24 * hour }).load(now)!;
    assert.equal(resumed.since, now - 24 * hour, 'read back "Reach back", no further');
    assert.equal(resumed.skipped?.from, '1970-01-01T00:00:00.000Z');
  });

  it('a kill at any moment loses no event the audit trail holds (doubles keep their ids)', async () => {
    const records = Array.from({ length: 300 }, (_, i) => record(i));
    // Live delivery: 50 ms after the event, every 7th one late (after its two successors);
    // records 120-159 never arrive live (a dropped connection).
    const arrivals = records
      .map((_r, i) => ({ i, local: BASE + i * 100 + 50 + (i % 7 === 3 ? 250 : 0) }))
      .filter(({ i }) => i < 120 || i >= 160)
      .sort((a, b) => a.local - b.local);
    for (let kill = BASE + 2_000; kill < BASE + 32_000; kill += 1_700) {
      for (const saveLag of [0, 1000]) {
        const store = new CatchUpStore(new NodeFiles(userDir, `k${kill - BASE}-${saveLag}`), 'sub', FILTER, {
          settleMs: SETTLE,
        });
        const live = new MissedEvents(auditTrail([]), { deliver: () => undefined, failed: () => undefined });
        live.resumeFrom(BASE - 1, []);
        const reachedSink = new Set<string>();
        let saved = false;
        for (const { i, local } of arrivals) {
          if (local > kill) break;
          // The file holds the state of the last save, up to a second before the kill.
          if (!saved && local > kill - saveLag) {
            store.save(live.resumePoint(), kill - saveLag);
            saved = true;
          }
          const id = `e${i}`;
          if (i === 120) live.disconnected(); // the connection dropped before 120
          if (!live.seen(id, records[i]!.timestamp)) continue;
          store.delivered(id, records[i]!.timestamp, local, local);
          // Only what left settleMs before the kill is safe in the flow.
          if (local <= kill - SETTLE) reachedSink.add(id);
        }
        if (!saved) store.save(live.resumePoint(), kill - saveLag);

        // Restart: what the audit trail holds by now is read from the saved mark.
        const recovered: string[] = [];
        const restarted = new MissedEvents(
          auditTrail(records),
          { deliver: (_t, n) => recovered.push(n.eventId as string), failed: (e) => assert.fail(e) },
          { pageSize: 50 },
        );
        const resume = new CatchUpStore(files, 'sub', FILTER);
        // Started again a minute later.
        const state = new CatchUpStore(
          new NodeFiles(userDir, `k${kill - BASE}-${saveLag}`),
          'sub',
          FILTER,
        ).load(kill + 60_000);
        assert.ok(state && !resume.load(kill + 60_000), 'saved under its own purpose only');
        restarted.resumeFrom(state.since, state.recent);
        await restarted.granted(FILTER);
        const lost = records
          .map((_, i) => `e${i}`)
          .filter((id) => !reachedSink.has(id) && !recovered.includes(id));
        assert.deepEqual(lost, [], `kill at +${kill - BASE} ms, file ${saveLag} ms old`);
        for (const id of state.recent)
          assert.ok(reachedSink.has(id), `${id} dropped as a double was settled`);
      }
    }
  });

  it('the keeper resumes a MissedEvents from the file, saves while running, and deletes the file with the node', async () => {
    const start = Date.now() - 60_000;
    const records = [record(1, start), record(2, start), record(3, start)];
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: 0 });
    store.delivered('e1', records[0]!.timestamp);
    store.save(Date.parse(records[0]!.timestamp));
    const recovered: string[] = [];
    const missed = new MissedEvents(auditTrail(records), {
      deliver: (_t, n) => recovered.push(n.eventId as string),
      failed: (e) => assert.fail(e),
    });
    const keeper = new MarkKeeper(
      missed,
      new CatchUpStore(files, 'sub', FILTER, { settleMs: 0 }),
      assert.fail,
      20,
    );
    await missed.granted(FILTER);
    assert.deepEqual(recovered, ['e2', 'e3'], 'from the saved mark, e1 dropped as delivered');
    for (const id of recovered) keeper.delivered(id, records[Number(id.slice(1)) - 1]!.timestamp);
    await waitFor(
      () => new CatchUpStore(files, 'sub', FILTER).load()?.since === Date.parse(records[2]!.timestamp),
      'the newest mark saved',
    );
    keeper.close(true);
    assert.equal(fs.existsSync(files.pathOf('sub')), false);
  });
});
