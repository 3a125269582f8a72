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
import { waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

const CTX = 'uni/tn-prod/ctx-prod-vrf';

async function rejection(p: Promise<unknown>): Promise<CodedError> {
  try {
    await p;
  } catch (err) {
    return err as CodedError;
  }
  throw new Error('it resolved');
}

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
      const err = await rejection(call());
      assert.equal(err.code, 'APIC_SESSION_CLOSED');
      assert.match(err.message, /not connected to its controller/);
    }
  });

  it('answers a change or resync at once while not connected: the connection reads them when it comes', async () => {
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    // No connection yet: the login has only begun.
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
    const one = await rejection(subscriber.update('node-1', parseEntries('fvNoSuchA'), []));
    assert.equal(one.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.match(one.message, /fvNoSuchA/);
    assert.equal((one as CodedError & { details?: { status?: number } }).details?.status, 400);
    const two = await rejection(subscriber.update('node-1', parseEntries('fvNoSuchB\nfvNoSuchC'), []));
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

  it('shows why a session was lost while it logs in again', async () => {
    const sim = await apic.startSim({ refreshTimeoutSeconds: 2 });
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.expireTokens();
    const [state, info] = await waitFor(() => seen.states.find(([s]) => s === 'reconnecting'), 'the loss');
    assert.equal(state, 'reconnecting');
    assert.ok(info.error?.code, 'the cause, with its code');
    await waitFor(() => sim.stats.logins === 2, 'a new login');
  });
});
