/**
 * Which status key (a node's locales: `<type>.status.<key>`) or "Test connection"
 * category an error code shows as. The codes of settings, TLS trust and the
 * network mean the same in every node that connects, so they are listed once
 * here; each node adds its own system's codes.
 */
import { CoreConfigCodes } from './core-config';
import { NetCodes } from './errors';
import { ProxyCodes } from './proxy';
import { RequestCodes } from './request-guard';
import { TlsCodes } from './tls';

/** Keys and the codes each stands for. */
export type KeyedCodes = Record<string, readonly string[]>;

/** What a lasting connection (a subscription) shows when its settings or TLS trust stop it. */
export const SETUP_KEYS: KeyedCodes = {
  badSettings: [
    CoreConfigCodes.MISSING,
    CoreConfigCodes.TLS_INVALID,
    TlsCodes.CERT_INVALID,
    ProxyCodes.INVALID,
  ],
  badCa: [TlsCodes.CA_INVALID],
  tlsUntrusted: [NetCodes.TLS_UNTRUSTED],
  tlsNameMismatch: [NetCodes.TLS_HOSTNAME],
  dnsFailed: [NetCodes.DNS_FAILED],
};

/** What a request shows when its server cannot be trusted or reached. */
export const REACH_KEYS: KeyedCodes = {
  tlsUntrusted: [NetCodes.TLS_UNTRUSTED],
  unreachable: [NetCodes.CONNECT_FAILED, NetCodes.TIMEOUT],
};

/** What a request node shows when it refuses a request, or its server cannot be trusted or reached. */
export const REQUEST_KEYS: KeyedCodes = {
  readOnly: [RequestCodes.METHOD_NOT_ALLOWED],
  badBody: [RequestCodes.BODY_INVALID],
  ...REACH_KEYS,
};

/** "Test connection" categories (locales: `<type>.test.category.<key>`) that every login shares. */
const TEST_CATEGORIES: KeyedCodes = {
  tls: [TlsCodes.CA_INVALID, TlsCodes.CERT_INVALID, CoreConfigCodes.TLS_INVALID],
  settings: [CoreConfigCodes.MISSING],
  proxy: [NetCodes.PROXY_FAILED],
  dns: [NetCodes.DNS_FAILED],
  connection: [NetCodes.CONNECT_FAILED, NetCodes.TIMEOUT],
};

/** One code → key table from key → codes lists; where two lists name a code, the later wins. */
export function statusKeys(...lists: KeyedCodes[]): Record<string, string> {
  const table: Record<string, string> = {};
  for (const list of lists) {
    for (const [key, codes] of Object.entries(list)) for (const code of codes) table[code] = key;
  }
  return table;
}

/** A login's "Test connection" category of a failed test: any TLS_* code is "tls", else the shared or own table's, else "other". */
export function testCategories(own: KeyedCodes): (code: string) => string {
  const table = statusKeys(TEST_CATEGORIES, own);
  return (code) => (code.startsWith('TLS_') ? 'tls' : (table[code] ?? 'other'));
}
