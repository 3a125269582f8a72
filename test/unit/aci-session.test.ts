/**
 * An APIC cluster's logins and a session's timers (nodes/aci/session.ts), with APIC's answers scripted by the
 * test and the session's timers caught as they are set: which APIC a login goes to, what one error of a
 * whole cluster says, when a session refreshes and when it ages, and what a refused or throttled refresh does.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ApicCluster, ApicSession, type ApicAnswer, type ApicLoginInfo } from '../../nodes/aci/session';
import { CodedError } from '../../nodes/common/errors';
import type { HttpResponse } from '../../nodes/common/http';

const HOSTS = ['https://apic1', 'https://apic2', 'https://apic3'];
const failed = (code: string, host: string) => new CodedError(code, `${host} failed with ${code}.`);

function passwordCluster(extra: { refreshAt?: number; hosts?: string } = {}): ApicCluster {
  return new ApicCluster({
    hosts: extra.hosts ?? HOSTS.join(', '),
    authType: 'password',
    username: 'admin',
    password: 'secret',
    refreshAt: extra.refreshAt,
  });
}

/** Logins that go as `outcome` says for each APIC; returns the APICs tried, in order. */
function scriptLogins(cluster: ApicCluster, outcome: (host: string) => string | undefined): string[] {
  const tried: string[] = [];
  cluster.loginAt = async (host) => {
    tried.push(host);
    const code = outcome(host);
    if (code) throw failed(code, host);
    return { host } as unknown as ApicSession;
  };
  return tried;
}

describe('APIC cluster logins', () => {
  it('tries the APICs in turn from the one that worked last; a failover moves on to the next, wrapping', async () => {
    const cluster = passwordCluster();
    let away = new Set(['https://apic1']);
    const tried = scriptLogins(cluster, (h) => (away.has(h) ? 'CONNECT_FAILED' : undefined));
    assert.equal((await cluster.login()).host, 'https://apic2');
    assert.deepEqual(tried.splice(0), ['https://apic1', 'https://apic2']);
    away = new Set();
    await cluster.login();
    assert.deepEqual(tried.splice(0), ['https://apic2'], 'starts with the one that worked');
    cluster.failover('https://apic1'); // not the one it starts with: no change
    assert.equal(cluster.preferredHost, 'https://apic2');
    cluster.failover('https://apic2');
    assert.equal(cluster.preferredHost, 'https://apic3');
    cluster.failover('https://apic3');
    assert.equal(cluster.preferredHost, 'https://apic1');
    await cluster.login();
    assert.deepEqual(tried.splice(0), ['https://apic1']);
  });

  it('stays with the APIC it moved to when a session on an APIC it already left fails at network level', async () => {
    const cluster = passwordCluster();
    let away = new Set(['https://apic1']);
    const tried = scriptLogins(cluster, (h) => (away.has(h) ? 'CONNECT_FAILED' : undefined));
    const older = await cluster.login(); // a session on apic2, say a subscription's
    assert.equal(older.host, 'https://apic2');
    away = new Set(['https://apic2', 'https://apic3']);
    assert.equal((await cluster.login()).host, 'https://apic1', 'another login found only apic1');
    tried.splice(0);
    cluster.failover(older.host); // the subscription's connection to apic2 breaks
    assert.equal(cluster.preferredHost, 'https://apic1', 'says it still uses apic1, not apic3');
    await cluster.login();
    assert.deepEqual(tried, ['https://apic1'], 'logs in to apic1 first, not to apic3 that is away');
  });

  it('stops at a refused login, and at an aborted one, without asking the other APICs', async () => {
    const cluster = passwordCluster();
    const tried = scriptLogins(cluster, () => 'APIC_AUTH_FAILED');
    await assert.rejects(cluster.login(), { code: 'APIC_AUTH_FAILED' });
    assert.deepEqual(tried.splice(0), ['https://apic1']);
    scriptLogins(cluster, (h) => (tried.push(h), 'CONNECT_FAILED'));
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(cluster.login(abort.signal), { code: 'CONNECT_FAILED' });
    assert.deepEqual(tried, ['https://apic1']);
  });

  it("says what failed on every APIC: one APIC's error as it is, one code as that code, throttling first", async () => {
    const single = passwordCluster({ hosts: 'apic1' });
    scriptLogins(single, () => 'TIMEOUT');
    await assert.rejects(single.login(), (err: CodedError) => {
      assert.deepEqual(
        [err.code, err.message, err.details],
        ['TIMEOUT', 'https://apic1 failed with TIMEOUT.', undefined],
      );
      return true;
    });
    const text = (codes: string[]) => HOSTS.map((h, i) => `${h} failed with ${codes[i]}.`).join(' ');
    for (const [codes, code, prefix] of [
      [['CONNECT_FAILED', 'CONNECT_FAILED', 'CONNECT_FAILED'], 'CONNECT_FAILED', ''],
      [['CONNECT_FAILED', 'APIC_THROTTLED', 'TIMEOUT'], 'APIC_THROTTLED', ''],
      [
        ['CONNECT_FAILED', 'TIMEOUT', 'APIC_NOT_APIC'],
        'APIC_UNREACHABLE',
        'No APIC of the cluster answered. ',
      ],
    ] as const) {
      const cluster = passwordCluster();
      scriptLogins(cluster, (h) => codes[HOSTS.indexOf(h)]);
      await assert.rejects(cluster.login(), {
        code,
        message: prefix + text([...codes]),
        details: { hosts: HOSTS },
      });
    }
  });

  it('refuses a password login without user or password, and an authentication type it does not know', () => {
    for (const [username, password] of [
      ['  ', 'secret'],
      [undefined, 'secret'],
      ['admin', ''],
    ]) {
      assert.throws(() => new ApicCluster({ hosts: 'apic1', authType: 'password', username, password }), {
        code: 'APIC_CONFIG_INVALID',
        message: 'Set the user name and password.',
      });
    }
    assert.throws(
      () =>
        new ApicCluster({ hosts: 'apic1', authType: 'kerberos' as 'password', username: 'a', password: 'b' }),
      { code: 'APIC_CONFIG_INVALID', message: 'Unknown authentication type "kerberos".' },
    );
  });
});

