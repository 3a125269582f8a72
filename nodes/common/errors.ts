/**
 * Every error this package raises carries a stable `code` so that Catch nodes,
 * switch nodes and tests can tell failures apart without parsing texts.
 */
export class CodedError extends Error {
  readonly code: string;
  /** Extra facts safe to show a user (never secrets). */
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    // No `cause`: Node-RED copies it onto msg.error, and a socket error from undici
    // or ws is a large object that every later node would clone.
    super(message);
    // Node-RED shows `toString()`, so the code leads the text in logs and the debug sidebar.
    this.name = code;
    this.code = code;
    if (details) this.details = details;
  }
}

/** The code of a failure nothing more specific was known of. */
export const UNEXPECTED = 'UNEXPECTED';

export function isCoded(err: unknown, code?: string): err is CodedError {
  return err instanceof CodedError && (code === undefined || err.code === code);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Network-level failure codes shared by every client. */
export const NetCodes = {
  TLS_UNTRUSTED: 'TLS_UNTRUSTED',
  TLS_HOSTNAME: 'TLS_HOSTNAME_MISMATCH',
  TLS_FAILED: 'TLS_FAILED',
  DNS_FAILED: 'DNS_FAILED',
  CONNECT_FAILED: 'CONNECT_FAILED',
  TIMEOUT: 'TIMEOUT',
  /** The proxy between us and the target refused or could not be reached. */
  PROXY_FAILED: 'PROXY_FAILED',
} as const;

const tlsUntrusted = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** The most specific system / TLS code in an error's cause chain (undici wraps them). */
function rootCode(err: unknown): string | undefined {
  let fallback: string | undefined;
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++, e = e.cause as typeof e) {
    if (typeof e.code !== 'string') continue;
    if (!e.code.startsWith('UND_ERR_')) return e.code;
    fallback ??= e.code;
  }
  return fallback;
}

/**
 * Any failure as a CodedError: a coded one as it is, anything else (from undici,
 * ws or net/tls) classified as a network failure of `target`.
 */
export function toCoded(err: unknown, target: string): CodedError {
  return err instanceof CodedError ? err : classifyNetworkError(err, target);
}

/**
 * Turns a low-level network error (from undici, ws or net/tls) into a CodedError
 * that says what failed in words an operator can act on.
 */
function classifyNetworkError(err: unknown, target: string): CodedError {
  const code = rootCode(err) ?? '';
  const msg = errorMessage(err);
  // undici's words for a tunnel the proxy refused: "Proxy response (407) !== 200 when HTTP Tunneling".
  const proxyStatus = msg.startsWith('Proxy response (') ? msg.slice(16, 19) : undefined;
  if (proxyStatus) {
    return new CodedError(
      NetCodes.PROXY_FAILED,
      `The proxy refused the connection to ${target} (${proxyStatus}).`,
      { status: Number(proxyStatus) || 0 },
    );
  }
  if (tlsUntrusted.has(code)) {
    return new CodedError(
      NetCodes.TLS_UNTRUSTED,
      `TLS: the certificate of ${target} is not trusted (${code}). Add its CA certificate, or (test systems only) skip verification.`,
      { systemCode: code },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CodedError(
      NetCodes.TLS_HOSTNAME,
      `TLS: the certificate of ${target} does not match its host name.`,
      {
        systemCode: code,
      },
    );
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /ssl|tls/i.test(code)) {
    return new CodedError(NetCodes.TLS_FAILED, `TLS handshake with ${target} failed (${code}).`, {
      systemCode: code || msg,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new CodedError(NetCodes.DNS_FAILED, `DNS: cannot resolve the host of ${target} (${code}).`, {
      systemCode: code || msg,
    });
  }
  if (code.endsWith('TIMEOUT') || code === 'ETIMEDOUT') {
    return new CodedError(NetCodes.TIMEOUT, `${target} did not answer in time.`, { systemCode: code || msg });
  }
  return new CodedError(NetCodes.CONNECT_FAILED, `Cannot connect to ${target}: ${code || msg}.`, {
    systemCode: code || msg,
  });
}

/** Any thrown value as an Error: what is not one becomes an UNEXPECTED CodedError with its text. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new CodedError('UNEXPECTED', errorMessage(err));
}
