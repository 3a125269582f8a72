/**
 * Incoming CloudEvents → InfraEvents: HTTP binary mode (ce-* headers, as an
 * http-in node hands them over in msg.req.headers), structured mode and batch
 * mode. vCenter events from the VMware Event Broker Appliance get their
 * FullFormattedMessage as summary.
 */
import type { InfraEvent } from '../../common/infra-event';
import { CodedError } from '../../common/errors';
import { type CloudEvent, percentDecode, validateCloudEvent } from '../cloudevent';
import { DecodeCodes, decodeError } from './errors';

export type HeaderBag = Record<string, string | string[] | undefined>;

function lower(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

export function isBinaryCloudEvent(headers: HeaderBag | undefined): boolean {
  return !!headers && Object.keys(headers).some((k) => k.toLowerCase() === 'ce-specversion');
}

/** Wraps the shared validator's error as a decoding error with an excerpt. */
function checked(ce: CloudEvent, raw: string): CloudEvent {
  try {
    return validateCloudEvent(ce);
  } catch (err) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, `Not a valid CloudEvent: ${(err as CodedError).message}`, raw);
  }
}

/** Binary mode: attributes from percent-encoded ce-* headers, data from the body. */
export function fromBinary(headers: HeaderBag, body: unknown): CloudEvent {
  const h = lower(headers);
  const ce: CloudEvent = { specversion: '', id: '', source: '', type: '' };
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('ce-')) continue;
    try {
      ce[name.slice(3)] = percentDecode(value);
    } catch (err) {
      throw decodeError(DecodeCodes.WRONG_SHAPE, (err as CodedError).message, `${name}: ${value}`);
    }
  }
  const type = h['content-type'];
  if (type) ce.datacontenttype = type;
  if (body !== undefined && body !== null && body !== '') {
    const json = !type || /[/+]json(;|$)/i.test(type);
    if (Buffer.isBuffer(body)) ce.data = json ? parseJson(body.toString('utf8')) : body;
    else if (typeof body === 'string' && json) ce.data = parseJson(body);
    else ce.data = body; // already parsed by http-in, or text
  }
  return checked(ce, JSON.stringify(h));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw decodeError(DecodeCodes.INVALID_JSON, 'The CloudEvent body is not valid JSON', text);
  }
}

/** Structured mode: one JSON object; data_base64 becomes bytes. */
export function fromStructured(value: unknown): CloudEvent {
  const raw = JSON.stringify(value) ?? String(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A structured CloudEvent must be a JSON object', raw);
  }
  const ce = checked({ ...(value as CloudEvent) }, raw);
  if (typeof ce.data_base64 === 'string') {
    ce.data = Buffer.from(ce.data_base64, 'base64');
    delete ce.data_base64;
  }
  return ce;
}

export function fromBatch(value: unknown): CloudEvent[] {
  if (!Array.isArray(value)) {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'A CloudEvents batch must be a JSON array',
      JSON.stringify(value),
    );
  }
  return value.map(fromStructured);
}

export function isStructuredCloudEvent(value: unknown): boolean {
  return !!value && typeof value === 'object' && !Array.isArray(value) && 'specversion' in value;
}

/** A CloudEvent → InfraEvent (vCenter events say what happened in FullFormattedMessage). */
export function cloudEventToInfraEvent(ce: CloudEvent): InfraEvent {
  const data = ce.data as Record<string, unknown> | undefined;
  const message =
    data && typeof data === 'object' && !Buffer.isBuffer(data) ? data.FullFormattedMessage : undefined;
  return {
    id: ce.id,
    source: ce.source,
    type: ce.type,
    time: ce.time ?? new Date().toISOString(),
    ...(ce.subject ? { subject: ce.subject } : {}),
    summary: typeof message === 'string' && message ? message : `${ce.type} from ${ce.source}`,
    origin: 'cloudevent',
    data: ce.data,
  };
}
