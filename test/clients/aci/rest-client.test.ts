/**
 * REST calls through an APIC cluster (nodes/aci/rest-client.ts), against the APIC simulator's three APICs:
 * one login kept for many calls, the next APIC when one is away, how often one call is tried, a session
 * replaced before its lifetime ends, and the "test connection" probe.
 */
import assert from 'node:assert/strict';
import { ApicRest } from '../../../nodes/aci/rest-client';
import type { CodedError } from '../../../nodes/common/errors';
import type { ApicSimulator } from '../../../sim/apic';
import { waitFor } from '../../support/wait';
import { useApicHarness } from './harness';

const TENANTS = '/api/class/fvTenant.json';

describe('aci REST calls through a cluster', function () {
  const rests: ApicRest[] = [];
  afterEach(async () => {
    await Promise.all(rests.splice(0).map((r) => r.close()));
  });
  const apic = useApicHarness();

  const apicsOf = (sim: ApicSimulator) => sim.hosts.split(', ').map((h) => `https://${h}`);
  const rest = (r: ApicRest) => (rests.push(r), r);

  it('logs in once, on the first APIC, and keeps that session for the calls after', async () => {
    const sim = await apic.startSim();
    const r = rest(new ApicRest(apic.cluster()));
    assert.equal(r.host, undefined, 'no APIC before the first call');
    for (let i = 0; i < 3; i++) assert.equal((await r.call('GET', TENANTS)).host, apicsOf(sim)[0]);
    assert.equal(r.host, apicsOf(sim)[0]);
    assert.equal(sim.stats.logins, 1);
  });

  it('goes on with the next APIC when the one it is on goes away, and logs in there', async () => {
    const sim = await apic.startSim();
    const r = rest(new ApicRest(apic.cluster()));
    await r.call('GET', TENANTS);
    await sim.stopApic(0);
    const answer = await r.call('GET', TENANTS);
    assert.equal(answer.host, apicsOf(sim)[1]);
    assert.equal(r.host, apicsOf(sim)[1]);
    assert.ok(answer.imdata.length > 0);
    assert.equal(sim.stats.logins, 2);
  });

  it('logs in on the next APIC when the first is away from the start, and starts there next time', async () => {
    const sim = await apic.startSim();
    await sim.stopApic(0);
    const cluster = apic.cluster();
    const r = rest(new ApicRest(cluster));
    assert.equal((await r.call('GET', TENANTS)).host, apicsOf(sim)[1]);
    assert.equal(cluster.preferredHost, apicsOf(sim)[1]);
  });

  it('tries a throttled call as often as the cluster has APICs and two more, or as often as it is told', async () => {
    const sim = await apic.startSim();
    const quick = { initialMs: 10, maxMs: 20 };
    const throttled = (err: CodedError) => err.code === 'APIC_THROTTLED';
    for (const [attempts, tries] of [
      [undefined, 5],
      [2, 2],
      [1, 1],
    ] as const) {
      const r = rest(new ApicRest(apic.cluster(), { throttle: quick, attempts }));
      await r.call('GET', TENANTS); // logged in: what follows are the call's tries
      const before = sim.stats.injectedFailures;
      sim.failNext(10, 503);
      await assert.rejects(r.call('GET', TENANTS), throttled);
      assert.equal(sim.stats.injectedFailures - before, tries, `attempts ${String(attempts)}`);
      sim.failNext(0, 503);
    }
  });

  it('waits between the tries of a throttled call, half the backoff at least', async () => {
    const sim = await apic.startSim();
    const r = rest(new ApicRest(apic.cluster(), { throttle: { initialMs: 400, maxMs: 400 }, attempts: 3 }));
    await r.call('GET', TENANTS);
    sim.failNext(3, 503);
    const started = Date.now();
    await assert.rejects(r.call('GET', TENANTS), (err: CodedError) => err.code === 'APIC_THROTTLED');
    assert.ok(Date.now() - started >= 400, 'two waits of 200 ms at least');
  });

  it('logs out a login that ends after the controller was closed, and hands the call on as closed', async () => {
    const sim = await apic.startSim();
    let queries = 0;
    sim.onQuery = () => void queries++;
    const r = rest(new ApicRest(apic.cluster()));
    const call = r.call('GET', TENANTS);
    const closing = r.close();
    await assert.rejects(call, (err: CodedError) => err.code === 'APIC_SESSION_CLOSED');
    await closing;
    assert.equal(sim.stats.logins, 1);
    await waitFor(() => sim.stats.logouts === 1 || undefined, 'the late session logged out');
    assert.equal(queries, 0, 'no query went out');
  });

  it("hands on APIC's refusal of a call at once, without trying it again", async () => {
    const sim = await apic.startSim();
    const r = rest(new ApicRest(apic.cluster()));
    await r.call('GET', TENANTS);
    sim.failNext(10, 400);
    await assert.rejects(r.call('GET', TENANTS), (err: CodedError) => err.code === 'APIC_HTTP_ERROR');
    assert.equal(sim.stats.injectedFailures, 1);
    assert.equal(sim.stats.logins, 1);
  });

  it('logs in afresh shortly before the session reaches its maximum lifetime, and logs the old one out', async () => {
    const sim = await apic.startSim({ maximumLifetimeSeconds: 60, refreshTimeoutSeconds: 600 });
    const cluster = apic.cluster();
    // The session started 53 s ago: it ages (at 54 s, a tenth of its lifetime before the end) in a second.
    const login = cluster.login.bind(cluster);
    cluster.login = async (signal) => {
      const session = await login(signal);
      session.info.loggedInAt -= 53_000;
      return session;
    };
    const r = rest(new ApicRest(cluster));
    await r.call('GET', TENANTS);
    await waitFor(() => sim.stats.logouts === 1 || undefined, 'the aging session logged out');
    await r.call('GET', TENANTS);
    assert.equal(sim.stats.logins, 2);
  });

  it('probes every APIC: who answered, with which version and user, or what failed; logged out after', async () => {
    const sim = await apic.startSim();
    await sim.stopApic(2);
    const results = await apic.cluster().probe();
    const [a, b] = apicsOf(sim);
    assert.deepEqual(results.slice(0, 2), [
      { host: a, ok: true, version: results[0]!.version, user: 'admin' },
      { host: b, ok: true, version: results[0]!.version, user: 'admin' },
    ]);
    assert.match(String(results[0]!.version), /^\d+\.\d+\(\w+\)$/);
    assert.equal(results[2]!.ok, false);
    assert.equal(results[2]!.host, apicsOf(sim)[2]);
    assert.equal(results[2]!.code, 'CONNECT_FAILED');
    assert.equal(results[2]!.message, `Cannot connect to ${apicsOf(sim)[2]}: ECONNREFUSED.`);
    assert.equal(sim.stats.logins, 2);
    assert.equal(sim.stats.logouts, 2);
  });

  it('asks nothing more once the cluster is closed', async () => {
    const sim = await apic.startSim();
    const cluster = apic.cluster();
    const [host] = apicsOf(sim);
    await cluster.loginAt(host!);
    await cluster.close();
    await assert.rejects(cluster.loginAt(host!));
    assert.equal(sim.stats.logins, 1);
  });
});
