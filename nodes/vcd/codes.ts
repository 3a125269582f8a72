import type { KeyedCodes } from '../common/status-keys';

/** What a VCD session's failures are called (CodedError.code), as Catch nodes see them. */
export const VcdCodes = {
  CONFIG_INVALID: 'VCD_CONFIG_INVALID',
  AUTH_FAILED: 'VCD_AUTH_FAILED',
  NOT_VCD: 'VCD_NOT_VCD',
  VERSION_TOO_OLD: 'VCD_VERSION_TOO_OLD',
  UNAVAILABLE: 'VCD_UNAVAILABLE',
  HTTP_ERROR: 'VCD_HTTP_ERROR',
  CLOSED: 'VCD_SESSION_CLOSED',
} as const;

/**
 * How every VCD node's status names a login that failed, settings it cannot use, or a server that is not a VCD
 * it can work with (locales: <type>.status).
 */
export const VCD_KEYS: KeyedCodes = {
  authFailed: [VcdCodes.AUTH_FAILED],
  badSettings: [VcdCodes.CONFIG_INVALID],
  notVcd: [VcdCodes.NOT_VCD],
  vcdTooOld: [VcdCodes.VERSION_TOO_OLD],
};
