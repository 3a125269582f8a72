/**
 * Logging in to VCD, with a password or an API token, and reading the answer
 * into what a session knows of itself (who, where, until when).
 */
import { CodedError } from '../common/errors';
import { SMALL_ANSWER_BYTES, excerpt, header, type HttpClient, type HttpResponse } from '../common/http';
import type { ServerClock } from '../common/server-clock';
import { VcdCodes } from './codes';
import { grantedLifetime } from './token-lifetime';

export type VcdAuthType = 'password' | 'apiToken';

export interface VcdRef {
  name: string;
  id: string;
}

export interface VcdSessionInfo {
  apiVersion: string;
  /** The site origin, e.g. https://vcd.example.com */
  site: string;
  org: VcdRef;
  user: VcdRef;
  /** Bare UUIDs, as MQTT topics use them. */
  orgUuid: string;
  userUuid: string;
  operatingOrg?: VcdRef;
  roles: string[];
  provider: boolean;
  authType: VcdAuthType;
  /** When the current token is expected to expire (ms since epoch). */
  expiresAt: number;
}

/** A login's access token and what it says. */
export interface Credential {
  token: string;
  info: VcdSessionInfo;
  issuedAt: number;
}

/** Where a login goes, and in which API version. */
export interface LoginTarget {
  http: HttpClient;
  /** The site origin. */
  site: string;
  /** The organization, trimmed (`System` for a provider login). */
  org: string;
  authType: VcdAuthType;
  apiVersion: string;
  /** Measures VCD's clock from the Date of the login's answers. */
  clock?: ServerClock;
}

interface SessionBody {
  id?: string;
  site?: { name?: string; id?: string };
  user?: { name?: string; id?: string };
  org?: { name?: string; id?: string };
  operatingOrg?: { name?: string; id?: string };
  roles?: string[];
  sessionIdleTimeoutMinutes?: number;
}

/** `urn:vcloud:org:<uuid>` → `<uuid>` */
export function bareId(urn: string): string {
  const i = urn.lastIndexOf(':');
  return i === -1 ? urn : urn.slice(i + 1);
}

function ref(value: { name?: string; id?: string } | undefined): VcdRef | undefined {
  return value && typeof value.id === 'string' ? { name: String(value.name ?? ''), id: value.id } : undefined;
}

export function isProviderOrg(org: string): boolean {
  return org.trim().toLowerCase() === 'system';
}

/** `POST /cloudapi/1.0.0/sessions[/provider]` with Basic user@org:password. */
export async function passwordLogin(
  target: LoginTarget,
  username: string,
  password: string,
): Promise<Credential> {
  const { http, site, org, apiVersion } = target;
  const provider = isProviderOrg(org);
  const basic = Buffer.from(`${username.trim()}@${org}:${password}`, 'utf8').toString('base64');
  // Lifetimes count from when the login was sent: on our clock, and never later than the server's.
  const issuedAt = Date.now();
  const res = await http.send('POST', `${site}/cloudapi/1.0.0/sessions${provider ? '/provider' : ''}`, {
    headers: { accept: `application/json;version=${apiVersion}`, authorization: `Basic ${basic}` },
    maxBodyBytes: SMALL_ANSWER_BYTES,
  });
  target.clock?.observe(header(res.headers, 'date'));
  if (res.status === 401 || res.status === 403) {
    throw new CodedError(
      VcdCodes.AUTH_FAILED,
      `VCD refused the login of ${username.trim()}@${org} (${res.status}): check the user name, organization and password` +
        (provider ? '.' : ' (a provider administrator logs in to the organization System).'),
      { status: res.status },
    );
  }
  checkAnswer(res, site, 'login');
  const token = header(res.headers, 'x-vmware-vcloud-access-token');
  if (!token) {
    throw new CodedError(VcdCodes.NOT_VCD, 'The login answer has no X-VMWARE-VCLOUD-ACCESS-TOKEN header.');
  }
  const body = parseSession(res.text);
  const lifetime = grantedLifetime(token, { idleTimeoutMinutes: body.sessionIdleTimeoutMinutes });
  return { token, issuedAt, info: sessionInfo(body, target, issuedAt + lifetime) };
}

