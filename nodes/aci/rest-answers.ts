/**
 * What an APIC's REST answers say: imdata, its own error object, throttling,
 * login tokens, the timer values it sends and the version it runs.
 */
import { isRecord } from '../common/guards';
import { CodedError } from '../common/errors';
import { excerpt, type HttpResponse } from '../common/http';
import { ApicCodes } from './codes';

/** One managed object as the APIC writes it: {"fvBD": {"attributes": {...}, "children": [...]}}. */
export type ApicMo = Record<string, { attributes?: Record<string, string>; children?: ApicMo[] }>;

export interface ApicAnswer {
  totalCount: number;
  imdata: ApicMo[];
  /** A string in subscribe answers. */
  subscriptionId?: string;
}

/**
 * Timer values the APIC sends, kept within sane bounds: a server that says 0
 * or 0.001 must not drive a tight refresh or login loop, and one that says
 * 1e12 must not overflow a timer (Node fires those at once). Refresh timeouts
 * of real APICs are 300..9600 s and lifetimes 86400 s; labs go lower.
 */
export const SERVER_TIMER_BOUNDS = {
  refreshTimeoutSeconds: { min: 2, max: 86_400 },
  maximumLifetimeSeconds: { min: 60, max: 7 * 86_400 },
} as const;

export function serverSeconds(
  value: string | undefined,
  name: keyof typeof SERVER_TIMER_BOUNDS,
): number | undefined {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const { min, max } = SERVER_TIMER_BOUNDS[name];
  return Math.min(max, Math.max(min, n));
}

/** Compares APIC versions such as "3.2(3n)" and "4.2(7f)" by their numbers. */
export function versionAtLeast(version: string | undefined, wanted: [number, number, number]): boolean {
  const m = /^(\d+)\.(\d+)\((\d+)/.exec(version ?? '');
  if (!m) return true; // unknown: assume a current APIC
  const have = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (have[i] !== wanted[i]) return (have[i] as number) > wanted[i]!;
  }
  return true;
}

/** The APIC's own error object, if the answer is one. */
function apicError(body: unknown): { code: string; text: string } | undefined {
  const first = (body as { imdata?: ApicMo[] } | undefined)?.imdata?.[0];
  const attrs = first?.error?.attributes;
  return attrs ? { code: String(attrs.code ?? ''), text: String(attrs.text ?? '') } : undefined;
}

export function parseAnswer(res: HttpResponse, host: string, what: string, isLogin: boolean): ApicAnswer {
  if (res.status === 503) {
    // APIC's nginx rate limits answer 503 with an HTML page and no Retry-After.
    throw new CodedError(
      ApicCodes.THROTTLED,
      `${host} is throttling requests (503 at ${what}); backing off before trying again.`,
      { status: 503, host },
    );
  }
  let body: unknown;
  try {
    body = res.text ? JSON.parse(res.text) : {};
  } catch {
    throw new CodedError(
      res.status >= 500 ? ApicCodes.HTTP_ERROR : ApicCodes.NOT_APIC,
      `${host} answered ${res.status} at ${what} with something that is not APIC JSON: ${excerpt(res.text, 80)}`,
      { status: res.status, host },
    );
  }
  const error = apicError(body);
  if (res.status === 401 || res.status === 403) {
    throw new CodedError(
      isLogin ? ApicCodes.AUTH_FAILED : ApicCodes.SESSION_EXPIRED,
      isLogin
        ? `${host} refused the login (${res.status}${error?.text ? `: ${error.text}` : ''}); check the user name, login domain and password or certificate.`
        : `${host} no longer accepts the session (${res.status} at ${what}${error?.text ? `: ${error.text}` : ''}).`,
      { status: res.status, host },
    );
  }
  if (res.status < 200 || res.status >= 300 || error) {
    throw new CodedError(
      ApicCodes.HTTP_ERROR,
      `${host} answered ${res.status} at ${what}${error ? `: ${error.text} (${error.code})` : `: ${excerpt(res.text, 80)}`}`,
      { status: res.status, host, apicCode: error?.code },
    );
  }
  // JSON that is no object (null, a number) is no APIC answer either.
  const answer = (isRecord(body) ? body : {}) as {
    totalCount?: unknown;
    imdata?: unknown;
    subscriptionId?: unknown;
  };
  if (!Array.isArray(answer.imdata)) {
    throw new CodedError(ApicCodes.NOT_APIC, `${host} does not look like an APIC: no imdata at ${what}.`, {
      host,
    });
  }
  return {
    totalCount: Number(answer.totalCount ?? answer.imdata.length) || 0,
    imdata: answer.imdata as ApicMo[],
    subscriptionId: typeof answer.subscriptionId === 'string' ? answer.subscriptionId : undefined,
  };
}

export function loginAttributes(answer: ApicAnswer, host: string, key: string): Record<string, string> {
  const first = answer.imdata[0];
  // aaaRefresh answers under aaaLogin; accept either name.
  const attrs = first?.[key]?.attributes ?? first?.aaaLogin?.attributes ?? first?.aaaRefresh?.attributes;
  if (!attrs || typeof attrs.token !== 'string' || !attrs.token) {
    throw new CodedError(ApicCodes.NOT_APIC, `${host} answered the login without a token.`, { host });
  }
  return attrs;
}
