/**
 * The one decoding path: whatever arrives (from our subscribe nodes, or from
 * core MQTT, AMQP and HTTP nodes) → InfraEvents. Detects the format, or is told.
 */
import type { InfraEvent } from '../../common/infra-event';
import type { CloudEvent } from '../cloudevent-model';
import { isBinaryCloudEvent } from './cloudevent';
import { DECODERS, type FormatName } from './decoders';
import { DecodeCodes, asDecodeError, decodeError } from './errors';
import type { DecodeInput, Decoder, HeaderBag } from './types';
import { MAX_XML_BYTES } from './vcd-envelope';

export { DecodeCodes } from './errors';
export type { DecodeInput } from './types';

/** What the node's Input setting may say: recognise it, or one of the decoders. */
export type DecodeFormat = 'auto' | FormatName;
export const FORMATS: readonly DecodeFormat[] = ['auto', ...DECODERS.map((d) => d.name)];

export interface DecodeOptions {
  format?: DecodeFormat;
  /** The system's URL, used as `source` where the input does not name one. */
  source?: string;
  /** Largest input in bytes, text, Buffer or object (default 1 MiB). */
  maxBytes?: number;
  /** Largest XML text, in bytes (default 64 KiB, and never more than maxBytes). */
  maxXmlBytes?: number;
}

/**
 * Real notifications are a few KB; a megabyte is far beyond any, yet reads in
 * milliseconds as JSON. XML reads at about 1 s per MB, so it gets less: an
 * event loop blocked for seconds by one message stops every flow.
 */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_XML_BYTES = MAX_XML_BYTES;

export interface Decoded {
  format: FormatName;
  events: InfraEvent[];
  /** The CloudEvents read, when the input was CloudEvents. */
  cloudevents?: CloudEvent[];
}

/** Text input, without the UTF-8 byte-order mark some producers put first. */
function text(payload: unknown): string | undefined {
  const raw =
    typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  return raw?.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
}

function textBytes(text: string, maxBytes: number): number {
  // A string has at least as many bytes as characters, at most three times as many.
  return text.length > maxBytes || text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text);
}

/**
 * About how many bytes a value would take as JSON, counting only until it
 * passes `limit` (so a huge object costs no more than a small one), each object
 * once (a circular one ends). Binary data counts its length.
 */
export function estimateSize(value: unknown, limit: number): number {
  let size = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') size += textBytes(v, limit) + 2;
    else if (v === null || typeof v !== 'object') size += typeof v === 'number' ? String(v).length : 5;
    else if (ArrayBuffer.isView(v)) size += v.byteLength;
    else if (!seen.has(v)) {
      seen.add(v);
      size += 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length && size + i <= limit; i++) stack.push(v[i]);
        size += v.length;
      } else {
        for (const key in v) {
          if (!Object.hasOwn(v, key)) continue;
          size += key.length + 4;
          if (size > limit) break;
          stack.push((v as Record<string, unknown>)[key]);
        }
      }
    }
  }
  return size;
}

function checkSize(payload: unknown, maxBytes: number): void {
  const size =
    typeof payload === 'string'
      ? textBytes(payload, maxBytes)
      : payload !== null && typeof payload === 'object'
        ? estimateSize(payload, maxBytes)
        : 0;
  if (size > maxBytes) {
    const what = typeof payload === 'object' && !Buffer.isBuffer(payload) ? 'about ' : '';
    throw decodeError(
      DecodeCodes.TOO_LARGE,
      `The input has ${what}${size} bytes, more than the ${maxBytes} this node accepts`,
      payload,
    );
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw decodeError(DecodeCodes.INVALID_JSON, 'The input is not valid JSON', raw);
  }
}

/** What an input is, from its shape (JSON text already parsed; XML still text). */
export function detectFormat(value: unknown, httpHeaders?: HeaderBag): FormatName {
  return detectDecoder(value, httpHeaders).name;
}

function detectDecoder(value: unknown, httpHeaders?: HeaderBag): Decoder<FormatName> {
  const found = DECODERS.find((d) => d.detect(value, httpHeaders));
  if (found) return found;
  throw decodeError(
    DecodeCodes.UNKNOWN_FORMAT,
    `Not a format this node knows (${DECODERS.map((d) => d.description).join(', ')})`,
    value,
  );
}

/** Decodes one input into one or more InfraEvents. Throws CodedErrors (DECODE_*), and only those. */
export function decode(input: DecodeInput, options: DecodeOptions = {}): Decoded {
  try {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    checkSize(input.payload, maxBytes);
    return decodeChecked(input, options, Math.min(maxBytes, options.maxXmlBytes ?? DEFAULT_MAX_XML_BYTES));
  } catch (err) {
    throw asDecodeError(err, input.payload);
  }
}

function decodeChecked(input: DecodeInput, options: DecodeOptions, maxXmlBytes: number): Decoded {
  const named = options.format && options.format !== 'auto' ? options.format : undefined;
  const told = DECODERS.find((d) => d.name === named);
  const binary = isBinaryCloudEvent(input.httpHeaders);
  const raw = text(input.payload);
  // JSON text is parsed once, here; XML and binary-mode bodies stay as they came.
  let value: unknown = input.payload;
  if (raw !== undefined && !binary) {
    const start = raw.trimStart()[0];
    if (start === '<' || told?.takesText) {
      if (raw.length > maxXmlBytes) {
        throw decodeError(
          DecodeCodes.TOO_LARGE,
          `The XML input has ${raw.length} characters, more than the ${maxXmlBytes} bytes of XML this node accepts`,
          raw,
        );
      }
      value = raw;
    } else if (!named && start !== '{' && start !== '[') {
      throw decodeError(DecodeCodes.UNKNOWN_FORMAT, 'The input is neither JSON nor XML', raw);
    } else value = parseJson(raw);
  }
  if (named && !told) throw decodeError(DecodeCodes.UNKNOWN_FORMAT, `Unknown format "${String(named)}"`);
  const decoder = told ?? detectDecoder(value, input.httpHeaders);
  const decoded = decoder.decode(value, input, { source: options.source, topic: input.topic });
  return { format: decoder.name, ...decoded };
}
