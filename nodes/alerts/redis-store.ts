/**
 * The store an HA pair shares: a Redis server (or one that speaks its
 * protocol), through node-redis's client. A claim is `SET <prefix><key> 1 NX
 * PX <window>`: atomic, so of two nodes that claim the same key one gets it,
 * and Redis forgets it when the window ends. No Node-RED import.
 *
 * Commands never wait for a connection (no offline queue) and time out after
 * `timeoutMs`: the gate then lets the event pass (fail-open) and says so once.
 */
import net from 'node:net';
import { createClient } from '@redis/client';
import { Backoff } from '../common/backoff';
import { CodedError, NetCodes, errorMessage, toCoded } from '../common/errors';
import { tlsConnectOptions, type TlsSettings } from '../common/tls';
import type { SharedStore } from './gate';

export const StoreCodes = {
  /** The store did not answer (down, unreachable, too slow): events pass unchecked. */
  DOWN: 'ALERT_STORE_DOWN',
  /** The store refused the username or password. */
  AUTH_FAILED: 'ALERT_STORE_AUTH_FAILED',
  /** The store's settings cannot work (address). */
  CONFIG_INVALID: 'ALERT_STORE_CONFIG_INVALID',
} as const;

export interface RedisStoreOptions extends TlsSettings {
  /** redis://host:port/db, or rediss:// for TLS. */
  url: string;
  /** TLS also with a redis:// address. */
  tls?: boolean;
  username?: string;
  password?: string;
  /** Put before every key, so that several uses can share one server. */
  prefix: string;
  /** How long a claim may take (default 2 s). */
  timeoutMs?: number;
}

export type StoreState = 'connecting' | 'connected' | 'reconnecting' | 'closed';
export type StateListener = (state: StoreState, error?: CodedError) => void;

/** The address as it may be shown: scheme, host, port and database, never a user or password. */
export function storeAddress(url: string): string {
  const u = parseStoreUrl(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/** A redis:// or rediss:// URL with a host and without a password (that belongs in the credentials). */
export function parseStoreUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new CodedError(StoreCodes.CONFIG_INVALID, 'The Redis address must be a URL: redis://host:6379');
  }
  if (!['redis:', 'rediss:'].includes(u.protocol) || !u.hostname) {
    throw new CodedError(
      StoreCodes.CONFIG_INVALID,
      'The Redis address must be redis://host:port or rediss://…',
    );
  }
  if (u.password || u.username) {
    throw new CodedError(
      StoreCodes.CONFIG_INVALID,
      'The Redis address must not carry a user or password: put them in the Username and Password fields.',
    );
  }
  if (!/^\/\d{0,2}$/.test(u.pathname || '/')) {
    throw new CodedError(
      StoreCodes.CONFIG_INVALID,
      'The Redis database must be a number: redis://host:6379/0',
    );
  }
  return u;
}

/** The host of a URL without the brackets of an IPv6 address. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** What a failure of the store means for a person: a refused login, or a store that is not there. */
function storeError(err: unknown, address: string): CodedError {
  const text = errorMessage(err);
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|AUTH/i.test(text)) {
    return new CodedError(StoreCodes.AUTH_FAILED, `The shared store ${address} refused the login (${text}).`);
  }
  const net = toCoded(err, `the shared store ${address}`);
  if (net.code.startsWith('TLS_')) return net;
  const why = net.code === NetCodes.CONNECT_FAILED ? String(net.details?.systemCode ?? text) : net.message;
  return new CodedError(StoreCodes.DOWN, `The shared store ${address} does not answer: ${why}`);
}

export class RedisStore implements SharedStore {
  state: StoreState = 'connecting';
  error: CodedError | undefined;
  readonly address: string;
  private readonly client;
  private readonly prefix: string;
  private readonly listeners = new Set<StateListener>();
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });

  constructor(options: RedisStoreOptions) {
    const url = parseStoreUrl(options.url);
    this.address = storeAddress(options.url);
    this.prefix = options.prefix;
    const secure = options.tls || url.protocol === 'rediss:';
    const socket = {
      connectTimeout: 5000,
      reconnectStrategy: () => this.backoff.next(),
      ...(secure ? { tls: true as const, ...tlsConnectOptions(options) } : {}),
      // SNI takes host names only (RFC 6066).
      ...(secure && !net.isIP(hostOf(url)) ? { servername: hostOf(url) } : {}),
    };
    this.client = createClient({
      url: `${url.protocol}//${url.host}${url.pathname}`,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      socket,
      disableOfflineQueue: true,
      commandOptions: { timeout: options.timeoutMs ?? 2000, rejectInFlight: true },
    });
    this.client.on('ready', () => {
      this.backoff.reset();
      this.set('connected');
    });
    this.client.on('error', (err: unknown) => this.set('reconnecting', storeError(err, this.address)));
    this.client.on('reconnecting', () => {
      if (this.state === 'connected') this.set('reconnecting', this.error);
    });
  }

  /** Connects, and keeps reconnecting (with backoff) until closed. */
  start(): void {
    this.client.connect().catch((err: unknown) => {
      if (this.state !== 'closed') this.set('reconnecting', storeError(err, this.address));
    });
  }

  onState(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if (this.state !== 'connected') {
      throw (
        this.error ?? new CodedError(StoreCodes.DOWN, `The shared store ${this.address} is not connected.`)
      );
    }
    try {
      const reply = await this.client.set(`${this.prefix}${key}`, '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: Math.max(1, Math.round(ttlMs)) },
      });
      return reply === 'OK';
    } catch (err) {
      throw storeError(err, this.address);
    }
  }

  async close(): Promise<void> {
    this.set('closed');
    this.listeners.clear();
    try {
      this.client.destroy();
    } catch {
      // never connected
    }
  }

  private set(state: StoreState, error?: CodedError): void {
    if (this.state === 'closed') return;
    this.state = state;
    this.error = state === 'connected' ? undefined : error;
    for (const listener of this.listeners) listener(state, this.error);
  }
}
