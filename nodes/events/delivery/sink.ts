/**
 * The HTTP side of deliveries: the sink (its URL, headers, credentials, TLS
 * and proxy) and one undici dispatcher with keep-alive to it, shared by every
 * delivery to it; the POST of events and the Webhook handshake (OPTIONS), each
 * turned into an Attempt: done, or a failure and whether another attempt may
 * help (Knative's contract: retry 404, 409, 429, 5xx and network errors; not
 * 400 and other 4xx; 410 is "stop sending", as the Webhook spec says).
 */
import type { Dispatcher } from 'undici';
import { retryAfterMs } from '../../common/backoff';
import { CodedError } from '../../common/errors';
import { unsetVariableMessage } from '../../common/guards';
import { excerpt, exchange } from '../../common/http';
import { httpDispatcher, outboundFailure, type OutboundSettings } from '../../common/outbound';
import { DeliveryCodes, type DeliveryAuth, type SinkOptions } from './types';
import { extended } from '../../common/objects';

/** One attempt's outcome: done, or a failure and whether another attempt may help. */
export interface Attempt {
  status: number;
  failure?: CodedError;
  retryable: boolean;
  retryAfter?: number;
}

export const RETRYABLE = (status: number) =>
  status === 404 || status === 409 || status === 429 || status >= 500;

/** An error answer is read only this far (for the excerpt); a 50 MB error page is not buffered. */
const ERROR_BODY_BYTES = 4096;

const isSuccess = (status: number) => status >= 200 && status < 300;

function authorization(auth: DeliveryAuth | undefined): string | undefined {
  if (auth?.type === 'bearer' && auth.token) return `Bearer ${auth.token}`;
  if (auth?.type === 'basic' && auth.username !== undefined) {
    return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  }
  return undefined;
}

/** What the Webhook handshake's answer means: allowed, worth another try, or a refusal. */
function handshakeAttempt(
  status: number,
  allowed: string,
  origin: string,
  text: string,
  retryAfter: number | undefined,
): Attempt {
  if (status >= 200 && status < 300 && (allowed === '*' || allowed === origin)) {
    return { status: 0, retryable: false };
  }
  const said = text ? `: ${excerpt(text, 80)}` : '';
  if (RETRYABLE(status)) {
    return {
      status,
      retryable: true,
      retryAfter,
      failure: new CodedError(
        DeliveryCodes.FAILED,
        `The sink answered ${status} to the webhook handshake (OPTIONS)${said}`,
        { status },
      ),
    };
  }
  if (status === 410) {
    const failure = new CodedError(
      DeliveryCodes.GONE,
      'The sink answered 410 Gone to the webhook handshake: it wants no events.',
      { status },
    );
    return { status, retryable: false, failure };
  }
  const failure = new CodedError(
    DeliveryCodes.HANDSHAKE_FAILED,
    status >= 200 && status < 300
      ? `The sink did not allow this origin in the webhook handshake (allowed: "${excerpt(allowed, 60)}").`
      : `The sink refused the webhook handshake (OPTIONS answered ${status}${said}).`,
    { status },
  );
  return { status, retryable: false, failure };
}

/**
 * What an HTTP field value may not hold (RFC 9110, as undici checks it): a
 * control character other than tab, or a character past U+00FF. Refused when
 * the delivery is made: undici would refuse every request, and one such request
 * waiting for a connection holds up the requests queued behind it.
 */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function checkHeaders(headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) {
    if (!NOT_FIELD_VALUE.test(headers[name] as string)) continue;
    // The value may be a credential: it is never quoted.
    throw new CodedError(
      DeliveryCodes.CONFIG_INVALID,
      `${name === 'authorization' ? 'The token' : `Header ${name}`} holds a character no HTTP header may carry (a control character, or one beyond U+00FF).`,
    );
  }
}

