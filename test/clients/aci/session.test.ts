import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { delay, waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC login and session: passwords, certificates, refused logins, expiry', function () {
  const apic = useApicHarness();

  it('receives pushes; session refreshes (aaaRefresh) keep one login and one socket', async () => {
    const sim = await apic.startSim({ refreshTimeoutSeconds: 2 });
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
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
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    sim.expireTokens();
    await waitFor(
      () => sim.stats.logins === 2 && sim.liveSubscriptions.length === 1,
      'a new login and subscription',
    );
    sim.modify(BD, { descr: 'after expiry' });
    await changed(seen, BD, 'after expiry');
    assert.equal(sim.stats.socketsOpened, 2);
  });

  it('logs in with a certificate (signed requests) and receives pushes', async () => {
    const sim = await apic.startSim();
    const u = sim.certificateUser;
    const c = apic.cluster({
      authType: 'certificate',
      username: u.name,
      certificateName: u.certificateName,
      privateKey: u.privateKey,
      password: undefined,
    });
    const { subscriber, seen } = apic.watch('fvBD', {}, c);
    await synced(subscriber);
    sim.modify(BD, { descr: 'signed' });
    await changed(seen, BD, 'signed');
    assert.ok(sim.stats.signedRequests > 0 && sim.stats.webtokens === 1);
    assert.equal(sim.stats.badSignatures, 0);
    assert.equal(sim.stats.logins, 0, 'no password login');
  });

  it('refuses a certificate login signed with the wrong key', async () => {
    const sim = await apic.startSim();
    const u = sim.certificateUser;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const c = apic.cluster({
      authType: 'certificate',
      username: u.name,
      certificateName: u.certificateName,
      privateKey: other,
    });
    await assert.rejects(c.login(), { code: 'APIC_AUTH_FAILED' });
    assert.equal(sim.stats.badSignatures, 1, 'one APIC asked: every APIC would refuse it the same way');
  });

  it('logs in a login-domain user (apic#DOMAIN\\user)', async () => {
    await apic.startSim();
    const session = await apic.cluster({ username: 'apic#LDAP\\alice' }).login();
    assert.equal(session.info.user, 'apic#LDAP\\alice');
    await session.logout();
  });

  it('refuses a wrong password once, shows auth failed, and does not hammer the APIC', async () => {
    const sim = await apic.startSim();
    const { seen } = apic.watch('fvBD', {}, apic.cluster({ password: 'Wr0ng-pass!' }), {
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
    const sim = await apic.startSim();
    const { subscriber, seen } = apic.watch('fvBD', {}, apic.cluster({ password: 'Wr0ng-pass!' }), {
      authBackoff: { initialMs: 200, maxMs: 200 },
    });
    await waitFor(() => sim.stats.failedLogins >= 3, 'three refused logins');
    assert.ok(seen.states.every(([s]) => s === 'connecting' || s === 'auth-failed'));
    sim.directory.users.find((u) => u.name === 'admin' && !u.domain)!.password = 'Wr0ng-pass!';
    await synced(subscriber);
    assert.equal(subscriber.state, 'connected');
  });
});
