/**
 * The window a log is known by: its mark, records forgotten at the overlap's
 * edge (both sides of it), pushed records out of time order, deletions, and
 * reads whose pages come in dn order rather than time order.
 */
import assert from 'node:assert/strict';
import { parseEntry } from '../../nodes/aci/entries';
import {
  LOG_OVERLAP_MS,
  LogComparison,
  MARK,
  apicTime,
  floorFilter,
  trackLog,
} from '../../nodes/aci/subscriber/log-window';
import type { AciObject, KnownState } from '../../nodes/aci/subscriber/types';

const T = Date.parse('2026-03-20T10:00:00.000Z');

function record(id: number, ms: number | undefined, status = 'created'): AciObject {
  const dn = `subj-[uni/tn-prod]/mod-${id}`;
  const attributes: Record<string, string> = { dn, modTs: 'never' };
  if (ms !== undefined) attributes.created = apicTime(ms);
  return { className: 'aaaModLR', dn, status, attributes };
}

const dn = (id: number) => record(id, 0).dn;
const markOf = (known: ReadonlyMap<string, KnownState>) => known.get(MARK)?.stamp.created;
const records = (known: ReadonlyMap<string, KnownState>) => [...known.keys()].filter((k) => k !== MARK);

/** A window built from pushes, in the order given. */
function pushed(...objects: AciObject[]): Map<string, KnownState> {
  const known = new Map<string, KnownState>();
  for (const o of objects) trackLog(known, o, T + 60_000);
  return known;
}

describe('ACI logs: the window’s edges', () => {
  it('and-s no other option than query-target-filter into the floor filter', () => {
    const entry = parseEntry('uni/tn-a?query-target=subtree&target-subtree-class=faultRecord');
    assert.equal(floorFilter(entry, apicTime(T)), `ge(faultRecord.created,"${apicTime(T)}")`);
  });

  it('keeps a record exactly an overlap before the mark, forgets one a millisecond older', () => {
    const known = pushed(record(1, T - 1), record(2, T), record(3, T + LOG_OVERLAP_MS));
    assert.equal(markOf(known), apicTime(T + LOG_OVERLAP_MS));
    assert.deepEqual(records(known), [dn(2), dn(3)]);
  });

  it('tells a record pushed at the mark’s own time as known, without moving the mark', () => {
    const known = pushed(record(1, T));
    assert.deepEqual(
      trackLog(known, record(2, T), T + 60_000).map(([k]) => k),
      [dn(2)],
    );
  });

  it('never moves the mark back for a record pushed late', () => {
    const known = pushed(record(1, T + 5000), record(2, T));
    assert.equal(markOf(known), apicTime(T + 5000));
    assert.deepEqual(records(known), [dn(1), dn(2)]);
  });

  it('takes a pushed record without a time in stride: no mark from it, nothing of it kept', () => {
    const known = new Map<string, KnownState>();
    trackLog(known, record(1, undefined), T);
    assert.equal(markOf(known), undefined);
    assert.deepEqual(records(known), []);
  });

  it('forgets nothing by age while the window has no mark', () => {
    const known = new Map<string, KnownState>([
      [dn(1), { className: 'aaaModLR', stamp: { created: apicTime(T) } }],
    ]);
    trackLog(known, record(2, undefined), T);
    assert.ok(known.has(dn(1)));
  });

  it('forgets a deleted record, leaving the mark', () => {
    const known = pushed(record(1, T), record(2, T + 1000));
    assert.deepEqual(trackLog(known, record(1, T, 'deleted'), T + 60_000), [[dn(1), undefined]]);
    assert.deepEqual(records(known), [dn(2)]);
    assert.equal(markOf(known), apicTime(T + 1000));
  });

  it('tells nothing of a push to an entry that keeps no window', () => {
    assert.deepEqual(trackLog(undefined, record(1, T), T), []);
  });

  it('forgets old records past a young one after a first read set the mark first', () => {
    const first = new LogComparison(undefined, 'aaaModLR', T);
    assert.equal(markOf(first.known), apicTime(T));
    first.page([record(1, T - 5000), record(2, T - 1000)]);
    trackLog(first.known, record(3, T + 8000), T + 60_000);
    assert.equal(markOf(first.known), apicTime(T + 8000));
    assert.deepEqual(records(first.known), [dn(2), dn(3)]);
  });
});

describe('ACI logs: a read whose pages come in dn order', () => {
  it('moves the mark to the newest record of a page, wherever it stands in it', () => {
    const read = new LogComparison(pushed(record(0, T)), 'aaaModLR', T + 60_000);
    read.page([record(1, T + 1000), record(2, T + 3000), record(3, T + 2000), record(4, undefined)]);
    assert.equal(markOf(read.known), apicTime(T + 3000));
    assert.ok(read.tracked.some(([k, state]) => k === MARK && state?.stamp.created === apicTime(T + 3000)));
  });

  it('forgets every record older than the window, not only those before the first young one', () => {
    const previous = pushed(record(5, T + 9000), record(1, T));
    const read = new LogComparison(previous, 'aaaModLR', T + 60_000);
    read.page([record(9, T + 12_000)]);
    assert.deepEqual(records(read.known), [dn(5), dn(9)]);
    assert.ok(read.tracked.some(([k, state]) => k === dn(1) && state === undefined));
  });
});
