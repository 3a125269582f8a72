/**
 * TLS material for the simulators: a self-signed server certificate for
 * 127.0.0.1 and localhost (clients must be told to trust it, exactly as with a
 * real lab VCD or APIC). Made once per process, or kept in a folder so a demo
 * flow that trusts it keeps working across restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface ServerCert {
  cert: string;
  key: string;
}

let cached: Promise<ServerCert> | undefined;
let cacheDir: string | undefined;

/** Keep the certificate in `dir` (made on first use, reused after). Call before any server starts. */
export function keepCertificateIn(dir: string): void {
  cacheDir = dir;
}

async function make(): Promise<ServerCert> {
  const certFile = cacheDir && path.join(cacheDir, 'sim-cert.pem');
  const keyFile = cacheDir && path.join(cacheDir, 'sim-key.pem');
  if (certFile && keyFile && fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  }
  const pems = await generate([{ name: 'commonName', value: 'simulator.local' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 3 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const result = { cert: pems.cert, key: pems.private };
  if (certFile && keyFile && cacheDir) {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(certFile, result.cert);
    fs.writeFileSync(keyFile, result.key, { mode: 0o600 });
  }
  return result;
}

export function serverCertificate(): Promise<ServerCert> {
  cached ??= make();
  return cached;
}
