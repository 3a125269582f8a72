import assert from 'node:assert/strict';
import { parseEntry } from '../../nodes/aci/entries';
import { orderClass } from '../../nodes/aci/entries';
import { parsePush } from '../../nodes/aci/subscriber/push';
import {
  ReadComparison,
  SLICE,
  compareStates,
  isNews,
  knownStates,
  track,
} from '../../nodes/aci/subscriber/resync';
import { spreadDue } from '../../nodes/aci/subscriber/subscription-refresh';
import type { AciObject, KnownState } from '../../nodes/aci/subscriber/types';
import {
  CLOCK_SLACK_MS,
  LOG_OVERLAP_MS,
  LogComparison,
  MARK,
  floorFilter,
  isLogEntry,
  logFloor,
  trackLog,
} from '../../nodes/aci/subscriber/log-window';

function bd(name: string, modTs?: string, status = ''): AciObject {
  const dn = `uni/tn-prod/BD-${name}`;
  return { className: 'fvBD', dn, status, attributes: modTs === undefined ? { dn } : { dn, modTs } };
}

describe('ACI pushes', () => {
  it('reads pushes: subscriptionId as an array (or a string), objects with a dn', () => {
    const push = parsePush(
      JSON.stringify({
        subscriptionId: ['1', '2'],
        imdata: [{ fvBD: { attributes: { dn: 'uni/tn-a/BD-b', status: 'deleted' } } }],
      }),
    );
    assert.deepEqual(push.ids, ['1', '2']);
    assert.equal(push.objects[0]!.status, 'deleted');
    assert.deepEqual(parsePush('{"subscriptionId":"7","imdata":[]}').ids, ['7']);
    assert.throws(() => parsePush('<html>'), { code: 'APIC_BAD_PUSH' });
    assert.throws(() => parsePush('{"imdata":[]}'), { code: 'APIC_BAD_PUSH' });
    assert.throws(() => parsePush('{"subscriptionId":["1"],"imdata":[{"fvBD":{"attributes":{}}}]}'), {
      code: 'APIC_BAD_PUSH',
    });
  });

  it('refuses a push holding an object that is none, with its text, and never fails on reading it', () => {
    const good = { fvBD: { attributes: { dn: 'uni/tn-a/BD-b' } } };
    const odd = [
      null,
      'fvBD',
      {},
      { fvBD: null },
      { fvBD: { attributes: null } },
      { fvBD: { attributes: { name: 'b' } } },
      // Two classes in one object, one named by a producer that lost the name: no class to read it as.
      { undefined: { attributes: { dn: 'uni/tn-a/BD-x' } }, fvBD: { attributes: { dn: 'uni/tn-a/BD-x' } } },
    ];
    for (const object of odd) {
      const text = JSON.stringify({ subscriptionId: ['1'], imdata: [good, object] });
      assert.throws(
        () => parsePush(text),
        (err: { code?: string; message: string }) =>
          err.code === 'APIC_BAD_PUSH' &&
          err.message.startsWith('A push holds an object without a dn: {"subscriptionId":["1"]'),
        JSON.stringify(object),
      );
    }
  });
});

describe('ACI paging', () => {
  it('sorts paged reads by dn when the answer holds one class', () => {
    assert.equal(orderClass(parseEntry('fvBD')), 'fvBD');
    assert.equal(orderClass(parseEntry('fvBD?query-target-filter=eq(fvBD.name,"web")')), 'fvBD');
    assert.equal(
      orderClass(parseEntry('uni/tn-prod?query-target=subtree&target-subtree-class=fvAEPg')),
      'fvAEPg',
    );
    assert.equal(orderClass(parseEntry('uni/tn-prod?query-target=subtree')), undefined, 'mixed classes');
    assert.equal(
      orderClass(parseEntry('fvTenant?query-target=children&target-subtree-class=fvBD,fvAp')),
      undefined,
    );
    assert.equal(orderClass(parseEntry('uni/tn-prod')), undefined, 'one object');
  });
});

