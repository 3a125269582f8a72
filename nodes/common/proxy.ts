/**
 * Proxies for outgoing connections, as the core http request, mqtt and
 * websocket nodes honour them: a node's own proxy (a core `http proxy` config
 * node: URL, hosts that bypass it, credentials), else the environment
 * (https_proxy / HTTPS_PROXY for https and wss, http_proxy / HTTP_PROXY for
 * http and ws, no_proxy / NO_PROXY; lower case first). Which proxy a target
 * takes is decided here once, for HTTP (undici) and WebSockets alike.
 */
import { BlockList, isIP } from 'node:net';
import { CodedError, NetCodes } from './errors';

/** A node's own proxy, as a core `http proxy` config node holds it. */
export interface ProxySettings {
  url: string;
  /** Hosts reached directly: names, .domains, host:port, IP addresses, CIDR ranges, or *. */
  noProxy?: string[];
  username?: string;
  password?: string;
}

/** The proxy a connection goes through. */
export interface ProxyRoute {
  /** Scheme, host and port only: what logs and errors may name (never the credentials). */
  origin: string;
  /** `Proxy-Authorization`, when the proxy wants credentials. */
  authorization?: string;
}

export const ProxyCodes = {
  /** A proxy URL that cannot be used (not http:// or https://, or not a URL). */
  INVALID: 'CONFIG_PROXY_INVALID',
} as const;

type Env = Record<string, string | undefined>;

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

/** The first of the variables that is set, lower case first (curl's and Node-RED's order). */
function fromEnv(env: Env, name: string): string | undefined {
  return env[name.toLowerCase()]?.trim() || env[name.toUpperCase()]?.trim() || undefined;
}

/** A host without the brackets of an IPv6 address, in lower case. */
const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

/** One entry of a NO_PROXY list: host:port → host and port (an IPv6 address keeps its colons). */
function splitEntry(entry: string): { host: string; port: number } {
  const colon = entry.lastIndexOf(':');
  const port = colon > 0 ? entry.slice(colon + 1) : '';
  const before = entry.slice(0, colon);
  // "::1" is an address, "[::1]:8080" and "host:8080" have a port.
  if (/^\d{1,5}$/.test(port) && (!before.includes(':') || before.endsWith(']'))) {
    return { host: bare(before), port: Number(port) };
  }
  return { host: bare(entry), port: 0 };
}

/** An IP address in a CIDR range (10.0.0.0/8, fd00::/8). */
function inRange(ip: string, range: string): boolean {
  const slash = range.indexOf('/');
  const base = range.slice(0, slash);
  const bits = Number(range.slice(slash + 1));
  const family = isIP(base);
  if (family === 0 || family !== isIP(ip) || !Number.isInteger(bits)) return false;
  const list = new BlockList();
  try {
    list.addSubnet(base, bits, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Does a NO_PROXY list let the host through directly? As curl reads it: `*`
 * for every host; a name matches itself and its subdomains (`example.com`,
 * `.example.com` and `*.example.com` alike); `host:port` only that port; an IP
 * address itself, a CIDR range the addresses in it.
 */
export function bypasses(noProxy: readonly string[], hostname: string, port: number): boolean {
  const host = bare(hostname);
  for (const raw of noProxy) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (isIP(host) && inRange(host, entry)) return true;
      continue;
    }
    const wanted = splitEntry(entry);
    if (wanted.port && wanted.port !== port) continue;
    const name = wanted.host.replace(/^\*?\./, '');
    if (name && (host === name || host.endsWith(`.${name}`))) return true;
  }
  return false;
}

/** The entries of a NO_PROXY variable (commas or spaces between them). */
function listOf(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter(Boolean);
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * A proxy URL as a route: http:// or https:// only (a scheme left out means
 * http://, as curl reads it); credentials come from the settings or the URL.
 */
export function routeOf(url: string, username?: string, password?: string): ProxyRoute {
  const text = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new CodedError(ProxyCodes.INVALID, 'The proxy is not a URL (http://host:port).');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CodedError(
      ProxyCodes.INVALID,
      `The proxy ${parsed.protocol}//${parsed.host} is not an HTTP proxy: use http:// or https://.`,
    );
  }
  const user = username || decodeURIComponent(parsed.username);
  const pass = username ? (password ?? '') : decodeURIComponent(parsed.password);
  return { origin: parsed.origin, ...(user ? { authorization: basic(user, pass) } : {}) };
}

/**
 * The proxy a connection to `target` goes through, or undefined for a direct
 * connection: the node's own proxy when it has one, else the environment's for
 * the target's scheme; a host its NO_PROXY list names goes direct.
 */
export function proxyFor(
  target: string | URL,
  settings: ProxySettings | undefined,
  env: Env = process.env,
): ProxyRoute | undefined {
  const url = typeof target === 'string' ? new URL(target) : target;
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const proxy = settings ? settings.url : fromEnv(env, secure ? 'https_proxy' : 'http_proxy');
  if (!proxy?.trim()) return undefined;
  const noProxy = settings ? (settings.noProxy ?? []) : listOf(fromEnv(env, 'no_proxy'));
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  if (bypasses(noProxy, url.hostname, port)) return undefined;
  return routeOf(proxy, settings?.username, settings?.password);
}

/**
 * A failure to connect through a proxy says so: a connection that could not be
 * made (or a host that could not be resolved) was the proxy's, since the
 * proxy answers for the target with a status.
 */
export function throughProxy(error: CodedError, route: ProxyRoute | undefined): CodedError {
  if (!route || (error.code !== NetCodes.CONNECT_FAILED && error.code !== NetCodes.DNS_FAILED)) return error;
  const why = String(error.details?.systemCode ?? error.code);
  return new CodedError(NetCodes.PROXY_FAILED, `The proxy ${route.origin} cannot be reached (${why}).`, {
    systemCode: why,
  });
}
