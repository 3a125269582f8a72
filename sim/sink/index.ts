/**
 * CloudEvents sink simulator: receives HTTP binary, structured and batch mode,
 * validates strictly (its checks are written independently of the package's
 * encoder, so tests do not check the code against itself), records what it got,
 * and has fault switches: fail the next N with a status (and Retry-After), slow,
 * down, gone (410).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { Router, listen, sendJson, type ServeOptions, type SimRequest, type SimServer } from '../http';

export interface ReceivedEvent {
  mode: 'binary' | 'structured' | 'batch';
  /**
   * Attributes as decoded, plus `data` (parsed JSON or text) or `data_base64` (bytes,
   * in either mode: a binary-mode body that is not text is recorded as base64).
   */
  event: Record<string, unknown>;
  path: string;
  receivedAt: number;
}

export interface SinkOptions extends ServeOptions {
  /** Print one line per received event (the demo shows the sink's log this way). */
  log?: boolean;
  /** Serve /_sim/* control endpoints (default true). */
  control?: boolean;
}

export interface SinkFaults {
  /** Answer the next `failNext` deliveries with `failStatus` (and Retry-After). */
  failNext: number;
  failStatus: number;
  retryAfter?: string;
  /** Delay every answer. */
  slowMs: number;
  /** Refuse connections. */
  down: boolean;
  /** Answer 410 Gone to everything. */
  gone: boolean;
  /** When set, the webhook handshake allows only this origin. */
  allowOrigin?: string;
  /** Answer the next `failOptions` webhook handshakes (OPTIONS) with `failStatus`. */
  failOptions: number;
}