describe('ACI subscription refresh timing', () => {
  it('spreads the first refreshes of a batch evenly over the interval', () => {
    const count = 40;
    const dues = Array.from({ length: count }, (_, i) => spreadDue(1000, 60_000, i, count));
    assert.ok(
      dues.every((d) => d > 1000 && d <= 61_000),
      'within (start, start + interval]',
    );
    // Every slice of a fortieth of the interval holds exactly one: no burst, no gap.
    const perSlice = new Array<number>(count).fill(0);
    for (const d of dues) perSlice[Math.ceil(((d - 1000) / 60_000) * count) - 1]!++;
    assert.deepEqual(perSlice, new Array<number>(count).fill(1));
    assert.equal(spreadDue(0, 1000, 0, 1), 1000, 'one alone waits the whole interval');
  });
});

describe('ACI resync: the last known state against a fresh read', () => {
  const T1 = '2026-01-01T10:00:00.000+00:00';
  const T2 = '2026-01-01T11:00:00.000+00:00';
  const summary = (objects: AciObject[], fresh: AciObject[]) =>
    compareStates(knownStates(objects), fresh).changes.map((c) => `${c.status} ${c.object.dn}`);

  it('finds what was created, modified and deleted, and nothing that stayed the same', () => {
    const before = [bd('same', T1), bd('changed', T1), bd('gone', T1)];
    const after = [bd('same', T1), bd('changed', T2), bd('new', T2)];
    assert.deepEqual(summary(before, after), [
      'modified uni/tn-prod/BD-changed',
      'created uni/tn-prod/BD-new',
      'deleted uni/tn-prod/BD-gone',
    ]);
    assert.deepEqual(summary(after, after), [], 'an unchanged read reports nothing');
  });

  it('reports a deletion with its class and last known modTs (its event id stays deterministic)', () => {
    const { changes, gone } = compareStates(knownStates([bd('gone', T1), bd('bare')]), []);
    assert.deepEqual(
      changes.map((c) => [c.status, c.object.className, c.object.attributes]),
      [
        ['deleted', 'fvBD', { dn: 'uni/tn-prod/BD-gone', modTs: T1 }],
        ['deleted', 'fvBD', { dn: 'uni/tn-prod/BD-bare' }],
      ],
    );
    assert.deepEqual([...gone], ['uni/tn-prod/BD-gone', 'uni/tn-prod/BD-bare']);
  });

  it('gives the fresh read as the next comparison\'s "before", leaving the old state as it was', () => {
    const previous = knownStates([bd('a', T1)]);
    const { known } = compareStates(previous, [bd('a', T2), bd('b')]);
    assert.deepEqual(
      compareStates(known, [bd('a', T2), bd('b')]).changes,
      [],
      'the read is now the known state',
    );
    assert.deepEqual(compareStates(previous, [bd('a', T1)]).changes, [], 'the old state is unchanged');
  });

  it('tells states apart by the time and life cycle an object carries where modTs is "never"', () => {
    const dn = 'uni/tn-prod/ap-app/epg-web/fault-F1527';
    const fault = (lc: string, lastTransition: string): AciObject => ({
      className: 'faultInst',
      dn,
      status: '',
      attributes: { dn, modTs: 'never', lc, lastTransition },
    });
    const { changes } = compareStates(knownStates([fault('raised', T1)]), [fault('retaining', T2)]);
    assert.deepEqual(
      changes.map((c) => c.status),
      ['modified'],
    );
    const gone = compareStates(knownStates([fault('raised', T1)]), []).changes[0]!;
    assert.equal(gone.object.attributes.lastTransition, T1, 'the deletion is dated by the last known time');
  });

  it('drops a held push the fresh read already said (same or older), keeps newer ones and others', () => {
    const known = knownStates([bd('a', T2)]);
    const gone = new Set(['uni/tn-prod/BD-x']);
    assert.equal(isNews(known, gone, bd('a', T1, 'modified')), false, 'older than the read');
    assert.equal(isNews(known, gone, bd('a', T2, 'modified')), false, 'what the read said');
    assert.equal(isNews(known, gone, bd('a', '2026-01-01T12:00:00.000+00:00', 'modified')), true);
    assert.equal(isNews(known, gone, bd('other', T1, 'created')), true, 'not in the read');
    assert.equal(isNews(known, gone, bd('x', T1, 'deleted')), false, 'the comparison reported it gone');
    assert.equal(isNews(known, gone, bd('a', T2, 'deleted')), true);
    assert.equal(isNews(known, undefined, bd('a', T1, 'modified')), true, 'a read neither sent nor compared');
  });

  it('finds nothing gone in a first read, at once or between pauses', async () => {
    const first = new ReadComparison(undefined);
    assert.deepEqual(
      first.page([bd('a', T1)]).map((c) => c.status),
      ['created'],
    );
    assert.deepEqual(first.goneNow(), []);
    assert.deepEqual(await first.gone(() => Promise.resolve()), []);
  });

  it('pauses a large comparison once per slice of known objects, not never nor per object', async () => {
    const known = knownStates(Array.from({ length: 2 * SLICE + 10 }, (_, i) => bd(`n${i}`, T1)));
    const comparison = new ReadComparison(known);
    comparison.page([bd('n0', T1)]);
    let pauses = 0;
    const gone = await comparison.gone(() => {
      pauses++;
      return Promise.resolve();
    });
    assert.equal(gone.length, 2 * SLICE + 9);
    assert.equal(pauses, 2, 'other work (refreshes due, pushes) runs between slices');
  });

  it('takes a held push to an entry that knows nothing yet as news', () => {
    const gone = new Set<string>();
    assert.equal(isNews(undefined, gone, bd('a', T1, 'modified')), true);
    assert.equal(isNews(undefined, gone, bd('a', T1, 'created')), true);
    assert.equal(isNews(undefined, gone, bd('a', T1, 'deleted')), true);
  });

  it('tells what a push changed in the known state: a deletion as gone, nothing where none is kept', () => {
    const known = knownStates([bd('a', T1)]);
    assert.deepEqual(track(known, bd('a', undefined, 'deleted')), [['uni/tn-prod/BD-a', undefined]]);
    assert.equal(known.size, 0);
    assert.deepEqual(track(undefined, bd('a', T2, 'modified')), []);
    assert.deepEqual(track(undefined, bd('a', undefined, 'deleted')), []);
  });

  it('keeps the last known state current with pushes', () => {
    const known = knownStates([bd('a', T1), bd('b', T1)]);
    track(known, bd('a', T2, 'modified'));
    track(known, bd('b', undefined, 'modified')); // a modification without a time keeps the known one
    track(known, bd('c', T2, 'created'));
    track(known, bd('a', T2, 'deleted'));
    track(known, bd('d', T2, 'modified')); // created while the socket was away: no state known before
    const e = knownStates([bd('e', T1)]).get('uni/tn-prod/BD-e')!;
    known.set('uni/tn-prod/BD-e', e);
    track(known, bd('e', undefined, 'created')); // created anew, untimed (its deletion missed): nothing of the old one
    assert.deepEqual(
      [...known.keys()],
      ['uni/tn-prod/BD-b', 'uni/tn-prod/BD-c', 'uni/tn-prod/BD-d', 'uni/tn-prod/BD-e'],
    );
    assert.deepEqual(
      compareStates(known, [bd('b', T1), bd('c', T2), bd('d', T2), bd('e')]).changes,
      [],
      'as a fresh read shows it',
    );
  });
});

