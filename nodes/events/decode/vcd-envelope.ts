/**
 * The VCD message-bus envelope: `{"type", "headers", "payload"}` where `payload`
 * is itself JSON or XML encoded as a string. Parsed as JSON, then the payload by
 * `headers.contentType` or its first character; unknown fields are kept.
 */
import { XMLValidator } from 'fast-xml-parser';
import { parseXml } from '../../common/xml';
import { DecodeCodes, decodeError } from './errors';

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

/** Parses an inner payload string as JSON or XML; plain text stays as it is. */
export function parseInnerPayload(raw: string, type: string): unknown {
  const text = raw.trim();
  const isXml = type.includes('xml') || text.startsWith('<');
  const isJson = type.includes('json') || text.startsWith('{') || text.startsWith('[');
  if (isXml && !isJson) {
    if (XMLValidator.validate(text) !== true) {
      throw decodeError(DecodeCodes.BAD_PAYLOAD, 'The envelope payload is not well-formed XML', raw);
    }
    return parseXml(text);
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

export function parseVcdEnvelope(text: string): VcdEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw decodeError(DecodeCodes.INVALID_JSON, 'The VCD message is not valid JSON', text);
  }
  return envelopeFrom(value, text);
}

/** Checks an already-parsed object as an envelope (`raw` only for the error excerpt). */
export function envelopeFrom(value: unknown, raw?: string): VcdEnvelope {
  const excerptOf = raw ?? JSON.stringify(value) ?? String(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'The VCD message is not an envelope object', excerptOf);
  }
  const env = value as Record<string, unknown>;
  if (typeof env.type !== 'string' || !VCD_ENVELOPE_TYPES.has(env.type)) {
    throw decodeError(
      DecodeCodes.UNKNOWN_TYPE,
      `Unknown VCD envelope type ${JSON.stringify(env.type ?? null)}; known: ${[...VCD_ENVELOPE_TYPES].join(', ')}`,
      excerptOf,
    );
  }
  const headers =
    env.headers && typeof env.headers === 'object' && !Array.isArray(env.headers)
      ? (env.headers as Record<string, unknown>)
      : {};
  const payload =
    typeof env.payload === 'string' ? parseInnerPayload(env.payload, contentType(headers)) : env.payload;
  return { ...env, type: env.type, headers, payload };
}
