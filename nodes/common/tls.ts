import { rootCertificates } from 'node:tls';
import { CodedError } from './errors';

/** What every config node lets the user set about TLS. */
export interface TlsSettings {
  /** Skip certificate verification (test systems only; the editor warns). */
  insecure?: boolean;
  /** Extra CA certificates in PEM, trusted in addition to the system's roots. */
  ca?: string;
}

export interface TlsConnectOptions {
  rejectUnauthorized: boolean;
  ca?: string[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Options for `tls.connect` (undici's `connect`, ws, mqtt.js). A custom CA is
 * added to Node's root store rather than replacing it, so public certificates
 * keep working beside a private CA.
 */
export function tlsConnectOptions(settings: TlsSettings): TlsConnectOptions {
  const options: TlsConnectOptions = { rejectUnauthorized: !settings.insecure };
  const text = settings.ca?.trim();
  if (text) {
    const certs = text.match(PEM_CERT);
    if (!certs) {
      throw new CodedError(
        'CONFIG_CA_INVALID',
        'The CA field must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...).',
      );
    }
    options.ca = [...rootCertificates, ...certs];
  }
  return options;
}