/**
 * The OAuth refresh-token grant with an API token, then `GET sessions/current`
 * for who that is. A new refresh token in the answer (service accounts rotate
 * theirs on every use) goes to `rotated` at once: the old one is spent now.
 */
export async function apiTokenLogin(
  target: LoginTarget,
  apiToken: string,
  rotated: (refreshToken: string) => void,
): Promise<Credential> {
  const { http, site, org, apiVersion } = target;
  const path = isProviderOrg(org)
    ? '/oauth/provider/token'
    : `/oauth/tenant/${encodeURIComponent(org)}/token`;
  const issuedAt = Date.now();
  const res = await http.send('POST', site + path, {
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiToken }).toString(),
    maxBodyBytes: SMALL_ANSWER_BYTES,
  });
  if (res.status === 400 || res.status === 401 || res.status === 403) {
    throw new CodedError(
      VcdCodes.AUTH_FAILED,
      `VCD refused the API token for organization ${org} (${res.status}): it may be revoked, belong to another ` +
        'organization, or be a service-account token that was already used (those rotate on every use).',
      { status: res.status },
    );
  }
  checkAnswer(res, site, 'token');
  const grant = parseGrant(res.text);
  if (grant.refresh_token && grant.refresh_token !== apiToken) rotated(grant.refresh_token);
  const me = await http.send('GET', `${site}/cloudapi/1.0.0/sessions/current`, {
    headers: {
      accept: `application/json;version=${apiVersion}`,
      authorization: `Bearer ${grant.access_token}`,
    },
    maxBodyBytes: SMALL_ANSWER_BYTES,
  });
  target.clock?.observe(header(me.headers, 'date'));
  checkAnswer(me, site, 'session');
  const body = parseSession(me.text);
  const lifetime = grantedLifetime(grant.access_token, {
    expiresInSeconds: grant.expires_in,
    idleTimeoutMinutes: body.sessionIdleTimeoutMinutes,
  });
  return { token: grant.access_token, issuedAt, info: sessionInfo(body, target, issuedAt + lifetime) };
}

function parseGrant(text: string): { access_token: string; expires_in?: number; refresh_token?: string } {
  let grant: { access_token?: string; expires_in?: number; refresh_token?: string };
  try {
    grant = JSON.parse(text) as typeof grant;
  } catch {
    throw new CodedError(VcdCodes.NOT_VCD, `The token answer is not JSON: ${excerpt(text, 60)}`);
  }
  if (!grant.access_token) throw new CodedError(VcdCodes.NOT_VCD, 'The token answer has no access_token.');
  return { ...grant, access_token: grant.access_token };
}

function checkAnswer(res: HttpResponse, site: string, what: string): void {
  if (res.status === 503 || res.status === 502 || res.status === 504) {
    throw new CodedError(VcdCodes.UNAVAILABLE, `VCD is unavailable (${res.status}) at ${what}.`, {
      status: res.status,
    });
  }
  if (res.status === 404) {
    throw new CodedError(
      VcdCodes.NOT_VCD,
      `${site} has no ${what} endpoint (404): is this VMware Cloud Director 10.3 or newer?`,
      { status: 404 },
    );
  }
  if (res.status < 200 || res.status >= 300) {
    throw new CodedError(VcdCodes.HTTP_ERROR, `VCD answered ${res.status} at ${what}: ${excerpt(res.text)}`, {
      status: res.status,
    });
  }
}

function parseSession(text: string): SessionBody {
  try {
    const body = JSON.parse(text) as SessionBody;
    if (body && typeof body === 'object' && ref(body.user) && ref(body.org)) return body;
  } catch {
    // reported below
  }
  throw new CodedError(VcdCodes.NOT_VCD, `The session answer is not a VCD session: ${excerpt(text, 60)}`);
}

function sessionInfo(body: SessionBody, target: LoginTarget, expiresAt: number): VcdSessionInfo {
  const org = ref(body.org) as VcdRef;
  const user = ref(body.user) as VcdRef;
  return {
    apiVersion: target.apiVersion,
    site: target.site,
    org,
    user,
    orgUuid: bareId(org.id),
    userUuid: bareId(user.id),
    operatingOrg: ref(body.operatingOrg),
    roles: Array.isArray(body.roles) ? body.roles.map(String) : [],
    provider: isProviderOrg(org.name),
    authType: target.authType,
    expiresAt,
  };
}
