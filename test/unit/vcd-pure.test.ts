import assert from 'node:assert/strict';
import { Backoff, retryAfterMs } from '../../nodes/common/backoff';
import { CodedError, toCoded } from '../../nodes/common/errors';
import { shortCount, status } from '../../nodes/common/node-status';
import { parseVcdEnvelope } from '../../nodes/events/decode/vcd-envelope';
import { bareId } from '../../nodes/vcd/login';
import { grantedLifetime, jwtLifetime } from '../../nodes/vcd/token-lifetime';
import { compareVersions, negotiateVersion, parseVersions } from '../../nodes/vcd/version-negotiation';
import { expandTopic, topicMatches, validateTopic } from '../../nodes/vcd/topics';

describe('VCD topics', () => {
  it('expands {org} and {user} to bare UUIDs', () => {
    assert.equal(expandTopic('publish/{org}/{user}', { orgUuid: 'o-1', userUuid: 'u-2' }), 'publish/o-1/u-2');
  });

  it('accepts MQTT filters and refuses what is not one', () => {
    for (const ok of ['publish/{org}/+', 'publish/#', 'metrics/{org}/+', 'publish/{org}/{user}', '#']) {
      assert.equal(validateTopic(` ${ok} `), ok);
    }
    for (const bad of [
      '',
      'publish/{org}/*',
      'publish/#/x',
      'publish/a#',
      'publish/a+',
      'publish/{tenant}/+',
    ]) {
      assert.throws(() => validateTopic(bad), { code: 'VCD_TOPIC_INVALID' }, bad);
    }
  });

  it('matches topics the way an MQTT broker does', () => {
    assert.ok(topicMatches('publish/o/+', 'publish/o/u'));
    assert.ok(!topicMatches('publish/o/+', 'publish/o/u/x'));
    assert.ok(!topicMatches('publish/o/+', 'publish/p/u'));
    assert.ok(topicMatches('publish/#', 'publish/o/u'));
    assert.ok(topicMatches('publish/o/#', 'publish/o'));
    assert.ok(!topicMatches('publish/o/u', 'publish/o'));
    // Without wildcards, only the topic itself.
    assert.ok(topicMatches('publish/o/u', 'publish/o/u'));
    assert.ok(!topicMatches('publish/o/u', 'publish/o/u/x'));
    assert.ok(!topicMatches('publish/o/u', 'publish/o/v'));
  });
});

describe('VCD versions', () => {
  it('reads the XML version list, deprecated flags included', () => {
    const xml = `<?xml version="1.0"?><SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">
      <VersionInfo deprecated="true"><Version>33.0</Version><LoginUrl>x</LoginUrl></VersionInfo>
      <VersionInfo deprecated="false"><Version>38.1</Version><LoginUrl>x</LoginUrl></VersionInfo>
    </SupportedVersions>`;
    assert.deepEqual(
      parseVersions({ status: 200, headers: { 'content-type': 'application/*+xml' }, text: xml }),
      [
        { version: '33.0', deprecated: true },
        { version: '38.1', deprecated: false },
      ],
    );
  });

  it('reads the JSON form too', () => {
    const json = JSON.stringify({ versionInfo: [{ version: '37.0', deprecated: false }] });
    assert.deepEqual(
      parseVersions({ status: 200, headers: { 'content-type': 'application/json' }, text: json }),
      [{ version: '37.0', deprecated: false }],
    );
  });

  it('compares versions as numbers, not text', () => {
    assert.ok(compareVersions('39.0', '9.0') > 0);
    assert.ok(compareVersions('38.10', '38.9') > 0);
    assert.equal(compareVersions('36.0', '36.0.0'), 0);
  });

  it('picks the newest usable version; a server newer than the client gets its oldest', () => {
    assert.equal(
      negotiateVersion([
        { version: '35.0', deprecated: false },
        { version: '36.0', deprecated: true },
      ]),
      '35.0',
    );
    assert.equal(
      negotiateVersion([
        { version: '41.0', deprecated: false },
        { version: '42.0', deprecated: false },
      ]),
      '41.0',
    );
    assert.throws(() => negotiateVersion([{ version: '33.0', deprecated: true }]), {
      code: 'VCD_VERSION_TOO_OLD',
      message: /no current \(non-deprecated\) API/,
    });
    assert.throws(() => negotiateVersion([{ version: '32.0', deprecated: false }]), {
      code: 'VCD_VERSION_TOO_OLD',
      message: /offers API 32\.0; at least 33\.0/,
    });
  });

  it('never picks a pre-release version, and says when the list is empty', () => {
    assert.equal(
      negotiateVersion([
        { version: '38.1', deprecated: false },
        { version: '39.0.0-alpha-1697091223', deprecated: false },
        { version: '39.0', deprecated: false },
        { version: '40.0.0-alpha', deprecated: false },
      ]),
      '39.0',
    );
    assert.throws(() => negotiateVersion([]), { code: 'VCD_NOT_VCD' });
  });

  it('reads URNs and the lifetime a JWT was granted (exp − iat), never its absolute expiry', () => {
    assert.equal(bareId('urn:vcloud:org:abc-123'), 'abc-123');
    const jwt = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;
    assert.equal(jwtLifetime(jwt({ iat: 1700000000, exp: 1700001800 })), 1800_000);
    assert.equal(jwtLifetime(jwt({ exp: 1700000000 })), undefined, 'no iat: no lifetime');
    assert.equal(jwtLifetime(jwt({ iat: 1700000000, exp: 1700000000 })), undefined);
    assert.equal(jwtLifetime('not-a-jwt'), undefined);
  });

  it('takes the shortest lifetime the server grants, within sane bounds', () => {
    const jwt = `x.${Buffer.from(JSON.stringify({ iat: 100, exp: 1300 })).toString('base64url')}.y`;
    assert.equal(grantedLifetime(jwt, { expiresInSeconds: 600, idleTimeoutMinutes: 30 }), 600_000);
    assert.equal(grantedLifetime(jwt, { idleTimeoutMinutes: 30 }), 1200_000);
    assert.equal(grantedLifetime('opaque', { idleTimeoutMinutes: 5 }), 300_000);
    assert.equal(grantedLifetime('opaque', {}), 30 * 60_000, 'nothing granted: the usual 30 min');
    // 0 or a negative value is no grant; a tiny one is raised, a huge one capped (timers overflow past 24.8 days).
    assert.equal(grantedLifetime('opaque', { expiresInSeconds: 0, idleTimeoutMinutes: 0 }), 30 * 60_000);
    assert.equal(grantedLifetime('opaque', { expiresInSeconds: 0.001 }), 2000);
    assert.equal(grantedLifetime('opaque', { expiresInSeconds: 1e12 }), 86_400_000);
    assert.equal(grantedLifetime('opaque', { expiresInSeconds: '60' }), 30 * 60_000, 'a string is no number');
  });
});

