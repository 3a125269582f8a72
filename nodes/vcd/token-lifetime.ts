/**
 * How long a VCD access token lives: from what the server grants, measured on
 * our clock, within bounds that keep timers sane.
 */
/**
 * How long a JWT was granted for (`exp` − `iat`, in ms), without verifying it
 * (the server does that). A lifetime, not a time: VCD's clock may differ from ours.
 */
export function jwtLifetime(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as {
      exp?: unknown;
      iat?: unknown;
    };
    const { exp, iat } = claims ?? {};
    return typeof exp === 'number' && typeof iat === 'number' && exp > iat ? (exp - iat) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bounds on the lifetime a token is taken to have: a server that grants 0 s
 * must not cause a login a moment, one that grants years must not overflow a
 * timer (Node fires those at once).
 */
export const TOKEN_LIFETIME_MS = { min: 2000, max: 86_400_000, fallback: 30 * 60_000 } as const;

/**
 * The lifetime of a token, from what the server grants: the shortest of
 * `expires_in` (seconds), the JWT's exp − iat and the session's idle timeout,
 * within TOKEN_LIFETIME_MS. The caller measures it on the local clock from the
 * login, so a VCD whose clock is off by hours still gets one login per lifetime.
 */
export function grantedLifetime(
  token: string,
  grant: { expiresInSeconds?: unknown; idleTimeoutMinutes?: unknown },
): number {
  const positive = (n: unknown, unit: number) =>
    typeof n === 'number' && Number.isFinite(n) && n > 0 ? n * unit : undefined;
  const granted = [
    positive(grant.expiresInSeconds, 1000),
    jwtLifetime(token),
    positive(grant.idleTimeoutMinutes, 60_000),
  ].filter((n): n is number => n !== undefined);
  const lifetime = granted.length > 0 ? Math.min(...granted) : TOKEN_LIFETIME_MS.fallback;
  return Math.min(TOKEN_LIFETIME_MS.max, Math.max(TOKEN_LIFETIME_MS.min, lifetime));
}
