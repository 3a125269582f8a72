/**
 * What a message may make a request node do, and no more: set the path, the
 * query and the body of a request to the host its config node names. A path
 * is a path on that host (no scheme, no other host, no `.`/`..` segments
 * written plainly or %-encoded, no backslash); placeholders fill one segment
 * each; the method is one the node allows (read-only unless the node says
 * otherwise); headers that carry credentials never come back in a message.
 * No Node-RED import: both request nodes and their tests use it as it is.
 */
import { CodedError } from './errors';
import type { HeaderMap } from './http';

export const RequestCodes = {
  PATH_INVALID: 'REQUEST_PATH_INVALID',
  QUERY_INVALID: 'REQUEST_QUERY_INVALID',
  METHOD_NOT_ALLOWED: 'REQUEST_METHOD_NOT_ALLOWED',
  BODY_INVALID: 'REQUEST_BODY_INVALID',
} as const;

/** Which methods a node allows: reading only (the default), or writing too. */
export type MethodPolicy = 'read' | 'write';

export const READ_METHODS: readonly string[] = ['GET', 'HEAD'];
export const WRITE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

const MAX_PATH = 2048;
const MAX_QUERY_VALUE = 4096;
const MAX_QUERY_PARAMS = 64;
/** A control character anywhere (no regex: the linter keeps those out of patterns). */
const hasControl = (text: string) => [...text].some((c) => c < ' ' || c === '\u007f');
/** %-escapes a path may not hide: dot, slash, backslash, and an escaped percent (a second decoding). */
const HIDDEN = /%(2e|2f|5c|25)/i;

function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw new CodedError(code, message, details);
}

/**
 * The method to use: the node's, or the message's where the node leaves it to
 * the message (`'msg'`); refused unless the node's policy allows it.
 */
export function pickMethod(configured: string, fromMsg: unknown, policy: MethodPolicy): string {
  const wanted = configured === 'msg' ? fromMsg : configured;
  const method = typeof wanted === 'string' ? wanted.trim().toUpperCase() : '';
  if (!READ_METHODS.includes(method) && !WRITE_METHODS.includes(method)) {
    refuse(
      RequestCodes.METHOD_NOT_ALLOWED,
      `"${String(wanted).slice(0, 20)}" is not a method this node sends (GET, HEAD, POST, PUT, PATCH, DELETE).`,
    );
  }
  if (policy === 'read' && !READ_METHODS.includes(method)) {
    refuse(
      RequestCodes.METHOD_NOT_ALLOWED,
      `${method} changes things: this node only reads (GET, HEAD). Allow changes in its settings to send ${method}.`,
      { method },
    );
  }
  return method;
}

/**
 * A path on the configured host, checked: it starts with one `/`, holds no
 * scheme, host, query, fragment, backslash, control character or space, no
 * `.`/`..` segment and no %-escape of `.`, `/`, `\` or `%`. `prefixes` limit
 * it further (e.g. `/api/`, `/cloudapi/`).
 */