describe('VCD envelope', () => {
  it('parses the envelope and its JSON payload, escaped characters and all', () => {
    const inner = { eventId: 'e1', entityName: 'vm "quoted" \\ name', note: 'line\nbreak' };
    const env = parseVcdEnvelope(
      JSON.stringify({
        type: 'EVENT',
        headers: { contentType: 'application/json' },
        payload: JSON.stringify(inner),
        extra: 1,
      }),
    );
    assert.equal(env.type, 'EVENT');
    assert.deepEqual(env.payload, inner);
    assert.equal(env.extra, 1, 'unknown fields are kept');
  });

  it('parses an XML payload', () => {
    const env = parseVcdEnvelope(
      JSON.stringify({
        type: 'TASK',
        headers: {},
        payload: '<Task name="t" status="running"><Owner name="vm1"/></Task>',
      }),
    );
    assert.deepEqual(env.payload, {
      Task: { '@name': 't', '@status': 'running', Owner: { '@name': 'vm1' } },
    });
  });

  it('keeps plain-text payloads as text', () => {
    assert.equal(parseVcdEnvelope('{"type":"API_RESPONSE","headers":{},"payload":"ok"}').payload, 'ok');
  });

  it('refuses what is not an envelope, each with its own code', () => {
    assert.throws(() => parseVcdEnvelope('nope'), { code: 'DECODE_INVALID_JSON' });
    assert.throws(() => parseVcdEnvelope('[1,2]'), { code: 'DECODE_WRONG_SHAPE' });
    assert.throws(() => parseVcdEnvelope('{"headers":{}}'), { code: 'DECODE_UNKNOWN_TYPE' });
    assert.throws(() => parseVcdEnvelope('{"type":"EVENT","payload":"{broken"}'), {
      code: 'DECODE_BAD_PAYLOAD',
    });
    assert.throws(() => parseVcdEnvelope('{"type":"EVENT","payload":"<a><b></a>"}'), {
      code: 'DECODE_BAD_PAYLOAD',
    });
  });

  it('quotes only a short excerpt of bad input', () => {
    assert.throws(
      () => parseVcdEnvelope(`not json ${'x'.repeat(5000)}`),
      (err: CodedError) =>
        err.code === 'DECODE_INVALID_JSON' &&
        err.message.includes('"not json xxx') &&
        err.message.length < 300,
    );
  });
});

describe('common pieces', () => {
  it('backs off exponentially with jitter, never below half the step, up to the cap', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [50, 100, 200, 400, 500]);
    b.reset();
    assert.equal(b.next(), 50);
    const hi = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    assert.ok(hi.next() <= 100);
  });

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs('soon'), undefined);
  });

  it('names network failures in operator terms', () => {
    const wrapped = (code: string) =>
      Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET', cause: { code } });
    assert.equal(toCoded(wrapped('DEPTH_ZERO_SELF_SIGNED_CERT'), 'https://a').code, 'TLS_UNTRUSTED');
    assert.equal(toCoded(wrapped('ERR_TLS_CERT_ALTNAME_INVALID'), 'https://a').code, 'TLS_HOSTNAME_MISMATCH');
    assert.equal(toCoded(wrapped('ENOTFOUND'), 'https://a').code, 'DNS_FAILED');
    assert.equal(toCoded(wrapped('ECONNREFUSED'), 'https://a').code, 'CONNECT_FAILED');
    assert.equal(toCoded({ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'https://a').code, 'TIMEOUT');
    const coded = new CodedError('VCD_AUTH_FAILED', 'refused');
    assert.equal(toCoded(coded, 'https://a'), coded, 'a coded failure stays as it is');
  });

  it('keeps status labels short', () => {
    assert.equal(shortCount(999), '999');
    assert.equal(shortCount(1234), '1.2k');
    assert.equal(shortCount(12_345), '12k');
    assert.equal(shortCount(2_500_000), '2.5M');
    assert.ok(status.error('a very long explanation of a failure').text!.length <= 20);
  });
});
