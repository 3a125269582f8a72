import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { CatchUpStore, FILE_PURPOSE, MarkKeeper, type Resumable } from '../../nodes/vcd/catch-up-store';
import { waitFor } from '../support/wait';

const FILTER = 'publish/0b8a1c2d-0000-4000-8000-000000000001/+';
const BASE = Date.UTC(2026, 10, 22, 12, 0, 0);
const DAY = 24 * 3600_000;
const HOUR = 3600_000;
const iso = (t: number) => new Date(t).toISOString();

/** A disk that takes no more writes. */
class FullDisk extends NodeFiles {
  override write(): void {
    throw new Error('ENOSPC: no space left on device');
  }
}

/** A recovery that would start at `point`, and the resumes it was told. */
function resumable(point: number | undefined) {
  const resumes: [number, string[]][] = [];
  const missed: Resumable = {
    resumeFrom: (since, delivered) => void resumes.push([since, [...delivered]]),
    resumePoint: () => point,
  };
  return { missed, resumes };
}

describe('missed VCD events, the saved mark: edges', () => {
  let userDir: string;
  let files: NodeFiles;
  const write = (state: unknown) => {
    fs.mkdirSync(path.dirname(files.pathOf('sub')), { recursive: true });
    fs.writeFileSync(files.pathOf('sub'), typeof state === 'string' ? state : JSON.stringify(state));
  };
  const good = { version: 1, filter: FILTER, mark: iso(BASE), recent: [['e1', BASE]], offset: 0 };

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-marks-'));
    files = new NodeFiles(userDir, FILE_PURPOSE);
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('a saved state of any other shape starts anew; the right shape resumes', () => {
    const load = () => new CatchUpStore(files, 'sub', FILTER).load(BASE);
    for (const bad of [
      'null',
      '',
      { ...good, version: 2 },
      { ...good, filter: 7 },
      { ...good, mark: 'yesterday' },
      { ...good, offset: 'none' },
      { ...good, offset: undefined },
      { ...good, recent: {} },
      { ...good, recent: ['e1'] },
      { ...good, recent: [[1, BASE]] },
      { ...good, recent: [['e1', 'noon']] },
    ]) {
      write(bad);
      assert.equal(load(), undefined, JSON.stringify(bad));
    }
    write(good);
    assert.deepEqual(load(), { since: BASE, recent: ['e1'] });
  });

  it('believes an offset of a day and no more, and keeps a mark exactly at the reach-back bound', () => {
    write({ ...good, mark: iso(BASE - DAY), offset: DAY });
    const store = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: DAY });
    // VCD's clock a day behind ours: the oldest time read is a day before "now" in VCD's clock.
    assert.deepEqual(store.load(BASE + DAY), { since: BASE - DAY, recent: ['e1'] });
    write({ ...good, mark: iso(BASE - DAY - 1), offset: DAY + 1 });
    const skipped = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: DAY }).load(BASE)!;
    assert.equal(skipped.since, BASE - DAY, 'an offset past a day counts as none');
    assert.deepEqual(skipped.skipped, { from: iso(BASE - DAY - 1), to: iso(BASE - DAY) });
  });

  it('keeps an event exactly as old as the reach back, not an older one', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: DAY, vcdNow: () => BASE });
    store.delivered('older', iso(BASE - DAY - 1), 0);
    assert.equal(store.checkpoint(undefined, 0), undefined, 'too old: not kept');
    store.delivered('edge', iso(BASE - DAY), 0);
    assert.equal(store.checkpoint(undefined, 0)!.mark, iso(BASE - DAY));
  });

  it('holds at most maxPending unsettled events: the oldest settle early', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { maxPending: 2, vcdNow: () => BASE });
    store.delivered('e1', iso(BASE - 3000), 0);
    store.delivered('e2', iso(BASE - 2000), 0);
    assert.equal(store.checkpoint(undefined, 0)!.mark, iso(BASE - 3000), 'two pending: both hold the mark');
    store.delivered('e3', iso(BASE - 1000), 0);
    const saved = store.checkpoint(undefined, 0)!;
    assert.equal(saved.mark, iso(BASE - 2000), 'e1 settled to make room');
  });

  it('remembers at most `remember` settled ids, the newest, and none for an event without an id', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { remember: 2, settleMs: 0, vcdNow: () => BASE });
    for (const id of ['e1', 'e2', '', 'e3', undefined, 7]) store.delivered(id, iso(BASE - 5000), 0);
    assert.deepEqual(store.checkpoint(BASE - 5000, 1)!.recent, [
      ['e2', BASE - 5000],
      ['e3', BASE - 5000],
    ]);
  });

  it('writes nothing when there is nothing to save or nothing changed, and counts what it wrote', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { settleMs: 0, vcdNow: () => BASE });
    assert.equal(store.save(undefined, 0), undefined);
    assert.equal(fs.existsSync(files.pathOf('sub')), false);
    store.delivered('e1', iso(BASE), 0);
    store.save(BASE, 1, BASE);
    const size = fs.statSync(files.pathOf('sub')).size;
    assert.equal(store.bytesWritten, size);
    store.save(BASE, 2, BASE);
    assert.equal(store.bytesWritten, size, 'the same state is not written again');
  });

  it('an event settles 10 s after it left, by default, and holds the mark until then', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { vcdNow: () => BASE });
    store.delivered('e1', iso(BASE - 5000), 0);
    assert.equal(store.checkpoint(BASE, 9_999)!.mark, iso(BASE - 5000), 'at 9.999 s: still held');
    assert.equal(store.checkpoint(BASE, 10_000)!.mark, iso(BASE), 'at 10 s: settled');
  });

  it("keeps the offset measured last while VCD's clock is not measured", () => {
    let measured = true;
    const store = new CatchUpStore(files, 'sub', FILTER, { vcdNow: () => (measured ? BASE : undefined) });
    assert.equal(store.checkpoint(undefined, 0, BASE + HOUR), undefined); // measured: ours is an hour ahead
    measured = false;
    // VCD's time is now ours less that hour: BASE + 5 s. An event dated later counts there.
    store.delivered('e2', iso(BASE + 60_000), 0, BASE + HOUR + 5000);
    const saved = store.checkpoint(undefined, 0, BASE + HOUR + 5000)!;
    assert.equal(saved.offset, HOUR);
    assert.equal(saved.mark, iso(BASE + 5000));
  });

  it('a resume that skipped a part still drops the ids it delivered', () => {
    write({
      ...good,
      mark: iso(BASE - 2 * DAY),
      recent: [
        ['e1', BASE - 2 * DAY],
        ['e2', BASE - 1000],
      ],
    });
    assert.deepEqual(new CatchUpStore(files, 'sub', FILTER, { maxAgeMs: DAY }).load(BASE), {
      since: BASE - DAY,
      recent: ['e1', 'e2'],
      skipped: { from: iso(BASE - 2 * DAY), to: iso(BASE - DAY) },
    });
  });

  it('an event without a time holds nothing: there is no place to read it again from', () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { vcdNow: () => BASE });
    store.delivered('e1', undefined, 0);
    store.delivered('e2', 'not a time', 0);
    assert.equal(store.checkpoint(undefined, 1), undefined);
    assert.equal(store.checkpoint(BASE, 1)!.mark, iso(BASE));
  });

  it('the keeper: a first run resumes nothing and warns of nothing; a saved mark resumes', async () => {
    const warnings: string[] = [];
    const first = resumable(undefined);
    const keeper = new MarkKeeper(first.missed, new CatchUpStore(files, 'sub', FILTER), (m) =>
      warnings.push(m),
    );
    await keeper.ready;
    assert.equal(keeper.resumed, undefined);
    assert.deepEqual(first.resumes, []);
    await keeper.close(false);
    assert.deepEqual(warnings, []);
    const mark = Date.now() - 60_000;
    write({ ...good, mark: iso(mark) });
    const next = resumable(undefined);
    const resumed = new MarkKeeper(next.missed, new CatchUpStore(files, 'sub', FILTER), assert.fail);
    await resumed.close(false);
    assert.deepEqual(next.resumes, [[mark, ['e1']]]);
    assert.deepEqual(resumed.resumed, { since: mark, recent: ['e1'] });
  });

  it('the keeper warns of failed saves once, naming what failed', async () => {
    const warnings: string[] = [];
    const disk = new FullDisk(userDir, FILE_PURPOSE);
    const keeper = new MarkKeeper(
      resumable(BASE).missed,
      new CatchUpStore(disk, 'sub', FILTER),
      (m) => warnings.push(m),
      20,
    );
    await waitFor(() => warnings.length > 0, 'the failed save told', 5000);
    await keeper.close(false);
    assert.deepEqual(warnings, ['Cannot save the missed-events mark: ENOSPC: no space left on device']);
  });

  it('an event delivered through the keeper holds the saved mark until it settles', async () => {
    const store = new CatchUpStore(files, 'sub', FILTER, { vcdNow: () => BASE });
    const keeper = new MarkKeeper(resumable(BASE).missed, store, assert.fail, 60_000);
    keeper.delivered('e1', iso(BASE - 3000));
    await keeper.close(false);
    assert.equal(new CatchUpStore(files, 'sub', FILTER).load(BASE)?.since, BASE - 3000);
  });
});
