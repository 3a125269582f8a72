import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import {
  cleartextWarning,
  pemCertificates,
  tlsConnectOptions,
  trustKey,
  trustedCertificates,
} from '../../nodes/common/tls';
import { serverCertificate } from '../../sim/tls';

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;

describe('TLS settings', () => {
  it('finds every PEM certificate in a pasted field, ignoring what is around them', () => {
    const text = `subject=CN=a\n${pem('AAAA')}\n\nissuer=x\r\n${pem('BBBB')}\n-----BEGIN CERTIFICATE-----\nunfinished`;
    assert.deepEqual(pemCertificates(text), [pem('AAAA'), pem('BBBB')]);
    assert.deepEqual(pemCertificates('no certificate here'), []);
  });

  it('splits a 400 KB CA field: many certificates, or BEGIN lines that never end', () => {
    // A backtracking split goes over the rest of the text again for every BEGIN without an END.
    const unfinished = '-----BEGIN CERTIFICATE-----\n'.repeat(15_000);
    assert.ok(unfinished.length > 400_000);
    assert.deepEqual(pemCertificates(unfinished), []);
    assert.throws(() => tlsConnectOptions({ ca: unfinished }), { code: 'CONFIG_CA_INVALID' });
    const many = Array.from({ length: 2_000 }, (_, i) => pem(`${'Q'.repeat(200)}${i}`)).join('\n');
    assert.ok(many.length > 400_000);
    const certs = pemCertificates(many);
    assert.equal(certs.length, 2_000);
    assert.equal(certs[1_999], pem(`${'Q'.repeat(200)}1999`));
  });

  it("adds a dialog's CA to Node's roots instead of replacing them", () => {
    const trusted = trustedCertificates({ ca: `junk\n${pem('MIIB')}\n` })!;
    assert.ok(rootCertificates.every((root) => trusted.includes(root)));
    assert.equal(trusted.at(-1), pem('MIIB'));
    assert.equal(tlsConnectOptions({ insecure: true }).rejectUnauthorized, false);
  });

  it('builds the trust of a CA once for every connection', async function () {
    this.timeout(20_000);
    const { cert } = await serverCertificate();
    const first = tlsConnectOptions({ ca: cert }).secureContext;
    assert.ok(first);
    assert.equal(tlsConnectOptions({ ca: `\n${cert}\n` }).secureContext, first, 'the same context again');
  });

  it('keeps trusting NODE_EXTRA_CA_CERTS when a dialog adds a CA', async function () {
    this.timeout(20_000);
    const { cert, key } = await serverCertificate();
    const server = https.createServer({ cert, key }, (_req, res) => res.end('trusted'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extra-ca-'));
    try {
      const extra = path.join(dir, 'company-ca.pem');
      fs.writeFileSync(extra, cert);
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      // A Node started with the company CA in NODE_EXTRA_CA_CERTS, and a dialog CA for another server.
      const script = `
        const { HttpClient } = require(${JSON.stringify(path.resolve(__dirname, '../../nodes/common/http.js'))});
        const client = new HttpClient({ tls: { ca: process.env.DIALOG_CA }, timeoutMs: 5000 });
        client.send('GET', process.env.URL).then(
          (res) => { console.log(res.text); process.exit(0); },
          (err) => { console.log(err.code); process.exit(0); });`;
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['-e', script],
          { env: { ...process.env, NODE_EXTRA_CA_CERTS: extra, DIALOG_CA: rootCertificates[0], URL: url } },
          (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
        ),
      );
      assert.equal(out, 'trusted');
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares what two settings trust, whatever the line breaks', () => {
    assert.equal(trustKey({ ca: pem('AAAA') }), trustKey({ ca: `\r\n${pem('AA\r\nAA')}  ` }));
    assert.notEqual(trustKey({ ca: pem('AAAA') }), trustKey({ ca: pem('BBBB') }));
    assert.notEqual(trustKey({ ca: pem('AAAA') }), trustKey({ ca: pem('AAAA'), insecure: true }));
  });

  it('warns about credentials over plain http:// only', () => {
    assert.match(
      cleartextWarning(['https://a', ' HTTP://b:8080/x']) ?? '',
      /http:\/\/b:8080 over.*Use https/,
    );
    assert.doesNotMatch(cleartextWarning(['http://user:secret@sink/']) ?? '', /secret/);
    assert.equal(cleartextWarning(['https://a']), undefined);
  });
});
