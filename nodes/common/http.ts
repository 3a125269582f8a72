import { errors, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header';
import { CodedError, NetCodes } from './errors';
import { httpDispatcher, outboundFailure, type OutboundSettings } from './outbound';

export const HttpCodes = {
  BODY_TOO_LARGE: 'HTTP_BODY_TOO_LARGE',
} as const;

export type HeaderMap = Record<string, string | string[] | undefined>;

/**
 * The largest answer that holds a login, a session or a version list. Real
 * ones are a few KB (a VCD that still lists the 5.5 API with its media types
 * answers /api/versions with about 70 KB); XML reads at about 4 MB/s, so a
 * hostile server's megabyte costs a quarter of a second at most.
 */
export const SMALL_ANSWER_BYTES = 1024 * 1024;

/**
 * The largest answer read into objects at once where nothing pages it: a VM,
 * a vApp of many VMs, a task, one page of a query (a few hundred KB real).
 * At XML's 4 MB/s this bounds one parse to about a second on a hostile answer.
 */
export const OBJECT_ANSWER_BYTES = 4 * 1024 * 1024;

/** The largest data answer (an APIC class query page with subtrees, a VCD audit page), unless a call says. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** How much of an answer is read, and for how long. */
export interface ReadLimits {
  /**
   * The whole exchange, from sending the request to the answer's last byte. An
   * idle timeout alone restarts at every chunk: a peer that drips a byte now
   * and then would hold the request (and its connection) for ever.
   */
  deadlineMs: number;
  /** Largest body kept; beyond it the request fails with HTTP_BODY_TOO_LARGE. */
  maxBodyBytes: number;
  /** Beyond maxBodyBytes, keep the start (an excerpt of an error page) and stop reading instead of failing. */
  keepStart?: boolean;
  /** Answers whose body nobody reads (a sink's 2xx): dropped as it comes, the connection kept. */
  dropBody?: (status: number) => boolean;
  /** Ends the request early (it then fails with undici's RequestAbortedError). */
  signal?: AbortSignal;
  /** Who is asked (an origin), for error texts. */
  target: string;
}

/** An answer: its status, headers, and the body as far as it was kept. */
export interface Answer {
  status: number;
  headers: HeaderMap;
  body: Buffer;
}

/** Why a request was cut: it had read as much as it keeps. */
const KEPT_ENOUGH = new Error('kept as much of the body as wanted');
const EMPTY = Buffer.alloc(0);

function deadlinePassed(limits: ReadLimits): CodedError {
  const seconds = Math.round(limits.deadlineMs / 100) / 10;
  return new CodedError(NetCodes.TIMEOUT, `${limits.target} did not answer in time (${seconds} s in all).`, {
    systemCode: 'DEADLINE',
  });
}

/**
 * One request, read within its limits. A handler of undici's dispatch API
 * (called back as the answer arrives: no body stream or promise chain per
 * request), with one timer for the deadline.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private answer: Answer = { status: 0, headers: {}, body: EMPTY };
  private chunks: Buffer[] | undefined;
  private size = 0;
  private readonly timer: NodeJS.Timeout;
  /** Set once the promise is settled: what the request was ended with, if it is still running. */
  private ended?: Error;

  constructor(
    private readonly limits: ReadLimits,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.timer = setTimeout(() => this.fail(deadlinePassed(limits)), limits.deadlineMs);
    limits.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = () => this.fail(new errors.RequestAbortedError());

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Ended while it waited for a connection: it goes no further.
    if (this.ended) controller.abort(this.ended);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.answer.status = status;
    this.answer.headers = headers;
    this.chunks = this.limits.dropBody?.(status) ? undefined : [];
    const announced = Number(headers['content-length']);
    if (this.chunks && !this.limits.keepStart && announced > this.limits.maxBodyBytes) {
      controller.abort(this.tooLarge());
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.chunks) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size <= this.limits.maxBodyBytes) return;
    controller.abort(this.limits.keepStart ? KEPT_ENOUGH : this.tooLarge());
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (err === KEPT_ENOUGH) this.succeed();
    else this.fail(err);
  }

  private tooLarge(): CodedError {
    const mib = Math.round((this.limits.maxBodyBytes / 1024 / 1024) * 10) / 10;
    return new CodedError(
      HttpCodes.BODY_TOO_LARGE,
      `The answer of ${this.limits.target} is larger than the ${mib} MiB read from it.`,
      { maxBytes: this.limits.maxBodyBytes },
    );
  }

  private settle(): boolean {
    if (this.ended) return false;
    clearTimeout(this.timer);
    this.limits.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }

  private succeed(): void {
    if (!this.settle()) return;
    this.ended = KEPT_ENOUGH;
    if (this.chunks) {
      const body = Buffer.concat(this.chunks);
      this.answer.body =
        body.length > this.limits.maxBodyBytes ? body.subarray(0, this.limits.maxBodyBytes) : body;
    }
    this.resolve(this.answer);
  }

  private fail(err: Error): void {
    if (!this.settle()) return;
    this.ended = err;
    this.controller?.abort(err);
    this.reject(err);
  }
}

