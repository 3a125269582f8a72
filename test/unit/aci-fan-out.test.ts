/**
 * Which recipients a change reaches, naming what: pushes fanned out, the
 * changes of one sync gathered per recipient, one read of an entry, and the
 * connection they run on. Driven directly, with the APIC's clock set apart
 * from ours (log marks must follow the APIC's).
 */
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { ServerClock } from '../../nodes/common/server-clock';
import { timeMillis } from '../../nodes/common/times';
import { parseEntries } from '../../nodes/aci/entries';
import type { ApicSession } from '../../nodes/aci/session';
import { Connection } from '../../nodes/aci/subscriber/connection';
import { EntryRead } from '../../nodes/aci/subscriber/entry-read';
import { ChangeBatch, fanOut } from '../../nodes/aci/subscriber/fan-out';
import { CLOCK_SLACK_MS, LOG_OVERLAP_MS, MARK, apicTime } from '../../nodes/aci/subscriber/log-window';
import { Recipients, type Recipient, type RecipientEntry } from '../../nodes/aci/subscriber/recipients';
import { knownStates } from '../../nodes/aci/subscriber/resync';
import type { AciChange, AciObject, KnownState, WatchOptions } from '../../nodes/aci/subscriber/types';

const T1 = '2026-01-01T10:00:00.000+00:00';
const T2 = '2026-01-01T11:00:00.000+00:00';
const T3 = '2026-01-01T12:00:00.000+00:00';
/** The APIC's time in these tests: months before ours, so a mark on our clock would show. */
const APIC_NOW = Date.parse('2026-01-01T10:00:00Z');

const rethrow = (err: unknown): never => {
  throw err;
};

function bd(name: string, attributes: Record<string, string> = {}, status = 'modified'): AciObject {
  const dn = `uni/tn-prod/BD-${name}`;
  return { className: 'fvBD', dn, status, attributes: { dn, ...attributes } };
}

function record(id: number, created: number): AciObject {
  const dn = `subj-[uni/tn-prod]/mod-${id}`;
  return { className: 'aaaModLR', dn, status: 'created', attributes: { dn, created: apicTime(created) } };
}

/** One APIC connection, its recipients and what they were told. */
class Scene {
  readonly recipients = new Recipients();
  readonly received = new Map<string, AciChange[][]>();
  readonly tracked: [entry: string, dn: string, state: KnownState | undefined, baseline: boolean][] = [];
  readonly baselines: [entry: string, complete: boolean][] = [];
  readonly connection: Connection;
  private ids = 0;

  constructor() {
    const clock = new ServerClock();
    clock.observe(new Date(APIC_NOW).toUTCString());
    this.connection = new Connection(
      { host: 'https://apic1', clock } as unknown as ApicSession,
      {} as unknown as WebSocket,
    );
  }

  /** A node watching `entries`, each subscribed (ids 1, 2, … in order). */
  watch(node: string, entries: string[], options: Partial<WatchOptions> = {}): RecipientEntry[] {
    const received: AciChange[][] = [];
    this.received.set(node, received);
    const recipient = this.recipients.add(
      node,
      parseEntries(entries),
      {
        changes: (cs) => received.push(cs),
        tracked: (...told) => this.tracked.push(told),
        baseline: (...told) => this.baselines.push(told),
      },
      { initial: 'skip', refreshTimeoutSec: 60, ...options },
    );
    const subscribed = [...recipient.entries.values()];
    for (const e of subscribed)
      this.connection.subscribed(e, { id: String(++this.ids), due: 0, aliveSince: 0 });
    return subscribed;
  }

  push(ids: string[], objects: AciObject[], held = false): void {
    fanOut(this.connection, { ids, objects }, held, this.recipients, rethrow);
  }

  /** Every change a node was handed, in order. */
  changes(node: string): AciChange[] {
    return (this.received.get(node) ?? []).flat();
  }
}

