/**
 * Servers whose clocks and timer values cannot be trusted: a VCD hours ahead
 * of or behind us, an APIC that asks for a refresh every millisecond. Every
 * one of them gets one login per lifetime and no tight loop.
 */
import assert from 'node:assert/strict';
import { ApicCluster } from '../../nodes/aci/session';
import { VcdSession, type VcdSessionOptions } from '../../nodes/vcd/session';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { VcdSimulator } from '../../sim/vcd';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { delay } from '../support/wait';

describe('VCD with a clock that is off', () => {
  let sim: VcdSimulator | undefined;
  const sessions: VcdSession[] = [];
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await sim?.stop();
  });

  function open(vcd: VcdSimulator, options: Partial<VcdSessionOptions>): VcdSession {
    const s = new VcdSession({
      url: vcd.url,
      org: 'acme',
      authType: 'password',
      username: 'acmeadmin',
      password: DEFAULT_PASSWORD,
      tls: { ca: vcd.cert },
      ...options,
    });
    sessions.push(s);
    return s;
  }

  const logins = [
    ['a password', {}],
    ['an API token', { authType: 'apiToken', apiToken: 'sim-api-token-acmeadmin', username: undefined }],
  ] as const;

  for (const skewSec of [-3600, 3600]) {
    for (const [how, options] of logins) {
      it(`one login per token lifetime with ${how}, VCD ${skewSec < 0 ? 'an hour behind' : 'an hour ahead'}`, async function () {
        this.timeout(30_000);
        // Tokens live 3 s on VCD's own clock; ours is an hour off.
        sim = await VcdSimulator.start({ tokenLifetimeSec: 3, clockSkewSec: skewSec });
        const s = open(sim, options);
        let loginCount = 0;
        s.on('login', () => loginCount++);
        const started = Date.now();
        await s.token();
        // The token is taken to live as long as VCD granted, from the login on our clock.
        const expiresAt = s.info?.expiresAt ?? 0;
        assert.ok(
          expiresAt >= started + 3000 && expiresAt <= Date.now() + 3000,
          `taken to live until ${expiresAt - started} ms from the login`,
        );
        let refused = 0;
        while (Date.now() - started < 5000) {
          await s.request('GET', '/cloudapi/1.0.0/sessions/current').catch(() => refused++);
          await delay(50);
        }
        // Renewed at 80 % of 3 s: logins at 0, 2.4 and 4.8 s (one more on a machine that lags).
        assert.ok(loginCount >= 2 && loginCount <= 4, `${loginCount} logins in 5 s`);
        assert.equal(refused, 0);
      });
    }
  }
});

describe('servers that send timer values of 0 or nearly 0', () => {
  let apic: ApicSimulator | undefined;
  let vcd: VcdSimulator | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
    await apic?.stop();
    await vcd?.stop();
    apic = vcd = undefined;
  });

  it('an APIC asking for a refresh every 10 ms and a lifetime of 50 ms: at most one refresh a second, no early aging', async () => {
    apic = await ApicSimulator.start({
      ratePerSec: 0,
      refreshTimeoutSeconds: 0.01,
      maximumLifetimeSeconds: 0.05,
    });
    const cluster = new ApicCluster({
      hosts: apic.hosts,
      authType: 'password',
      username: 'admin',
      password: DEFAULT_APIC_PASSWORD,
      tls: { ca: apic.cert },
    });
    closers.push(() => cluster.close());
    const session = await cluster.loginAt(cluster.hosts[0]!);
    closers.push(() => session.close());
    let aging = 0;
    session.on('aging', () => aging++);
    session.on('lost', () => undefined);
    session.start();
    await delay(1800);
    assert.ok(apic.stats.refreshes <= 1, `${apic.stats.refreshes} refreshes in 1.8 s`);
    assert.equal(aging, 0, 'the lifetime is taken to be at least a minute');
  });

  it('a VCD granting tokens of 0 s: logins stay a few seconds apart', async () => {
    vcd = await VcdSimulator.start({ tokenLifetimeSec: 0 });
    const s = new VcdSession({
      url: vcd.url,
      org: 'acme',
      authType: 'password',
      username: 'acmeadmin',
      password: DEFAULT_PASSWORD,
      tls: { ca: vcd.cert },
    });
    closers.push(() => s.close());
    s.on('failure', () => undefined);
    const started = Date.now();
    while (Date.now() - started < 2500) {
      await s.token().catch(() => undefined);
      await delay(10);
    }
    assert.ok(vcd.stats.passwordLogins <= 3, `${vcd.stats.passwordLogins} logins in 2.5 s`);
  });
});
