/**
 * Who may use the simulated APIC: local users with passwords, users of a
 * login domain (`apic#DOMAIN\user`), and a local user with a certificate
 * whose request signatures are verified for real. Sessions expire like
 * APIC's: after the refresh timeout without aaaRefresh, and at the maximum
 * lifetime whatever happens.
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import type WebSocket from 'ws';

export const DEFAULT_APIC_PASSWORD = 'Sim-apic-1!';

export interface SimApicUser {
  name: string;
  /** Login domain; undefined for a local user. */
  domain?: string;
  password?: string;
  /** Certificates by name (aaaUserCert under the local user). */
  certificates?: Record<string, KeyObject>;
}

export interface CertificateUser {
  name: string;
  certificateName: string;
  /** PEM; tests and the demo sign with it. */
  privateKey: string;
}

export interface SimSubscription {
  id: string;
  session: SimApicSession;
  kind: 'class' | 'dn';
  target: string;
  expiresAt: number;
  timeoutSec: number;
  /** Created with a duplicated APIC-cookie: APIC accepts it and never delivers. */
  broken: boolean;
  matches(mo: { className: string; dn: string; attributes: Record<string, string> }): boolean;
}

export interface SimApicSession {
  token: string;
  user: SimApicUser;
  kind: 'password' | 'webtoken';
  /** Index of the APIC (listener) it was opened on. */
  apic: number;
  createdAt: number;
  refreshedAt: number;
  /** Without aaaRefresh for this long the session ends (password sessions). */
  refreshTimeoutSec: number;
  /** The session ends this long after login, refreshed or not. */
  maxLifetimeSec: number;
  socket?: WebSocket;
  subscriptions: Map<string, SimSubscription>;
  ended: boolean;
}

export class ApicDirectory {
  readonly users: SimApicUser[];
  readonly certificateUser: CertificateUser;
  private readonly sessions = new Map<string, SimApicSession>();

  constructor(users?: SimApicUser[]) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.certificateUser = {
      name: 'nodered',
      certificateName: 'nodered-cert',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
    this.users = users ?? [
      { name: 'admin', password: DEFAULT_APIC_PASSWORD },
      { name: 'netops', password: DEFAULT_APIC_PASSWORD },
      { name: 'alice', domain: 'LDAP', password: DEFAULT_APIC_PASSWORD },
      {
        name: this.certificateUser.name,
        password: DEFAULT_APIC_PASSWORD,
        certificates: { [this.certificateUser.certificateName]: publicKey },
      },
    ];
  }

  /** `admin`, or `apic#LDAP\alice` for a login domain. */
  checkPassword(login: string, password: string): SimApicUser | undefined {
    const m = /^apic#([^\\]+)\\(.+)$/.exec(login);
    const [name, domain] = m ? [m[2], m[1]] : [login, undefined];
    const user = this.users.find(
      (u) => u.name === name && (u.domain ?? '').toLowerCase() === (domain ?? '').toLowerCase(),
    );
    return user?.password && user.password === password ? user : undefined;
  }

  /**
   * Checks a signed request: the certificate named by APIC-Certificate-DN must
   * exist and the RSA-SHA256 signature must cover method + decoded path and
   * query + body.
   */
  checkSignature(
    cookies: Map<string, string[]>,
    method: string,
    target: string,
    body: string,
  ): SimApicUser | undefined {
    const one = (name: string) => {
      const values = cookies.get(name.toLowerCase());
      return values?.length === 1 ? values[0] : undefined;
    };
    const signature = one('APIC-Request-Signature');
    const dn = /^uni\/userext\/user-([^/]+)\/usercert-(.+)$/.exec(one('APIC-Certificate-DN') ?? '');
    if (!signature || !dn) return undefined;
    if (
      one('APIC-Certificate-Algorithm') !== 'v1.0' ||
      one('APIC-Certificate-Fingerprint') !== 'fingerprint'
    ) {
      return undefined;
    }
    const user = this.users.find((u) => u.name === dn[1] && !u.domain);
    const key = user?.certificates?.[dn[2] as string];
    if (!key) return undefined;
    let payload: string;
    try {
      payload = `${method}${decodeURIComponent(target)}${body}`;
    } catch {
      return undefined;
    }
    const ok = verify('sha256', Buffer.from(payload, 'utf8'), key, Buffer.from(signature, 'base64'));
    return ok ? user : undefined;
  }

  createSession(
    user: SimApicUser,
    kind: SimApicSession['kind'],
    apic: number,
    timing: { refreshTimeoutSec: number; maxLifetimeSec: number },
  ): SimApicSession {
    const session: SimApicSession = {
      token: newToken(),
      user,
      kind,
      apic,
      createdAt: Date.now(),
      refreshedAt: Date.now(),
      ...timing,
      subscriptions: new Map(),
      ended: false,
    };
    this.sessions.set(session.token, session);
    return session;
  }

  /** aaaRefresh: a new token for the same session (the old one stops working). */
  renew(session: SimApicSession): void {
    this.sessions.delete(session.token);
    session.token = newToken();
    session.refreshedAt = Date.now();
    this.sessions.set(session.token, session);
  }

  /** Has the session run out (idle or lifetime)? Certificate sessions sign every call and never idle out. */
  expired(s: SimApicSession, now = Date.now()): boolean {
    if (now >= s.createdAt + s.maxLifetimeSec * 1000) return true;
    return s.kind === 'password' && now >= s.refreshedAt + s.refreshTimeoutSec * 1000;
  }

  find(token: string | undefined): SimApicSession | undefined {
    const s = token ? this.sessions.get(token) : undefined;
    return s && !s.ended && !this.expired(s) ? s : undefined;
  }

  end(session: SimApicSession): void {
    session.ended = true;
    this.sessions.delete(session.token);
    session.subscriptions.clear();
  }

  live(): SimApicSession[] {
    return [...this.sessions.values()];
  }
}

/** A token shaped like APIC's (long, opaque, URL-safe). */
function newToken(): string {
  return `eyJhbGciOiJSUzI1NiJ9.${randomBytes(48).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
}

/**
 * Cookie header(s) → every value of every name, names in lower case (clients
 * write APIC-cookie and APIC-Cookie alike); a duplicated cookie shows as two values.
 */
export function parseCookies(header: string | string[] | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const values = cookies.get(name) ?? [];
    values.push(part.slice(eq + 1).trim());
    cookies.set(name, values);
  }
  return cookies;
}