const SUBTREE = 'uni/tn-prod?query-target=subtree';

describe('ACI fan-out: which recipients a push reaches, naming what', () => {
  it('hands a push once per node however many of its subscriptions matched, naming each', () => {
    const scene = new Scene();
    const [bds, subtree] = scene.watch('node-1', ['fvBD', SUBTREE]);
    scene.watch('node-2', ['fvBD']);
    // The APIC names each matching subscription; one named twice still names it once.
    scene.push(['1', '2', '3', '1'], [bd('a', { modTs: T1 }), bd('b', { modTs: T1 })]);

    assert.equal(scene.received.get('node-1')!.length, 1, 'one delivery for the push');
    const [a, b] = scene.changes('node-1');
    for (const change of [a!, b!]) {
      assert.deepEqual(change.subscriptionIds, ['1', '2']);
      assert.deepEqual(change.entries, [bds!.entry.key, subtree!.entry.key]);
      assert.equal(change.reason, 'push');
      assert.equal(change.apic, 'https://apic1');
    }
    assert.deepEqual(
      scene.changes('node-2').map((c) => [c.dn, c.subscriptionIds, c.entries]),
      [
        [a!.dn, ['3'], ['fvBD']],
        [b!.dn, ['3'], ['fvBD']],
      ],
    );
    // A node may keep and change what it was handed: each change has lists of its own.
    a!.subscriptionIds.push('x');
    a!.entries.push('y');
    assert.deepEqual(b!.subscriptionIds, ['1', '2']);
    assert.deepEqual(b!.entries, [bds!.entry.key, subtree!.entry.key]);
  });

  it('passes children on when the push has them, and adds no children key when it has none', () => {
    const scene = new Scene();
    scene.watch('node-1', ['fvBD']);
    const children = [{ fvRsCtx: { attributes: { tnFvCtxName: 'vrf' } } }];
    scene.push(['1'], [{ ...bd('a', { modTs: T1 }), children }, bd('b', { modTs: T1 })]);
    const [a, b] = scene.changes('node-1');
    assert.deepEqual(a!.children, children);
    assert.equal('children' in b!, false);
  });

  it('dates a deletion without a time from what any entry knew, and sends it when none knew it', () => {
    const scene = new Scene();
    const [unread, other, knowing] = scene.watch('node-1', ['fvBD', SUBTREE, 'fvBD?rsp-subtree=full']);
    other!.known = knownStates([bd('z', { modTs: T2 })]);
    knowing!.known = knownStates([bd('a', { modTs: T1 })]);

    scene.push(['1'], [bd('a', {}, 'deleted')]);
    assert.equal(scene.changes('node-1')[0]!.status, 'deleted');
    assert.equal(scene.changes('node-1')[0]!.attributes.modTs, undefined, 'no entry read yet: no time');
    assert.equal(unread!.known, undefined);

    scene.push(['2', '3'], [bd('a', {}, 'deleted')]);
    assert.equal(scene.changes('node-1')[1]!.attributes.modTs, T1, 'the time the third entry knew');
  });

  it('leaves a pushed modification without a time undated, whatever was known of it', () => {
    const scene = new Scene();
    const [e] = scene.watch('node-1', ['fvBD']);
    e!.known = knownStates([bd('a', { modTs: T1 })]);
    scene.push(['1'], [bd('a', { descr: 'new' })]);
    const [change] = scene.changes('node-1');
    assert.equal(change!.attributes.descr, 'new');
    assert.equal('modTs' in change!.attributes, false);
  });

  it('drops a push held during a sync when every read entry already said the same or newer', () => {
    const scene = new Scene();
    const [bds, subtree] = scene.watch('node-1', ['fvBD', SUBTREE]);
    bds!.known = knownStates([bd('a', { modTs: T2 })]);
    scene.connection.resynced.set(bds!, new Set());

    // Two changes pushed while the read ran, which found the second: neither is news, nor rolls back what is known.
    scene.push(['1'], [bd('a', { modTs: T1 })], true);
    scene.push(['1'], [bd('a', { modTs: T2 })], true);
    assert.deepEqual(
      scene.received.get('node-1'),
      [],
      'older than the read, then the same: the node is not called',
    );
    assert.equal(bds!.known.get(bd('a').dn)!.stamp.modTs, T2);
    assert.deepEqual(scene.tracked, [], 'nothing new to keep');
    scene.push(['1'], [bd('a', { modTs: T3, descr: 'later' })], true);
    assert.deepEqual(
      scene.changes('node-1').map((c) => c.attributes.descr),
      ['later'],
      'newer than the read: sent',
    );
    scene.push(['1'], [bd('a', { modTs: T1, descr: 'outside a sync' })]);
    assert.equal(scene.changes('node-1').at(-1)!.attributes.descr, 'outside a sync', 'not held: always sent');

    // The other entry of the node was not read yet: to it the push is news, so the node hears of it.
    scene.push(['1', '2'], [bd('a', { modTs: T1, descr: 'news to one' })], true);
    assert.equal(scene.changes('node-1').at(-1)!.attributes.descr, 'news to one');
    assert.equal(subtree!.known, undefined);
  });

  it("tells a node's saved state of a pushed deletion, and nothing of an entry not read yet", () => {
    const scene = new Scene();
    const [read, unread] = scene.watch('node-1', ['fvBD', SUBTREE]);
    read!.known = knownStates([bd('a', { modTs: T1 }), bd('b', { modTs: T1 })]);
    scene.push(['1', '2'], [bd('a', {}, 'deleted'), bd('c', { modTs: T2 }, 'created')]);
    assert.deepEqual(scene.tracked, [
      ['fvBD', bd('a').dn, undefined, false],
      ['fvBD', bd('c').dn, { className: 'fvBD', stamp: { modTs: T2 } }, false],
    ]);
    assert.deepEqual([...read!.known.keys()], [bd('b').dn, bd('c').dn]);
    assert.equal(unread!.known, undefined, 'an entry not read keeps no state');
    assert.deepEqual(
      scene.changes('node-1').map((c) => [c.status, c.dn]),
      [
        ['deleted', bd('a').dn],
        ['created', bd('c').dn],
      ],
    );
  });

  it('moves a log mark by a pushed record on the APIC clock, telling the state as not a baseline', () => {
    const scene = new Scene();
    const [log] = scene.watch('node-1', ['aaaModLR']);
    log!.known = new Map([
      [MARK, { className: 'aaaModLR', stamp: { created: apicTime(APIC_NOW - 60_000) } }],
    ]);
    // A record dated an hour past the APIC's clock (still months before ours): the mark stops at the clock.
    scene.push(['1'], [record(1, APIC_NOW + 3_600_000)]);

    const mark = timeMillis(log!.known.get(MARK)!.stamp.created)!;
    assert.ok(
      mark >= APIC_NOW + CLOCK_SLACK_MS,
      `mark ${apicTime(mark)} not before the APIC's clock + slack`,
    );
    assert.ok(mark <= APIC_NOW + CLOCK_SLACK_MS + 60_000, `mark ${apicTime(mark)} not past the APIC's clock`);
    assert.deepEqual(
      scene.tracked.map(([entry, dn, , baseline]) => [entry, dn, baseline]),
      [
        ['aaaModLR', 'subj-[uni/tn-prod]/mod-1', false],
        ['aaaModLR', MARK, false],
      ],
    );
    assert.equal(scene.changes('node-1').length, 1);
  });
});