describe('APIC calls as they go out', () => {
  const at = (cluster: ApicCluster, res: Partial<HttpResponse>) => {
    const sent: { url: string; headers: Record<string, string> }[] = [];
    cluster.http.send = async (_method, url, options) => {
      sent.push({ url, headers: { ...options?.headers } });
      return { status: 200, headers: {}, text: '{"imdata":[]}', ...res };
    };
    return sent;
  };

  it('sends JSON as JSON with the session cookie, and a 401 is a refused login only at login', async () => {
    const cluster = passwordCluster();
    const sent = at(cluster, { status: 401, text: '' });
    await assert.rejects(
      cluster.call(HOSTS[0]!, 'POST', '/api/aaaLogin.json', { body: '{}', what: 'login' }),
      {
        code: 'APIC_AUTH_FAILED',
      },
    );
    await assert.rejects(cluster.call(HOSTS[0]!, 'GET', '/api/class/fvBD.json', { token: 'tk' }), {
      code: 'APIC_SESSION_EXPIRED',
      message: 'https://apic1 no longer accepts the session (401 at /api/class/fvBD.json).',
    });
    assert.deepEqual(sent, [
      {
        url: 'https://apic1/api/aaaLogin.json',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
      },
      {
        url: 'https://apic1/api/class/fvBD.json',
        headers: { accept: 'application/json', cookie: 'APIC-cookie=tk' },
      },
    ]);
  });

  it("keeps each APIC's clock from the Date of its answers", async () => {
    const cluster = passwordCluster();
    const ahead = Date.now() + 3_600_000;
    at(cluster, { headers: { date: new Date(ahead).toUTCString() } });
    await cluster.call(HOSTS[1]!, 'GET', '/api/class/fvBD.json');
    const now = cluster.clockOf(HOSTS[1]!).now();
    assert.ok(now !== undefined && Math.abs(now - ahead) < 60_000, String(now));
    assert.equal(cluster.clockOf(HOSTS[0]!).now(), undefined, 'another APIC of the cluster is not measured');
  });

  const certificateCluster = () =>
    new ApicCluster({
      hosts: 'apic1',
      authType: 'certificate',
      username: 'admin',
      certificateName: 'cert1',
      privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string,
    });

  it('asks a certificate login for the firmware version only when the login does not say it', async () => {
    const cluster = certificateCluster();
    const token = (version?: string) => ({
      token: 'w1',
      refreshTimeoutSeconds: '600',
      ...(version ? { version } : {}),
    });
    let login: Record<string, string> = token();
    const asked: string[] = [];
    cluster.call = async (_host, _method, path): Promise<ApicAnswer> => {
      asked.push(path);
      if (path === '/api/webtokenSession.json')
        return { totalCount: 1, imdata: [{ webtokenSession: { attributes: login } }] };
      return { totalCount: 1, imdata: [{ firmwareCtrlrRunning: { attributes: { version: '5.2(7f)' } } }] };
    };
    assert.equal((await cluster.loginAt('https://apic1')).info.version, '5.2(7f)');
    assert.deepEqual(asked.splice(0), ['/api/webtokenSession.json', '/api/class/firmwareCtrlrRunning.json']);
    login = token('6.0(2h)');
    assert.equal((await cluster.loginAt('https://apic1')).info.version, '6.0(2h)');
    assert.deepEqual(asked, ['/api/webtokenSession.json']);
  });

  it('logs a certificate user in with the version unknown when the firmware answer holds none', async () => {
    const cluster = certificateCluster();
    const login = { token: 'w1', refreshTimeoutSeconds: '600' };
    // No object (a user whose domains do not cover the controllers), one without attributes, none with a
    // version, and a query that failed: each is a missing version, never a failed login.
    for (const firmware of [
      [],
      [{ firmwareCtrlrRunning: {} }],
      [{ firmwareCtrlrRunning: { attributes: {} } }],
      null,
    ]) {
      cluster.call = async (host, _method, path): Promise<ApicAnswer> => {
        if (path === '/api/webtokenSession.json')
          return { totalCount: 1, imdata: [{ webtokenSession: { attributes: login } }] };
        if (!firmware) throw failed('APIC_HTTP_ERROR', host);
        return { totalCount: firmware.length, imdata: firmware };
      };
      const session = await cluster.loginAt('https://apic1');
      assert.deepEqual(
        [session.host, session.info.version],
        ['https://apic1', undefined],
        JSON.stringify(firmware),
      );
    }
  });
});

