/**
 * Who exists in the simulated VCD: organizations, users with roles, API tokens,
 * and the sessions (JWTs) they hold.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { randomUUID, stableUuid } from '../ids';

export type SimRole = 'user' | 'orgAdmin' | 'sysAdmin';

export const ROLE_NAMES: Record<SimRole, string> = {
  user: 'vApp User',
  orgAdmin: 'Organization Administrator',
  sysAdmin: 'System Administrator',
};

export interface SimUser {
  name: string;
  org: string;
  password: string;
  role: SimRole;
}

export interface SimOrg {
  name: string;
  id: string;
}

export interface SimSession {
  id: string;
  token: string;
  user: SimUser;
  userId: string;
  org: SimOrg;
  issuedAt: number;
  expiresAt: number;
  loggedOut: boolean;
}

export interface ApiTokenSpec {
  token: string;
  user: string;
  org: string;
  /** Service-account style: a new refresh token on every use, the old one spent. */
  rotating?: boolean;
}

export const DEFAULT_PASSWORD = 'VMware1!';

export const DEFAULT_USERS: SimUser[] = [
  { name: 'administrator', org: 'System', password: DEFAULT_PASSWORD, role: 'sysAdmin' },
  { name: 'acmeadmin', org: 'acme', password: DEFAULT_PASSWORD, role: 'orgAdmin' },
  { name: 'acmeuser', org: 'acme', password: DEFAULT_PASSWORD, role: 'user' },
  { name: 'globexadmin', org: 'globex', password: DEFAULT_PASSWORD, role: 'orgAdmin' },
];

export const DEFAULT_API_TOKENS: ApiTokenSpec[] = [
  { token: 'sim-api-token-acmeadmin', user: 'acmeadmin', org: 'acme' },
  { token: 'sim-service-account-token', user: 'acme-automation', org: 'acme', rotating: true },
];

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class Directory {
  readonly orgs = new Map<string, SimOrg>();
  readonly users: SimUser[];
  private readonly apiTokens = new Map<string, ApiTokenSpec>();
  private readonly sessions = new Map<string, SimSession>();
  private readonly secret = randomBytes(32);

  constructor(users: SimUser[], tokens: ApiTokenSpec[]) {
    this.users = [...users];
    for (const t of tokens) {
      if (!this.findUser(t.user, t.org))
        this.users.push({ name: t.user, org: t.org, password: '', role: 'orgAdmin' });
      this.apiTokens.set(t.token, { ...t });
    }
    for (const u of this.users) this.org(u.org);
  }

  org(name: string): SimOrg {
    const key = name.toLowerCase();
    let org = this.orgs.get(key);
    if (!org) {
      org = { name: key === 'system' ? 'System' : name, id: stableUuid(`org:${key}`) };
      this.orgs.set(key, org);
    }
    return org;
  }

  userId(user: SimUser): string {
    return stableUuid(`user:${user.org.toLowerCase()}:${user.name.toLowerCase()}`);
  }

  findUser(name: string, org: string): SimUser | undefined {
    return this.users.find((u) => sameName(u.name, name) && sameName(u.org, org));
  }

  /** Password check; the caller answers 401 on undefined. */
  checkPassword(name: string, org: string, password: string): SimUser | undefined {
    const user = this.findUser(name, org);
    return user && user.password !== '' && user.password === password ? user : undefined;
  }

  addApiToken(spec: ApiTokenSpec): void {
    if (!this.findUser(spec.user, spec.org)) {
      this.users.push({ name: spec.user, org: spec.org, password: '', role: 'orgAdmin' });
      this.org(spec.org);
    }
    this.apiTokens.set(spec.token, { ...spec });
  }

  /** Uses an API token; a rotating one is replaced by a new token (returned). */
  useApiToken(token: string, org: string): { user: SimUser; next: string | null } | undefined {
    const spec = this.apiTokens.get(token);
    if (!spec || !sameName(spec.org, org)) return undefined;
    const user = this.findUser(spec.user, spec.org) as SimUser;
    if (!spec.rotating) return { user, next: null };
    this.apiTokens.delete(token);
    const next = `${spec.token.split('~')[0]}~${randomBytes(9).toString('base64url')}`;
    this.apiTokens.set(next, { ...spec, token: next });
    return { user, next };
  }

  hasApiToken(token: string): boolean {
    return this.apiTokens.has(token);
  }

  /** A session and its JWT; `clockSkewSec` is how far VCD's clock (in iat/exp) runs ahead of the real one. */
  createSession(user: SimUser, lifetimeSec: number, clockSkewSec = 0): SimSession {
    const now = Date.now();
    const id = randomUUID();
    const vcdNow = now / 1000 + clockSkewSec;
    const claims = {
      iss: 'vcd-simulator',
      sub: user.name,
      org: user.org,
      jti: id,
      iat: Math.floor(vcdNow),
      exp: Math.floor(vcdNow + lifetimeSec),
    };
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
    const token = `${body}.${createHmac('sha256', this.secret).update(body).digest('base64url')}`;
    const session: SimSession = {
      id,
      token,
      user,
      userId: this.userId(user),
      org: this.org(user.org),
      issuedAt: now,
      expiresAt: now + lifetimeSec * 1000,
      loggedOut: false,
    };
    this.sessions.set(token, session);
    return session;
  }

  /** The live session of a token, if it is genuine, not expired and not logged out. */
  session(token: string | undefined): SimSession | undefined {
    if (!token) return undefined;
    const s = this.sessions.get(token);
    if (!s || s.loggedOut) return undefined;
    if (Date.now() >= s.expiresAt) {
      this.sessions.delete(token);
      return undefined;
    }
    return s;
  }

  bearer(authorization: string | undefined): SimSession | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    return this.session(m?.[1]);
  }

  expireAll(): void {
    for (const s of this.sessions.values()) s.expiresAt = Date.now();
  }

  liveSessions(): SimSession[] {
    return [...this.sessions.values()].filter((s) => !s.loggedOut && Date.now() < s.expiresAt);
  }

  sessionJson(s: SimSession, apiVersion: string): Record<string, unknown> {
    return {
      id: `urn:vcloud:session:${s.id}`,
      site: { name: 'vcd-simulator', id: `urn:vcloud:site:${stableUuid('site')}` },
      user: { name: s.user.name, id: `urn:vcloud:user:${s.userId}` },
      org: { name: s.org.name, id: `urn:vcloud:org:${s.org.id}` },
      operatingOrg: { name: s.org.name, id: `urn:vcloud:org:${s.org.id}` },
      location: `vcd-simulator.${s.org.name}`,
      roles: [ROLE_NAMES[s.user.role]],
      roleRefs: [
        { name: ROLE_NAMES[s.user.role], id: `urn:vcloud:role:${stableUuid(`role:${s.user.role}`)}` },
      ],
      sessionIdleTimeoutMinutes: 30,
      apiVersion,
    };
  }

  /** May this session subscribe to this MQTT filter? (VCD's rules by role.) */
  maySubscribe(s: SimSession, filter: string): boolean {
    const [root, org, user, ...rest] = filter.split('/');
    if (s.user.role === 'sysAdmin') return true;
    if (root !== 'publish' || org !== s.org.id || rest.length > 0) return false;
    if (s.user.role === 'orgAdmin') return user !== undefined;
    return user === s.userId;
  }
}