describe('ACI logs: known by a window at the newest record', () => {
  const at = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');
  const T = Date.parse('2026-03-20T10:00:00.000Z');
  const record = (id: number, ms: number, status = 'created'): AciObject => {
    const dn = `subj-[uni/tn-prod]/mod-${id}`;
    return { className: 'aaaModLR', dn, status, attributes: { dn, created: at(ms), modTs: 'never' } };
  };
  const markOf = (known: Map<string, KnownState>) => known.get(MARK)?.stamp.created;

  it('tells a log entry by its one class: aaaModLR, eventRecord, faultRecord, aaaSessionLR, healthRecord', () => {
    for (const text of [
      'aaaModLR',
      'eventRecord',
      'faultRecord',
      'aaaSessionLR',
      'uni/tn-a?query-target=subtree&target-subtree-class=faultRecord',
    ]) {
      assert.equal(isLogEntry(parseEntry(text)), true, text);
    }
    for (const text of ['faultInst', 'fvBD', 'uni/tn-a?query-target=subtree', 'healthInst']) {
      assert.equal(isLogEntry(parseEntry(text)), false, text);
    }
  });

  it('reads from the mark less the overlap, and-ed with the entry’s own filter', () => {
    const known = new Map([[MARK, { className: 'aaaModLR', stamp: { created: at(T) } }]]);
    assert.equal(logFloor(known, 0), at(T - LOG_OVERLAP_MS));
    assert.equal(logFloor(undefined, T), at(T - LOG_OVERLAP_MS), 'no mark yet: the APIC’s time');
    const floor = at(T);
    assert.equal(floorFilter(parseEntry('aaaModLR'), floor), `ge(aaaModLR.created,"${floor}")`);
    assert.equal(
      floorFilter(parseEntry('aaaModLR?query-target-filter=eq(aaaModLR.ind,"deletion")'), floor),
      `and(eq(aaaModLR.ind,"deletion"),ge(aaaModLR.created,"${floor}"))`,
    );
  });

  it('moves the mark with the records pushed, keeps those of the overlap, forgets older ones', () => {
    const known = new Map<string, KnownState>();
    trackLog(known, record(1, T), T);
    trackLog(known, record(2, T + 5000), T + 5000);
    const changed = trackLog(known, record(3, T + LOG_OVERLAP_MS + 1000), T + 20_000);
    assert.equal(markOf(known), at(T + LOG_OVERLAP_MS + 1000));
    assert.deepEqual(
      [...known.keys()].filter((k) => k !== MARK),
      [record(2, 0).dn, record(3, 0).dn],
    );
    assert.deepEqual(
      changed.map(([dn, state]) => [dn, state === undefined]),
      [
        [record(3, 0).dn, false],
        [MARK, false],
        [record(1, 0).dn, true],
      ],
      'what changed, as the saved state needs it',
    );
  });

  it('moves the mark no further than the APIC’s clock as measured: a record dated beyond it moves it to that clock', () => {
    const known = new Map<string, KnownState>();
    trackLog(known, record(1, T), T);
    trackLog(known, record(2, Date.parse('2099-01-01T00:00:00Z')), T + 1000);
    assert.equal(markOf(known), at(T + 1000 + CLOCK_SLACK_MS));
    // So a later read still starts before the records written meanwhile at the right time.
    assert.ok(logFloor(known, 0) < at(T + 2000));
  });

  it('compares a read of a log by "seen or not": nothing modified, nothing gone', async () => {
    const previous = new Map<string, KnownState>();
    trackLog(previous, record(1, T), T);
    trackLog(previous, record(2, T + 1000), T + 1000);
    const comparison = new LogComparison(previous, 'aaaModLR', T + 60_000);
    const news = comparison.page([record(2, T + 1000), record(3, T + 2000), record(1, T)]);
    assert.deepEqual(
      news.map((c) => [c.object.dn, c.status]),
      [[record(3, 0).dn, 'created']],
    );
    assert.deepEqual(await comparison.gone(), []);
    assert.equal(previous.has(record(3, 0).dn), false, 'the state it started from is left as it was');
  });
});
