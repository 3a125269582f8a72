/**
 * What each answer to a VCD login makes of it, on the wire against a server of its own: a refusal (the user's
 * to fix), an outage (wait and try again), "not a VCD" (the URL is wrong) and any other status, each with its
 * code and the status in its details; what the login sends (the user name trimmed, the provider path, the token
 * exchange's form); and the answers that look like a login but are none (no token, no session, no access_token).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../nodes/common/http';
import { ServerClock } from '../../nodes/common/server-clock';
import { apiTokenLogin, passwordLogin, type LoginTarget } from '../../nodes/vcd/login';
import { rejectionOf } from '../support/wait';

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Asked {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const session = JSON.stringify({
  user: { name: 'alice', id: 'urn:vcloud:user:u-1' },
  org: { name: 'acme', id: 'urn:vcloud:org:o-1' },
  operatingOrg: { name: 'acme', id: 'urn:vcloud:org:o-1' },
  roles: ['Organization Administrator', 7],
  sessionIdleTimeoutMinutes: 30,
});
const loggedIn: Answer = { headers: { 'x-vmware-vcloud-access-token': 'tok-1' }, body: session };
const granted: Answer = { body: JSON.stringify({ access_token: 'tok-2', expires_in: 600 }) };

/** Answers by path (the first match of a path's start wins); everything asked is kept. */
async function vcdServer(routes: Record<string, Answer>) {
  const asked: Asked[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      asked.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const route = Object.keys(routes).find((p) => (req.url ?? '').startsWith(p));
      const answer = route === undefined ? { status: 599, body: 'no route' } : routes[route]!;
      res.writeHead(answer.status ?? 200, { date: 'Sun, 06 Dec 2026 12:00:00 GMT', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new HttpClient({ tls: {}, timeoutMs: 10_000 });
  const clock = new ServerClock();
  const target = (org: string, authType: LoginTarget['authType'] = 'password'): LoginTarget => ({
    http: client,
    site,
    org,
    authType,
    apiVersion: '38.1',
    clock,
  });
  return {
    site,
    asked,
    clock,
    target,
    async close() {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
    },
  };
}

type Server = Awaited<ReturnType<typeof vcdServer>>;

async function against<T>(routes: Record<string, Answer>, run: (server: Server) => Promise<T>): Promise<T> {
  const server = await vcdServer(routes);
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

interface Failure {
  code?: string;
  message: string;
  details?: { status?: number };
}

const failure = (promise: Promise<unknown>) => rejectionOf<Failure>(promise, 'the login to fail');

const SESSIONS = '/cloudapi/1.0.0/sessions';
const login = (server: Server, org = 'acme') => passwordLogin(server.target(org), ' alice ', 's3cret');
const withToken = (server: Server, rotated: (t: string) => void = () => undefined, org = 'acme') =>
  apiTokenLogin(server.target(org, 'apiToken'), 'refresh-1', rotated);

describe('VCD password login: what each answer means', () => {
  it('a 401 or 403 is a refused login naming who, with a hint to the provider organization for a tenant', async () => {
    for (const status of [401, 403]) {
      const err = await against({ [SESSIONS]: { status } }, (s) => failure(login(s)));
      assert.equal(err.code, 'VCD_AUTH_FAILED', `after ${status}`);
      assert.deepEqual(err.details, { status });
      assert.match(err.message, new RegExp(`alice@acme \\(${status}\\)`));
      assert.match(err.message, /logs in to the organization System/);
      assert.doesNotMatch(err.message, /s3cret/);
    }
    const provider = await against({ [SESSIONS]: { status: 401 } }, (s) => failure(login(s, 'System')));
    assert.equal(provider.code, 'VCD_AUTH_FAILED');
    assert.doesNotMatch(provider.message, /organization System/);
  });

  it('502, 503 and 504 are an outage, told apart from a refusal, with the status', async () => {
    for (const status of [502, 503, 504]) {
      const err = await against({ [SESSIONS]: { status, body: 'busy' } }, (s) => failure(login(s)));
      assert.equal(err.code, 'VCD_UNAVAILABLE', `after ${status}`);
      assert.deepEqual(err.details, { status });
      assert.match(err.message, new RegExp(`unavailable \\(${status}\\) at login`));
    }
  });

  it('a 404 says the site is no VCD of 10.3 or newer, naming the site', async () => {
    const { err, site } = await against({ [SESSIONS]: { status: 404 } }, async (s) => ({
      err: await failure(login(s)),
      site: s.site,
    }));
    assert.equal(err.code, 'VCD_NOT_VCD');
    assert.deepEqual(err.details, { status: 404 });
    assert.ok(err.message.startsWith(`${site} has no login endpoint (404)`), err.message);
  });

  it('any other status outside 2xx (1xx aside) is an HTTP error with the status and an excerpt of the answer', async () => {
    for (const status of [300, 302, 400, 500, 501, 505]) {
      const err = await against({ [SESSIONS]: { status, body: `answer ${status}` } }, (s) =>
        failure(login(s)),
      );
      assert.equal(err.code, 'VCD_HTTP_ERROR', `after ${status}`);
      assert.deepEqual(err.details, { status });
      assert.match(err.message, new RegExp(`VCD answered ${status} at login: answer ${status}`));
    }
  });

  it('any 2xx with a token and a session is a login; its user, org, roles and life are read from the answer', async () => {
    for (const status of [200, 201, 299]) {
      const before = Date.now();
      const cred = await against({ [SESSIONS]: { ...loggedIn, status } }, (s) => login(s));
      assert.equal(cred.token, 'tok-1', `after ${status}`);
      assert.deepEqual(cred.info.user, { name: 'alice', id: 'urn:vcloud:user:u-1' });
      assert.deepEqual([cred.info.orgUuid, cred.info.userUuid], ['o-1', 'u-1']);
      assert.deepEqual(cred.info.operatingOrg, { name: 'acme', id: 'urn:vcloud:org:o-1' });
      assert.deepEqual(cred.info.roles, ['Organization Administrator', '7']);
      assert.deepEqual(
        [cred.info.provider, cred.info.authType, cred.info.apiVersion],
        [false, 'password', '38.1'],
      );
      assert.ok(cred.issuedAt >= before && cred.issuedAt <= Date.now());
      // The session's idle timeout (30 min) bounds a token that carries no expiry of its own.
      assert.equal(cred.info.expiresAt, cred.issuedAt + 30 * 60_000);
    }
  });

  it('sends the user name trimmed as user@org in Basic, the API version in Accept, and a provider to /provider', async () => {
    const asked = await against({ [SESSIONS]: loggedIn }, async (s) => {
      await login(s);
      await passwordLogin(s.target('System'), 'admin', 'pw');
      return s.asked;
    });
    assert.deepEqual(
      asked.map((a) => [a.method, a.path]),
      [
        ['POST', SESSIONS],
        ['POST', `${SESSIONS}/provider`],
      ],
    );
    const basic = (a: Asked) =>
      Buffer.from(String(a.headers.authorization).slice(6), 'base64').toString('utf8');
    assert.deepEqual(asked.map(basic), ['alice@acme:s3cret', 'admin@System:pw']);
    assert.equal(asked[0]!.headers.accept, 'application/json;version=38.1');
  });

  it('measures VCD clock from the Date of the login answer, refused or not', async () => {
    await against({ [SESSIONS]: { status: 401 } }, async (s) => {
      await failure(login(s));
      assert.ok(Math.abs((s.clock.now() ?? 0) - Date.parse('2026-12-06T12:00:00Z')) < 60_000);
    });
  });

  it('an answer without the access token header, or whose body is no session, is "not a VCD"', async () => {
    const noToken = await against({ [SESSIONS]: { body: session } }, (s) => failure(login(s)));
    assert.equal(noToken.code, 'VCD_NOT_VCD');
    assert.match(noToken.message, /no X-VMWARE-VCLOUD-ACCESS-TOKEN/);
    const bodies = [
      'not json',
      'null',
      '"text"',
      JSON.stringify({ org: { name: 'acme', id: 'o' } }),
      JSON.stringify({ user: { name: 'alice', id: 'u' } }),
      JSON.stringify({ user: { name: 'alice' }, org: { name: 'acme', id: 'o' } }),
      JSON.stringify({ user: { name: 'alice', id: 'u' }, org: { name: 'acme', id: 7 } }),
    ];
    for (const body of bodies) {
      const err = await against({ [SESSIONS]: { ...loggedIn, body } }, (s) => failure(login(s)));
      assert.equal(err.code, 'VCD_NOT_VCD', body);
      assert.match(err.message, /not a VCD session/, body);
    }
  });

  it('a user or organization without a name is read as an empty name, not refused', async () => {
    const body = JSON.stringify({ user: { id: 'urn:vcloud:user:u-1' }, org: { id: 'urn:vcloud:org:o-1' } });
    const cred = await against({ [SESSIONS]: { ...loggedIn, body } }, (s) => login(s));
    assert.deepEqual([cred.info.user.name, cred.info.org.name], ['', '']);
    assert.deepEqual([cred.info.operatingOrg, cred.info.roles], [undefined, []]);
  });
});

describe('VCD API token login: what each answer means', () => {
  const TENANT_TOKEN = '/oauth/tenant/acme/token';

  it('a 400, 401 or 403 to the token exchange is a refused token, with the status', async () => {
    for (const status of [400, 401, 403]) {
      const err = await against({ [TENANT_TOKEN]: { status } }, (s) => failure(withToken(s)));
      assert.equal(err.code, 'VCD_AUTH_FAILED', `after ${status}`);
      assert.deepEqual(err.details, { status });
      assert.match(err.message, new RegExp(`API token for organization acme \\(${status}\\)`));
      assert.doesNotMatch(err.message, /refresh-1/);
    }
  });

  it('an outage, a missing endpoint or another status at the token exchange or the session read names where', async () => {
    const cases: [Record<string, Answer>, string, number, RegExp][] = [
      [{ [TENANT_TOKEN]: { status: 503 } }, 'VCD_UNAVAILABLE', 503, /unavailable \(503\) at token/],
      [{ [TENANT_TOKEN]: { status: 404 } }, 'VCD_NOT_VCD', 404, /has no token endpoint \(404\)/],
      [{ [TENANT_TOKEN]: { status: 500 } }, 'VCD_HTTP_ERROR', 500, /answered 500 at token/],
      [
        { [TENANT_TOKEN]: granted, [`${SESSIONS}/current`]: { status: 502 } },
        'VCD_UNAVAILABLE',
        502,
        /at session/,
      ],
      [
        { [TENANT_TOKEN]: granted, [`${SESSIONS}/current`]: { status: 404 } },
        'VCD_NOT_VCD',
        404,
        /no session end/,
      ],
    ];
    for (const [routes, code, status, text] of cases) {
      const err = await against(routes, (s) => failure(withToken(s)));
      assert.equal(err.code, code, String(text));
      assert.deepEqual(err.details, { status });
      assert.match(err.message, text);
    }
  });

  it('a token answer that is no JSON or has no access_token is "not a VCD"', async () => {
    for (const [body, text] of [
      ['<html>', /token answer is not JSON/],
      ['{"token_type":"Bearer"}', /no access_token/],
    ] as const) {
      const err = await against({ [TENANT_TOKEN]: { body } }, (s) => failure(withToken(s)));
      assert.equal(err.code, 'VCD_NOT_VCD', body);
      assert.match(err.message, text);
    }
  });

  it('exchanges the token as a form, reads who it is with the new access token, and bounds its life by expires_in', async () => {
    const before = Date.now();
    const { cred, asked } = await against(
      { [TENANT_TOKEN]: granted, [`${SESSIONS}/current`]: { body: session } },
      async (s) => ({ cred: await withToken(s), asked: s.asked }),
    );
    assert.deepEqual(
      asked.map((a) => [a.method, a.path]),
      [
        ['POST', TENANT_TOKEN],
        ['GET', `${SESSIONS}/current`],
      ],
    );
    assert.equal(asked[0]!.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(asked[0]!.headers.accept, 'application/json');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(asked[0]!.body)), {
      grant_type: 'refresh_token',
      refresh_token: 'refresh-1',
    });
    assert.equal(asked[1]!.headers.authorization, 'Bearer tok-2');
    assert.equal(asked[1]!.headers.accept, 'application/json;version=38.1');
    assert.equal(cred.token, 'tok-2');
    assert.equal(cred.info.authType, 'apiToken');
    assert.ok(cred.issuedAt >= before);
    // expires_in (600 s) is shorter than the idle timeout (30 min): it wins.
    assert.equal(cred.info.expiresAt, cred.issuedAt + 600_000);
  });

  it('a provider exchanges at /oauth/provider/token', async () => {
    const asked = await against(
      { '/oauth/provider/token': granted, [`${SESSIONS}/current`]: { body: session } },
      async (s) => {
        await withToken(s, undefined, 'System');
        return s.asked;
      },
    );
    assert.equal(asked[0]!.path, '/oauth/provider/token');
  });

  it('hands a rotated refresh token on at once, and only one that changed', async () => {
    const seen: string[] = [];
    for (const refresh of ['refresh-2', 'refresh-1', undefined]) {
      const body = JSON.stringify({ access_token: 'tok-2', refresh_token: refresh });
      await against({ [TENANT_TOKEN]: { body }, [`${SESSIONS}/current`]: { body: session } }, (s) =>
        withToken(s, (t) => seen.push(t)),
      );
    }
    assert.deepEqual(seen, ['refresh-2']);
  });

  it('measures VCD clock from the Date of the session read', async () => {
    await against({ [TENANT_TOKEN]: granted, [`${SESSIONS}/current`]: { body: session } }, async (s) => {
      await withToken(s);
      assert.ok(Math.abs((s.clock.now() ?? 0) - Date.parse('2026-12-06T12:00:00Z')) < 60_000);
    });
  });
});
