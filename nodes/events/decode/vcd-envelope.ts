/**
 * The VCD message-bus envelope: `{"type", "headers", "payload"}` where `payload`
 * is itself JSON or XML encoded as a string. Parsed as JSON, then the payload by
 * `headers.contentType` or its first character; unknown fields are kept.
 */
import type { CodedError } from '../../common/errors';
import { hasStringFields } from '../../common/guards';
import { parseXml } from '../../common/xml';
import { DecodeCodes, decodeError } from './errors';
import { extended } from '../../common/objects';

/** The envelope types the VCD extensibility docs list (message-broker.md). */
export const VCD_ENVELOPE_TYPES: ReadonlySet<string> = new Set([
  'EVENT',
  'EXTERNAL_EVENT',
  'TASK',
  'EXTENSION_TASK',
  'API_REQUEST',
  'API_RESPONSE',
  'BEHAVIOR_INVOCATION',
  'BEHAVIOR_RESPONSE',
]);

export interface VcdEnvelope {
  type: string;
  headers: Record<string, unknown>;
  /** The inner payload, parsed (object from JSON or XML; a string stays a string). */
  payload: unknown;
  [field: string]: unknown;
}

function contentType(headers: Record<string, unknown>): string {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase().replace(/[-_]/g, '') === 'contenttype' && typeof v === 'string')
      return v.toLowerCase();
  }
  return '';
}

/** XML is slow to read (about 1 s per MB): real notifications are a few KB, so 64 KiB is plenty. */
export const MAX_XML_BYTES = 64 * 1024;

/** Parses an inner payload string as JSON or XML; plain text stays as it is. */
export function parseInnerPayload(raw: string, type: string): unknown {
  const text = raw.trim();
  const isXml = type.includes('xml') || text.startsWith('<');
  const isJson = type.includes('json') || text.startsWith('{') || text.startsWith('[');
  if (isXml && !isJson) {
    if (text.length > MAX_XML_BYTES) {
      throw decodeError(
        DecodeCodes.TOO_LARGE,
        `The envelope payload is XML of ${text.length} characters, more than the ${MAX_XML_BYTES} accepted`,
        raw,
      );
    }
    try {
      return parseXml(text);
    } catch (err) {
      throw decodeError(
        DecodeCodes.BAD_PAYLOAD,
        `The envelope payload is not acceptable XML: ${(err as CodedError).message}`,
        raw,
      );
    }
  }
  if (isJson) {
    try {
      return JSON.parse(text);
    } catch {
      throw decodeError(DecodeCodes.BAD_PAYLOAD, 'The envelope payload is not valid JSON', raw);
    }
  }
  return raw;
}

/**
 * Parses a message-bus envelope. A type this package does not know (VCD adds
 * types over releases) is kept with its payload, not refused; a message without
 * a type is not an envelope (DECODE_UNKNOWN_TYPE).
 */
export function parseVcdEnvelope(text: string): VcdEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw decodeError(DecodeCodes.INVALID_JSON, 'The VCD message is not valid JSON', text);
  }
  return envelopeFrom(value, text);
}

/** An envelope's shape: an upper-case type and a payload (the type list may grow). */
export function looksLikeEnvelope(value: unknown): boolean {
  if (!hasStringFields(value, 'type') || !('payload' in value)) return false;
  const type = value.type as string;
  return (
    VCD_ENVELOPE_TYPES.has(type) || (/^[A-Z][A-Z0-9_]*$/.test(type) && typeof value.headers === 'object')
  );
}

/** Checks an already-parsed object as an envelope (`raw` only for the error excerpt). */
export function envelopeFrom(value: unknown, raw?: string): VcdEnvelope {
  const excerptOf = raw ?? value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'The VCD message is not an envelope object', excerptOf);
  }
  const env = value as Record<string, unknown>;
  if (typeof env.type !== 'string' || env.type === '') {
    throw decodeError(
      DecodeCodes.UNKNOWN_TYPE,
      `The VCD message has no envelope type (${JSON.stringify(env.type ?? null)}); VCD sends e.g. ${[...VCD_ENVELOPE_TYPES].join(', ')}`,
      excerptOf,
    );
  }
  const headers =
    env.headers && typeof env.headers === 'object' && !Array.isArray(env.headers)
      ? (env.headers as Record<string, unknown>)
      : {};
  const payload =
    typeof env.payload === 'string' ? parseInnerPayload(env.payload, contentType(headers)) : env.payload;
  return extended(env, { type: env.type, headers, payload });
}
