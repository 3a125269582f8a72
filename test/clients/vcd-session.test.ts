import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VcdSession, type VcdSessionOptions } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import { delay, rejectionOf, waitFor } from '../support/wait';

describe('VCD session client (against the simulator)', () => {
  let sim: VcdSimulator;
  const sessions: VcdSession[] = [];

  async function startSim(options: VcdSimOptions = {}): Promise<VcdSimulator> {
    sim = await VcdSimulator.start(options);
    return sim;
  }

  function open(options: Partial<VcdSessionOptions> = {}): VcdSession {
    const s = new VcdSession({
      url: sim.url,
      org: 'acme',
      authType: 'password',
      username: 'acmeadmin',
      password: DEFAULT_PASSWORD,
      tls: { ca: sim.cert },
      ...options,
    });
    sessions.push(s);
    return s;
  }

  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await sim?.stop();
  });

  describe('version negotiation', () => {
    it('uses the highest non-deprecated version both sides support', async () => {
      await startSim({
        versions: [
          { version: '36.0' },
          { version: '37.2' },
          { version: '38.0', deprecated: true },
          { version: '99.0' }, // newer than this client knows: not chosen while a known one exists
        ],
      });
      const s = open();
      await s.token();
      assert.equal(s.info?.apiVersion, '37.2');
    });

    it('refuses a VCD older than API 33.0 and says so', async () => {
      await startSim({ versions: [{ version: '31.0' }, { version: '32.0' }] });
      const err = await rejectionOf(open().token());
      assert.equal(err.code, 'VCD_VERSION_TOO_OLD');
      assert.match(err.message, /32\.0.*33\.0/);
    });

    it('says when the server is not a VCD', async () => {
      const other = http.createServer((_req, res) => res.writeHead(404).end('nothing here'));
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
      try {
        const s = new VcdSession({
          url: `http://127.0.0.1:${(other.address() as AddressInfo).port}`,
          org: 'acme',
          authType: 'password',
          username: 'u',
          password: 'p',
        });
        const err = await rejectionOf(s.token());
        assert.equal(err.code, 'VCD_NOT_VCD');
        await s.close();
      } finally {
        other.close();
      }
    });
  });

  describe('password login', () => {
    it('logs a tenant in and keeps the session facts', async () => {
      await startSim();
      const s = open();
      const token = await s.token();
      assert.ok(token.split('.').length === 3, 'a JWT');
      const info = s.info!;
      assert.equal(info.org.name, 'acme');
      assert.equal(info.user.name, 'acmeadmin');
      assert.match(info.org.id, /^urn:vcloud:org:/);
      assert.equal(info.orgUuid, info.org.id.split(':').pop());
      assert.deepEqual(info.roles, ['Organization Administrator']);
      assert.equal(info.provider, false);
      assert.equal(sim.stats.passwordLogins, 1);
    });

    it('logs a provider in through /sessions/provider', async () => {
      await startSim();
      const s = open({ org: 'System', username: 'administrator' });
      await s.token();
      assert.equal(s.info?.provider, true);
      assert.deepEqual(s.info?.roles, ['System Administrator']);
    });

    it('refuses a wrong password with VCD_AUTH_FAILED and does not retry in a loop', async () => {
      await startSim();
      const s = open({ password: 'wrong-password-123' });
      const err = await rejectionOf(s.token());
      assert.equal(err.code, 'VCD_AUTH_FAILED');
      assert.doesNotMatch(err.message, /wrong-password-123/);
      // Ten more callers within the backoff window get the same answer without a new login.
      for (let i = 0; i < 10; i++) assert.equal((await rejectionOf(s.token())).code, 'VCD_AUTH_FAILED');
      assert.equal(sim.stats.failedLogins, 1);
    });

    it('runs one login for many concurrent callers', async () => {
      await startSim();
      const s = open();
      const tokens = await Promise.all(Array.from({ length: 20 }, () => s.token()));
      assert.equal(new Set(tokens).size, 1);
      assert.equal(sim.stats.passwordLogins, 1);
    });
  });

  describe('API token login', () => {
    it('exchanges a user API token and learns the session', async () => {
      await startSim();
      const s = open({ authType: 'apiToken', apiToken: 'sim-api-token-acmeadmin', username: undefined });
      await s.token();
      assert.equal(s.info?.user.name, 'acmeadmin');
      assert.equal(sim.stats.tokenLogins, 1);
      assert.equal(s.currentApiToken, 'sim-api-token-acmeadmin', 'a user token does not rotate');
    });

    it('keeps a rotated service-account token so the next login works', async () => {
      await startSim({ tokenLifetimeSec: 2 });
      const s = open({ authType: 'apiToken', apiToken: 'sim-service-account-token', renewAt: 0.5 });
      const rotations: string[] = [];
      s.on('rotated', (t: string) => rotations.push(t));
      await s.token();
      assert.equal(rotations.length, 1);
      assert.notEqual(s.currentApiToken, 'sim-service-account-token');
      // The first token is spent: VCD refuses it now.
      assert.equal(sim.directory.hasApiToken('sim-service-account-token'), false);
      await waitFor(() => rotations.length >= 3, 'two renewals, each with the last rotated token', 5000);
      assert.equal(new Set(rotations).size, rotations.length, 'a new token every time');
      assert.equal(sim.stats.failedLogins, 0, 'no login used a spent token');
    });

    it('refuses an unknown token with VCD_AUTH_FAILED', async () => {
      await startSim();
      const err = await rejectionOf(open({ authType: 'apiToken', apiToken: 'no-such-token' }).token());
      assert.equal(err.code, 'VCD_AUTH_FAILED');
    });
  });

  describe('renewal', () => {
    it('renews before the token expires', async () => {
      await startSim({ tokenLifetimeSec: 2 });
      const s = open();
      let logins = 0;
      s.on('login', () => logins++);
      const first = await s.token();
      // The client's own event: the simulator counts a login before the client has its answer.
      await waitFor(() => logins >= 2, 'a renewal', 4000);
      const second = await s.token();
      assert.notEqual(second, first);
      // The renewed token works.
      const me = await s.request<{ user: { name: string } }>('GET', '/cloudapi/1.0.0/sessions/current');
      assert.equal(me.user.name, 'acmeadmin');
    });

    it('renews at once when VCD answers 401, and the call succeeds', async () => {
      await startSim();
      const s = open();
      await s.token();
      sim.expireAllTokens();
      const me = await s.request<{ org: { name: string } }>('GET', '/cloudapi/1.0.0/sessions/current');
      assert.equal(me.org.name, 'acme');
      assert.equal(sim.stats.passwordLogins, 2);
    });

    it('keeps the current token while VCD is down, and recovers', async () => {
      // Renewal is due after ~1 s; the token itself lives 5-6 s (JWT exp is whole seconds), so a slow machine
      // still asks while it is valid.
      await startSim({ tokenLifetimeSec: 6 });
      const s = open({ renewAt: 0.2, retry: { initialMs: 200, maxMs: 400 } });
      const token = await s.token();
      sim.faults.loginDown = true;
      await delay(1800);
      assert.equal(await s.token(), token, 'the still-valid token is used meanwhile');
      sim.faults.loginDown = false;
      await waitFor(() => sim.stats.passwordLogins >= 2, 'a renewal after VCD is back', 3000);
    });
  });

  describe('logout', () => {
    it('logs out on close, and the token stops working', async () => {
      await startSim();
      const s = open();
      const token = await s.token();
      await s.close();
      assert.equal(sim.stats.logouts, 1);
      assert.equal(sim.directory.session(token), undefined);
    });
  });

  describe('TLS', () => {
    it('refuses a self-signed certificate by default', async () => {
      await startSim();
      const err = await rejectionOf(open({ tls: {} }).token());
      assert.equal(err.code, 'TLS_UNTRUSTED');
    });

    it('accepts it with the CA certificate, or with verification skipped', async () => {
      await startSim();
      await open({ tls: { ca: sim.cert } }).token();
      await open({ tls: { insecure: true } }).token();
      assert.equal(sim.stats.passwordLogins, 2);
    });

    it('rejects a CA field that holds no certificate', () => {
      assert.throws(
        () =>
          new VcdSession({
            url: 'https://x',
            org: 'a',
            authType: 'apiToken',
            apiToken: 't',
            tls: { ca: 'junk' },
          }),
        { code: 'CONFIG_CA_INVALID' },
      );
    });
  });

  describe("VCD's clock and its audit trail", () => {
    it("measures VCD's clock from the Date of its answers, however far it runs from ours", async () => {
      for (const clockSkewSec of [3600, -86_400]) {
        await startSim({ clockSkewSec });
        const s = open();
        assert.equal(s.clock.now(), undefined, 'not measured before an answer');
        await s.token();
        const vcdNow = Date.now() + clockSkewSec * 1000;
        const measured = s.clock.now()!;
        // The Date header is cut to the second; a slow machine adds some more.
        assert.ok(measured <= vcdNow + 100 && measured > vcdNow - 5000, `${measured - vcdNow} ms off`);
        await s.close();
        await sim.stop();
      }
    });

    it('writes audit times as VCD does (+0000), in its clock, and filters by the form go-vcloud-director sends', async () => {
      await startSim({ clockSkewSec: 3600 });
      const s = open();
      const published = [];
      for (let i = 0; i < 3; i++) {
        published.push(sim.publishEvent({ actor: 'acmeuser@acme' }).event);
        await delay(5); // three milliseconds apart at least
      }
      const all = await s.request<{ values: { timestamp: string; eventId: string }[] }>(
        'GET',
        '/cloudapi/1.0.0/auditTrail?sortAsc=timestamp&page=1&pageSize=10',
      );
      assert.deepEqual(
        all.values.map((r) => r.eventId),
        published.map((e) => `urn:vcloud:audit:${e.eventId}`),
      );
      for (const r of all.values) assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
      // The message bus writes the same instant with a colon in the offset.
      assert.equal(Date.parse(all.values[0]!.timestamp), Date.parse(published[0]!.timestamp));
      assert.ok(
        Date.parse(all.values[0]!.timestamp) > Date.now() + 3500_000,
        "in VCD's clock, an hour ahead",
      );
      const since = new Date(Date.parse(all.values[1]!.timestamp)).toISOString();
      const later = await s.request<{ values: unknown[] }>(
        'GET',
        `/cloudapi/1.0.0/auditTrail?filter=${encodeURIComponent(`timestamp=ge=${since}`)}&page=1&pageSize=10`,
      );
      assert.equal(later.values.length, 2);
      for (const form of [all.values[1]!.timestamp, since.replace('Z', '+00:00'), since.slice(0, 19)]) {
        const refused = await rejectionOf(
          s.request('GET', `/cloudapi/1.0.0/auditTrail?filter=${encodeURIComponent(`timestamp=gt=${form}`)}`),
        );
        assert.equal(refused.details?.status, 400, form);
      }
    });
  });

  it('refuses bad settings with VCD_CONFIG_INVALID', () => {
    const base = {
      url: 'https://vcd.example.com',
      org: 'acme',
      authType: 'password' as const,
      username: 'u',
      password: 'p',
    };
    assert.throws(() => new VcdSession({ ...base, url: 'vcd.example.com' }), { code: 'VCD_CONFIG_INVALID' });
    assert.throws(() => new VcdSession({ ...base, org: ' ' }), { code: 'VCD_CONFIG_INVALID' });
    assert.throws(() => new VcdSession({ ...base, username: 'u@acme' }), { code: 'VCD_CONFIG_INVALID' });
    assert.throws(() => new VcdSession({ ...base, authType: 'apiToken' }), { code: 'VCD_CONFIG_INVALID' });
  });
});
