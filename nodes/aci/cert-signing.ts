/**
 * Certificate authentication: every request signed with the user's private
 * key (no session), the signature and the certificate's DN sent as cookies.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { CodedError } from '../common/errors';
import { ApicCodes } from './codes';

/** Who signs: a local user, the DN of their certificate object, their private key. */
export interface Signer {
  user: string;
  dn: string;
  key: KeyObject;
}

/** The longest private key text taken: an RSA 4096 key in PEM is about 3.3 KB, an encrypted one a little more. */
export const MAX_KEY_CHARS = 16 * 1024;

/** A PEM label as keys have them: "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY". */
const isLabel = (label: string) =>
  label.length > 0 && [...label].every((c) => c === ' ' || (c >= 'A' && c <= 'Z'));

/**
 * A PEM block pasted into a one-line field loses its line breaks: rebuild
 * them (header, base64 in lines of 64, footer) so the key still reads. Every
 * block is rebuilt, in order, so a certificate pasted before its key (as one
 * file holds them) leaves the key readable; text outside the blocks goes.
 * Found with indexOf, not a regex: a lazy regex with a back-reference took
 * seconds on a long text of BEGIN lines.
 */
export function normalizePem(text: string): string {
  const blocks: string[] = [];
  let from = 0;
  for (let begin = text.indexOf('-----BEGIN '); begin !== -1; begin = text.indexOf('-----BEGIN ', from)) {
    const block = pemBlockAt(text, begin);
    from = block ? block.next : begin + 11;
    if (block) blocks.push(block.pem);
  }
  return blocks.length > 0 ? blocks.join('') : text;
}

/** The block whose BEGIN line starts at `begin`, rebuilt, and where the text after it starts. */
function pemBlockAt(text: string, begin: number): { pem: string; next: number } | undefined {
  const labelEnd = text.indexOf('-----', begin + 11);
  if (labelEnd === -1) return undefined;
  const label = text.slice(begin + 11, labelEnd);
  const footer = `-----END ${label}-----`;
  const end = text.indexOf(footer, labelEnd + 5);
  if (!isLabel(label) || end === -1) return undefined;
  const body = text.slice(labelEnd + 5, end).replace(/\s+/g, '');
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  return { pem: `-----BEGIN ${label}-----\n${lines.join('\n')}\n${footer}\n`, next: end + footer.length };
}

/** Names that end up inside a cookie: no separators, spaces or quotes. */
const COOKIE_SAFE = /^[A-Za-z0-9_.@-]+$/;

/** Checks the certificate settings and reads the key. Throws APIC_CONFIG_INVALID. */
export function makeSigner(username = '', certificateName = '', privateKey = ''): Signer {
  const user = username.trim();
  const cert = certificateName.trim();
  if (!COOKIE_SAFE.test(user) || user.includes('#') || user.includes('\\')) {
    throw new CodedError(
      ApicCodes.CONFIG_INVALID,
      'Certificate authentication works for local users only: give the plain user name.',
    );
  }
  if (!COOKIE_SAFE.test(cert)) {
    throw new CodedError(
      ApicCodes.CONFIG_INVALID,
      'Set the certificate name (the name of the certificate under the user on the APIC).',
    );
  }
  if (String(privateKey).length > MAX_KEY_CHARS) {
    throw new CodedError(
      ApicCodes.CONFIG_INVALID,
      `The private key is longer than ${MAX_KEY_CHARS / 1024} KiB: paste the PEM private key alone.`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(normalizePem(String(privateKey)));
  } catch {
    throw new CodedError(ApicCodes.CONFIG_INVALID, 'The private key is not a readable PEM private key.');
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CodedError(ApicCodes.CONFIG_INVALID, 'The private key must be an RSA key.');
  }
  return { user, key, dn: `uni/userext/user-${user}/usercert-${cert}` };
}

/** The cookies of a signed request (PROTOCOLS: certificate authentication). */
export function signatureCookie(
  signer: Signer,
  method: string,
  pathAndQuery: string,
  body?: string,
  socketToken?: string,
): string {
  const payload = `${method}${decodeURIComponent(pathAndQuery)}${body ?? ''}`;
  const signature = sign('sha256', Buffer.from(payload, 'utf8'), signer.key).toString('base64');
  const cookies = [
    `APIC-Request-Signature=${signature}`,
    'APIC-Certificate-Algorithm=v1.0',
    'APIC-Certificate-Fingerprint=fingerprint',
    `APIC-Certificate-DN=${signer.dn}`,
  ];
  if (socketToken) cookies.push(`APIC-WebSocket-Session=${socketToken}`);
  return cookies.join('; ');
}
