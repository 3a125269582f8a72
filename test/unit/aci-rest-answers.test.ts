/**
 * What an APIC's REST answers say (nodes/aci/rest-answers.ts), answer by answer: each status and body an APIC
 * or what stands in front of it sends gives one code a flow can branch on, and a message that says who
 * answered what, where.
 */
import assert from 'node:assert/strict';
import {
  loginAttributes,
  parseAnswer,
  serverSeconds,
  versionAtLeast,
  type ApicAnswer,
} from '../../nodes/aci/rest-answers';
import type { HttpResponse } from '../../nodes/common/http';

const HOST = 'https://apic1.example.com';
const QUERY = '/api/class/fvBD.json';

const answer = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: {},
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const apicError = (status: number, text?: string, code?: string) =>
  answer(status, {
    totalCount: '1',
    imdata: [{ error: { attributes: { ...(code ? { code } : {}), ...(text ? { text } : {}) } } }],
  });
const NGINX_PAGE = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';

describe('APIC REST answers', () => {
  it('reads a throttled answer (503 with an HTML page) as throttling, whatever the page says', () => {
    assert.throws(() => parseAnswer(answer(503, NGINX_PAGE), HOST, QUERY, false), {
      code: 'APIC_THROTTLED',
      message: `${HOST} is throttling requests (503 at ${QUERY}); backing off before trying again.`,
      details: { status: 503, host: HOST },
    });
  });

  it('tells a server error that is not JSON (5xx) from an answer that is no APIC (below 500)', () => {
    for (const [status, code] of [
      [500, 'APIC_HTTP_ERROR'],
      [502, 'APIC_HTTP_ERROR'],
      [499, 'APIC_NOT_APIC'],
      [200, 'APIC_NOT_APIC'],
    ] as const) {
      assert.throws(() => parseAnswer(answer(status, NGINX_PAGE), HOST, QUERY, false), {
        code,
        message: `${HOST} answered ${status} at ${QUERY} with something that is not APIC JSON: ${NGINX_PAGE}`,
        details: { status, host: HOST },
      });
    }
  });

  it('reads 401 and 403 as a refused login at login and as an ended session after it, with APIC’s text', () => {
    const text = 'Username or password is incorrect - FAILED local authentication';
    for (const status of [401, 403]) {
      assert.throws(() => parseAnswer(apicError(status, text, String(status)), HOST, 'login', true), {
        code: 'APIC_AUTH_FAILED',
        message: `${HOST} refused the login (${status}: ${text}); check the user name, login domain and password or certificate.`,
        details: { status, host: HOST },
      });
      assert.throws(() => parseAnswer(apicError(status, 'Token was invalid'), HOST, QUERY, false), {
        code: 'APIC_SESSION_EXPIRED',
        message: `${HOST} no longer accepts the session (${status} at ${QUERY}: Token was invalid).`,
        details: { status, host: HOST },
      });
    }
    // Without APIC's error object (a proxy's refusal), no text is made up.
    assert.throws(() => parseAnswer(answer(401, ''), HOST, 'login', true), {
      message: `${HOST} refused the login (401); check the user name, login domain and password or certificate.`,
    });
    assert.throws(() => parseAnswer(answer(403, { imdata: [] }), HOST, QUERY, false), {
      message: `${HOST} no longer accepts the session (403 at ${QUERY}).`,
    });
  });

  it("passes an APIC error object on with APIC's code and text, whatever the status", () => {
    for (const status of [400, 404, 500, 200]) {
      assert.throws(
        () => parseAnswer(apicError(status, 'unresolved class for fvNope', '122'), HOST, QUERY, false),
        {
          code: 'APIC_HTTP_ERROR',
          message: `${HOST} answered ${status} at ${QUERY}: unresolved class for fvNope (122)`,
          details: { status, host: HOST, apicCode: '122' },
        },
      );
    }
    // An error object without code or text still says what it lacks as empty, not as made-up text.
    assert.throws(() => parseAnswer(apicError(400), HOST, QUERY, false), {
      message: `${HOST} answered 400 at ${QUERY}:  ()`,
      details: { status: 400, host: HOST, apicCode: '' },
    });
  });

  it('takes 200 to 299 as success; 199 and 300 and beyond are errors with an excerpt of the body', () => {
    const body = { totalCount: '1', imdata: [{ fvBD: { attributes: { dn: 'uni/tn-a/BD-b' } } }] };
    for (const status of [200, 204, 299]) {
      assert.deepEqual(parseAnswer(answer(status, body), HOST, QUERY, false), {
        totalCount: 1,
        imdata: body.imdata,
        subscriptionId: undefined,
      });
    }
    for (const status of [199, 300, 302, 404]) {
      assert.throws(() => parseAnswer(answer(status, body), HOST, QUERY, false), {
        code: 'APIC_HTTP_ERROR',
        message: `${HOST} answered ${status} at ${QUERY}: ${JSON.stringify(body)}`,
        details: { status, host: HOST, apicCode: undefined },
      });
    }
  });

  it('refuses a JSON answer without imdata as no APIC, and takes an empty body as such', () => {
    for (const body of [{ totalCount: '0' }, '', { imdata: { fvBD: {} } }]) {
      assert.throws(() => parseAnswer(answer(200, body), HOST, QUERY, false), {
        code: 'APIC_NOT_APIC',
        message: `${HOST} does not look like an APIC: no imdata at ${QUERY}.`,
        details: { host: HOST },
      });
    }
  });

  describe('login answers', () => {
    const loggedIn = (key: string, attributes: Record<string, unknown>): ApicAnswer => ({
      totalCount: 1,
      imdata: [{ [key]: { attributes: attributes as Record<string, string> } }],
    });

    it('finds the token under the name asked for, or under aaaLogin or aaaRefresh whatever was asked', () => {
      for (const key of ['aaaLogin', 'aaaRefresh']) {
        for (const asked of ['aaaLogin', 'webtokenSession']) {
          assert.equal(loginAttributes(loggedIn(key, { token: `t-${key}` }), HOST, asked).token, `t-${key}`);
        }
      }
      const webtoken = loggedIn('webtokenSession', { token: 'w', version: '5.2(7f)' });
      assert.deepEqual(loginAttributes(webtoken, HOST, 'webtokenSession'), {
        token: 'w',
        version: '5.2(7f)',
      });
    });

    it('refuses a login answer without a token, with an empty one or with one that is no string', () => {
      const refused = {
        code: 'APIC_NOT_APIC',
        message: `${HOST} answered the login without a token.`,
        details: { host: HOST },
      };
      assert.throws(() => loginAttributes({ totalCount: 0, imdata: [] }, HOST, 'aaaLogin'), refused);
      assert.throws(() => loginAttributes(loggedIn('aaaLogin', {}), HOST, 'aaaLogin'), refused);
      assert.throws(() => loginAttributes(loggedIn('aaaLogin', { token: '' }), HOST, 'aaaLogin'), refused);
      assert.throws(() => loginAttributes(loggedIn('aaaLogin', { token: 42 }), HOST, 'aaaLogin'), refused);
      assert.throws(() => loginAttributes(loggedIn('fvBD', { token: 'x' }), HOST, 'aaaLogin'), refused);
    });
  });
  it('reads an APIC timer only when it is a positive number, then keeps it within bounds (both sides)', () => {
    // 0, a negative or no number means the APIC did not say: the caller's default applies.
    for (const value of ['0', '-1', '-0.5', 'abc', '', undefined, 'Infinity', 'NaN'])
      assert.equal(serverSeconds(value, 'refreshTimeoutSeconds'), undefined, `${value}`);
    assert.equal(serverSeconds('0.001', 'refreshTimeoutSeconds'), 2, 'no tight refresh loop');
    assert.equal(serverSeconds('600', 'refreshTimeoutSeconds'), 600);
    assert.equal(serverSeconds('1e12', 'refreshTimeoutSeconds'), 86_400, 'no timer overflow');
    assert.equal(serverSeconds('59', 'maximumLifetimeSeconds'), 60);
    assert.equal(serverSeconds('86400', 'maximumLifetimeSeconds'), 86_400);
    assert.equal(serverSeconds('1e9', 'maximumLifetimeSeconds'), 7 * 86_400);
  });

  it('compares APIC versions by their whole numbers, and takes a version it cannot read as a current APIC', () => {
    assert.equal(versionAtLeast('4.2(7f)', [4, 2, 7]), true, 'the same');
    assert.equal(versionAtLeast('4.2(6a)', [4, 2, 7]), false);
    assert.equal(versionAtLeast('4.10(1a)', [4, 11, 0]), false, 'a two-digit minor read whole');
    assert.equal(versionAtLeast('4.10(1a)', [4, 9, 0]), true);
    assert.equal(versionAtLeast('14.2(1a)', [15, 0, 0]), false, 'a two-digit major read whole');
    assert.equal(versionAtLeast('3.2(10e)', [3, 2, 9]), true, 'a two-digit patch read whole');
    assert.equal(versionAtLeast('5.2(7f)', [4, 2, 7]), true);
    // Only a version at the start is read: "v3.2(3n)" is not one, so the APIC is taken as current.
    assert.equal(versionAtLeast('v3.2(3n)', [4, 2, 7]), true);
    assert.equal(versionAtLeast(undefined, [4, 2, 7]), true);
    assert.equal(versionAtLeast('', [4, 2, 7]), true);
  });

  it('reads an answer of JSON null as no APIC, not as a crash', () => {
    assert.throws(() => parseAnswer(answer(200, 'null'), HOST, QUERY, false), { code: 'APIC_NOT_APIC' });
  });

  it('keeps a subscription id only when the APIC sends it as text', () => {
    assert.equal(
      parseAnswer(answer(200, { imdata: [], subscriptionId: '72057611234574337' }), HOST, QUERY, false)
        .subscriptionId,
      '72057611234574337',
    );
    assert.equal(
      parseAnswer(answer(200, { imdata: [], subscriptionId: 720576112 }), HOST, QUERY, false).subscriptionId,
      undefined,
    );
  });
});