describe('APIC session timers', () => {
  const realSetTimeout = global.setTimeout;
  let timers: { ms: number; fire: () => void }[];
  beforeEach(() => {
    timers = [];
    global.setTimeout = ((fire: () => void, ms: number) => {
      timers.push({ fire, ms });
      return { unref: () => undefined } as unknown as NodeJS.Timeout;
    }) as unknown as typeof setTimeout;
  });
  afterEach(() => {
    global.setTimeout = realSetTimeout;
  });

  const info = (extra: Partial<ApicLoginInfo>): ApicLoginInfo => ({
    host: HOSTS[0]!,
    user: 'admin',
    authType: 'password',
    loggedInAt: Date.now(),
    ...extra,
  });
  const session = (cluster: ApicCluster, extra: Partial<ApicLoginInfo>) =>
    new ApicSession(cluster, HOSTS[0]!, 't0', info(extra));
  const within = (ms: number, low: number, high: number) => assert.ok(ms >= low && ms <= high, `${ms} ms`);

  it('refreshes a password session at its share of the refresh timeout, and ages it before the lifetime ends', () => {
    session(passwordCluster(), { refreshTimeoutSeconds: 600, maximumLifetimeSeconds: 86_400 }).start();
    assert.equal(timers[0]!.ms, 300_000, 'refresh at half of 600 s');
    within(timers[1]!.ms, 85_800_000 - 5000, 85_800_000); // one refresh period before the end, not a tenth
    timers = [];
    session(passwordCluster({ refreshAt: 0.8 }), { refreshTimeoutSeconds: 600 }).start();
    assert.deepEqual(
      timers.map((t) => t.ms),
      [480_000],
      'no lifetime: no aging',
    );
    timers = [];
    session(passwordCluster(), { refreshTimeoutSeconds: 60_000, maximumLifetimeSeconds: 86_400 }).start();
    within(timers[1]!.ms, 77_760_000 - 5000, 77_760_000); // a tenth of the lifetime, less than one refresh period
  });

  it('refreshes no certificate session, and ages it a tenth of its lifetime before the end', () => {
    const cluster = passwordCluster();
    session(cluster, {
      authType: 'certificate',
      refreshTimeoutSeconds: 600,
      maximumLifetimeSeconds: 3600,
    }).start();
    assert.equal(timers.length, 1);
    within(timers[0]!.ms, 3_240_000 - 5000, 3_240_000);
    session(cluster, { authType: 'certificate', maximumLifetimeSeconds: 3600 }).start();
    within(timers[1]!.ms, 3_240_000 - 5000, 3_240_000);
  });

  it('says a session ages when its time comes, unless it has ended', () => {
    const cluster = passwordCluster();
    const aging: number[] = [];
    for (const end of [false, true]) {
      const s = session(cluster, { maximumLifetimeSeconds: 3600 });
      s.on('aging', () => aging.push(Number(end)));
      s.start();
      if (end) s.close();
      timers.at(-1)!.fire();
    }
    assert.deepEqual(aging, [0]);
  });

  /** A session whose refreshes and calls APIC answers as `answer` says, one answer per request. */
  function scripted(
    timeoutSeconds: number,
    answer: (path: string, token: string | undefined) => Promise<ApicAnswer>,
    loggedInAt = Date.now(),
  ) {
    const cluster = passwordCluster();
    const sent: [string, string | undefined][] = [];
    cluster.call = (_host, _method, path, options) => {
      sent.push([path, options?.token]);
      return answer(path, options?.token);
    };
    const s = session(cluster, { refreshTimeoutSeconds: timeoutSeconds, loggedInAt });
    const lost: CodedError[] = [];
    s.on('lost', (e: CodedError) => lost.push(e));
    return { s, sent, lost };
  }
  const refreshed = (token: string, timeout?: string): ApicAnswer => ({
    totalCount: 1,
    imdata: [{ aaaLogin: { attributes: { token, ...(timeout ? { refreshTimeoutSeconds: timeout } : {}) } } }],
  });
  const settle = () => new Promise((r) => setImmediate(r));

  it('takes the new token and refresh timeout of a refresh, and refreshes again at its share', async () => {
    const { s, sent } = scripted(600, async () => refreshed('t1', '1200'));
    await s.refresh();
    assert.equal(s.socketUrl, 'wss://apic1/sockett1');
    assert.equal(s.info.refreshTimeoutSeconds, 1200);
    assert.equal(timers.at(-1)!.ms, 600_000);
    await s.get('/api/class/fvBD.json');
    assert.deepEqual(sent.at(-1), ['/api/class/fvBD.json', 't1']);
  });

  it('tries a throttled refresh again after at most 30 s while there is time, and gives the session up after', async () => {
    const { s, lost } = scripted(9600, async () => {
      throw new CodedError('APIC_THROTTLED', 'throttled');
    });
    for (let i = 0; i < 8; i++) {
      await s.refresh();
      within(timers.at(-1)!.ms, 500, 30_000);
    }
    assert.equal(lost.length, 0);
    // Refreshed 1.5 s ago with a timeout of 2 s: no wait ends a second before the session would.
    const near = scripted(
      2,
      async () => {
        throw new CodedError('APIC_THROTTLED', 'throttled');
      },
      Date.now() - 1500,
    );
    await near.s.refresh();
    assert.deepEqual(
      near.lost.map((e) => e.code),
      ['APIC_THROTTLED'],
      'no time left before the session times out',
    );
    const refused = scripted(9600, async () => {
      throw new CodedError('APIC_SESSION_EXPIRED', 'gone');
    });
    await refused.s.refresh();
    assert.deepEqual(
      refused.lost.map((e) => e.code),
      ['APIC_SESSION_EXPIRED'],
    );
  });

  it('sends a call refused while a refresh changed the token once more with the new token; else the session is lost', async () => {
    let release!: () => void;
    const { s, sent, lost } = scripted(600, async (path, token) => {
      if (path === '/api/aaaRefresh.json') return refreshed('t1');
      if (token === 't0') {
        await new Promise<void>((r) => (release = r));
        throw new CodedError('APIC_SESSION_EXPIRED', 'expired');
      }
      return { totalCount: 0, imdata: [] };
    });
    const call = s.get('/api/class/fvBD.json');
    await settle();
    await s.refresh();
    release();
    assert.deepEqual(await call, { totalCount: 0, imdata: [] });
    assert.deepEqual(
      sent.map(([, token]) => token),
      ['t0', 't0', 't1'],
    );
    assert.equal(lost.length, 0);

    const stale = scripted(600, async () => {
      throw new CodedError('APIC_SESSION_EXPIRED', 'expired');
    });
    await assert.rejects(stale.s.get('/api/class/fvBD.json'), { code: 'APIC_SESSION_EXPIRED' });
    assert.deepEqual(
      stale.lost.map((e) => e.code),
      ['APIC_SESSION_EXPIRED'],
    );
    assert.equal(stale.s.closed, true);
    await assert.rejects(stale.s.get('/api/class/fvBD.json'), { code: 'APIC_SESSION_CLOSED' });
    assert.equal(stale.sent.length, 1, 'nothing sent once the session has ended');
  });

  it('says a session is lost once, however many calls find it refused', async () => {
    const { s, lost } = scripted(600, async () => {
      throw new CodedError('APIC_SESSION_EXPIRED', 'expired');
    });
    const calls = [s.get('/api/class/fvBD.json'), s.get('/api/class/fvAEPg.json')];
    for (const call of calls) await assert.rejects(call, { code: 'APIC_SESSION_EXPIRED' });
    assert.equal(lost.length, 1);
  });

  it('says in a debug line that a logout failed, and logs out a password session only once', async () => {
    const { s, sent } = scripted(600, async () => {
      throw new CodedError('TIMEOUT', 'https://apic1 did not answer within 5 s.');
    });
    const said: string[] = [];
    s.on('debug', (line: string) => said.push(line));
    await s.logout();
    await s.logout();
    assert.deepEqual(said, ['logout: https://apic1 did not answer within 5 s.']);
    assert.deepEqual(sent, [['/api/aaaLogout.json', 't0']]);
  });

  it('logs out as the user it logged in as, names the step that failed, and leaves no timer of its own behind', async () => {
    const cluster = passwordCluster();
    const bodies: unknown[] = [];
    cluster.http.send = async (_method, _url, options) => {
      bodies.push(JSON.parse(String(options?.body)));
      return {
        status: 500,
        headers: {},
        text: '{"imdata":[{"error":{"attributes":{"code":"1","text":"busy"}}}]}',
      };
    };
    const handles: object[] = [];
    global.setTimeout = (() => {
      const handle = { unref: () => undefined };
      handles.push(handle);
      return handle;
    }) as unknown as typeof setTimeout;
    const cleared = new Set<unknown>();
    const realClearTimeout = global.clearTimeout;
    global.clearTimeout = ((handle: unknown) => cleared.add(handle)) as typeof clearTimeout;
    try {
      const s = session(cluster, { refreshTimeoutSeconds: 600, maximumLifetimeSeconds: 86_400 });
      const said: string[] = [];
      s.on('debug', (line: string) => said.push(line));
      s.start();
      assert.equal(handles.length, 2, 'a refresh and an aging timer');
      await s.logout();
      assert.deepEqual(bodies, [{ aaaUser: { attributes: { name: 'admin' } } }]);
      assert.deepEqual(said, ['logout: https://apic1 answered 500 at aaaLogout: busy (1)']);
      assert.ok(
        handles.every((h) => cleared.has(h)),
        'a closed session holds no timer, so nothing of it waits in memory for its lifetime to end',
      );
    } finally {
      global.clearTimeout = realClearTimeout;
    }
  });
});
