import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { VcdSession, type VcdSessionOptions } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import { waitFor } from '../support/wait';

/** The edges of the VCD session: which settings it refuses, when a token is still handed out, what a close ends. */
describe('VCD session client: edges', () => {
  const base: VcdSessionOptions = {
    url: 'https://vcd.example.com',
    org: 'acme',
    authType: 'password',
    username: 'acmeadmin',
    password: 'secret',
  };

  describe('settings', () => {
    const refused = (options: Partial<VcdSessionOptions>, reason: RegExp) =>
      assert.throws(
        () => VcdSession.validate({ ...base, ...options }),
        (err: CodedError) => err.code === 'VCD_CONFIG_INVALID' && reason.test(err.message),
      );

    it('refuses a URL of another scheme, a blank organization, token, a blank or missing user name or password', () => {
      refused({ url: 'ftp://vcd.example.com' }, /must start with https:\/\//);
      refused({ org: '  ' }, /Set the organization/);
      refused({ authType: 'apiToken', apiToken: '  ' }, /Set the API token/);
      refused({ username: '  ' }, /user name and password/);
      refused({ username: undefined }, /user name and password/);
      refused({ password: '' }, /user name and password/);
      refused({ authType: 'saml' as VcdSessionOptions['authType'] }, /Unknown authentication type "saml"/);
    });

    it('takes http:// and https:// with blanks around, and gives the origin', () => {
      assert.equal(
        VcdSession.validate({ ...base, url: ' https://vcd.example.com:8443/tenant/acme ' }),
        'https://vcd.example.com:8443',
      );
      assert.equal(VcdSession.validate({ ...base, url: 'http://127.0.0.1:8080' }), 'http://127.0.0.1:8080');
      assert.equal(
        VcdSession.validate({ ...base, authType: 'apiToken', apiToken: ' t ' }),
        'https://vcd.example.com',
      );
    });
  });

  describe('against the simulator', () => {
    let sim: VcdSimulator;
    let session: VcdSession;
    const realNow = Date.now;

    async function open(
      simOptions: VcdSimOptions = {},
      options: Partial<VcdSessionOptions> = {},
    ): Promise<void> {
      sim = await VcdSimulator.start(simOptions);
      session = new VcdSession({
        ...base,
        url: sim.url,
        password: DEFAULT_PASSWORD,
        tls: { ca: sim.cert },
        ...options,
      });
    }

    afterEach(async () => {
      Date.now = realNow;
      await session?.close();
      await sim?.stop();
    });

    it('hands a token out until its last tenth of life (5 s at most), then logs in again', async () => {
      await open({ tokenLifetimeSec: 1800 });
      const first = await session.token();
      const { expiresAt } = session.info!;
      Date.now = () => expiresAt - 5001;
      assert.equal(await session.token(), first, '5 s and 1 ms before expiry');
      assert.equal(session.isCurrent(first), true);
      Date.now = () => expiresAt - 5000;
      const second = await session.token();
      assert.notEqual(second, first, '5 s before expiry: a new login');
      assert.equal(sim.stats.passwordLogins, 2);
    });

    it('a token is current until it expires, is replaced or is dropped', async () => {
      await open();
      const token = await session.token();
      const { expiresAt } = session.info!;
      session.invalidate('some older token');
      assert.equal(session.isCurrent(token), true, 'dropping another token keeps this one');
      Date.now = () => expiresAt;
      assert.equal(session.isCurrent(token), false, 'expired');
      Date.now = realNow;
      session.invalidate(token);
      session.invalidate(token);
      assert.equal(session.isCurrent(token), false, 'dropped');
      assert.notEqual(await session.token(), token);
    });

    it('a refused login is told to failure listeners; a closed session logs in no more', async () => {
      await open({}, { password: 'wrong' });
      const failures: CodedError[] = [];
      session.on('failure', (err: CodedError) => failures.push(err));
      await assert.rejects(session.token(), { code: 'VCD_AUTH_FAILED' });
      assert.deepEqual(
        failures.map((f) => f.code),
        ['VCD_AUTH_FAILED'],
      );
      let closedEvents = 0;
      session.on('closed', () => closedEvents++);
      await session.close();
      await session.close();
      assert.equal(closedEvents, 1);
      await assert.rejects(session.login(), { code: 'VCD_SESSION_CLOSED' });
      assert.equal(sim.stats.failedLogins, 1, 'no login after the close');
    });

    it('a login failing with an error that has no code is VCD_HTTP_ERROR naming it, told to failure listeners', async () => {
      await open();
      // A fault inside the login itself (here: reading VCD's Date), not an answer VCD gave.
      session.clock.observe = () => {
        throw new RangeError('Invalid time value');
      };
      const failures: CodedError[] = [];
      session.on('failure', (err: CodedError) => failures.push(err));
      await assert.rejects(session.token(), (err: CodedError) => {
        assert.equal(err.code, 'VCD_HTTP_ERROR');
        assert.equal(err.message, 'Login failed: Invalid time value');
        return true;
      });
      assert.deepEqual(
        failures.map((f) => f.message),
        ['Login failed: Invalid time value'],
      );
    });

    it('an answer other than 401 is not retried; a failed request names its status', async () => {
      await open();
      const res = await session.send({ method: 'GET', path: '/cloudapi/1.0.0/no-such-thing' });
      assert.equal(res.status, 404);
      await assert.rejects(session.request('GET', '/cloudapi/1.0.0/no-such-thing'), (err: CodedError) => {
        assert.equal(err.code, 'VCD_HTTP_ERROR');
        assert.equal(err.details?.status, 404);
        return true;
      });
      assert.equal(sim.stats.passwordLogins, 1, 'one login for both calls');
    });

    it('a call answered 401 again after a renewal gets that 401: one renewal, not a login per try', async () => {
      await open();
      await session.token();
      // VCD forgets every session as soon as it opens: each token is refused at once.
      session.on('login', () => sim.directory.expireAll());
      sim.directory.expireAll();
      const res = await session.send({ method: 'GET', path: '/cloudapi/1.0.0/sessions/current' });
      assert.equal(res.status, 401);
      assert.equal(sim.stats.passwordLogins, 2, 'the first login and one renewal');
    });

    it('knows nothing of itself before a login; logs in with an organization and API token given with blanks around', async () => {
      await open(
        {},
        { org: ' acme ', authType: 'apiToken', apiToken: ' sim-api-token-acmeadmin\n', username: undefined },
      );
      const before = session.info;
      assert.equal(before, undefined);
      await session.token();
      assert.equal(session.info?.org.name, 'acme');
      assert.equal(session.currentApiToken, 'sim-api-token-acmeadmin');
    });

    it('waits the configured backoff after a failed login before the next one, and no longer', async () => {
      await open({}, { password: 'wrong', retry: { initialMs: 100, maxMs: 100 } });
      await assert.rejects(session.token(), { code: 'VCD_AUTH_FAILED' });
      // Within the backoff, the failure is given again without asking VCD.
      await assert.rejects(session.token(), { code: 'VCD_AUTH_FAILED' });
      assert.equal(sim.stats.failedLogins, 1);
      // Past it (50 to 100 ms here; 0.5 to 1 s with the backoff's own defaults, 5 s with the session's), the
      // next call asks VCD again.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await assert.rejects(session.token(), { code: 'VCD_AUTH_FAILED' });
      assert.equal(sim.stats.failedLogins, 2);
    });

    it('tries a failed renewal again once a second at most while the token lives, and stops when it expires', async () => {
      // Renewal is due after a fifth of the token's 4 s; the backoff (100 ms) is shorter than the floor of 1 s.
      await open({ tokenLifetimeSec: 4 }, { renewAt: 0.2, retry: { initialMs: 100, maxMs: 100 } });
      await session.token();
      const { expiresAt } = session.info!;
      sim.faults.loginDown = true;
      const failedAt: number[] = [];
      session.on('failure', () => failedAt.push(Date.now()));
      await waitFor(() => Date.now() > expiresAt + 1500, 'past the expiry', 10_000);
      const whileLive = failedAt.filter((t) => t < expiresAt);
      assert.ok(whileLive.length >= 2 && whileLive.length <= 4, `${whileLive.length} renewals in about 3 s`);
      for (let i = 1; i < whileLive.length; i++) {
        assert.ok(whileLive[i]! - whileLive[i - 1]! >= 900, 'a second between tries');
      }
      assert.deepEqual(
        failedAt.filter((t) => t > expiresAt + 100),
        [],
        'no renewal after the token expired: the next call logs in',
      );
    });

    /** A session whose renewal, due after `renewAt` of a token living `lifetimeSec`, fails with a fixed backoff. */
    async function failingRenewals(lifetimeSec: number, renewAt: number, backoffMs: number): Promise<number> {
      const retry = { initialMs: backoffMs, maxMs: backoffMs, random: () => 1 };
      await open({ tokenLifetimeSec: lifetimeSec }, { renewAt, retry });
      await session.token();
      sim.faults.loginDown = true;
      return session.info!.expiresAt;
    }

    it('tries a failed renewal again after the backoff when it is longer than a second, not a second later', async () => {
      // Renewal is due after a tenth of the token's 10 s; the backoff is exactly 1.2 s.
      await failingRenewals(10, 0.1, 1200);
      const failedAt: number[] = [];
      session.on('failure', () => failedAt.push(Date.now()));
      await waitFor(() => failedAt.length === 2, 'two failed renewals', 10_000);
      const gap = failedAt[1]! - failedAt[0]!;
      // The 1 s floor would ask after 1 s, be refused within the backoff, and ask again after 2 s.
      assert.ok(gap >= 1100 && gap < 1800, `the backoff's 1.2 s between tries, measured ${gap} ms`);
    });

    it("a renewal whose timer fires before the clock reaches the backoff's end waits out the rest, not a second more", async () => {
      await failingRenewals(10, 0.1, 1200);
      const failedAt: number[] = [];
      session.on('failure', () => {
        failedAt.push(realNow());
        // Once the retry's timer is set, the clock steps back 100 ms: the timer fires before Date.now()
        // reaches the backoff's end.
        if (failedAt.length === 1) setImmediate(() => (Date.now = () => realNow() - 100));
      });
      await waitFor(() => failedAt.length === 2, 'two failed renewals', 10_000);
      const gap = failedAt[1]! - failedAt[0]!;
      // Refused as early and tried a second later, the retry would come after 2.2 s.
      assert.ok(gap >= 1250 && gap < 1900, `1.2 s and the 100 ms the clock stepped back, measured ${gap} ms`);
    });

    it('does not try a failed renewal again when its backoff ends after the token expired', async () => {
      // Renewal after half of the token's 4 s; the backoff (2.5 s) ends half a second past the expiry.
      const expiresAt = await failingRenewals(4, 0.5, 2500);
      let failures = 0;
      session.on('failure', () => failures++);
      await waitFor(() => Date.now() > expiresAt + 1500, 'past the backoff', 10_000);
      assert.equal(failures, 1, 'the renewal only: after the expiry the next call logs in');
    });

    it('does not try a failed renewal again once its token was dropped', async () => {
      await open({ tokenLifetimeSec: 6 }, { renewAt: 0.1, retry: { initialMs: 100, maxMs: 100 } });
      const first = await session.token();
      sim.faults.loginDown = true;
      const failedAt: number[] = [];
      // A call refused with this token (401) drops it just as its renewal fails.
      session.on('failure', () => {
        failedAt.push(Date.now());
        session.invalidate(first);
      });
      await waitFor(() => failedAt.length > 0, 'the failed renewal', 10_000);
      // A retry would come a second after the failure (the floor), well before the token's expiry.
      await waitFor(() => Date.now() > failedAt[0]! + 2500, '2.5 s after the failed renewal', 10_000);
      assert.equal(failedAt.length, 1, 'no renewal of a dropped token: the next call logs in');
      assert.equal(session.info, undefined);
    });

    it("measures VCD's clock on every answer, not only at login", async () => {
      await open();
      await session.token();
      sim.faults.clockSkewSec = 3600;
      await session.send({ method: 'GET', path: '/cloudapi/1.0.0/sessions/current' });
      const ahead = session.clock.now()! - Date.now();
      assert.ok(ahead > 3_590_000 && ahead < 3_610_000, `VCD's clock an hour ahead, measured ${ahead} ms`);
    });

    for (const [version, how] of [
      ['35.0', 'DELETE /api/session'],
      ['36.0', 'DELETE /cloudapi/1.0.0/sessions/current'],
    ] as const) {
      it(`logs out of API ${version} with ${how}`, async () => {
        await open({ versions: [{ version }] });
        await session.token();
        await session.close();
        assert.equal(sim.stats.logouts, 1);
        assert.equal(sim.directory.liveSessions().length, 0);
      });
    }
  });
});
