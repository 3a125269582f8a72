import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import type { CodedError } from '../../nodes/common/errors';
import { parseEntries } from '../../nodes/aci/entries';
import { toMessage } from '../../nodes/aci/output';
import { ApicCluster, type ApicClusterOptions } from '../../nodes/aci/session';
import {
  ApicSubscriber,
  type AciChange,
  type AciState,
  type StateInfo,
  type WatchOptions,
} from '../../nodes/aci/subscriptions';
import { ApicSimulator, DEFAULT_APIC_PASSWORD, type ApicSimOptions } from '../../sim/apic';
import { delay, waitFor } from '../support/wait';

const BD = 'uni/tn-prod/BD-bd-web';

interface Watching {
  changes: AciChange[];
  refused: CodedError[];
  failing: CodedError[];
  states: [AciState, StateInfo][];
}

describe('APIC client (against the simulator)', function () {
  let sim: ApicSimulator;
  const subscribers: ApicSubscriber[] = [];
  const clusters: ApicCluster[] = [];

  async function startSim(options: ApicSimOptions = {}): Promise<ApicSimulator> {
    sim = await ApicSimulator.start({ ratePerSec: 0, ...options });
    return sim;
  }

  function cluster(options: Partial<ApicClusterOptions> = {}): ApicCluster {
    const c = new ApicCluster({
      hosts: sim.hosts,
      authType: 'password',
      username: 'admin',
      password: DEFAULT_APIC_PASSWORD,
      tls: { ca: sim.cert },
      ...options,
    });
    clusters.push(c);
    return c;
  }

  /** A subscriber watching `entries`; short backoff and pings so tests stay quick. */
  function watch(
    entries: string,
    options: Partial<WatchOptions> = {},
    c: ApicCluster = cluster(),
    extra: {
      pageSize?: number;
      backoff?: { initialMs: number; maxMs: number };
      authBackoff?: { initialMs: number; maxMs: number };
    } = {},
  ): { sub: ApicSubscriber; seen: Watching } {
    const sub = new ApicSubscriber({
      cluster: c,
      pingIntervalMs: 1000,
      backoff: extra.backoff ?? { initialMs: 100, maxMs: 1000 },
      authBackoff: extra.authBackoff,
      pageSize: extra.pageSize,
    });
    subscribers.push(sub);
    const seen: Watching = { changes: [], refused: [], failing: [], states: [] };
    sub.on('state', (state: AciState, info: StateInfo) => seen.states.push([state, info]));
    sub.add(
      'node-1',
      parseEntries(entries),
      {
        changes: (cs) => seen.changes.push(...cs),
        refused: (e) => seen.refused.push(e),
        failing: (e) => seen.failing.push(e),
      },
      { initial: 'skip', refreshTimeoutSec: 60, ...options },
    );
    return { sub, seen };
  }

  const synced = (sub: ApicSubscriber) => new Promise<void>((r) => sub.once('synced', () => r()));
  const changed = (seen: Watching, dn: string, descr: string) =>
    waitFor(
      () => seen.changes.find((c) => c.dn === dn && c.attributes.descr === descr),
      `the change of ${dn} to "${descr}"`,
    );

  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.stop()));
    await Promise.all(clusters.splice(0).map((c) => c.close()));
    await sim?.stop();
  });

  it('receives pushes; refreshes keep one login and one socket', async () => {
    await startSim({ refreshTimeoutSeconds: 2 });
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    await waitFor(() => sim.stats.refreshes >= 3, 'three session refreshes', 8000);
    sim.modify(BD, { descr: 'after refreshes' });
    const change = await changed(seen, BD, 'after refreshes');
    assert.equal(change.status, 'modified');
    assert.equal(change.className, 'fvBD');
    assert.equal(change.reason, 'push');
    assert.equal(sim.stats.logins, 1);
    assert.equal(sim.stats.socketsOpened, 1);
  });

  it('logs in again and resubscribes when the token expires', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    sim.expireTokens();
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length === 1,
      'a new login and subscription',
    );
    sim.modify(BD, { descr: 'after expiry' });
    await changed(seen, BD, 'after expiry');
    assert.equal(sim.stats.socketsOpened, 2);
  });

  it('keeps subscriptions alive across several refresh windows although the APIC expires them early', async () => {
    await startSim({ subscriptionEarlyMs: 1500 });
    const { sub, seen } = watch('fvBD\nfvTenant', { refreshTimeoutSec: 4 });
    await synced(sub);
    await delay(9000); // more than two refresh windows, each 1.5 s shorter than asked
    assert.equal(sim.stats.expiredSubscriptions, 0);
    assert.equal(sim.stats.deadRefreshes, 0);
    assert.ok(
      sim.stats.subscriptionRefreshes >= 6,
      `${sim.stats.subscriptionRefreshes} refreshes, one id per call`,
    );
    assert.equal(sim.stats.subscriptions, 2, 'never had to subscribe again');
    sim.modify(BD, { descr: 'still alive' });
    await changed(seen, BD, 'still alive');
  });

  it('refreshes what falls due while another subscription is read page by page', async () => {
    await startSim();
    const { sub } = watch('fvTenant', { refreshTimeoutSec: 3 }, cluster(), { pageSize: 1 });
    await synced(sub);
    // Reading fvBD takes 7 slow pages, longer than fvTenant lives without a refresh.
    sim.onQuery = async (q) => {
      if (q.target === 'fvBD') await delay(600);
    };
    await sub.update('node-1', parseEntries('fvBD'), []);
    assert.equal(sim.stats.expiredSubscriptions, 0);
    assert.equal(sim.stats.deadRefreshes, 0);
    assert.ok(sim.stats.subscriptionRefreshes >= 1);
    assert.equal(sim.stats.subscriptions, 2, 'nothing had to be made again');
  });

  it('a 405 at a refresh between the pages of a read ends the channel, saying so once', async () => {
    await startSim();
    const { sub, seen } = watch('fvTenant', { refreshTimeoutSec: 3 }, cluster(), { pageSize: 1 });
    await synced(sub);
    sim.failNext(1, 405, 'subscriptionRefresh');
    sim.onQuery = async (q) => {
      if (q.target === 'fvBD' && sim.stats.logins === 1) await delay(600);
    };
    void sub.update('node-1', parseEntries('fvBD'), []);
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length === 2,
      'a new login with both subscriptions',
    );
    assert.equal(sim.stats.injectedFailures, 1);
    const lost = seen.states.map(([, info]) => info.error).find((e) => e?.code === 'APIC_CONNECTION_LOST');
    assert.equal(lost?.message.match(/no longer knows/g)?.length, 1, lost?.message);
    assert.deepEqual(seen.refused, []);
  });

  it('resubscribes one subscription whose refresh fails', async () => {
    await startSim();
    const { sub } = watch('fvBD\nfvTenant', { refreshTimeoutSec: 2 });
    await synced(sub);
    // The APIC forgets one subscription (as after its own expiry).
    const victim = sim.liveSubscriptions.find((s) => s.target === 'fvBD')!;
    victim.session.subscriptions.delete(victim.id);
    await waitFor(
      () => sim.stats.deadRefreshes === 1 && sim.liveSubscriptions.length === 2,
      'that subscription made again',
    );
    assert.equal(sim.stats.subscriptions, 3);
    assert.equal(sim.stats.logins, 1, 'the session stayed');
  });

  it('retries a throttled subscription refresh instead of subscribing again', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD', { refreshTimeoutSec: 4 });
    await synced(sub);
    sim.failNext(2, 503, 'subscriptionRefresh');
    await waitFor(() => sim.stats.subscriptionRefreshes >= 1, 'a refresh that got through');
    assert.equal(sim.stats.injectedFailures, 2, 'two refreshes were throttled');
    assert.equal(sim.stats.subscriptions, 1, 'the subscription was kept');
    assert.equal(sim.stats.expiredSubscriptions, 0);
    sim.modify(BD, { descr: 'same subscription' });
    const change = await changed(seen, BD, 'same subscription');
    assert.deepEqual(change.subscriptionIds, [sim.liveSubscriptions[0]!.id]);
  });

  it('subscribes again when refreshes stay throttled until the deadline draws near', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD', { refreshTimeoutSec: 4 });
    await synced(sub);
    sim.failNext(1000, 503, 'subscriptionRefresh');
    await waitFor(() => sim.stats.subscriptions === 2, 'a new subscription');
    assert.equal(sim.stats.subscriptionRefreshes, 0);
    assert.ok(sim.stats.injectedFailures >= 2, 'it tried the refresh more than once');
    sim.modify(BD, { descr: 'new subscription' });
    await changed(seen, BD, 'new subscription');
  });

  it('recovers from a killed socket, and reports what changed while it was away', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    sim.dropSockets();
    sim.modify(BD, { descr: 'while away' }); // no socket: APIC pushes nothing, and replays nothing
    await waitFor(() => sim.stats.socketsOpened === 2, 'a new socket');
    const change = await changed(seen, BD, 'while away');
    assert.equal(change.reason, 'resync');
    assert.equal(change.status, 'modified');
    sim.modify(BD, { descr: 'after' });
    assert.equal((await changed(seen, BD, 'after')).reason, 'push');
  });

  it('holds on to nothing of a lost connection, however often it reconnects', async () => {
    await startSim();
    const { sub } = watch('fvBD');
    await synced(sub);
    for (let n = 2; n <= 4; n++) {
      sim.dropSockets();
      await waitFor(() => sim.stats.socketsOpened === n && sim.liveSubscriptions.length === 1, 'reconnected');
    }
    // Private, but what leaks is exactly this: one listener (and its channel) per old connection.
    const signal = (sub as unknown as { abort: AbortController }).abort.signal;
    assert.ok(getEventListeners(signal, 'abort').length <= 1);
  });

  it('reports a deletion found after a gap with the last known modTs, so its event id is deterministic', async () => {
    await startSim();
    const dn = 'uni/tn-dev/BD-bd-dev';
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    sim.modify(dn, { descr: 'last seen' });
    const last = (await changed(seen, dn, 'last seen')).attributes.modTs;
    sim.dropSockets();
    sim.remove(dn);
    const gone = await waitFor(
      () => seen.changes.find((c) => c.dn === dn && c.status === 'deleted'),
      'the deletion',
    );
    assert.equal(gone.reason, 'resync');
    assert.equal(gone.attributes.modTs, last);
    const event = toMessage(gone, 'event', sim.url).payload as { id: string; time: string };
    assert.equal(event.id, `deleted:${dn}@${last}`);
    assert.equal(event.time, last);
  });

  it('uses the next APIC when the first is down, at start and mid-stream', async () => {
    await startSim();
    await sim.stopApic(0);
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    assert.equal(sub.host, sim.urls[1]);
    await sim.startApic(0);
    await sim.stopApic(1);
    await waitFor(
      () => sub.host && sub.host !== sim.urls[1] && sub.state === 'connected',
      'a failover',
      15_000,
    );
    sim.modify(BD, { descr: 'after failover' });
    await changed(seen, BD, 'after failover');
    assert.ok(seen.states.some(([state, info]) => state === 'reconnecting' && info.error));
  });

  it('backs off while the APIC throttles (503 with HTML), says so, and recovers', async () => {
    await startSim();
    sim.throttle(3000);
    const { sub, seen } = watch('fvBD', {}, cluster(), { backoff: { initialMs: 1000, maxMs: 60_000 } });
    await waitFor(
      () => seen.states.some(([, info]) => info.error?.code === 'APIC_THROTTLED'),
      'a throttled state',
    );
    await delay(2800);
    // Still throttled: every request so far got the 503 page. Each round tries every APIC of the
    // cluster (throttling is per APIC), and the rounds back off with jitter.
    const during = [...sim.stats.requests];
    assert.equal(
      sim.stats.throttled,
      during.reduce((a, b) => a + b, 0),
    );
    assert.ok(
      during.every((n) => n <= 3),
      `requests per APIC in 2.8 s of throttling: ${during.join(', ')}`,
    );
    await synced(sub);
    sim.modify(BD, { descr: 'after throttling' });
    await changed(seen, BD, 'after throttling');
  });

  it('logs in with a certificate (signed requests) and receives pushes', async () => {
    await startSim();
    const u = sim.certificateUser;
    const c = cluster({
      authType: 'certificate',
      username: u.name,
      certificateName: u.certificateName,
      privateKey: u.privateKey,
      password: undefined,
    });
    const { sub, seen } = watch('fvBD', {}, c);
    await synced(sub);
    sim.modify(BD, { descr: 'signed' });
    await changed(seen, BD, 'signed');
    assert.ok(sim.stats.signedRequests > 0 && sim.stats.webtokens === 1);
    assert.equal(sim.stats.badSignatures, 0);
    assert.equal(sim.stats.logins, 0, 'no password login');
  });

  it('refuses a certificate login signed with the wrong key', async () => {
    await startSim();
    const u = sim.certificateUser;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const c = cluster({
      authType: 'certificate',
      username: u.name,
      certificateName: u.certificateName,
      privateKey: other,
    });
    await assert.rejects(c.login(), { code: 'APIC_AUTH_FAILED' });
    assert.equal(sim.stats.badSignatures, 1, 'one APIC asked: every APIC would refuse it the same way');
  });

  it('logs in a login-domain user (apic#DOMAIN\\user)', async () => {
    await startSim();
    const session = await cluster({ username: 'apic#LDAP\\alice' }).login();
    assert.equal(session.info.user, 'apic#LDAP\\alice');
    await session.logout();
  });

  it('refuses a wrong password once, shows auth failed, and does not hammer the APIC', async () => {
    await startSim();
    const { seen } = watch('fvBD', {}, cluster({ password: 'Wr0ng-pass!' }), {
      backoff: { initialMs: 1000, maxMs: 60_000 },
    });
    await waitFor(() => seen.states.some(([s]) => s === 'auth-failed'), 'auth failed');
    // Other failures would be retried after about a second; a refused login waits minutes.
    await delay(2500);
    assert.equal(sim.stats.failedLogins, 1, `${sim.stats.failedLogins} failed logins in 2.5 s`);
    const [, info] = seen.states.find(([s]) => s === 'auth-failed')!;
    assert.equal(info.error?.code, 'APIC_AUTH_FAILED');
    assert.doesNotMatch(JSON.stringify(seen.states.map(([, i]) => i.error?.message)), /Wr0ng-pass!/);
  });

  it('keeps trying a refused login, slowly, stays auth failed, and connects once the password works', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD', {}, cluster({ password: 'Wr0ng-pass!' }), {
      authBackoff: { initialMs: 200, maxMs: 200 },
    });
    await waitFor(() => sim.stats.failedLogins >= 3, 'three refused logins');
    assert.ok(seen.states.every(([s]) => s === 'connecting' || s === 'auth-failed'));
    sim.directory.users.find((u) => u.name === 'admin' && !u.domain)!.password = 'Wr0ng-pass!';
    await synced(sub);
    assert.equal(sub.state, 'connected');
  });

  it('initial: emit sends the current objects as snapshots, every page of them', async () => {
    await startSim();
    const total = sim.tree.query('class', 'fvBD', {}).length;
    assert.ok(total > 3, 'the fabric has several BDs');
    const { sub, seen } = watch('fvBD', { initial: 'emit' }, cluster(), { pageSize: 2 });
    await synced(sub);
    const snapshots = seen.changes.filter((c) => c.reason === 'snapshot');
    assert.equal(snapshots.length, total);
    assert.ok(snapshots.every((c) => c.status === 'snapshot'));
  });

  it('reports the progress of a paged first read, page by page, then that it is done', async () => {
    await startSim();
    const total = sim.tree.query('class', 'fvBD', {}).length;
    const sub = new ApicSubscriber({ cluster: cluster(), pingIntervalMs: 1000, pageSize: 2 });
    subscribers.push(sub);
    const progress: [number, number, boolean][] = [];
    sub.add(
      'node-1',
      parseEntries('fvBD'),
      { changes: () => undefined, progress: (_entry, read, of, done) => progress.push([read, of, done]) },
      { initial: 'skip', refreshTimeoutSec: 60 },
    );
    await synced(sub);
    // Two objects a page: 2, 4, ... of the total APIC reports; done once, at the end.
    assert.deepEqual(progress[0], [2, total, false]);
    assert.deepEqual(progress.at(-1), [total, total, true]);
    assert.equal(progress.filter(([, , done]) => done).length, 1);
    assert.ok(progress.every(([read], i) => i === 0 || read >= progress[i - 1]![0]));
  });

  const snapshotDns = (seen: Watching) =>
    seen.changes
      .filter((c) => c.reason === 'snapshot')
      .map((c) => c.dn)
      .sort();
  const bdDns = () =>
    sim.tree
      .query('class', 'fvBD', {})
      .map((m) => m.dn)
      .sort();

  it('pages in dn order, so an object changed while paging does not shift the pages', async () => {
    await startSim();
    const first = bdDns()[0]!;
    let modified = false;
    sim.onQuery = (q) => {
      if (q.target === 'fvBD' && q.page === 1 && !modified) {
        modified = true;
        sim.modify(first, { descr: 'while paging' }); // unsorted, it would move to the end
      }
    };
    const { sub, seen } = watch('fvBD', { initial: 'emit' }, cluster(), { pageSize: 2 });
    await synced(sub);
    assert.ok(modified);
    assert.deepEqual(snapshotDns(seen), bdDns(), 'every object once');
    assert.ok(seen.changes.some((c) => c.dn === first && c.reason === 'push'));
  });

  it('reads again when objects come or go while paging, so none is skipped', async () => {
    await startSim();
    const first = bdDns()[0]!;
    let deleted = false;
    sim.onQuery = (q) => {
      if (q.target === 'fvBD' && q.page === 1 && !deleted) {
        deleted = true;
        sim.remove(first); // already read: every later object moves one place forward
      }
    };
    const { sub, seen } = watch('fvBD', { initial: 'emit' }, cluster(), { pageSize: 2 });
    await synced(sub);
    assert.ok(deleted);
    assert.deepEqual(snapshotDns(seen), bdDns(), 'every object that exists, once');
    const gone = await waitFor(() => seen.changes.find((c) => c.dn === first), 'the deletion');
    assert.deepEqual([gone.reason, gone.status], ['push', 'deleted']);
  });

  it('subscribes with unsorted pages where the APIC refuses order-by with a subscription', async () => {
    await startSim();
    sim.faults.refuseOrderByWithSubscription = true;
    const { sub, seen } = watch('fvBD', { initial: 'emit' }, cluster(), { pageSize: 2 });
    await synced(sub);
    assert.deepEqual(seen.refused, [], 'the entry is not refused for it');
    assert.deepEqual(snapshotDns(seen), bdDns(), 'every object, read unsorted');
    sim.modify(BD, { descr: 'after' });
    await changed(seen, BD, 'after');
  });

  it('initial: skip sends only changes', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD', { initial: 'skip' });
    await synced(sub);
    assert.equal(seen.changes.length, 0);
  });

  it('initial: skip sends a change made while the first read is still paging', async () => {
    await startSim();
    let modified = false;
    sim.onQuery = (q) => {
      // Between the subscribe answer (page 0) and the page that holds the object (the last one by dn).
      if (q.target === 'fvBD' && q.page === 1 && !modified) {
        modified = true;
        sim.modify(BD, { descr: 'during paging' });
      }
    };
    const { sub, seen } = watch('fvBD', { initial: 'skip' }, cluster(), { pageSize: 2 });
    await synced(sub);
    assert.ok(modified);
    const change = await changed(seen, BD, 'during paging');
    assert.equal(change.reason, 'push');
    assert.equal(seen.changes.length, 1);
  });

  it('changes the watch list at run time', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    await sub.update('node-1', parseEntries('fvCtx'), parseEntries('fvBD'));
    sim.modify(BD, { descr: 'not watched now' });
    sim.modify('uni/tn-prod/ctx-prod-vrf', { descr: 'watched now' });
    await changed(seen, 'uni/tn-prod/ctx-prod-vrf', 'watched now');
    assert.equal(seen.changes.filter((c) => c.dn === BD).length, 0);
    assert.deepEqual(
      sub.entries('node-1').map((e) => e.key),
      ['fvCtx'],
    );
  });

  it('sends a change once, naming every subscription of the node it matched', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD\nuni/tn-prod?query-target=subtree&target-subtree-class=fvBD');
    await synced(sub);
    sim.modify(BD, { descr: 'twice matched' });
    sim.modify('uni/tn-dev/BD-bd-dev', { descr: 'once matched' });
    await changed(seen, 'uni/tn-dev/BD-bd-dev', 'once matched');
    const both = seen.changes.filter((c) => c.dn === BD);
    assert.equal(both.length, 1);
    assert.equal(both[0]!.subscriptionIds.length, 2);
    assert.equal(seen.changes.find((c) => c.dn === 'uni/tn-dev/BD-bd-dev')!.subscriptionIds.length, 1);
  });

  it('reports an entry the APIC refuses, and keeps the others', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD\nfvNoSuchThing');
    await synced(sub);
    assert.equal(seen.refused.length, 1);
    assert.equal(seen.refused[0]!.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.match(seen.refused[0]!.message, /fvNoSuchThing/);
    sim.modify(BD, { descr: 'others work' });
    await changed(seen, BD, 'others work');
  });

  for (const [fault, arm] of [
    ['a one-off 500', (s: ApicSimulator) => s.failNext(1, 500)],
    ['an answer without subscriptionId', (s: ApicSimulator) => (s.faults.noSubscriptionId = 1)],
  ] as const) {
    it(`subscribes again after ${fault}, instead of giving the entry up`, async () => {
      await startSim();
      arm(sim);
      const { sub, seen } = watch('fvBD\nfvTenant');
      await synced(sub);
      await waitFor(() => sim.liveSubscriptions.length === 2, 'both subscribed');
      assert.equal(sim.stats.injectedFailures, 1);
      assert.deepEqual(seen.refused, []);
      assert.deepEqual(seen.failing, [], 'a blip is not reported');
      sim.modify(BD, { descr: `after ${fault}` });
      await changed(seen, BD, `after ${fault}`);
      assert.equal(sim.stats.logins, 1, 'the session stayed');
    });
  }

  it('reports an entry that keeps failing once, and keeps trying it', async () => {
    await startSim();
    sim.failNext(3, 502);
    const { seen } = watch('fvBD');
    await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed in the end');
    assert.equal(sim.stats.injectedFailures, 3);
    assert.equal(seen.failing.length, 1);
    assert.equal(seen.failing[0]!.code, 'APIC_SUBSCRIBE_FAILED');
    assert.deepEqual(seen.refused, []);
    sim.modify(BD, { descr: 'kept trying' });
    await changed(seen, BD, 'kept trying');
  });

  it('refuses an entry when the APIC says the request is wrong (400)', async () => {
    await startSim();
    sim.failNext(2, 400); // with order-by, and again without it
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    assert.equal(seen.refused.length, 1);
    assert.equal(sim.liveSubscriptions.length, 0);
  });

  it('logs in again when the APIC has lost the socket (405), instead of refusing the entry', async () => {
    await startSim();
    const { sub, seen } = watch('fvBD');
    await synced(sub);
    sim.forgetSockets();
    // The next subscription finds out: APIC answers 405 "Unable to locate opened web socket".
    await sub.update('node-1', parseEntries('fvCtx'), []);
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length >= 2 && sim.openSockets === 1,
      'a new login, socket and both subscriptions',
    );
    assert.equal(sim.stats.refusedSubscriptions, 1, 'one 405');
    assert.deepEqual(seen.refused, []);
    assert.deepEqual(
      sub.entries('node-1').map((e) => e.key),
      ['fvBD', 'fvCtx'],
    );
    assert.ok(seen.states.some(([, info]) => info.error?.code === 'APIC_CONNECTION_LOST'));
    sim.modify(BD, { descr: 'new socket' });
    await changed(seen, BD, 'new socket');
  });
});