/** The sink's URL, refused unless it is http:// or https://. */
function sinkUrl(text: string | undefined): URL {
  const unset = unsetVariableMessage('sink URL', text);
  if (unset) throw new CodedError(DeliveryCodes.CONFIG_INVALID, unset);
  let url: URL;
  try {
    url = new URL(String(text ?? '').trim());
  } catch {
    throw new CodedError(DeliveryCodes.CONFIG_INVALID, `"${String(text ?? '')}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CodedError(DeliveryCodes.CONFIG_INVALID, 'The sink URL must start with https:// or http://.');
  }
  return url;
}

/**
 * A sink and the one dispatcher (keep-alive pools, TLS, proxy) every delivery
 * to it uses. Each request carries the signal of the delivery that sent it:
 * a delivery that closes ends its own requests, not the others'.
 */
export class Sink {
  readonly url: URL;
  /** Does a delivery do the Webhook handshake before its first event? */
  readonly wantsHandshake: boolean;
  /** WebHook-Request-Origin of the handshake. */
  readonly origin: string;
  /** The handshake succeeded once: no delivery needs it again. */
  handshaken = false;
  private readonly dispatcher: Dispatcher;
  private readonly outbound: OutboundSettings;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: SinkOptions) {
    this.url = sinkUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.wantsHandshake = options.handshake === true;
    this.origin = options.origin ?? 'node-red';
    this.headers = { ...options.headers };
    const auth = authorization(options.auth);
    if (auth) this.headers.authorization = auth;
    checkHeaders(this.headers);
    this.outbound = { tls: options.tls ?? {}, proxy: options.proxy };
    this.dispatcher = httpDispatcher({
      ...this.outbound,
      connectTimeoutMs: this.timeoutMs,
      connections: options.connections,
    });
  }

  /** The headers every request carries, with those of one request. */
  headersWith(extra: Record<string, string>): Record<string, string> {
    return extended(this.headers, extra);
  }

  /**
   * One request within the sink's timeout, counted from sending to the
   * answer's last byte. A 2xx body is dropped as it comes; of any other, the
   * first ERROR_BODY_BYTES are kept and the request is then cut (the connection
   * closes rather than reading a long error page). `signal` (the delivery's,
   * aborted at its close) ends it: the dispatcher is shared, so it cannot be
   * destroyed to end one delivery's requests.
   */
  private send(
    method: 'POST' | 'OPTIONS',
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal: AbortSignal | undefined,
  ) {
    return exchange(
      this.dispatcher,
      {
        origin: this.url.origin,
        method,
        path: this.url.pathname + this.url.search,
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      },
      {
        deadlineMs: this.timeoutMs,
        maxBodyBytes: ERROR_BODY_BYTES,
        keepStart: true,
        dropBody: isSuccess,
        target: this.url.origin,
        signal,
      },
    );
  }

  /** One POST of the events; `signal` ends it (the delivery closed). */
  async post(
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<Attempt> {
    let res;
    try {
      res = await this.send('POST', headers, body, signal);
    } catch (err) {
      return this.networkFailure(err, signal);
    }
    const { status } = res;
    if (isSuccess(status)) return { status, retryable: false };
    const text = res.body.toString('utf8');
    const retryAfter = retryAfterMs(res.headers['retry-after']);
    const failure = new CodedError(
      status === 410 ? DeliveryCodes.GONE : RETRYABLE(status) ? DeliveryCodes.FAILED : DeliveryCodes.REJECTED,
      answerText(status, text),
      { status },
    );
    return { status, failure, retryable: RETRYABLE(status), retryAfter };
  }

  /**
   * Webhook abuse protection: OPTIONS with WebHook-Request-Origin. A network
   * error or a retryable status may be retried like a delivery;
   * CE_HANDSHAKE_FAILED is only for a sink that answers and refuses.
   */
  async handshake(signal?: AbortSignal): Promise<Attempt> {
    let res;
    try {
      const headers = this.headersWith({ 'webhook-request-origin': this.origin });
      res = await this.send('OPTIONS', headers, undefined, signal);
    } catch (err) {
      const out = this.networkFailure(err, signal);
      if (out.failure && out.retryable)
        out.failure = new CodedError(
          out.failure.code,
          `Webhook handshake: ${out.failure.message}`,
          out.failure.details,
        );
      return out;
    }
    const allowed = String(res.headers['webhook-allowed-origin'] ?? '');
    const retryAfter = retryAfterMs(res.headers['retry-after']);
    const outcome = handshakeAttempt(res.status, allowed, this.origin, res.body.toString('utf8'), retryAfter);
    if (!outcome.failure) this.handshaken = true;
    return outcome;
  }

  private networkFailure(err: unknown, signal: AbortSignal | undefined): Attempt {
    if (signal?.aborted) {
      return {
        status: 0,
        failure: new CodedError(DeliveryCodes.CLOSED, 'The flow stopped while the request was in flight.'),
        retryable: false,
      };
    }
    const failure = outboundFailure(err, this.url.origin, this.outbound);
    // A certificate problem does not heal by retrying: say so now.
    return { status: 0, failure, retryable: !failure.code.startsWith('TLS_') };
  }

  /** Ends every connection (and what is still in flight on them). */
  close(): Promise<void> {
    return this.dispatcher.destroy().catch(() => undefined);
  }
}

/** What an error answer says: 410 stops delivery; 407 is the proxy's, not the sink's. */
function answerText(status: number, text: string): string {
  if (status === 410)
    return `The sink answered 410 Gone: it wants no more events; delivery stopped. ${excerpt(text, 80)}`;
  if (status === 407)
    return 'The proxy wants credentials (407 Proxy Authentication Required): set them in the proxy.';
  return `The sink answered ${status}${text ? `: ${excerpt(text, 120)}` : ''}`;
}
