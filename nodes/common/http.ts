import { Agent, request } from 'undici';
import { CodedError, toCoded } from './errors';
import { tlsConnectOptions, type TlsSettings } from './tls';

export const HttpCodes = {
  BODY_TOO_LARGE: 'HTTP_BODY_TOO_LARGE',
} as const;

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: HeaderMap;
  text: string;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpClientOptions {
  tls: TlsSettings;
  /** Per-request limit for headers and body; default 30 s. */
  timeoutMs?: number;
  /** Largest body read; an APIC class query can be large, so the default is generous. */
  maxBodyBytes?: number;
}

/**
 * The one HTTP client of the REST clients: an undici Agent (keep-alive, one pool
 * per origin) that carries the config node's TLS settings. Every response body is
 * read to the end, so sockets go back to the pool; network failures come out as
 * CodedErrors that name what failed (TLS, DNS, connect, timeout).
 */
export class HttpClient {
  readonly dispatcher: Agent;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(options: HttpClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.dispatcher = new Agent({
      connect: { ...tlsConnectOptions(options.tls), timeout: this.timeoutMs },
      keepAliveTimeout: 30_000,
    });
  }

  async send(method: string, url: string, options: SendOptions = {}): Promise<HttpResponse> {
    const timeout = options.timeoutMs ?? this.timeoutMs;
    let res;
    try {
      res = await request(url, {
        method: method as 'GET',
        headers: options.headers,
        body: options.body,
        dispatcher: this.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: options.signal,
      });
    } catch (err) {
      throw toCoded(err, new URL(url).origin);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          res.body.destroy();
          throw new CodedError(
            HttpCodes.BODY_TOO_LARGE,
            `The answer of ${method} ${new URL(url).pathname} is too large.`,
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      throw toCoded(err, new URL(url).origin);
    }
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

export function header(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A short, single-line excerpt for error texts, of a body or of any value. Safe on
 * huge and deeply nested input: it reads only what it shows (a JSON.stringify of
 * a deep or 50 MB value would overflow the stack or take seconds).
 */
export function excerpt(value: unknown, max = 120): string {
  let text: string;
  if (typeof value === 'string') text = value.slice(0, max * 4);
  else if (Buffer.isBuffer(value)) text = value.subarray(0, max * 4).toString('utf8');
  else {
    // A bounded JSON-like rendering: stops once it has more than it can show.
    let out = '';
    const walk = (v: unknown, depth: number): void => {
      if (out.length > max) return;
      if (v === null || typeof v !== 'object') {
        const s = typeof v === 'string' ? JSON.stringify(v.slice(0, max)) : String(v);
        out += s;
        return;
      }
      if (depth > 8) {
        out += '…';
        return;
      }
      const array = Array.isArray(v);
      out += array ? '[' : '{';
      let first = true;
      for (const key in v) {
        if (out.length > max) break;
        if (!first) out += ',';
        first = false;
        if (!array) out += `${JSON.stringify(key)}:`;
        walk((v as Record<string, unknown>)[key], depth + 1);
      }
      out += array ? ']' : '}';
    };
    walk(value, 0);
    text = out;
  }
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
