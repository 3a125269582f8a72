import { createHash } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { CodedError } from './errors';

/** What a config node's TLS settings say (its own fields, or a core `tls-config` node's). */
export interface TlsSettings {
  /** Skip certificate verification (test systems only; the editor warns). */
  insecure?: boolean;
  /** Extra CA certificates in PEM, trusted in addition to the system's roots. */
  ca?: string;
  /** A client certificate and its private key in PEM (mutual TLS), and the key's passphrase. */
  cert?: string;
  key?: string;
  passphrase?: string;
  /** The name the server's certificate is checked against (and sent as SNI), when it is not the host's. */
  servername?: string;
}

export interface TlsConnectOptions {
  rejectUnauthorized: boolean;
  /** Node's roots plus the dialog's CA, and the client certificate, built once (see secureContextFor). */
  secureContext?: tls.SecureContext;
  servername?: string;
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/**
 * The PEM certificates in a text, in order; anything around them is ignored.
 * One pass with indexOf (no backtracking regex): a pasted field of any size
 * costs time in proportion to its length.
 */
export function pemCertificates(text: string): string[] {
  const certs: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf(BEGIN, from);
    if (start === -1) break;
    const end = text.indexOf(END, start + BEGIN.length);
    if (end === -1) break; // no END after this BEGIN: none after any later BEGIN either
    certs.push(text.slice(start, end + END.length));
    from = end + END.length;
  }
  return certs;
}

/**
 * The CA certificates Node trusts by default: its bundled roots plus
 * NODE_EXTRA_CA_CERTS. `tls.rootCertificates` holds only the bundled ones;
 * Node 22.15+ tells the whole set (`tls.getCACertificates('default')`), older
 * versions need the extra file read here (Node read it at start-up, so this is
 * done once too).
 */
export function defaultCaCertificates(extraFile = process.env.NODE_EXTRA_CA_CERTS): string[] {
  const getCACertificates = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (typeof getCACertificates === 'function') return [...getCACertificates('default')];
  let extra: string[] = [];
  if (extraFile) {
    try {
      extra = pemCertificates(fs.readFileSync(extraFile, 'utf8'));
    } catch {
      // Node warns about an unreadable NODE_EXTRA_CA_CERTS itself and trusts its roots alone.
    }
  }
  return [...tls.rootCertificates, ...extra];
}

/** The codes of TLS settings a node cannot use: a CA field that holds no certificate, a client certificate that cannot be used. */
export const TlsCodes = { CA_INVALID: 'CONFIG_CA_INVALID', CERT_INVALID: 'CONFIG_CERT_INVALID' } as const;

let defaults: string[] | undefined;

/** The dialog's CA certificates; undefined when it adds none. A CA field that holds no certificate is refused. */
function dialogCertificates(settings: TlsSettings): string[] | undefined {
  const text = settings.ca?.trim();
  if (!text) return undefined;
  const certs = pemCertificates(text);
  if (certs.length === 0) {
    throw new CodedError(
      TlsCodes.CA_INVALID,
      'The CA field must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...).',
    );
  }
  return certs;
}

/**
 * The certificates a connection trusts when the dialog adds a CA: Node's
 * default ones, then the dialog's; undefined when it adds none.
 */
export function trustedCertificates(settings: TlsSettings): string[] | undefined {
  const certs = dialogCertificates(settings);
  if (!certs) return undefined;
  defaults ??= defaultCaCertificates();
  return [...defaults, ...certs];
}

/**
 * Secure contexts by the dialog's CA and client certificate (Node's roots are
 * the same for the whole process). Building one parses every root
 * certificate (tens of milliseconds of CPU): passing `ca` to each connection
 * would pay that at every connect, reconnect and new pooled socket. A few
 * settings at most are in use at once; the oldest context goes first. They
 * are found by a hash of what they hold (no key or passphrase kept as a key).
 */
const contexts = new Map<string, tls.SecureContext>();
const MAX_CONTEXTS = 16;

function contextKey(certs: string[] | undefined, settings: TlsSettings): string {
  const parts = [certs?.join('\n') ?? '', settings.cert ?? '', settings.key ?? '', settings.passphrase ?? ''];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The client certificate of the settings, for the secure context; a key without its certificate is refused. */
function clientCertificate(settings: TlsSettings): tls.SecureContextOptions {
  const cert = settings.cert?.trim();
  const key = settings.key?.trim();
  if (!cert && !key) return {};
  if (!cert || !key) {
    throw new CodedError(
      TlsCodes.CERT_INVALID,
      'A client certificate needs both the certificate and its key.',
    );
  }
  return { cert, key, ...(settings.passphrase ? { passphrase: settings.passphrase } : {}) };
}

function secureContextFor(settings: TlsSettings): tls.SecureContext | undefined {
  const certs = dialogCertificates(settings);
  const client = clientCertificate(settings);
  if (!certs && !client.cert) return undefined;
  const key = contextKey(certs, settings);
  let context = contexts.get(key);
  if (!context) {
    try {
      // OpenSSL skips a CA certificate it cannot read: the connection then fails as untrusted, and says so.
      context = tls.createSecureContext({
        ...(certs ? { ca: trustedCertificates(settings) } : {}),
        ...client,
      });
    } catch (err) {
      // A key that does not fit its certificate, or a wrong passphrase; the message names neither.
      const why = (err as { code?: string }).code ?? 'unreadable';
      throw new CodedError(
        TlsCodes.CERT_INVALID,
        `The client certificate or its key cannot be used (${why}).`,
      );
    }
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
    contexts.set(key, context);
  }
  return context;
}

/**
 * Options for `tls.connect` (undici's `connect`, ws, mqtt.js). A custom CA is
 * added to what Node trusts already rather than replacing it, so public
 * certificates and a company CA in NODE_EXTRA_CA_CERTS keep working beside it.
 */
export function tlsConnectOptions(settings: TlsSettings): TlsConnectOptions {
  const options: TlsConnectOptions = { rejectUnauthorized: !settings.insecure };
  const context = secureContextFor(settings);
  if (context) options.secureContext = context;
  if (settings.servername?.trim()) options.servername = settings.servername.trim();
  return options;
}

/** What a connection trusts, as one comparable text (line breaks and spacing in the CA field do not count). */
export function trustKey(settings: TlsSettings): string {
  if (settings.insecure) return 'insecure';
  const roots = pemCertificates(settings.ca ?? '')
    .map((cert) => cert.replace(/\s+/g, ''))
    .join('|');
  return settings.servername?.trim() ? `${roots}@${settings.servername.trim()}` : roots;
}

/**
 * The warning for credentials that would cross the network readable by anyone
 * on the way (an `http://` address), or undefined when every address is https.
 */
export function cleartextWarning(urls: readonly string[]): string | undefined {
  const plain = urls.filter((url) => /^http:\/\//i.test(url.trim())).map(originOf);
  if (plain.length === 0) return undefined;
  return `Credentials are sent to ${plain.join(', ')} over plain http://: anyone on the network path can read them. Use https://.`;
}

/** Scheme, host and port only: a URL may carry a user and password, which never go into a log. */
function originOf(url: string): string {
  try {
    return new URL(url.trim()).origin;
  } catch {
    return 'an http:// address';
  }
}
