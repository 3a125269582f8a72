import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { MAX_KEY_CHARS, makeSigner, normalizePem, signatureCookie } from '../../nodes/aci/cert-signing';

/** The cookies of a request as the APIC reads them: name → value. */
const cookies = (header: string) =>
  new Map(header.split('; ').map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]));

/** What an APIC does with a signed request: RSA-SHA256 (PKCS#1 v1.5) over method, decoded path and query, body. */
const apicAccepts = (publicKey: KeyObject, header: string, payload: string) =>
  verify(
    'sha256',
    Buffer.from(payload, 'utf8'),
    publicKey,
    Buffer.from(cookies(header).get('APIC-Request-Signature')!, 'base64'),
  );

const refusal = (message: RegExp) => ({ code: 'APIC_CONFIG_INVALID', message });

describe('ACI certificate authentication: the signer and its cookies', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicKey = createPublicKey(pair.privateKey);

  it('signs method, decoded path and query, and body as the APIC verifies them, with the four cookies', () => {
    const signer = makeSigner('alice', 'alice.crt', pem);
    const header = signatureCookie(signer, 'POST', '/api/mo/uni/tn-R%26D.json?rsp-subtree=full', '{"a":1}');
    assert.ok(apicAccepts(publicKey, header, 'POST/api/mo/uni/tn-R&D.json?rsp-subtree=full{"a":1}'));
    assert.ok(!apicAccepts(publicKey, header, 'POST/api/mo/uni/tn-R%26D.json?rsp-subtree=full{"a":1}'));
    assert.deepEqual([...cookies(header).entries()].slice(1), [
      ['APIC-Certificate-Algorithm', 'v1.0'],
      ['APIC-Certificate-Fingerprint', 'fingerprint'],
      ['APIC-Certificate-DN', 'uni/userext/user-alice/usercert-alice.crt'],
    ]);
    const get = signatureCookie(signer, 'GET', '/api/class/fvBD.json');
    assert.ok(apicAccepts(publicKey, get, 'GET/api/class/fvBD.json'), 'no body: nothing after the path');
  });

  it('adds the socket token cookie only when there is a token', () => {
    const signer = makeSigner('alice', 'alice.crt', pem);
    for (const token of [undefined, '']) {
      const header = signatureCookie(signer, 'GET', '/socketX', '', token);
      assert.equal(cookies(header).has('APIC-WebSocket-Session'), false);
    }
    const header = signatureCookie(signer, 'GET', '/socketT1', '', 'T1');
    assert.equal(cookies(header).get('APIC-WebSocket-Session'), 'T1');
    assert.ok(apicAccepts(publicKey, header, 'GET/socketT1'));
  });

  it('takes the user and certificate names trimmed, local users only', () => {
    assert.equal(makeSigner(' alice ', ' alice.crt ', pem).dn, 'uni/userext/user-alice/usercert-alice.crt');
    assert.equal(makeSigner(' alice ', 'c', pem).user, 'alice');
    for (const user of ['', 'apic#LDAP\\alice', 'al ice', 'alice;x=1']) {
      assert.throws(() => makeSigner(user, 'alice.crt', pem), refusal(/local users only/), user);
    }
    for (const cert of ['', ' ', 'my cert', 'c;x']) {
      assert.throws(() => makeSigner('alice', cert, pem), refusal(/Set the certificate name/), cert);
    }
  });

  it(`takes a key text of up to ${MAX_KEY_CHARS / 1024} KiB, and only a readable RSA private key`, () => {
    const padded = pem + ' '.repeat(MAX_KEY_CHARS - pem.length);
    assert.equal(padded.length, MAX_KEY_CHARS);
    assert.equal(makeSigner('alice', 'c', padded).key.asymmetricKeyType, 'rsa');
    assert.throws(() => makeSigner('alice', 'c', padded + ' '), refusal(/longer than 16 KiB/));
    assert.throws(() => makeSigner('alice', 'c', 'not a key'), refusal(/not a readable PEM private key/));
    assert.throws(() => makeSigner('alice', 'c'), refusal(/not a readable PEM private key/));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    assert.throws(() => makeSigner('alice', 'c', ec as string), refusal(/must be an RSA key/));
  });

  it('reads a key pasted into one line, with text or a space before it, or after its certificate', () => {
    const signed = (key: string) => {
      const header = signatureCookie(makeSigner('alice', 'c', key), 'GET', '/api/class/fvBD.json');
      return apicAccepts(publicKey, header, 'GET/api/class/fvBD.json');
    };
    assert.ok(signed(pem.replace(/\n/g, ' ')), 'one line');
    assert.ok(signed(` ${pem}`), 'a space before');
    assert.ok(signed(`Private key: ${pem.replace(/\n/g, ' ')} (alice)`), 'text around');
    const cert = `-----BEGIN CERTIFICATE-----\n${'MIIB'.repeat(40)}\n-----END CERTIFICATE-----\n`;
    assert.ok(signed(cert + pem), 'a certificate and its key, as one file holds them');
    assert.ok(signed((cert + pem).replace(/\n/g, ' ')), 'the same in one line');
  });

  it('rebuilds a PEM block in lines of 64, none empty, and leaves text that is no block as it is', () => {
    const body = 'A'.repeat(128);
    assert.equal(
      normalizePem(`-----BEGIN PRIVATE KEY----- ${body} -----END PRIVATE KEY-----`),
      `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n${'A'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
    );
    // Labels are capitals and spaces, from A to Z.
    assert.equal(
      normalizePem('-----BEGIN ZA-----B-----END ZA-----'),
      '-----BEGIN ZA-----\nB\n-----END ZA-----\n',
    );
    for (const text of [
      'no block at all',
      '-----BEGIN PRIVATE KEY----- AAAA',
      '-----BEGIN PRIVATE KEY----- AAAA -----END RSA PRIVATE KEY-----',
      '-----BEGIN -----AAAA-----END -----',
      '-----BEGIN private key-----AAAA-----END private key-----',
      '-----BEGIN K@Y-----AAAA-----END K@Y-----',
      '-----BEGIN K[Y-----AAAA-----END K[Y-----',
    ]) {
      assert.equal(normalizePem(text), text);
    }
  });
});