export function checkPath(path: unknown, prefixes: readonly string[] = []): string {
  if (typeof path !== 'string' || path === '')
    refuse(RequestCodes.PATH_INVALID, 'Give the path as a string, e.g. /cloudapi/1.0.0/orgs.');
  const shown = JSON.stringify(path.slice(0, 80));
  const bad = (why: string): never =>
    refuse(RequestCodes.PATH_INVALID, `The path ${shown} ${why}.`, { path: path.slice(0, 200) });
  if (path.length > MAX_PATH) bad(`is longer than ${MAX_PATH} characters`);
  if (!path.startsWith('/')) bad('must start with / (a path on the configured host, not a URL)');
  if (path.startsWith('//')) bad('names another host (it starts with //)');
  if (hasControl(path) || path.includes(' ')) bad('holds a control character or a space');
  if (path.includes('\\')) bad('holds a backslash');
  if (/[?#]/.test(path)) bad('holds ? or #: give the query in msg.query');
  if (HIDDEN.test(path)) bad('hides a dot, slash, backslash or percent sign in a %-escape');
  if (/%(?![0-9a-f]{2})/i.test(path)) bad('has a broken %-escape');
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) bad('has a . or .. segment');
  if (prefixes.length && !prefixes.some((p) => path.startsWith(p)))
    bad(`must start with ${prefixes.join(' or ')}`);
  return path;
}

/** A value read from `msg` by a dotted name (`payload.vm.id`), own properties only. */
function property(msg: Record<string, unknown>, name: string): unknown {
  let value: unknown = msg;
  for (const part of name.split('.')) {
    if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Fills `{{name}}` placeholders from the message (`{{vmId}}`,
 * `{{payload.id}}`): each value becomes exactly one path segment, %-encoded,
 * so it cannot add segments, a query or another host. The result is checked
 * as any path is.
 */
export function fillPath(
  template: string,
  msg: Record<string, unknown>,
  prefixes: readonly string[] = [],
): string {
  const filled = template.replace(
    /\{\{\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\}\}/g,
    (_all, name: string) => {
      const value = property(msg, name);
      if ((typeof value !== 'string' && typeof value !== 'number') || String(value) === '') {
        refuse(
          RequestCodes.PATH_INVALID,
          `The path's placeholder {{${name}}} has no value in the message (msg.${name}: a string or number).`,
        );
      }
      const text = String(value);
      if (text === '.' || text === '..' || /[/\\]/.test(text) || hasControl(text) || text.length > 512) {
        refuse(
          RequestCodes.PATH_INVALID,
          `msg.${name} cannot be one path segment (no /, \\, . or .., at most 512 characters).`,
        );
      }
      // One segment: everything encoded but the characters a segment may hold as they are.
      return encodeURIComponent(text).replace(/%3A/gi, ':').replace(/%40/gi, '@');
    },
  );
  if (/\{\{|\}\}/.test(filled))
    refuse(
      RequestCodes.PATH_INVALID,
      `The path template ${JSON.stringify(template.slice(0, 80))} has a broken placeholder.`,
    );
  return checkPath(filled, prefixes);
}

/**
 * A query from `msg.query` (an object of strings, numbers and booleans; a list
 * repeats the name), with the node's own parameters last (they win). Names
 * are plain words; values are bounded. Returns '' or '?a=b&...'.
 */
export function buildQuery(query: unknown, own: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (query !== undefined && query !== null) {
    if (typeof query !== 'object' || Array.isArray(query))
      refuse(RequestCodes.QUERY_INVALID, 'Give msg.query as an object, e.g. {"filter": "name==web-01"}.');
    const entries = Object.entries(query as Record<string, unknown>);
    if (entries.length > MAX_QUERY_PARAMS)
      refuse(RequestCodes.QUERY_INVALID, `msg.query has more than ${MAX_QUERY_PARAMS} parameters.`);
    for (const [name, raw] of entries) {
      if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name))
        refuse(
          RequestCodes.QUERY_INVALID,
          `The query parameter name ${JSON.stringify(name.slice(0, 40))} is not a plain word.`,
        );
      if (name in own) continue;
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (value === undefined || value === null) continue;
        if (!['string', 'number', 'boolean'].includes(typeof value))
          refuse(RequestCodes.QUERY_INVALID, `msg.query.${name} must be a string, number or boolean.`);
        const text = String(value);
        if (text.length > MAX_QUERY_VALUE || hasControl(text))
          refuse(RequestCodes.QUERY_INVALID, `msg.query.${name} is too long or holds control characters.`);
        params.append(name, text);
      }
    }
  }
  for (const [name, value] of Object.entries(own)) params.set(name, value);
  const text = params.toString().replace(/\+/g, '%20');
  return text ? `?${text}` : '';
}

/** Response headers that carry credentials or session state: never copied into a message. */
const SECRET_HEADERS = new Set([
  'set-cookie',
  'authorization',
  'proxy-authorization',
  'x-vmware-vcloud-access-token',
  'x-vcloud-authorization',
  'cookie',
]);

/** An answer's headers as a message may carry them: without those that hold credentials. */
export function safeHeaders(headers: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SECRET_HEADERS.has(name.toLowerCase())) continue;
    out[name] = value;
  }
  return out;
}

/** A body a message may send: a string, a Buffer, or a value JSON can write; refused otherwise. */
export function bodyText(payload: unknown): string | undefined {
  if (payload === undefined || payload === null || payload === '') return undefined;
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  try {
    return JSON.stringify(payload);
  } catch (err) {
    return refuse(RequestCodes.BODY_INVALID, `msg.payload cannot be sent as JSON: ${(err as Error).message}`);
  }
}

/** A Content-Type a message may name: one media type, nothing that could start another header. */
export function checkContentType(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (
    typeof value !== 'string' ||
    !/^[\w.+-]+\/[\w.+*-]+(\s*;\s*[\w.-]+=[\w.+"-]+)*$/.test(value) ||
    value.length > 200
  ) {
    return refuse(
      RequestCodes.BODY_INVALID,
      `msg.contentType ${JSON.stringify(String(value).slice(0, 60))} is not a media type.`,
    );
  }
  return value;
}
