import { Agent, request } from 'undici';
import { CodedError, classifyNetworkError } from './errors';
import { tlsConnectOptions, type TlsSettings } from './tls';

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
      throw classifyNetworkError(err, new URL(url).origin);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          res.body.destroy();
          throw new CodedError(
            'HTTP_BODY_TOO_LARGE',
            `The answer of ${method} ${new URL(url).pathname} is too large.`,
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      throw classifyNetworkError(err, new URL(url).origin);
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

/** A short, single-line excerpt of a body for error texts. */
export function excerpt(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