describe('ACI recipients: the nodes of one subscriber', () => {
  it('counts its nodes, and a node removed by key hears nothing more while the others do', () => {
    const scene = new Scene();
    scene.watch('node-1', ['fvBD']);
    scene.watch('node-2', ['fvBD']);
    assert.equal(scene.recipients.size, 2);
    assert.equal(scene.recipients.delete('node-1')?.key, 'node-1');
    assert.equal(scene.recipients.delete('node-3'), undefined, 'no such node');
    assert.equal(scene.recipients.size, 1);
    assert.deepEqual(
      scene.recipients.all().map((r) => r.key),
      ['node-2'],
    );
    scene.push(['1', '2'], [bd('a', { modTs: T1 })]);
    assert.deepEqual(scene.changes('node-1'), []);
    assert.deepEqual(
      scene.changes('node-2').map((c) => c.dn),
      [bd('a').dn],
    );
  });

  it('hands a sync batch to no node removed or redeployed since it was gathered', () => {
    const scene = new Scene();
    const [removed] = scene.watch('node-1', ['fvBD']);
    const [replaced] = scene.watch('node-2', ['fvBD']);
    const [kept] = scene.watch('node-3', ['fvBD']);
    const batch = new ChangeBatch();
    for (const e of [removed!, replaced!, kept!])
      batch.add(scene.connection, e, bd('a', { modTs: T1 }), 'snapshot');
    scene.recipients.delete('node-1');
    // A redeployed node registers again under its key: the batch was gathered for the one it replaced.
    const redeployed: AciChange[][] = [];
    scene.recipients.add(
      'node-2',
      parseEntries(['fvBD']),
      { changes: (cs) => redeployed.push(cs) },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    batch.deliver(scene.recipients, rethrow);
    assert.deepEqual(scene.received.get('node-1'), []);
    assert.deepEqual(scene.received.get('node-2'), [], 'the replaced node');
    assert.deepEqual(redeployed, [], 'the new node reads for itself');
    assert.deepEqual(
      scene.changes('node-3').map((c) => c.dn),
      [bd('a').dn],
    );
  });

  it("hands a node's failing handler's error on, and still reaches the nodes after it", () => {
    const scene = new Scene();
    scene.watch('node-1', ['fvBD']);
    scene.watch('node-2', ['fvBD']);
    const failure = new Error('a flow broke');
    scene.recipients.get('node-1')!.handlers.changes = () => {
      throw failure;
    };
    const errors: unknown[] = [];
    fanOut(scene.connection, { ids: ['1', '2'], objects: [bd('a')] }, false, scene.recipients, (err) =>
      errors.push(err),
    );
    assert.deepEqual(errors, [failure]);
    assert.deepEqual(
      scene.changes('node-2').map((c) => c.dn),
      [bd('a').dn],
    );
  });
});

describe('ACI sync batches: the changes of one sync, per recipient', () => {
  const snapshot = (scene: Scene, batch: ChangeBatch, e: RecipientEntry, o: AciObject) =>
    batch.add(scene.connection, e, o, 'snapshot');

  it('gathers each object once per node, naming every entry it was read through, and never twice a sync', () => {
    const scene = new Scene();
    const [bds, subtree] = scene.watch('node-1', ['fvBD', SUBTREE]);
    const batch = new ChangeBatch([bds!.recipient]);
    snapshot(scene, batch, bds!, bd('a', { modTs: T1 }));
    snapshot(scene, batch, bds!, bd('b', { modTs: T1 }));
    snapshot(scene, batch, subtree!, bd('a', { modTs: T1 }));
    batch.deliver(scene.recipients, rethrow);

    assert.deepEqual(
      scene.changes('node-1').map((c) => [c.dn, c.reason, c.subscriptionIds, c.entries]),
      [
        [bd('a').dn, 'snapshot', ['1', '2'], ['fvBD', SUBTREE]],
        [bd('b').dn, 'snapshot', ['1'], ['fvBD']],
      ],
    );
    // A later page of the other entry finds b again: the node was told of it already in this sync.
    snapshot(scene, batch, subtree!, bd('b', { modTs: T1 }));
    batch.deliver(scene.recipients, rethrow);
    assert.equal(scene.received.get('node-1')!.length, 1);
    // A change of b is another state: it goes.
    snapshot(scene, batch, subtree!, bd('b', { modTs: T2 }));
    batch.deliver(scene.recipients, rethrow);
    assert.deepEqual(scene.changes('node-1').at(-1)!.attributes.modTs, T2);
  });

  it('hands a node of one entry everything it gathered', () => {
    const scene = new Scene();
    const [e] = scene.watch('node-1', ['fvBD']);
    const batch = new ChangeBatch();
    for (const name of ['a', 'b', 'c']) snapshot(scene, batch, e!, bd(name, { modTs: T1 }));
    batch.deliver(scene.recipients, rethrow);
    assert.deepEqual(
      scene.changes('node-1').map((c) => c.dn),
      ['a', 'b', 'c'].map((name) => bd(name).dn),
    );
  });
});

describe('ACI entry reads', () => {
  const read = (scene: Scene, e: RecipientEntry) => new EntryRead(scene.connection, e, new ChangeBatch());

  it('tells a baseline as begun, then as complete, and its objects as known by a baseline', async () => {
    const scene = new Scene();
    const [e] = scene.watch('node-1', ['fvBD']);
    const baseline = read(scene, e!);
    assert.deepEqual(scene.baselines, [['fvBD', false]]);
    baseline.page([bd('a', { modTs: T1 })]);
    await baseline.finish(() => Promise.resolve());
    assert.deepEqual(scene.baselines, [
      ['fvBD', false],
      ['fvBD', true],
    ]);
    assert.deepEqual(
      scene.tracked.map(([entry, dn, , isBaseline]) => [entry, dn, isBaseline]),
      [['fvBD', bd('a').dn, true]],
    );
    assert.deepEqual(scene.changes('node-1'), [], 'a baseline sends nothing');
    assert.equal(e!.known?.get(bd('a').dn)?.stamp.modTs, T1);
  });

  it('starts a first read of a log at the APIC clock less the overlap, and tells its mark', () => {
    const scene = new Scene();
    const [log] = scene.watch('node-1', ['aaaModLR']);
    const first = read(scene, log!);
    const floor = timeMillis(first.floor)!;
    assert.ok(floor >= APIC_NOW - LOG_OVERLAP_MS, `floor ${first.floor} not before the APIC's clock`);
    assert.ok(floor <= APIC_NOW - LOG_OVERLAP_MS + 60_000, `floor ${first.floor} on the APIC's clock`);

    first.page([record(1, APIC_NOW - 1000)]);
    const marks = scene.tracked.filter(([, dn]) => dn === MARK);
    assert.equal(marks.length, 1, 'the mark the window began with');
    const mark = timeMillis(marks[0]![2]!.stamp.created)!;
    assert.ok(mark >= APIC_NOW && mark <= APIC_NOW + 60_000, `mark ${apicTime(mark)} on the APIC's clock`);
  });
});

describe('ACI connections', () => {
  it('forgets an entry it never subscribed (a refused one) and keeps the others', () => {
    const scene = new Scene();
    const [kept] = scene.watch('node-1', ['fvBD']);
    const recipient: Recipient = kept!.recipient;
    const refused = { recipient, entry: parseEntries('fvTenant')[0]!, waiters: [], log: false };
    scene.connection.drop(refused);
    assert.equal(scene.connection.byId.get('1'), kept);
    scene.connection.drop(kept!);
    assert.equal(scene.connection.byId.size, 0);
    assert.equal(scene.connection.subscriptions.size, 0);
  });

  it('waits without a time until woken, and with one until it passed', async () => {
    const scene = new Scene();
    let woken = false;
    const idle = scene.connection.idle().then(() => (woken = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(woken, false, 'an idle without a time does not end by itself');
    scene.connection.wake();
    await idle;
    await scene.connection.idle(5);
  });
});
