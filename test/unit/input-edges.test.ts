/**
 * The edges of what users type and servers send that the mutation run found untested: APIC addresses (http://
 * kept for labs, what is no address at all, the short names in status labels), pushes that are JSON but not a
 * push, tokens or grants that hold no usable lifetime, and VCD topic filters at their limits. Each case here let
 * a changed line pass before.
 */
import assert from 'node:assert/strict';
import { hostLabel, parseHosts } from '../../nodes/aci/addresses';
import { parsePush, toAciObject } from '../../nodes/aci/subscriber/push';
import { grantedLifetime, jwtLifetime, TOKEN_LIFETIME_MS } from '../../nodes/vcd/token-lifetime';
import { TOPIC_INVALID, topicMatches, validateTopic } from '../../nodes/vcd/topics';

const invalid = (text: RegExp) => (err: { code?: string; message: string }) =>
  err.code === 'APIC_CONFIG_INVALID' && text.test(err.message);

describe('APIC addresses at their edges', () => {
  it('keeps http:// for a lab APIC and refuses any other scheme, naming the address', () => {
    assert.deepEqual(parseHosts('http://lab-apic:8080'), ['http://lab-apic:8080']);
    assert.throws(() => parseHosts('ws://apic1'), invalid(/"ws:\/\/apic1": the address must use https/));
  });

  it('refuses what is no address at all, a path, a query or a user, each naming the address', () => {
    assert.throws(() => parseHosts('apic 1:x'), invalid(/"1:x" is not an APIC address/));
    assert.throws(() => parseHosts('https://apic1/api'), invalid(/"https:\/\/apic1\/api": .*without a path/));
    assert.throws(() => parseHosts('apic1?a=b'), invalid(/without a path/));
    assert.throws(() => parseHosts('admin@apic1'), invalid(/without a path/));
    assert.throws(() => parseHosts(''), invalid(/at least one APIC address/));
    const ten = Array.from({ length: 10 }, (_, i) => `apic${i}`);
    assert.throws(() => parseHosts(ten), invalid(/at most 9 addresses/));
  });

  it('shows an IP as it is and a host name by its first label', () => {
    assert.equal(hostLabel('https://10.0.0.1:8443'), '10.0.0.1');
    assert.equal(hostLabel('https://[2001:db8::1]'), '[2001:db8::1]');
    assert.equal(hostLabel('https://apic1.dc.example.com'), 'apic1');
    assert.equal(hostLabel('https://apic1'), 'apic1');
    assert.equal(hostLabel('https://apic-1.lab2'), 'apic-1', 'a name that ends in a digit is a name');
    assert.equal(
      hostLabel('https://10.0.0.1.example.com'),
      '10',
      'a host name that starts with digits is a name',
    );
  });
});

