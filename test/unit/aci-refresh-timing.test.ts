/**
 * When an APIC subscription is refreshed: at half its refresh timeout (APICs expire them early), on APICs before
 * 3.2(3) at half of the fixed 60 s they keep. Both bounds: too late and the subscription lapses, too early and a
 * controller with thousands of subscriptions is refreshed twice as often as it needs.
 */
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import type { Backoff } from '../../nodes/common/backoff';
import { CodedError } from '../../nodes/common/errors';
import type { ApicSession } from '../../nodes/aci/session';
import { Connection, type ApicSubscription } from '../../nodes/aci/subscriber/connection';
import type { RecipientEntry } from '../../nodes/aci/subscriber/recipients';
import {
  newSubscription,
  refreshDue,
  subscriptionTimeoutSec,
} from '../../nodes/aci/subscriber/subscription-refresh';

const entry = (refreshTimeoutSec: number) =>
  ({ recipient: { options: { refreshTimeoutSec } } }) as unknown as RecipientEntry;
const on = (version: string | undefined) => ({ info: { version } }) as unknown as ApicSession;

describe('ACI subscription refresh timing', () => {
  it('refreshes a new subscription alone at exactly half its refresh timeout', () => {
    const before = Date.now();
    const made = newSubscription('72057594037927937', 60, { start: 1_000_000, index: 0, count: 1 });
    assert.equal(made.id, '72057594037927937');
    assert.equal(made.due, 1_000_000 + 30_000);
    assert.ok(made.aliveSince >= before && made.aliveSince <= Date.now(), 'alive from when it was made');
  });

  it('spreads a batch over that half: the last of three at half the timeout, the first at a sixth', () => {
    const dues = [0, 1, 2].map(
      (index) => newSubscription(`s${index}`, 90, { start: 0, index, count: 3 }).due,
    );
    assert.deepEqual(dues, [15_000, 30_000, 45_000]);
  });

  it('takes the refresh timeout asked for from APIC 3.2(3) on, and the fixed 60 s before', () => {
    for (const version of ['3.2(3a)', '3.2(10e)', '3.3(1a)', '4.0(1h)', '6.0(2h)', undefined, 'unknown'])
      assert.equal(subscriptionTimeoutSec(entry(600), on(version)), 600, String(version));
    for (const version of ['3.2(2o)', '3.1(2v)', '2.3(1f)', '1.0(1e)'])
      assert.equal(subscriptionTimeoutSec(entry(600), on(version)), 60, version);
  });
});

/**
 * Refreshes on a connection of the test's own, with the clock set by the test (`now`): an APIC that answers each
 * subscriptionRefresh as `answer` says, and a throttling backoff whose waits the test chooses.
 */
