import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import {
  cleartextWarning,
  defaultCaCertificates,
  tlsConnectOptions,
  trustKey,
  trustedCertificates,
} from '../../nodes/common/tls';
import { serverCertificate } from '../../sim/tls';

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;

describe('TLS settings: edges', () => {
  describe("Node's default CA certificates", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-edges-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    // Node 22.15+ tells the whole set itself; older versions read NODE_EXTRA_CA_CERTS here.
    const told = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;

    it('are the bundled roots plus the certificates of NODE_EXTRA_CA_CERTS, in that order', () => {
      const extra = path.join(dir, 'company.pem');
      fs.writeFileSync(extra, `company CA\n${pem('AAAA')}\n${pem('BBBB')}\n`);
      const expected = told ? told('default') : [...tls.rootCertificates, pem('AAAA'), pem('BBBB')];
      assert.deepEqual(defaultCaCertificates(extra), expected);
    });

    it('are the bundled roots alone without the variable, or when its file cannot be read', () => {
      const expected = told ? told('default') : [...tls.rootCertificates];
      assert.deepEqual(defaultCaCertificates(''), expected);
      assert.deepEqual(defaultCaCertificates(path.join(dir, 'missing.pem')), expected);
    });
  });

  it('takes a CA field of blanks as no CA, and a dialog without a CA trusts only what Node trusts', () => {
    assert.deepEqual(tlsConnectOptions({ ca: '  \n\t ' }), { rejectUnauthorized: true });
    assert.equal(trustedCertificates({ ca: ' \n' }), undefined);
    assert.equal(trustedCertificates({}), undefined);
    assert.deepEqual(tlsConnectOptions({}), { rejectUnauthorized: true });
  });

  it('sends the server name the dialog sets, trimmed, and none for blanks', () => {
    assert.equal(tlsConnectOptions({ servername: ' vcd.example.com ' }).servername, 'vcd.example.com');
    assert.deepEqual(tlsConnectOptions({ servername: '   ' }), { rejectUnauthorized: true });
  });

  describe('a client certificate', () => {
    let client: { cert: string; key: string };
    let other: { cert: string; key: string };
    before(async function () {
      this.timeout(60_000);
      const a = await generate([{ name: 'commonName', value: 'emitter-a' }], { keySize: 2048 });
      const b = await generate([{ name: 'commonName', value: 'emitter-b' }], { keySize: 2048 });
      client = { cert: a.cert, key: a.private };
      other = { cert: b.cert, key: b.private };
    });

    it('alone (no CA) gets a context of its own; blank fields are no certificate', () => {
      const context = tlsConnectOptions(client).secureContext;
      assert.ok(context, 'a context that presents the certificate');
      assert.equal(tlsConnectOptions({ ...client }).secureContext, context, 'built once');
      assert.notEqual(
        tlsConnectOptions(other).secureContext,
        context,
        'another certificate, another context',
      );
      assert.deepEqual(tlsConnectOptions({ cert: ' ', key: '\n' }), { rejectUnauthorized: true });
    });

    it('needs both halves: a certificate or a key alone is refused', () => {
      for (const half of [{ cert: client.cert }, { key: client.key }, { cert: client.cert, key: ' ' }]) {
        assert.throws(() => tlsConnectOptions(half), {
          code: 'CONFIG_CERT_INVALID',
          message: 'A client certificate needs both the certificate and its key.',
        });
      }
    });

    it('with a key that is not its own is refused, naming neither', () => {
      assert.throws(
        () => tlsConnectOptions({ cert: client.cert, key: other.key }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'CONFIG_CERT_INVALID');
          assert.match(err.message, /^The client certificate or its key cannot be used \(ERR_\w+\)\.$/);
          assert.ok(!err.message.includes('PRIVATE'), 'no key material');
          return true;
        },
      );
    });

    it('with an encrypted key is used with its passphrase, a context per passphrase, and refused without it', () => {
      const key = createPrivateKey(client.key).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'right',
      }) as string;
      const context = tlsConnectOptions({ cert: client.cert, key, passphrase: 'right' }).secureContext;
      assert.ok(context);
      assert.throws(() => tlsConnectOptions({ cert: client.cert, key, passphrase: 'wrong' }), {
        code: 'CONFIG_CERT_INVALID',
      });
      assert.throws(() => tlsConnectOptions({ cert: client.cert, key }), { code: 'CONFIG_CERT_INVALID' });
      assert.equal(tlsConnectOptions({ cert: client.cert, key, passphrase: 'right' }).secureContext, context);
    });

    it('beside the same CA is a context of its own', async () => {
      const { cert } = await serverCertificate();
      const caOnly = tlsConnectOptions({ ca: cert }).secureContext;
      const withClient = tlsConnectOptions({ ca: cert, ...client }).secureContext;
      assert.ok(caOnly && withClient);
      assert.notEqual(withClient, caOnly);
      assert.notEqual(tlsConnectOptions({ ca: cert, ...other }).secureContext, withClient);
    });
  });

  it('keeps the contexts of 16 settings; a 17th drops the oldest', async function () {
    this.timeout(60_000);
    const { cert } = await serverCertificate();
    // Another text around the same certificate is another setting for the cache (each ends in a label).
    const settings = Array.from({ length: 17 }, (_, i) => ({ ca: `${cert}\n${pem(`QUJD${i}`)}` }));
    const first = settings.slice(0, 16).map((s) => tlsConnectOptions(s).secureContext);
    assert.equal(new Set(first).size, 16, 'a context per setting');
    settings
      .slice(0, 16)
      .forEach((s, i) => assert.equal(tlsConnectOptions(s).secureContext, first[i], `#${i} kept`));
    tlsConnectOptions(settings[16]!);
    assert.equal(tlsConnectOptions(settings[1]!).secureContext, first[1], 'the second is kept');
    assert.notEqual(tlsConnectOptions(settings[0]!).secureContext, first[0], 'the oldest was dropped');
  });

  it("trusts a server signed by the dialog's CA, and refuses it without that CA", async function () {
    this.timeout(20_000);
    const { cert, key } = await serverCertificate();
    const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const connect = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
          socket.end();
          resolve('trusted');
        });
        socket.on('error', (err: Error & { code?: string }) => resolve(err.code ?? 'error'));
      });
    try {
      // A CA text no other test builds a context for: this one is built here.
      assert.equal(await connect(tlsConnectOptions({ ca: `${cert}\n${pem('bG9jYWw=')}` })), 'trusted');
      assert.equal(await connect(tlsConnectOptions({})), 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      server.close();
    }
  });

  it('tells insecure, a server name and the CA apart in what a connection trusts', () => {
    assert.notEqual(trustKey({ insecure: true }), trustKey({}));
    assert.equal(
      trustKey({ ca: pem('AAAA'), servername: ' vcd.example ' }),
      trustKey({ ca: pem('AAAA'), servername: 'vcd.example' }),
    );
    assert.notEqual(trustKey({ ca: pem('AAAA'), servername: 'vcd.example' }), trustKey({ ca: pem('AAAA') }));
    assert.notEqual(
      trustKey({ ca: pem('AAAA'), servername: 'vcd.example' }),
      trustKey({ ca: pem('BBBB'), servername: 'vcd.example' }),
      'the CA still counts beside a server name',
    );
    assert.equal(trustKey({ ca: pem('AAAA'), servername: '  ' }), trustKey({ ca: pem('AAAA') }));
  });

  it('warns about an http:// address only where it starts, and names one it cannot read without its text', () => {
    assert.equal(cleartextWarning(['https://sink.example/?back=http://other/']), undefined);
    assert.match(
      cleartextWarning(['http://a:1/x', 'https://b', 'http://c:2']) ?? '',
      /to http:\/\/a:1, http:\/\/c:2 over/,
    );
    const warning = cleartextWarning(['http://user:pw@[bad/']) ?? '';
    assert.match(warning, /^Credentials are sent to an http:\/\/ address over plain http:\/\//);
    assert.doesNotMatch(warning, /pw|bad/);
  });
});
