/** The addresses of the APICs of one cluster, as a user types them, and their short names. */
import { CodedError } from '../common/errors';
import { unsetVariableMessage } from '../common/guards';
import { ApicCodes } from './codes';

/** Active controllers of the largest cluster plus its standbys. */
const MAX_APICS = 9;

/** `host`, `host:port` or `https://host[:port]` → origin; http:// stays for labs. */
export function parseHosts(hosts: string | string[]): string[] {
  const list = (Array.isArray(hosts) ? hosts : String(hosts ?? '').split(/[,\s]+/))
    .map((h) => h.trim())
    .filter(Boolean);
  const origins: string[] = [];
  for (const h of list) {
    const unset = unsetVariableMessage('APIC address', h);
    if (unset) throw new CodedError(ApicCodes.CONFIG_INVALID, unset);
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(h) ? h : `https://${h}`);
    } catch {
      throw new CodedError(
        ApicCodes.CONFIG_INVALID,
        `"${h}" is not an APIC address; use host, host:port or https://host.`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new CodedError(ApicCodes.CONFIG_INVALID, `"${h}": the address must use https://.`);
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
      throw new CodedError(ApicCodes.CONFIG_INVALID, `"${h}": give the APIC address without a path.`);
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  if (origins.length === 0) throw new CodedError(ApicCodes.CONFIG_INVALID, 'Give at least one APIC address.');
  // Bounds what one request (a login, a test connection) can make the runtime contact.
  if (origins.length > MAX_APICS) {
    throw new CodedError(
      ApicCodes.CONFIG_INVALID,
      `An APIC cluster has at most 7 controllers and 2 standbys: give at most ${MAX_APICS} addresses.`,
    );
  }
  return origins;
}

/** A short name for status labels: the IP, or the first label of a host name. */
export function hostLabel(origin: string): string {
  const { hostname } = new URL(origin);
  if (/^[\d.]+$/.test(hostname) || hostname.startsWith('[')) return hostname;
  return hostname.split('.')[0] ?? hostname;
}
