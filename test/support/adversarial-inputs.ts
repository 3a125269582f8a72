/**
 * Every place of a decoder's input where outside text goes (a string anywhere
 * in the payload, an object key, a header, the routing key or topic, inside a
 * JSON payload carried as text, an XML attribute or text node), and the input
 * with that place filled with other text, as large as the decode limits let it.
 */
import type { DecodeInput } from '../../nodes/events/decode';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_XML_BYTES, estimateSize } from '../../nodes/events/decode';

type Step = string | number | { key: true } | { json: true } | { xml: [number, number] };

export interface Slot {
  /** Where it is, for failure messages: payload.imdata.0.faultInst.attributes.dn */
  where: string;
  /** The text it holds in the sample. */
  value: string;
  /** A key rather than a value. */
  key: boolean;
  steps: Step[];
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');

function isJsonText(text: string): boolean {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Attribute values and text nodes of an XML text, as [start, end) ranges. */
function xmlRanges(xml: string): [number, number][] {
  const ranges: [number, number][] = [];
  let at = 0;
  while (at < xml.length) {
    const open = xml.indexOf('<', at);
    const text = xml.slice(at, open === -1 ? xml.length : open);
    if (text.trim()) ranges.push([at, at + text.length]);
    if (open === -1) break;
    const close = xml.indexOf('>', open);
    if (close === -1) break;
    for (let q = xml.indexOf('="', open); q !== -1 && q < close; q = xml.indexOf('="', q + 2)) {
      const end = xml.indexOf('"', q + 2);
      ranges.push([q + 2, end]);
      q = end;
    }
    at = close + 1;
  }
  return ranges;
}

function walk(value: unknown, steps: Step[], where: string, out: Slot[]): void {
  if (typeof value === 'string') {
    out.push({ where, value, key: false, steps });
    if (value.trimStart().startsWith('<')) {
      for (const [start, end] of xmlRanges(value)) {
        out.push({
          where: `${where}<xml ${start}>`,
          value: value.slice(start, end),
          key: false,
          steps: [...steps, { xml: [start, end] }],
        });
      }
    } else if (isJsonText(value)) walk(JSON.parse(value), [...steps, { json: true }], `${where}<json>`, out);
    return;
  }
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const step = Array.isArray(value) ? Number(k) : k;
    if (!Array.isArray(value))
      out.push({ where: `${where}.${k}(key)`, value: k, key: true, steps: [...steps, k, { key: true }] });
    walk(v, [...steps, step], `${where}.${k}`, out);
  }
}

/** Every place of `input` that holds outside text. */
export function slots(input: DecodeInput): Slot[] {
  const out: Slot[] = [];
  walk(input, [], 'input', out);
  return out;
}

function put(value: unknown, steps: Step[], text: string): unknown {
  const [step, ...rest] = steps;
  if (step === undefined) return text;
  if (typeof step === 'object' && 'json' in step)
    return JSON.stringify(put(JSON.parse(value as string), rest, text));
  if (typeof step === 'object' && 'xml' in step) {
    const [start, end] = step.xml;
    return (value as string).slice(0, start) + escapeXml(text) + (value as string).slice(end);
  }
  if (Array.isArray(value)) return value.map((v, i) => (i === step ? put(v, rest, text) : v));
  const source = value as Record<string, unknown>;
  if (typeof rest[0] === 'object' && 'key' in rest[0]) {
    // A key renamed, in place: the others keep their order.
    return Object.fromEntries(Object.entries(source).map(([k, v]) => [k === step ? text : k, v]));
  }
  return { ...source, [step as string]: put(source[step as string], rest, text) };
}

/** `input` with the slot's text replaced by `text`. */
export function fill(input: DecodeInput, slot: Slot, text: string): DecodeInput {
  return put(input, slot.steps, text) as DecodeInput;
}

/** The XML text of an input that decode reads as XML (and so caps at 64 KiB), if any. */
function xmlOf(input: DecodeInput): string | undefined {
  const p = input.payload as { payload?: unknown; headers?: { contentType?: unknown } } | string | undefined;
  if (typeof p === 'string') return p.trimStart().startsWith('<') ? p : undefined;
  const inner = p?.payload;
  if (typeof inner !== 'string') return undefined;
  const xml = String(p?.headers?.contentType ?? '').includes('xml') || inner.trimStart().startsWith('<');
  return xml ? inner.trim() : undefined;
}

/** What the decode limits count: the payload's size, and the XML text in it. */
function measure(input: DecodeInput): [number, number] {
  const p = input.payload;
  const size = typeof p === 'string' ? Buffer.byteLength(p) : estimateSize(p, Infinity);
  return [size, xmlOf(input)?.length ?? 0];
}

/**
 * How long a text of `make` (a text of about n characters) the slot takes
 * while the input stays within the decode limit (1 MiB) and, where the slot is
 * in XML, the XML limit: just under what the node accepts. Escaping (JSON,
 * XML) and multi-byte characters are counted by measuring two sizes.
 */
export function room(input: DecodeInput, slot: Slot, make: (n: number) => string): number {
  const small = make(0);
  const large = make(Math.max(2000, small.length * 3));
  const [a, b] = [measure(fill(input, slot, small)), measure(fill(input, slot, large))];
  const limits = [DEFAULT_MAX_BYTES, DEFAULT_MAX_XML_BYTES];
  let chars = DEFAULT_MAX_BYTES;
  for (let i = 0; i < 2; i++) {
    const perChar = ((b[i] as number) - (a[i] as number)) / (large.length - small.length);
    const left = (limits[i] as number) - (a[i] as number);
    if (perChar > 0) chars = Math.min(chars, small.length + left / perChar);
  }
  return Math.floor(chars * 0.99) - 8;
}