describe('APIC pushes at their edges', () => {
  const push = (body: unknown) => () => parsePush(JSON.stringify(body));
  const badPush = (text: RegExp) => (err: { code?: string; message: string }) =>
    err.code === 'APIC_BAD_PUSH' && text.test(err.message);

  it("reads a numeric subscriptionId, and keeps an object's children only when it has them", () => {
    const read = parsePush(
      JSON.stringify({
        subscriptionId: [42, 'x'],
        imdata: [
          { fvBD: { attributes: { dn: 'uni/tn-a/BD-b' }, children: [{ fvRsCtx: { attributes: {} } }] } },
          { fvBD: { attributes: { dn: 'uni/tn-a/BD-c' } } },
        ],
      }),
    );
    assert.deepEqual(read.ids, ['42', 'x']);
    assert.equal(read.objects[0]!.children?.length, 1);
    assert.equal('children' in read.objects[1]!, false);
    assert.equal(read.objects[1]!.status, '', 'no status: an empty one, not "undefined"');
  });

  it('refuses pushes that are JSON but not a push, saying which part is missing', () => {
    assert.throws(() => parsePush('null'), badPush(/no subscriptionId or imdata/));
    assert.throws(push({ subscriptionId: [null, {}], imdata: [] }), badPush(/no subscriptionId/));
    assert.throws(push({ subscriptionId: '1', imdata: {} }), badPush(/no subscriptionId or imdata/));
    assert.throws(push({ subscriptionId: '1', imdata: [null] }), badPush(/an object without a dn/));
    assert.throws(
      push({ subscriptionId: '1', imdata: [{ fvBD: { attributes: 'dn' } }] }),
      badPush(/without a dn/),
    );
    assert.throws(
      push({ subscriptionId: '1', imdata: [{ fvBD: { attributes: { dn: 7 } } }] }),
      badPush(/a dn/),
    );
    assert.throws(() => parsePush('{"subscriptionId":'), badPush(/not JSON: \{"subscriptionId":/));
  });

  it('reads one object only when it is an object of one class with a string dn', () => {
    assert.equal(toAciObject(null), undefined);
    assert.equal(toAciObject('fvBD'), undefined);
    assert.equal(toAciObject({ fvBD: {} }), undefined);
    assert.equal(toAciObject({ fvBD: { attributes: null } }), undefined);
    assert.equal(toAciObject({ fvBD: { attributes: { dn: 'uni/tn-a' } } })?.dn, 'uni/tn-a');
  });
});

describe('VCD token lifetimes at their edges', () => {
  const jwt = (claims: unknown) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

  it('reads no lifetime from a token without claims, with claims that are not numbers, or that end before they begin', () => {
    assert.equal(jwtLifetime('h..s'), undefined);
    assert.equal(jwtLifetime(jwt(null)), undefined);
    assert.equal(jwtLifetime(jwt({ iat: '100', exp: 1900 })), undefined);
    assert.equal(jwtLifetime(jwt({ iat: 100, exp: '1900' })), undefined);
    assert.equal(jwtLifetime(jwt({ iat: 1900, exp: 100 })), undefined);
    assert.equal(jwtLifetime(jwt({ iat: 100, exp: 101 })), 1000, 'one second is a lifetime');
  });

  it('takes no grant from a value that is not a finite positive number', () => {
    const { fallback } = TOKEN_LIFETIME_MS;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -60, null, '600']) {
      assert.equal(grantedLifetime('opaque', { expiresInSeconds: bad }), fallback, String(bad));
      assert.equal(grantedLifetime('opaque', { idleTimeoutMinutes: bad }), fallback, String(bad));
    }
    // A bad JWT does not hide a good grant beside it.
    assert.equal(grantedLifetime(jwt({ iat: 'x' }), { expiresInSeconds: 90 }), 90_000);
  });
});

describe('VCD topics at their edges', () => {
  const refused = (topic: string, why: RegExp) =>
    assert.throws(
      () => validateTopic(topic),
      (err: { code?: string; message: string }) =>
        err.code === TOPIC_INVALID && why.test(err.message) && err.message.includes(`"${topic}"`),
      topic,
    );

  it('takes a topic of 1024 characters and refuses 1025, saying why', () => {
    const topic = (n: number) => `publish/${'a'.repeat(n - 8)}`;
    assert.equal(validateTopic(topic(1024)), topic(1024));
    refused(topic(1025), /it is too long/);
    refused('  ', /it is empty/);
  });

  it('checks every placeholder of a level, and says what each refusal is about', () => {
    refused('publish/{org}-{tenant}/+', /unknown placeholder \{tenant\}/);
    refused('publish/{org}{x}/+', /unknown placeholder \{x\}/);
    refused('publish/x{tenant}/+', /unknown placeholder \{tenant\}/);
    assert.equal(validateTopic('publish/x{org}/+'), 'publish/x{org}/+', 'text before a placeholder');
    assert.equal(validateTopic('publish/{org}-{user}/x{'), 'publish/{org}-{user}/x{', 'a lone { is text');
    assert.equal(validateTopic('publish/}{org}/+'), 'publish/}{org}/+', 'a } before the { is text');
    refused('publish/{}/+', /unknown placeholder \{\}; use \{org\} or \{user\}/);
    refused('publish/{org}{}', /unknown placeholder \{\}/);
    refused('publish/#/x', /# must be the whole last level/);
    refused('publish/a+', /\+ must be a whole level/);
    refused('publish/*', /\* is not an MQTT wildcard/);
  });

  it('matches a filter with a wildcard against a topic shorter than the filter', () => {
    assert.equal(topicMatches('publish/+/u', 'publish'), false);
    assert.equal(topicMatches('publish/+', 'publish/'), true, 'an empty level is a level');
  });
});
