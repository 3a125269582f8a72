/**
 * CloudEvents v1.0.2, written and read exactly as the spec says: attribute
 * names checked, `time` passed through as the source wrote it (no rounding, no
 * change of offset), binary-mode header values percent-encoded as UTF-8, binary
 * data as `data_base64`. Plain objects, no SDK class: the SDK rounds time to
 * milliseconds and does not percent-encode.
 */
import { createHash } from 'node:crypto';
import { CodedError } from '../common/errors';
import { hasStringFields } from '../common/guards';
import { isRfc3339, readTime } from '../common/times';
import type { InfraEvent } from '../common/infra-event';

export const CeCodes = {
  INVALID: 'CE_INVALID',
  INVALID_ATTRIBUTE: 'CE_INVALID_ATTRIBUTE',
  /** The data cannot be written as JSON: a circular object, a BigInt, a toJSON that throws. */
  DATA_UNSERIALIZABLE: 'CE_DATA_UNSERIALIZABLE',
} as const;

export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  time?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
}

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
const NAME = /^[a-z0-9]{1,20}$/;

/** RFC 3986 URI-reference: its characters, well-formed %-escapes, and a valid scheme if it has one. */
export function isUriReference(value: string): boolean {
  // Brackets only around an IP-literal host (RFC 3986 3.2.2), e.g. https://[::1]:8080/.
  const rest = value.replace(
    /^((?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^@/?#[\]]*@)?)\[[0-9A-Fa-f:.]+\]/,
    '$1h',
  );
  if (!/^(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/.test(rest)) return false;
  // One "#" at most: it starts the fragment, which cannot hold another.
  if (rest.indexOf('#') !== rest.lastIndexOf('#')) return false;
  const scheme = /^([^:/?#]+):/.exec(value)?.[1];
  return scheme === undefined || /^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * What a CloudEvents String may not hold (CloudEvents 1.0.2, Type System):
 * control characters (U+0000-U+001F, U+007F-U+009F), surrogates not in a
 * pair, and Unicode noncharacters. One character class: nothing to backtrack.
 */
const NOT_STRING = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

/** An HTTP token (RFC 9110 5.6.2): what a media type's names are made of. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/**
 * A media type (RFC 2046, in the grammar of RFC 2045 5.1 and RFC 9110 8.3.1):
 * type/subtype and parameters, a parameter's value a token or a quoted string.
 * Every repetition starts with a `;` or a `"`: nothing to backtrack.
 */
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\[\\t\\x20-\\x7e])*"))*$`,
);

/** A media type as RFC 2046 has it, e.g. `application/json; charset=utf-8` (what `datacontenttype` must be). */
export function isMediaType(value: string): boolean {
  return value.length <= 1024 && MEDIA_TYPE.test(value);
}

/** A value quoted in an error message: JSON where it can be, its type where not (a BigInt, a circle). */
function quoted(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function invalid(message: string, code: string = CeCodes.INVALID): never {
  throw new CodedError(code, message);
}

/** Checks an extension attribute name: lower-case letters and digits, at most 20, not "data". */
export function checkAttributeName(name: string): string {
  if (!NAME.test(name) || name === 'data' || name === 'data_base64') {
    invalid(
      `"${name}" is not a valid CloudEvents attribute name (a-z, 0-9, at most 20 characters, not "data")`,
      CeCodes.INVALID_ATTRIBUTE,
    );
  }
  return name;
}

/** A CloudEvents String: refuses the characters the spec rules out, naming where they are. */
function checkString(what: string, value: string, code: string = CeCodes.INVALID): void {
  if (NOT_STRING.test(value))
    invalid(
      `${what} holds a character a CloudEvents String may not hold (a control character, a lone surrogate or a noncharacter)`,
      code,
    );
}

/**
 * Extension values are the spec's types: String, Boolean, or Integer (32-bit:
 * a 1.5 or a 2^40 has no CloudEvents type, so it is refused, not rounded).
 */
function checkExtensionValue(name: string, value: unknown): void {
  if (typeof value === 'string')
    return checkString(`The extension "${name}"`, value, CeCodes.INVALID_ATTRIBUTE);
  if (typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
    return;
  invalid(
    `The extension "${name}" must be a string, a boolean or a 32-bit integer, not ${quoted(value)}`,
    CeCodes.INVALID_ATTRIBUTE,
  );
}

/** id, source and type: present, non-empty Strings; source a URI-reference. */
function checkRequired(ce: CloudEvent): void {
  if (ce.specversion !== '1.0') invalid(`specversion must be "1.0", not ${quoted(ce.specversion)}`);
  for (const name of ['id', 'source', 'type'] as const) {
    if (typeof ce[name] !== 'string' || ce[name] === '')
      invalid(`The required attribute "${name}" is missing or empty`);
    checkString(name, ce[name]);
  }
  if (!isUriReference(ce.source)) invalid(`source ${quoted(ce.source)} is not a URI-reference`);
}

/**
 * The optional context attributes, where present: non-empty (an empty one is
 * not an absent one), time RFC 3339, datacontenttype a media type, dataschema
 * an absolute URI (it names a schema wherever the event goes).
 */
function checkOptional(ce: CloudEvent): void {
  for (const name of ['subject', 'datacontenttype', 'dataschema', 'time'] as const) {
    const value = ce[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '')
      invalid(`${name} must be a non-empty string where present`);
    checkString(name, value);
  }
  if (ce.time !== undefined && !isRfc3339(ce.time))
    invalid(`time ${quoted(ce.time)} is not an RFC 3339 timestamp`);
  if (ce.datacontenttype !== undefined && !isMediaType(ce.datacontenttype))
    invalid(
      `datacontenttype ${quoted(ce.datacontenttype)} is not a media type (RFC 2046), e.g. application/json`,
    );
  if (
    ce.dataschema !== undefined &&
    !(isUriReference(ce.dataschema) && /^[A-Za-z][A-Za-z0-9+.-]*:./.test(ce.dataschema))
  )
    invalid(`dataschema ${quoted(ce.dataschema)} is not an absolute URI`);
}

/**
 * Checks a CloudEvent as the spec has it: required attributes, names, types
 * and values of every attribute, data and data_base64 not both. Returns it
 * unchanged; throws CE_INVALID (CE_INVALID_ATTRIBUTE for extensions). A
 * `null` attribute is refused here: where JSON says null, the reader has left
 * the attribute out already (see withoutNulls).
 */
export function validateCloudEvent(ce: CloudEvent): CloudEvent {
  if (!ce || typeof ce !== 'object' || Array.isArray(ce)) invalid('A CloudEvent must be an object');
  checkRequired(ce);
  checkOptional(ce);
  if (ce.data !== undefined && ce.data_base64 !== undefined)
    invalid('A CloudEvent has data or data_base64, not both');
  if (ce.data_base64 !== undefined && (typeof ce.data_base64 !== 'string' || !BASE64.test(ce.data_base64)))
    invalid('data_base64 is not base64');
  // for...in, not Object.entries: no array per attribute on every event.
  for (const name in ce) {
    if (!Object.hasOwn(ce, name) || CONTEXT.has(name) || name === 'data' || name === 'data_base64') continue;
    checkExtensionValue(checkAttributeName(name), ce[name]);
  }
  return ce;
}

/**
 * The attributes of an event read from JSON, `null` ones left out: the JSON
 * format has a null attribute mean an unset one (JSON format 2.2). `data`
 * keeps its null (an explicit null payload, 3.1.1). A new object; the input is
 * not changed.
 */
export function withoutNulls(value: Record<string, unknown>): CloudEvent {
  const ce = {} as CloudEvent;
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const v = value[name];
    if (v !== null || name === 'data') ce[name] = v;
  }
  return ce;
}

/** Characters a binary-mode header value keeps as they are: U+0021..U+007E except `"` and `%`. */
const HEADER_SAFE = /^[\x21\x23\x24\x26-\x7e]*$/;

/**
 * Percent-encodes a binary-mode header value: space, `"`, `%` and everything
 * outside U+0021..U+007E, as UTF-8 bytes (HTTP binding 3.1.3.2).
 */
export function percentEncode(value: string): string {
  // Most values (ids, types, URIs, timestamps) need no escape: one regex test instead of a loop per character.
  if (HEADER_SAFE.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x25) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a percent-encoded header value; refuses broken escapes and invalid UTF-8. */
export function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  if (/%(?![0-9a-fA-F]{2})/.test(value)) invalid(`Broken percent-encoding in "${value}"`);
  const bytes = Buffer.from(
    value.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return invalid(`Percent-encoded value "${value}" is not UTF-8`);
  }
}

/**
 * JSON.stringify that fails with a code: a message's payload may hold anything
 * (a circular object, a BigInt, a getter that throws), and a TypeError thrown
 * while an event is encoded must not leave the node without one.
 */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    return invalid(
      `The event data cannot be written as JSON: ${(err as Error)?.message ?? String(err)}`,
      CeCodes.DATA_UNSERIALIZABLE,
    );
  }
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isJsonType = (t: string | undefined) => !t || /[/+]json(;|$)/i.test(t);

/** `ce-<name>` made once per attribute name, not per event (the names are few: the context and some extensions). */
const headerNames = new Map<string, string>();
function headerName(attribute: string): string {
  let name = headerNames.get(attribute);
  if (name === undefined) {
    name = `ce-${attribute}`;
    // Extension names come from messages: the table stays small whatever they send.
    if (headerNames.size < 256) headerNames.set(attribute, name);
  }
  return name;
}

/** The HTTP binary mode: `ce-*` headers (percent-encoded), Content-Type, body. */
export function toBinary(ce: CloudEvent): {
  headers: Record<string, string>;
  body: string | Buffer | undefined;
} {
  const headers: Record<string, string> = {};
  for (const name in ce) {
    const value = ce[name];
    if (!Object.hasOwn(ce, name) || value === undefined) continue;
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype') continue;
    headers[headerName(name)] = percentEncode(String(value));
  }
  let body: string | Buffer | undefined;
  let type = ce.datacontenttype;
  if (ce.data_base64 !== undefined) {
    body = Buffer.from(ce.data_base64, 'base64');
    type ??= 'application/octet-stream';
  } else if (isBytes(ce.data)) {
    body = Buffer.from(ce.data);
    type ??= 'application/octet-stream';
  } else if (typeof ce.data === 'string' && !isJsonType(ce.datacontenttype)) {
    body = ce.data;
  } else if (ce.data !== undefined) {
    body = jsonText(ce.data);
    type ??= 'application/json';
  }
  // A receiver takes a request whose Content-Type is an event format for an event in structured mode.
  if (type && /^application\/cloudevents/i.test(type))
    invalid(
      `datacontenttype "${type}" is a CloudEvents format: in binary mode the receiver would read the data as the event itself; send it in structured mode`,
    );
  if (type) headers['content-type'] = type;
  return { headers, body };
}

/** The JSON event format: binary data goes to data_base64. */
export function toJsonObject(ce: CloudEvent): Record<string, unknown> {
  if (!isBytes(ce.data)) return { ...ce };
  const { data, ...rest } = ce;
  return Object.assign(rest, { data_base64: Buffer.from(data).toString('base64') });
}

export function toStructured(ce: CloudEvent): string {
  return jsonText(toJsonObject(ce)) as string;
}

/** A batch from events already written with toStructured (each is encoded once, when it is queued). */
export function batchOf(structured: string[]): string {
  return `[${structured.join(',')}]`;
}

export function toBatch(events: CloudEvent[]): string {
  return batchOf(events.map(toStructured));
}

export const STRUCTURED_TYPE = 'application/cloudevents+json; charset=utf-8';
export const BATCH_TYPE = 'application/cloudevents-batch+json; charset=utf-8';

/** Extension values: short, lower-case identifiers of where an event comes from. */
function extensionsOf(e: InfraEvent): Record<string, string> {
  const ext: Record<string, string> = {};
  if (e.vcd?.org) ext.vcdorg = e.vcd.org;
  if (e.vcd?.entityType) ext.vcdentitytype = e.vcd.entityType;
  if (e.aci) {
    ext.aciclass = e.aci.className;
    ext.acistatus = e.aci.status;
  }
  return ext;
}

type ExtensionValue = string | number | boolean;

/**
 * Extension attributes named by a user or a message: names and values checked,
 * context names refused. A null value unsets the extension, as null does in
 * the JSON format.
 */
function checkedExtensions(extensions: unknown, where: string): Record<string, ExtensionValue | null> {
  if (extensions === undefined || extensions === null) return {};
  if (typeof extensions !== 'object' || Array.isArray(extensions)) {
    invalid(`${where} must be an object of name: value`, CeCodes.INVALID_ATTRIBUTE);
  }
  const ext: Record<string, ExtensionValue | null> = {};
  for (const [name, value] of Object.entries(extensions as Record<string, unknown>)) {
    if (CONTEXT.has(name))
      invalid(`"${name}" is a context attribute, not an extension`, CeCodes.INVALID_ATTRIBUTE);
    checkAttributeName(name);
    if (value !== null) checkExtensionValue(name, value);
    ext[name] = value as ExtensionValue | null;
  }
  return ext;
}

/** Checks extension attributes as a user wrote them (the node's settings): throws what a message would meet. */
export function checkExtensions(extensions: unknown, where: string): void {
  checkedExtensions(extensions, where);
}

/** Sets the attributes given: undefined leaves one as it is, null unsets it. */
function assign(ce: CloudEvent, values: Readonly<Record<string, unknown>>): CloudEvent {
  for (const name in values) {
    if (!Object.hasOwn(values, name)) continue;
    const value = values[name];
    if (value === null) delete ce[name];
    else if (value !== undefined) ce[name] = value;
  }
  return ce;
}

/** A time a message or a hand-made event gives, read as real systems write it; what cannot be read stays, to be refused. */
const timeOf = (time: unknown): unknown =>
  time === undefined || time === null ? time : (readTime(time) ?? time);

/**
 * InfraEvent → CloudEvent, 1:1 (id, source, type, time, subject, data) plus a few
 * extensions; an event decoded from a CloudEvent gets its extensions,
 * datacontenttype and dataschema back, and no time when it came without one.
 */
export function fromInfraEvent(e: InfraEvent): CloudEvent {
  const facts = e.cloudevent && typeof e.cloudevent === 'object' ? e.cloudevent : {};
  const untimed = e.origin === 'cloudevent' && e.timeSource === 'receipt';
  const ce: CloudEvent = {
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.time && !untimed ? { time: timeOf(e.time) as string } : {}),
    ...(e.subject ? { subject: e.subject } : {}),
    datacontenttype:
      facts.datacontenttype ?? (isBytes(e.data) ? 'application/octet-stream' : 'application/json'),
    ...(facts.dataschema ? { dataschema: facts.dataschema } : {}),
    ...extensionsOf(e),
  };
  assign(ce, checkedExtensions(facts.extensions, 'cloudevent.extensions'));
  if (e.data !== undefined) ce.data = e.data;
  return validateCloudEvent(ce);
}

const OVERRIDDEN = ['type', 'source', 'subject', 'id', 'datacontenttype', 'dataschema'] as const;

/** Only the attributes a message names explicitly replace those of the event; a null one unsets it. */
export function withOverrides(ce: CloudEvent, override: MessageAttributes): CloudEvent {
  const out: CloudEvent = Object.assign({}, ce); // not a spread: see common/objects
  for (const name of OVERRIDDEN) {
    if (override[name] === null) delete out[name];
    else if (override[name] !== undefined) out[name] = override[name];
  }
  if (override.time === null) delete out.time;
  else if (override.time !== undefined) out.time = timeOf(override.time) as string;
  assign(out, checkedExtensions(override.extensions, 'msg.cloudevent.extensions'));
  return validateCloudEvent(out);
}

export function isInfraEvent(value: unknown): value is InfraEvent {
  return hasStringFields(value, 'id', 'source', 'type', 'summary', 'origin');
}

/** Attributes a message (msg.cloudevent) or the node's settings give; null unsets one. */
export interface MessageAttributes {
  type?: string | null;
  source?: string | null;
  subject?: string | null;
  id?: string | null;
  time?: string | null;
  datacontenttype?: string | null;
  dataschema?: string | null;
  /** Extension attributes; names are checked. */
  extensions?: Record<string, ExtensionValue | null>;
}

/**
 * Any message payload → CloudEvent. Without an id, the id is a hash of source,
 * type, subject and data, so the same payload always gets the same id (a
 * receiver may drop it as a duplicate: that is the point of deterministic ids).
 */
export function fromPayload(data: unknown, attrs: MessageAttributes): CloudEvent {
  if (!attrs.type) invalid('Set the CloudEvent type (in the node, or msg.cloudevent.type)');
  if (!attrs.source) invalid('Set the CloudEvent source (in the node, or msg.cloudevent.source)');
  const ext = checkedExtensions(attrs.extensions, 'msg.cloudevent.extensions');
  const bytes = isBytes(data);
  const id =
    attrs.id ??
    createHash('sha256')
      .update(jsonText([attrs.source, attrs.type, attrs.subject ?? null]) as string)
      .update(bytes ? Buffer.from(data) : (jsonText(data) ?? ''))
      .digest('hex')
      .slice(0, 32);
  const ce = assign(
    { specversion: '1.0', id, source: attrs.source, type: attrs.type },
    {
      time: timeOf(attrs.time),
      subject: attrs.subject,
      datacontenttype:
        attrs.datacontenttype ??
        (bytes ? 'application/octet-stream' : typeof data === 'string' ? 'text/plain' : 'application/json'),
      dataschema: attrs.dataschema,
    },
  );
  assign(ce, ext);
  if (data !== undefined) ce.data = data;
  return validateCloudEvent(ce);
}
