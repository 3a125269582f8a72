/**
 * How a config node's connections leave: one undici dispatcher for its HTTP
 * (its TLS settings, and per origin a direct pool or the proxy), and the
 * options of its WebSockets (its TLS settings, and a CONNECT tunnel through
 * the proxy where one applies). Which proxy a target takes is proxy.ts's
 * decision, the same for both.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type createConnection as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Agent, Pool, ProxyAgent, type Dispatcher } from 'undici';
import { CodedError, NetCodes, toCoded } from './errors';
import { proxyFor, throughProxy, type ProxyRoute, type ProxySettings } from './proxy';
import { tlsConnectOptions, type TlsConnectOptions, type TlsSettings } from './tls';

export interface OutboundSettings {
  tls: TlsSettings;
  /** The node's own proxy (a core `http proxy` config node); without it, the environment's. */
  proxy?: ProxySettings;
}

export interface DispatcherOptions extends OutboundSettings {
  /** For connecting (to the target or the proxy), TLS handshake included. */
  connectTimeoutMs: number;
  /** Connections per origin; unlimited without it. */
  connections?: number;
}

/**
 * One dispatcher for every origin a config node talks to. An origin behind a
 * proxy gets undici's ProxyAgent: https through a CONNECT tunnel, in which TLS
 * to the target is the node's own (its certificate is checked as on a direct
 * connection); plain http forwarded to the proxy, as core Node-RED does (most
 * proxies allow CONNECT to TLS ports only).
 */
export function httpDispatcher(options: DispatcherOptions): Dispatcher {
  const connect = { ...tlsConnectOptions(options.tls), timeout: options.connectTimeoutMs };
  const shared = { keepAliveTimeout: 30_000, connections: options.connections ?? null };
  return new Agent({
    ...shared,
    connect,
    factory: (origin, opts) => {
      const route = proxyFor(String(origin), options.proxy);
      if (!route) return new Pool(origin, opts);
      return new ProxyAgent({
        ...shared,
        uri: route.origin,
        token: route.authorization,
        requestTls: connect,
        proxyTls: { timeout: options.connectTimeoutMs },
        proxyTunnel: !String(origin).startsWith('http:'),
      });
    },
  });
}

/** A network failure on the way to `origin` as a CodedError that names the proxy where it was the proxy's. */
export function outboundFailure(err: unknown, origin: string, settings: OutboundSettings): CodedError {
  return throughProxy(toCoded(err, origin), proxyFor(origin, settings.proxy));
}

type Connect = (options: { host?: string; port?: number | string; timeout?: number }) => void;
type Done = (err: Error | null, socket?: Duplex) => void;

/** A CONNECT request to the proxy for host:port. */
function connectRequest(route: ProxyRoute, host: string, port: number, timeoutMs: number) {
  const proxy = new URL(route.origin);
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return (proxy.protocol === 'https:' ? https : http).request({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
    method: 'CONNECT',
    path: authority,
    headers: {
      host: authority,
      ...(route.authorization ? { 'proxy-authorization': route.authorization } : {}),
    },
    timeout: timeoutMs,
    agent: false,
  });
}

/**
 * ws's `createConnection` through a proxy: a CONNECT tunnel to the target,
 * then (wss) TLS to the target inside it with the node's settings.
 */
function tunnel(route: ProxyRoute, tlsOptions: TlsConnectOptions, secure: boolean, timeoutMs: number) {
  return ((options: { host?: string; port?: number | string; timeout?: number }, done: Done) => {
    const host = String(options.host ?? '');
    const port = Number(options.port) || (secure ? 443 : 80);
    const request = connectRequest(route, host, port, options.timeout ?? timeoutMs);
    const fail = (err: Error) => done(throughProxy(toCoded(err, route.origin), route));
    request.once('connect', (res, socket, head) => {
      request.removeAllListeners('timeout');
      if (res.statusCode !== 200) {
        socket.destroy();
        const status = res.statusCode ?? 0;
        const why = `The proxy ${route.origin} refused the tunnel to ${host}:${port} (${status}).`;
        return done(new CodedError(NetCodes.PROXY_FAILED, why, { status }));
      }
      if (head.length > 0) socket.unshift(head);
      if (!secure) return done(null, socket);
      const servername = isIP(host) ? undefined : host;
      done(null, tls.connect({ socket, ...(servername ? { servername } : {}), ...tlsOptions }));
    });
    request.once('timeout', () =>
      request.destroy(new CodedError(NetCodes.TIMEOUT, `The proxy ${route.origin} did not answer in time.`)),
    );
    request.once('error', fail);
    request.end();
  }) as Connect;
}

/** What a WebSocket (ws) to `url` is given: the node's TLS options and, behind a proxy, the tunnel. */
export function webSocketOptions(
  url: string,
  settings: OutboundSettings,
  timeoutMs: number,
): TlsConnectOptions & { createConnection?: typeof netConnect } {
  const tlsOptions = tlsConnectOptions(settings.tls);
  const route = proxyFor(url, settings.proxy);
  if (!route) return tlsOptions;
  const secure = url.startsWith('wss:') || url.startsWith('https:');
  // Node's http client takes a connection given later through the callback, as here.
  const createConnection = tunnel(route, tlsOptions, secure, timeoutMs) as unknown as typeof netConnect;
  return { ...tlsOptions, createConnection };
}