/**
 * Sends one request through `dispatcher` (an Agent or a Pool) and reads its
 * answer within `limits`: the one place every answer from outside is read
 * (VCD, APIC, the CloudEvents sink). Fails with the undici error, a
 * TIMEOUT CodedError at the deadline, or HTTP_BODY_TOO_LARGE.
 */
export function exchange(
  dispatcher: Dispatcher,
  request: Dispatcher.DispatchOptions,
  limits: ReadLimits,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (limits.signal?.aborted) {
      reject(new errors.RequestAbortedError());
      return;
    }
    const handler = new Exchange(limits, resolve, reject);
    try {
      dispatcher.dispatch(request, handler);
    } catch (err) {
      handler.onResponseError(undefined as never, err as Error);
    }
  });
}

export interface HttpResponse {
  status: number;
  headers: HeaderMap;
  text: string;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
  /** The whole request, from sending to the answer's last byte; default: the client's. */
  timeoutMs?: number;
  /** Largest answer read; default: the client's. */
  maxBodyBytes?: number;
  signal?: AbortSignal;
}

export interface HttpClientOptions extends OutboundSettings {
  /** Per request, from sending to the answer's last byte (a deadline, not only an idle timeout); default 30 s. */
  timeoutMs?: number;
  /** Largest answer read (DEFAULT_MAX_BODY_BYTES unless said); a call may ask for less. */
  maxBodyBytes?: number;
}

/**
 * The one HTTP client of the REST clients: an undici dispatcher (keep-alive, one
 * pool per origin) that carries the config node's TLS and proxy settings
 * (`httpDispatcher`). Every answer is read whole within a size cap and a
 * deadline (`exchange`), so sockets go back to the pool; network failures come
 * out as CodedErrors that name what failed (TLS, DNS, connect, timeout, proxy).
 */
export class HttpClient {
  readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly outbound: OutboundSettings;

  constructor(options: HttpClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.outbound = { tls: options.tls, proxy: options.proxy };
    this.dispatcher = httpDispatcher({ ...this.outbound, connectTimeoutMs: this.timeoutMs });
  }

  async send(method: string, url: string, options: SendOptions = {}): Promise<HttpResponse> {
    const timeout = options.timeoutMs ?? this.timeoutMs;
    const { origin, pathname, search } = new URL(url);
    try {
      const answer = await exchange(
        this.dispatcher,
        {
          origin,
          path: pathname + search,
          method: method as Dispatcher.HttpMethod,
          headers: options.headers,
          body: options.body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        },
        {
          deadlineMs: timeout,
          maxBodyBytes: options.maxBodyBytes ?? this.maxBodyBytes,
          signal: options.signal,
          target: origin,
        },
      );
      return { status: answer.status, headers: answer.headers, text: answer.body.toString('utf8') };
    } catch (err) {
      throw outboundFailure(err, origin, this.outbound);
    }
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
        if (!array) out += `${JSON.stringify(key.slice(0, max))}:`;
        walk((v as Record<string, unknown>)[key], depth + 1);
      }
      out += array ? ']' : '}';
    };
    walk(value, 0);
    text = out;
  }
  // Only what can be shown is made one line: replacing every space run of a megabyte takes a tenth of a second.
  const line = text
    .slice(0, max * 4)
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
