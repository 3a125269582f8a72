/**
 * The subscriber's life as a node sees it: its state from start to stop,
 * entries added, removed and read again at run time, the socket's loss and
 * the session's end, and what each node is told on the way.
 */
import assert from 'node:assert/strict';
import { parseEntries } from '../../../nodes/aci/entries';
import type { ApicSession } from '../../../nodes/aci/session';
import { ApicSubscriber } from '../../../nodes/aci/subscriber';
import type { CodedError } from '../../../nodes/common/errors';
import { delay, nextEvent, rejectionOf, waitFor } from '../../support/wait';
import type { SimQuery } from '../../../sim/apic';
import { BD, changed, synced, useApicHarness, type SubscriberExtras } from './harness';

const CTX = 'uni/tn-prod/ctx-prod-vrf';

describe('APIC subscriber life: state, run-time changes, loss and recovery', function () {
  this.timeout(30_000);
  const apic = useApicHarness();

  it('is idle until started, tells connecting then connected with its APIC, and closed once when stopped', async () => {
    const sim = await apic.startSim();
    const subscriber = apic.stopAfter(new ApicSubscriber({ cluster: apic.cluster(), pingIntervalMs: 1000 }));
    assert.equal(subscriber.state, 'idle');
    assert.equal(subscriber.size, 0);
    const states: string[] = [];
    subscriber.on('state', (state: string, info: { host?: string }) => states.push(`${state} ${info.host}`));
    const ready = synced(subscriber);
    subscriber.add(
      'node-1',
      parseEntries('fvBD'),
      { changes: () => {} },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    assert.equal(subscriber.size, 1);
    await ready;
    const host = sim.urls[0]!;
    assert.deepEqual(states, [`connecting ${host}`, `connected ${host}`]);
    assert.equal(subscriber.stateInfo.host, host);
    assert.equal(subscriber.host, host);
    await subscriber.stop();
    await subscriber.stop();
    assert.deepEqual(states.slice(2), ['closed undefined'], 'one closed, however often stopped');
    assert.deepEqual(subscriber.stateInfo, {});
  });

  it('logs out before stop resolves, and starts afresh when a node comes back: connecting, not reconnecting', async () => {
    const sim = await apic.startSim({ ports: [0] });
    const subscriber = apic.stopAfter(new ApicSubscriber({ cluster: apic.cluster(), pingIntervalMs: 1000 }));
    const watch = (node: string) =>
      subscriber.add(
        node,
        parseEntries('fvBD'),
        { changes: () => {} },
        { initial: 'skip', refreshTimeoutSec: 60 },
      );
    const ready = synced(subscriber);
    watch('node-1');
    await ready;
    // The last node leaves: the controller stops the subscriber, then closes its cluster.
    subscriber.remove('node-1');
    await subscriber.stop();
    assert.equal(sim.stats.logouts, 1, 'no session left open on the APIC');
    await sim.stopApic(0);
    const states: [string, CodedError | undefined][] = [];
    subscriber.on('state', (state: string, info: { error?: CodedError }) => states.push([state, info.error]));
    watch('node-2');
    const [state] = await waitFor(
      () => states.find(([, error]) => error),
      'a failed login after the restart',
    );
    assert.equal(state, 'connecting');
    assert.deepEqual(
      states[0],
      ['connecting', undefined],
      'connecting from the start, before the login failed',
    );
  });

  it('shows connecting, not reconnecting, with the error, while it has never connected', async () => {
    const sim = await apic.startSim({ ports: [0] });
    await sim.stopApic(0);
    const { seen } = apic.watch('fvBD');
    const [state, info] = await waitFor(() => seen.states.find(([, i]) => i.error), 'a failed first login');
    assert.equal(state, 'connecting');
    assert.ok(info.error!.code, 'the error keeps its code');
    assert.ok(!seen.states.some(([s]) => s === 'reconnecting'));
  });

  it('tells of a handler that throws, and keeps delivering', async () => {
    const sim = await apic.startSim();
    const subscriber = apic.stopAfter(new ApicSubscriber({ cluster: apic.cluster(), pingIntervalMs: 1000 }));
    const failures: unknown[] = [];
    const descrs: string[] = [];
    subscriber.on('handler-error', (err: unknown) => failures.push(err));
    const ready = synced(subscriber);
    subscriber.add(
      'node-1',
      parseEntries('fvBD'),
      {
        changes: (cs) => {
          descrs.push(...cs.map((c) => c.attributes.descr ?? ''));
          if (descrs.length === 1) throw new Error('a flow broke');
        },
      },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    await ready;
    sim.modify(BD, { descr: 'first' });
    await waitFor(() => failures.length === 1, 'the handler error');
    assert.equal((failures[0] as Error).message, 'a flow broke');
    sim.modify(BD, { descr: 'second' });
    await waitFor(() => descrs.includes('second'), 'the next change');
  });

  it('names each subscription of a node by entry, and nothing of an unknown node or a refused entry', async () => {
    const sim = await apic.startSim();
    const { subscriber } = apic.watch('fvBD\nfvCtx\nfvNoSuchThing');
    await synced(subscriber);
    const ids = subscriber.subscriptionIds('node-1');
    assert.deepEqual(Object.keys(ids).sort(), ['fvBD', 'fvCtx']);
    assert.deepEqual(Object.values(ids).sort(), sim.liveSubscriptions.map((s) => s.id).sort());
    assert.deepEqual(subscriber.subscriptionIds('node-2'), {});
    assert.deepEqual(subscriber.entries('node-2'), []);
  });

  it('refuses a run-time change or resync of a node it does not hold, with a code', async () => {
    await apic.startSim();
    const { subscriber } = apic.watch('fvBD');
    await synced(subscriber);
    for (const call of [
      () => subscriber.update('node-2', parseEntries('fvCtx'), []),
      () => subscriber.resync('node-2'),
    ]) {
      const err = await rejectionOf(call());
      assert.equal(err.code, 'APIC_SESSION_CLOSED');
      assert.match(err.message, /not connected to its controller/);
    }
  });

  it('answers a change or resync at once while not connected: the connection reads them when it comes', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    // No connection yet: the login has only begun.
    assert.deepEqual(subscriber.subscriptionIds('node-1'), {});
    subscriber.dropConnection();
    await subscriber.update('node-1', parseEntries('fvCtx'), []);
    await subscriber.resync('node-1');
    await synced(subscriber);
    assert.equal(sim.liveSubscriptions.length, 2);
    sim.modify(CTX, { descr: 'added before connecting' });
    await changed(seen, CTX, 'added before connecting');
  });

  it('leaves an entry it has alone, and removing one it lacks changes nothing', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', { initial: 'emit' });
    await synced(subscriber);
    const snapshots = seen.changes.length;
    assert.ok(snapshots > 0);
    await subscriber.update('node-1', parseEntries('fvBD'), parseEntries('fvCtx'));
    assert.equal(sim.stats.subscriptions, 1, 'not subscribed again');
    assert.equal(seen.changes.length, snapshots, 'not read again');
    sim.modify(BD, { descr: 'one subscription' });
    const change = await changed(seen, BD, 'one subscription');
    assert.equal(change.subscriptionIds.length, 1);
  });

  it('rejects a change with the refusal of its one refused entry, or one naming both of two', async () => {
    await apic.startSim();
    const { subscriber } = apic.watch('fvBD');
    await synced(subscriber);
    const one = await rejectionOf(subscriber.update('node-1', parseEntries('fvNoSuchA'), []));
    assert.equal(one.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.match(one.message, /fvNoSuchA/);
    assert.equal((one as CodedError & { details?: { status?: number } }).details?.status, 400);
    const two = await rejectionOf(subscriber.update('node-1', parseEntries('fvNoSuchB\nfvNoSuchC'), []));
    assert.equal(two.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.match(two.message, /fvNoSuchB.*fvNoSuchC/s);
  });

  it('answers a change that added an entry once it is removed again, though its read has not come', async () => {
    const sim = await apic.startSim();
    const { subscriber } = apic.watch('fvBD');
    await synced(subscriber);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    sim.onQuery = (q) => (q.target === 'fvCtx' && q.subscription ? held : undefined);
    let answered = false;
    const adding = subscriber.update('node-1', parseEntries('fvCtx'), []).then(() => (answered = true));
    await waitFor(() => sim.stats.requests.length > 0 && subscriber.entries('node-1').length === 2, 'added');
    await subscriber.update('node-1', [], parseEntries('fvCtx'));
    try {
      await waitFor(() => answered, 'the first change answered', 5000);
    } finally {
      release();
    }
    await adding;
  });

  /** node-1 on `first`, then node-2 on fvBD, one batch; `hold` keeps the matching query waiting. */
  async function twoNodes(first: string, hold: (q: SimQuery) => boolean, extra: SubscriberExtras = {}) {
    const sim = await apic.startSim();
    const asked: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    sim.onQuery = (q) => {
      asked.push(`${q.target} ${q.subscription ? 'subscription' : `page ${q.page}`}`);
      return hold(q) ? held : undefined;
    };
    const { subscriber } = apic.watch(first, {}, apic.cluster(), extra);
    subscriber.add(
      'node-2',
      parseEntries('fvBD'),
      { changes: () => {} },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    return { sim, subscriber, asked, release };
  }

  it('asks nothing for a node removed while the sync of its batch waits on another entry', async () => {
    const { sim, subscriber, asked, release } = await twoNodes('fvTenant', (q) => q.target === 'fvTenant');
    await waitFor(() => asked.length > 0, 'the first subscription asked');
    subscriber.remove('node-2');
    const done = nextEvent<[number]>(subscriber, 'synced');
    release();
    assert.deepEqual(await done, [1], 'one subscription');
    assert.deepEqual(asked, ['fvTenant subscription']);
    assert.deepEqual(
      sim.liveSubscriptions.map((s) => s.target),
      ['fvTenant'],
    );
  });

  it('reads nothing and keeps no subscription for a node removed while its subscription was asked for', async () => {
    const { subscriber, asked, release } = await twoNodes(
      'fvTenant',
      (q) => q.target === 'fvBD' && q.subscription,
      { pageSize: 2 },
    );
    await waitFor(() => asked.includes('fvBD subscription'), 'the subscription of node-2 asked');
    subscriber.remove('node-2');
    const done = nextEvent<[number]>(subscriber, 'synced');
    release();
    assert.deepEqual(await done, [1], 'only the subscription of node-1 is kept');
    assert.deepEqual(
      asked.filter((a) => a.startsWith('fvBD')),
      ['fvBD subscription'],
    );
  });

  it('reads a node again on resync, sending what changed unseen, and leaves its refused entry alone', async () => {
    const sim = await apic.startSim();
    const asked: string[] = [];
    sim.onQuery = (q) => void asked.push(q.target);
    const { subscriber, seen } = apic.watch('fvBD\nfvNoSuchThing');
    await synced(subscriber);
    assert.equal(seen.refused.length, 1);
    const refusedAsked = asked.filter((t) => t === 'fvNoSuchThing').length;
    sim.tree.modify(BD, { descr: 'never pushed' });
    await subscriber.resync('node-1');
    const change = await changed(seen, BD, 'never pushed');
    assert.equal(change.reason, 'resync');
    assert.equal(seen.refused.length, 1, 'the refused entry is not tried again');
    assert.equal(asked.filter((t) => t === 'fvNoSuchThing').length, refusedAsked);
    assert.equal(sim.stats.logins, 1);
  });

  it('recovers from a cut socket and finds what changed meanwhile', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    subscriber.dropConnection();
    sim.tree.modify(BD, { descr: 'while cut' });
    await waitFor(() => sim.stats.socketsOpened === 2, 'a second socket');
    assert.equal((await changed(seen, BD, 'while cut')).reason, 'resync');
  });

  it('logs in afresh at once, saying why, when the session nears its maximum lifetime', async () => {
    const sim = await apic.startSim();
    // APIC lifetimes are a minute at least: the session's own timer is not waited for here.
    const cluster = apic.cluster();
    const sessions: ApicSession[] = [];
    const login = cluster.login.bind(cluster);
    cluster.login = async (signal) => {
      const session = await login(signal);
      sessions.push(session);
      return session;
    };
    const debug: string[] = [];
    const { subscriber, seen } = apic.watch('fvBD', {}, cluster, {
      backoff: { initialMs: 8000, maxMs: 8000 },
    });
    subscriber.on('debug', (text: string) => debug.push(text));
    await synced(subscriber);
    const at = Date.now();
    sessions[0]!.emit('aging');
    assert.ok(debug.includes(`the session on ${sim.urls[0]!} nears its maximum lifetime: logging in afresh`));
    await waitFor(() => sim.stats.logins === 2 && sim.liveSubscriptions.length >= 1, 'a fresh login');
    // Not after the reconnect backoff (at least 4 s here).
    assert.ok(Date.now() - at < 3000, `the fresh login came ${Date.now() - at} ms later`);
    assert.ok(!seen.states.some(([, info]) => info.error), 'no error shown for it');
  });

  it('shows why the socket failed after a good login, and tries again', async () => {
    const sim = await apic.startSim();
    const cluster = apic.cluster();
    const login = cluster.login.bind(cluster);
    let logins = 0;
    cluster.login = async (signal) => {
      const session = await login(signal);
      // The APIC turns busy between the login and the socket: the upgrade is refused (503).
      if (logins++ === 0) sim.throttle(300);
      return session;
    };
    // The next login comes after the backoff (1 to 2 s), when the APIC is no longer busy.
    const { subscriber, seen } = apic.watch('fvBD', {}, cluster, {
      backoff: { initialMs: 2000, maxMs: 2000 },
    });
    const [state, info] = await waitFor(() => seen.states.find(([, i]) => i.error), 'the failed socket');
    assert.equal(state, 'connecting');
    assert.equal(info.host, sim.urls[0]);
    assert.equal(info.error!.code, 'APIC_THROTTLED');
    assert.match(info.error!.message, /at the socket/);
    assert.equal(sim.stats.rejectedSockets, 1);
    await synced(subscriber);
  });

  it('says in debug when the APIC refuses order-by with a subscription', async () => {
    const sim = await apic.startSim();
    sim.faults.refuseOrderByWithSubscription = true;
    const debug: string[] = [];
    const { subscriber } = apic.watch('fvBD');
    subscriber.on('debug', (text: string) => debug.push(text));
    await synced(subscriber);
    assert.ok(
      debug.includes(`${sim.urls[0]} refused order-by with a subscription; reading pages unsorted`),
      debug.join('\n'),
    );
  });

  it('shows why a session was lost while it logs in again', async () => {
    const sim = await apic.startSim({ refreshTimeoutSeconds: 2 });
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.expireTokens();
    const [state, info] = await waitFor(() => seen.states.find(([s]) => s === 'reconnecting'), 'the loss');
    assert.equal(state, 'reconnecting');
    assert.ok(info.error?.code, 'the cause, with its code');
    await waitFor(() => sim.stats.logins === 2, 'a new login');
    await waitFor(() => seen.states.at(-1)?.[0] === 'connected', 'connected again');
    const since = seen.states.slice(seen.states.findIndex(([s]) => s === 'reconnecting')).map(([s]) => s);
    assert.ok(!since.includes('connecting'), `reconnecting, never connecting again: ${since.join(', ')}`);
  });
});

describe('APIC subscriber pacing: a throttling APIC, a failing entry, a sync of several entries', function () {
  this.timeout(30_000);
  const apic = useApicHarness();

  it('stops subscribing the whole batch while the APIC throttles, says so, then subscribes it all on one login', async () => {
    const sim = await apic.startSim();
    const asked: [string, number][] = [];
    sim.onQuery = (q) => void (q.subscription && asked.push([q.target, Date.now()]));
    sim.failNext(1, 503);
    const debug: string[] = [];
    const { subscriber, seen } = apic.watch('fvBD\nfvCtx', {}, apic.cluster(), {
      backoff: { initialMs: 2000, maxMs: 2000 },
    });
    subscriber.on('debug', (text: string) => debug.push(text));
    await synced(subscriber);
    await waitFor(() => sim.liveSubscriptions.length === 2, 'both subscribed');
    const [first, ...later] = asked;
    assert.equal(first![0], 'fvBD');
    // The 503 paused the batch for the backoff (1 to 2 s): fvCtx was not asked meanwhile.
    const waited = later[0]![1] - first![1];
    assert.ok(waited >= 900, `asked again ${waited} ms after the 503`);
    assert.ok(
      debug.some((t) => /throttling/.test(t)),
      debug.join('\n'),
    );
    assert.ok(!debug.some((t) => /subscribing .* failed/.test(t)), 'not a failure of the entry');
    assert.deepEqual(seen.failing, []);
    assert.equal(sim.stats.logins, 1);
  });

  it('tries a failing entry again after its backoff, not before, and says so', async () => {
    const sim = await apic.startSim();
    const asked: number[] = [];
    sim.onQuery = (q) => void (q.subscription && q.target === 'fvBD' && asked.push(Date.now()));
    sim.failNext(1, 500);
    const debug: string[] = [];
    const { subscriber } = apic.watch('fvBD', {}, apic.cluster(), {
      backoff: { initialMs: 2000, maxMs: 2000 },
    });
    subscriber.on('debug', (text: string) => debug.push(text));
    await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed in the end');
    assert.equal(asked.length, 2);
    const waited = asked[1]! - asked[0]!;
    assert.ok(waited >= 900 && waited < 8000, `tried again ${waited} ms later`);
    assert.ok(
      debug.some((t) => /^subscribing fvBD failed .* trying again in \d+ ms$/.test(t)),
      debug.join('\n'),
    );
  });

  it('sleeps while a failing entry waits for its retry, not polling each millisecond', async () => {
    const sim = await apic.startSim();
    sim.failNext(1, 500);
    const { subscriber } = apic.watch('fvBD', {}, apic.cluster(), {
      backoff: { initialMs: 4000, maxMs: 4000 },
    });
    await nextEvent(subscriber, 'debug', 10_000, (text: string) => /trying again/.test(text));
    let immediate = 0;
    const setTimer = globalThis.setTimeout;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimer>) => {
      if ((args[1] ?? 0) <= 1) immediate++;
      return setTimer(...args);
    }) as typeof setTimeout;
    try {
      await delay(1000);
    } finally {
      globalThis.setTimeout = setTimer;
    }
    assert.ok(immediate < 50, `${immediate} timers of a millisecond or less in a second of waiting`);
    await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed in the end');
  });

  it('sends each object once to a node whose entries overlap, on a first read page by page', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch(
      'fvBD\nuni/tn-prod?query-target=subtree&target-subtree-class=fvBD',
      { initial: 'emit' },
      apic.cluster(),
      { pageSize: 2 },
    );
    await synced(subscriber);
    const prod = seen.changes.filter((c) => c.dn.startsWith('uni/tn-prod/'));
    assert.ok(prod.length > 0);
    assert.equal(new Set(seen.changes.map((c) => c.dn)).size, seen.changes.length, 'each once');
    assert.ok(sim.stats.objectsAnswered > 0);
  });

  it('tells a change pushed during the read after a gap once, as the read found it, dropping the held push', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', {}, apic.cluster(), { pageSize: 2 });
    await synced(subscriber);
    sim.onQuery = (q) => {
      // The second page of the read after the gap: the subscription exists, BD-bd-web comes later in dn order.
      if (q.subscription || q.page !== 1 || sim.stats.socketsOpened < 2) return;
      sim.onQuery = undefined;
      // Pushed (and held) while the read is under way; the read's later page holds it too.
      sim.modify(BD, { descr: 'during the read' });
      // The answer waits a little, so the push arrives first.
      return delay(500);
    };
    const again = synced(subscriber);
    sim.dropSockets();
    sim.tree.modify(BD, { descr: 'while away' });
    await again;
    await changed(seen, BD, 'during the read');
    sim.modify('uni/tn-dev/BD-bd-dev', { descr: 'later' });
    await changed(seen, 'uni/tn-dev/BD-bd-dev', 'later');
    const told = seen.changes.filter((c) => c.dn === BD && c.attributes.descr === 'during the read');
    assert.deepEqual(
      told.map((c) => c.reason),
      ['resync'],
      'once, as the read found it',
    );
  });

  it('reports no deletion for objects a cut read never reached', async () => {
    const sim = await apic.startSim({ populations: { fvCEp: 6000 } });
    const { subscriber, seen } = apic.watch('fvCEp', {}, apic.cluster(), { pageSize: 1000 });
    await synced(subscriber);
    let cuts = 0;
    sim.onQuery = (q) => {
      if (q.page === 1 && cuts++ === 0) sim.dropSockets();
    };
    const again = synced(subscriber);
    sim.dropSockets();
    await waitFor(() => sim.stats.socketsOpened >= 3, 'a third socket');
    await again;
    // A push after the recovery is the signal that everything before it has arrived.
    sim.apply([sim.tree.grow('fvCEp')]);
    await waitFor(() => seen.changes.length >= 1, 'the pushed creation');
    const deleted = seen.changes.filter((c) => c.status === 'deleted').length;
    assert.equal(deleted, 0, 'no deletion: the objects the cut read missed are still there');
    assert.deepEqual(
      seen.changes.map((c) => c.status),
      ['created'],
    );
  });
});