const NAME = /^[a-z0-9]{1,20}$/;
/** RFC 2045 5.1: a token is any US-ASCII character but space, controls and tspecials. */
const TOKEN = '[^\\x00-\\x20\\x7f-\\uffff()<>@,;:\\\\"/\\[\\]?=]+';
/** A media type as RFC 2046 uses RFC 2045's grammar for it (with RFC 9110's optional space around ";"). */
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))*$`,
);
/** An absolute URI starts with a scheme (RFC 3986 4.3). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-](\d\d):(\d\d))$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 3986 URI-reference characters, with %-escapes well formed. */
const URI_REF = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const CONTEXT = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
]);

/** RFC 3339 date-time, every field in range (2024-13-45T99:00:00Z is not one). */
function isTime(value: string): boolean {
  const m = TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const leap = (year! % 4 === 0 && year! % 100 !== 0) || year! % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1];
  const offsetOk = !m[9] || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return (
    days !== undefined &&
    day! >= 1 &&
    day! <= days &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 60 &&
    offsetOk
  );
}

/** The text of a body, refusing bytes that are not UTF-8. */
function utf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Invalid(`${what} is not UTF-8`);
  }
}

class Invalid extends Error {}

function need(ok: unknown, why: string): asserts ok {
  if (!ok) throw new Invalid(why);
}

/** Strict percent-decoding: %XX only, and the bytes must be UTF-8. */
function unescapeHeader(name: string, value: string): string {
  need(!/%(?![0-9a-fA-F]{2})/.test(value), `${name}: broken percent-encoding`);
  // Only printable ASCII may stand unencoded (space and '"' not even that).
  need(/^[\x21\x23-\x7e]*$/.test(value), `${name}: characters that must be percent-encoded`);
  const bytes = Buffer.from(
    value.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Invalid(`${name}: percent-encoded bytes are not UTF-8`);
  }
}

/**
 * A CloudEvents String holds no control character (U+0000-U+001F,
 * U+007F-U+009F), no surrogate outside a pair and no noncharacter.
 */
function isCeString(value: string): boolean {
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) return false;
    if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) === 0xfffe) return false;
  }
  return true;
}

/** A JSON member that is null is an attribute that is not set (JSON format 2.2); data may be null. */
function withoutNulls(ev: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ev).filter(([name, v]) => v !== null || name === 'data'));
}

function checkAttributes(ev: Record<string, unknown>): void {
  need(ev.specversion === '1.0', 'specversion must be 1.0');
  for (const required of ['id', 'source', 'type']) {
    need(typeof ev[required] === 'string' && ev[required] !== '', `${required} is required`);
  }
  need(URI_REF.test(ev.source as string), `source "${String(ev.source)}" is not a URI-reference`);
  if (ev.time !== undefined)
    need(typeof ev.time === 'string' && isTime(ev.time), `time "${String(ev.time)}" is not RFC 3339`);
  for (const name of ['subject', 'datacontenttype', 'dataschema']) {
    if (ev[name] !== undefined)
      need(typeof ev[name] === 'string' && ev[name] !== '', `${name} must be a non-empty string`);
  }
  if (ev.datacontenttype !== undefined)
    need(
      MEDIA_TYPE.test(ev.datacontenttype as string),
      `datacontenttype "${String(ev.datacontenttype)}" is not a media type`,
    );
  if (ev.dataschema !== undefined)
    need(
      SCHEME.test(ev.dataschema as string) && URI_REF.test(ev.dataschema as string),
      `dataschema "${String(ev.dataschema)}" is not an absolute URI`,
    );
  for (const [name, value] of Object.entries(ev)) {
    if (name === 'data' || name === 'data_base64') continue;
    need(NAME.test(name), `attribute name "${name}" is not [a-z0-9]{1,20}`);
    if (typeof value === 'string') need(isCeString(value), `${name} holds a character a String may not hold`);
    if (CONTEXT.has(name)) continue;
    // Extension types in JSON: String, Boolean, Integer (32-bit).
    need(
      typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31),
      `extension "${name}" is not a string, boolean or 32-bit integer`,
    );
  }
  need(!('data' in ev && 'data_base64' in ev), 'data and data_base64 together');
  if ('data_base64' in ev)
    need(typeof ev.data_base64 === 'string' && BASE64.test(ev.data_base64), 'data_base64 is not base64');
}

export class SinkSimulator {
  readonly received: ReceivedEvent[] = [];
  readonly faults: SinkFaults = {
    failNext: 0,
    failStatus: 503,
    slowMs: 0,
    down: false,
    gone: false,
    failOptions: 0,
  };
  /** Every POST that reached the sink, accepted or not: when, the answer, the Authorization header. */
  readonly log: { at: number; status: number; authorization?: string; apiKey?: string }[] = [];
  rejected: string[] = [];
  /** TCP connections the sink accepted (clients that share a keep-alive pool open fewer). */
  connections = 0;
  private server!: SimServer;
  private readonly sockets = new Set<Socket>();
  private readonly options: SinkOptions;

  private constructor(options: SinkOptions) {
    this.options = options;
  }

  static async start(options: SinkOptions = {}): Promise<SinkSimulator> {
    const sink = new SinkSimulator(options);
    sink.server = await listen(options, sink.routes());
    const onConnection = (socket: Socket) => {
      if (sink.faults.down) return void socket.destroy();
      sink.connections++;
      sink.sockets.add(socket);
      socket.once('close', () => sink.sockets.delete(socket));
    };
    // TLS servers hand over the raw socket first; both events are watched so "down" works either way.
    sink.server.server.on('connection', onConnection);
    return sink;
  }

  get url(): string {
    return this.server.url;
  }

  get cert(): string | undefined {
    return this.server.cert;
  }

  get requests(): number {
    return this.log.length;
  }

  /** How many times each event (source + id) arrived. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.received) {
      const key = `${String(r.event.source)} ${String(r.event.id)}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    return m;
  }

  failNext(count: number, status = 503, retryAfter?: string): void {
    Object.assign(this.faults, { failNext: count, failStatus: status, retryAfter });
  }

  setDown(down: boolean): void {
    this.faults.down = down;
    if (down) for (const s of this.sockets) s.destroy();
  }

  reset(): void {
    this.received.length = 0;
    this.rejected.length = 0;
    this.log.length = 0;
    this.connections = 0;
    Object.assign(this.faults, {
      failNext: 0,
      failStatus: 503,
      retryAfter: undefined,
      slowMs: 0,
      down: false,
      gone: false,
      allowOrigin: undefined,
      failOptions: 0,
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await this.server.close();
  }

  private routes(): Router {
    const r = new Router();
    if (this.options.control !== false) {
      r.on('GET', '/_sim/events', (_req, res) => sendJson(res, 200, this.received));
      r.on('GET', '/_sim/state', (_req, res) =>
        sendJson(res, 200, {
          faults: this.faults,
          requests: this.requests,
          received: this.received.length,
          rejected: this.rejected,
        }),
      );
      r.on('POST', '/_sim/faults', (req, res) => {
        const body = JSON.parse(req.body || '{}') as Partial<SinkFaults>;
        Object.assign(this.faults, body);
        if (body.down !== undefined) this.setDown(body.down);
        sendJson(res, 200, this.faults);
      });
      r.on('POST', '/_sim/reset', (_req, res) => {
        this.reset();
        sendJson(res, 200, { reset: true });
      });
    }
    r.on('OPTIONS', /^\/(?!_sim\/).*$/, (req, res) => {
      if (this.faults.failOptions > 0) {
        this.faults.failOptions--;
        return sendJson(res, this.faults.failStatus, { error: 'failure requested' });
      }
      // Webhook abuse protection: allow any origin that asks.
      const origin = String(req.headers['webhook-request-origin'] ?? '');
      const allowed = origin && (!this.faults.allowOrigin || this.faults.allowOrigin === origin);
      res.writeHead(allowed ? 200 : 403, {
        allow: 'POST',
        'webhook-allowed-origin': allowed ? origin : (this.faults.allowOrigin ?? ''),
        'content-length': 0,
      });
      res.end();
    });
    r.on('POST', /^\/(?!_sim\/).*$/, (req, res) => this.receive(req, res));
    return r;
  }

  private async receive(req: SimRequest, res: http.ServerResponse): Promise<void> {
    const entry: SinkSimulator['log'][number] = {
      at: Date.now(),
      status: 0,
      authorization: req.headers.authorization,
      apiKey: req.headers['x-api-key'] as string | undefined,
    };
    this.log.push(entry);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      sendJson(res, status, body, headers);
    };
    if (this.faults.slowMs > 0) await new Promise((r) => setTimeout(r, this.faults.slowMs));
    if (this.faults.gone) return answer(410, { error: 'gone' });
    if (this.faults.failNext > 0) {
      this.faults.failNext--;
      const headers: Record<string, string> = this.faults.retryAfter
        ? { 'retry-after': this.faults.retryAfter }
        : {};
      return answer(this.faults.failStatus, { error: 'failure requested' }, headers);
    }
    try {
      const events = this.parse(req);
      for (const { mode, event } of events) {
        this.received.push({ mode, event, path: req.path, receivedAt: Date.now() });
        if (this.options.log) {
          console.log(
            `sink  ${mode.padEnd(10)} ${String(event.type)}  ${String(event.subject ?? '')}  id=${String(event.id)}`,
          );
        }
      }
      answer(202, undefined);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      this.rejected.push(err.message);
      answer(400, { error: err.message });
    }
  }

  private parse(req: SimRequest): { mode: ReceivedEvent['mode']; event: Record<string, unknown> }[] {
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    const json = (bytes: Buffer): unknown => {
      const text = utf8(bytes, 'the body');
      try {
        return JSON.parse(text);
      } catch {
        throw new Invalid('the body is not JSON');
      }
    };
    if (type.startsWith('application/cloudevents-batch+json')) {
      const list = json(req.raw);
      need(Array.isArray(list), 'a batch must be a JSON array');
      return list.map((entry) => {
        need(entry && typeof entry === 'object' && !Array.isArray(entry), 'a batch entry must be an object');
        const ev = withoutNulls(entry as Record<string, unknown>);
        checkAttributes(ev);
        return { mode: 'batch' as const, event: ev };
      });
    }
    if (type.startsWith('application/cloudevents+json')) {
      const body = json(req.raw);
      need(
        body && typeof body === 'object' && !Array.isArray(body),
        'a structured event must be a JSON object',
      );
      const ev = withoutNulls(body as Record<string, unknown>);
      checkAttributes(ev);
      return [{ mode: 'structured', event: ev }];
    }
    // Binary mode.
    need(
      !('ce-datacontenttype' in req.headers),
      'binary mode carries datacontenttype in Content-Type, not ce-datacontenttype',
    );
    const ev: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!name.startsWith('ce-')) continue;
      need(typeof value === 'string', `${name} given twice`);
      ev[name.slice(3)] = unescapeHeader(name, value);
    }
    if (req.headers['content-type']) ev.datacontenttype = req.headers['content-type'];
    checkAttributes(ev);
    if (req.raw.length > 0) {
      // JSON is parsed, text kept as text, anything else recorded as bytes (base64).
      if (/[/+]json(;|$)/.test(type)) ev.data = json(req.raw);
      else if (/^text\/|[/+]xml(;|$)|charset=/.test(type)) ev.data = utf8(req.raw, 'the body');
      else ev.data_base64 = req.raw.toString('base64');
    }
    return [{ mode: 'binary', event: ev }];
  }
}