describe('ACI subscription refresh: which are refreshed, and when a throttled one is given up', () => {
  const realNow = Date.now;
  const NOW = 1_700_000_000_000;
  let now: number;
  let refreshed: string[];
  let emitted: [string, string][];
  let answer: (id: string) => void;
  /** The waits each new throttling backoff gives, one after another. */
  let waits: number[];
  let backoffs: number;

  beforeEach(() => {
    now = NOW;
    Date.now = () => now;
    refreshed = [];
    emitted = [];
    answer = () => undefined;
    waits = [1000, 2000, 4000];
    backoffs = 0;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  const session = {
    host: 'https://apic1',
    info: { version: '5.2(7f)' },
    get: async (url: URL) => {
      const id = url.searchParams.get('id') ?? '';
      refreshed.push(id);
      answer(id);
      return {};
    },
  } as unknown as ApicSession;
  const context = {
    passingBackoff: () => {
      backoffs++;
      let n = 0;
      return { next: () => waits[Math.min(n++, waits.length - 1)] } as unknown as Backoff;
    },
    emit: (event: string, text: string) => void emitted.push([event, text]),
  };
  const throttled = () => {
    throw new CodedError('APIC_THROTTLED', 'APIC answered 503: throttled');
  };

  /** A connection holding subscriptions (refresh timeout 60 s) with the given ids, due and alive since. */
  function connection(...subscriptions: Partial<ApicSubscription>[]): Connection {
    const c = new Connection(session, {} as WebSocket);
    subscriptions.forEach((s, i) => {
      const e = { recipient: { options: { refreshTimeoutSec: 60 } }, entry: { key: `entry${i}` } };
      c.subscribed(e as unknown as RecipientEntry, { id: `s${i}`, due: NOW, aliveSince: NOW - 30_000, ...s });
    });
    return c;
  }
  const dues = (c: Connection) => [...c.subscriptions.values()].map((s) => s.due);
  const events = (name: string) => emitted.filter(([event]) => event === name).map(([, text]) => text);

  it('refreshes a subscription due now, not one due a millisecond later, and the next at half the timeout', async () => {
    const c = connection({ due: NOW }, { due: NOW + 1 });
    await refreshDue(c, context);
    assert.deepEqual(refreshed, ['s0']);
    assert.deepEqual(dues(c), [NOW + 30_000, NOW + 1]);
    assert.equal(c.subscriptions.get([...c.subscriptions.keys()][0]!)?.aliveSince, NOW);
    assert.deepEqual(events('subscription-refreshed'), ['s0']);
  });

  it('refreshes two subscriptions due at the same moment, both, in the order they were made', async () => {
    const c = connection({ due: NOW - 5 }, { due: NOW - 5 }, { due: NOW - 10 });
    await refreshDue(c, context);
    assert.deepEqual(refreshed, ['s2', 's0', 's1'], 'the soonest first');
    assert.deepEqual(dues(c), [NOW + 30_000, NOW + 30_000, NOW + 30_000]);
  });

  it('tries a throttled refresh again while it ends before three quarters of the timeout', async () => {
    // Alive since NOW - 40 s: three quarters of 60 s end at NOW + 5 s.
    const c = connection({ aliveSince: NOW - 40_000 });
    answer = throttled;
    waits = [4_999];
    await refreshDue(c, context);
    assert.deepEqual(dues(c), [NOW + 4_999], 'tried again after the wait');
    assert.deepEqual(events('debug'), ['refresh of entry0 throttled; trying again in 4999 ms']);
    assert.deepEqual(events('resubscribing'), []);
  });

  it('gives a throttled refresh up when the wait would reach three quarters of the timeout, and subscribes anew', async () => {
    const c = connection({ aliveSince: NOW - 40_000 });
    answer = throttled;
    waits = [5_000];
    await refreshDue(c, context);
    assert.equal(c.subscriptions.size, 0, 'dropped, to be made again');
    assert.deepEqual(events('resubscribing'), ['entry0']);
    assert.match(
      events('debug')[0] ?? '',
      /refresh of entry0 failed \(APIC answered 503: throttled\); subscribing again/,
    );
  });

  it('starts the throttling backoff over after a refresh that succeeded', async () => {
    const c = connection({});
    answer = throttled;
    await refreshDue(c, context);
    now += 1000;
    await refreshDue(c, context);
    assert.deepEqual(dues(c), [now + 2000], 'the second throttled try waits longer');
    answer = () => undefined;
    now += 2000;
    await refreshDue(c, context);
    answer = throttled;
    now += 30_000;
    await refreshDue(c, context);
    assert.deepEqual(dues(c), [now + 1000], 'a new throttling starts at the first wait again');
    assert.equal(backoffs, 2);
  });

  it('subscribes anew after any other refusal at once, and leaves a lost session to the connection', async () => {
    const c = connection({}, {});
    answer = (id) => {
      if (id === 's0') throw new CodedError('APIC_HTTP_ERROR', 'APIC answered 400: unknown id');
      throw new CodedError('APIC_SESSION_EXPIRED', 'the session expired');
    };
    await assert.rejects(refreshDue(c, context), { code: 'APIC_SESSION_EXPIRED' });
    assert.deepEqual(events('resubscribing'), ['entry0']);
    assert.deepEqual(refreshed, ['s0', 's1']);
    assert.equal(c.subscriptions.size, 1, 'the one the session took down stays until the connection ends');
  });

  it('refreshes nothing on a connection that ended', async () => {
    const c = connection({ due: NOW - 1 });
    c.end({});
    await refreshDue(c, context);
    assert.deepEqual(refreshed, []);
  });
});
