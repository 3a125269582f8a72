/** What APIC failures are called (CodedError.code), as Catch nodes see them. */
import { NetCodes, type CodedError } from '../common/errors';
import type { KeyedCodes } from '../common/status-keys';

export const ApicCodes = {
  CONFIG_INVALID: 'APIC_CONFIG_INVALID',
  AUTH_FAILED: 'APIC_AUTH_FAILED',
  THROTTLED: 'APIC_THROTTLED',
  UNREACHABLE: 'APIC_UNREACHABLE',
  SESSION_EXPIRED: 'APIC_SESSION_EXPIRED',
  NOT_APIC: 'APIC_NOT_APIC',
  HTTP_ERROR: 'APIC_HTTP_ERROR',
  CLOSED: 'APIC_SESSION_CLOSED',
  /** More pages than a request node reads for one message. */
  TOO_MANY_PAGES: 'APIC_TOO_MANY_PAGES',
} as const;

/** Network-level failures: the APIC (not the session) is the problem. */
export function isNetworkFailure(err: unknown): boolean {
  const code = (err as CodedError | undefined)?.code;
  return (Object.values(NetCodes) as string[]).includes(code ?? '') || code === ApicCodes.UNREACHABLE;
}

/** How every ACI node's status names a login that failed or settings it cannot use (locales: <type>.status). */
export const APIC_KEYS: KeyedCodes = {
  authFailed: [ApicCodes.AUTH_FAILED],
  badSettings: [ApicCodes.CONFIG_INVALID],
};
