/**
 * The one decoding path: whatever arrives (from our subscribe nodes, or from
 * core MQTT, AMQP and HTTP nodes) → InfraEvents. Detects the format, or is told.
 */
import type { InfraEvent } from '../../common/infra-event';
import type { CloudEvent } from '../cloudevent';
import { type HeaderBag, isBinaryCloudEvent } from './cloudevent';
import { DECODERS, type DecodeInput, type Decoder, type FormatName } from './decoders';
import { DecodeCodes, asDecodeError, decodeError } from './errors';

export { DecodeCodes } from './errors';
export type { DecodeInput } from './decoders';

/** What the node's Input setting may say: recognise it, or one of the decoders. */
export type DecodeFormat = 'auto' | FormatName;
export const FORMATS: readonly DecodeFormat[] = ['auto', ...DECODERS.map((d) => d.name)];

export interface DecodeOptions {
  format?: DecodeFormat;
  /** The system's URL, used as `source` where the input does not name one. */
  source?: string;
  /** Largest text or Buffer input, in bytes (default 16 MiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

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

function checkSize(payload: unknown, maxBytes: number): void {
  const size =
    typeof payload === 'string'
      ? // a string has at least as many bytes as characters, at most three times as many
        payload.length > maxBytes || payload.length * 3 <= maxBytes
        ? payload.length
        : Buffer.byteLength(payload)
      : Buffer.isBuffer(payload)
        ? payload.length
        : 0;
  if (size > maxBytes) {
    throw decodeError(
      DecodeCodes.TOO_LARGE,
      `The input has ${size} bytes, more than the ${maxBytes} this node accepts`,
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
    checkSize(input.payload, options.maxBytes ?? DEFAULT_MAX_BYTES);
    return decodeChecked(input, options);
  } catch (err) {
    throw asDecodeError(err, input.payload);
  }
}

function decodeChecked(input: DecodeInput, options: DecodeOptions): Decoded {
  const named = options.format && options.format !== 'auto' ? options.format : undefined;
  const told = DECODERS.find((d) => d.name === named);
  const binary = isBinaryCloudEvent(input.httpHeaders);
  const raw = text(input.payload);
  // JSON text is parsed once, here; XML and binary-mode bodies stay as they came.
  let value: unknown = input.payload;
  if (raw !== undefined && !binary) {
    const start = raw.trimStart()[0];
    if (start === '<' || told?.takesText) value = raw;
    else if (!named && start !== '{' && start !== '[') {
      throw decodeError(DecodeCodes.UNKNOWN_FORMAT, 'The input is neither JSON nor XML', raw);
    } else value = parseJson(raw);
  }
  if (named && !told) throw decodeError(DecodeCodes.UNKNOWN_FORMAT, `Unknown format "${String(named)}"`);
  const decoder = told ?? detectDecoder(value, input.httpHeaders);
  const decoded = decoder.decode(value, input, { source: options.source, topic: input.topic });
  return { format: decoder.name, ...decoded };
}
