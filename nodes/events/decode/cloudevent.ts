/**
 * The input format `cloudevent`: incoming CloudEvents → InfraEvents. HTTP
 * binary mode (ce-* headers, as an http-in node hands them over in
 * msg.req.headers), structured mode and batch mode. vCenter events from the
 * VMware Event Broker Appliance get their FullFormattedMessage as summary.
 * The CloudEvent itself (validation, encodings) is ../cloudevent-model.
 */
import type { CodedError } from '../../common/errors';
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { readTime, receiptTime } from '../../common/times';
import { type CloudEvent, percentDecode, validateCloudEvent, withoutNulls } from '../cloudevent-model';
import { DecodeCodes, decodeError, oneLine } from './errors';
import { type FormatSample, type HeaderBag, decoder } from './types';

/**
 * What an event decoded from a CloudEvent keeps of it beyond the InfraEvent
 * fields, so that emitting it again gives the same CloudEvent.
 */
export interface CloudEventFacts {
  extensions?: Record<string, string | number | boolean>;
  datacontenttype?: string;
  dataschema?: string;
}

declare module '../../common/infra-event' {
  interface EventFacts {
    /** When decoded from a CloudEvent. */
    cloudevent?: CloudEventFacts;
  }
}

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
function checked(ce: CloudEvent, raw: unknown): CloudEvent {
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
  return checked(ce, h);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw decodeError(DecodeCodes.INVALID_JSON, 'The CloudEvent body is not valid JSON', text);
  }
}

/** Structured mode: one JSON object (null attributes are unset ones); data_base64 becomes bytes. */
export function fromStructured(value: unknown): CloudEvent {
  const raw = value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A structured CloudEvent must be a JSON object', raw);
  }
  const ce = checked(withoutNulls(value as Record<string, unknown>), raw);
  if (typeof ce.data_base64 === 'string') {
    ce.data = Buffer.from(ce.data_base64, 'base64');
    delete ce.data_base64;
  }
  return ce;
}

export function fromBatch(value: unknown): CloudEvent[] {
  if (!Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A CloudEvents batch must be a JSON array', value);
  }
  return value.map(fromStructured);
}

export function isStructuredCloudEvent(value: unknown): boolean {
  return !!value && typeof value === 'object' && !Array.isArray(value) && 'specversion' in value;
}

const CONTEXT = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'data', 'data_base64']);

/**
 * A CloudEvent → InfraEvent (vCenter events say what happened in
 * FullFormattedMessage). What the InfraEvent has no field for (extensions,
 * datacontenttype, dataschema) goes to `cloudevent`, so cloudevent emit can send
 * the same event on.
 */
export function cloudEventToInfraEvent(ce: CloudEvent): InfraEvent {
  const data = ce.data as Record<string, unknown> | undefined;
  const message =
    data && typeof data === 'object' && !Buffer.isBuffer(data) ? data.FullFormattedMessage : undefined;
  const facts: CloudEventFacts = {};
  const extensions: NonNullable<CloudEventFacts['extensions']> = {};
  for (const [name, value] of Object.entries(ce)) {
    if (name === 'datacontenttype' || name === 'dataschema') facts[name] = value as string;
    else if (!CONTEXT.has(name)) extensions[name] = value as string | number | boolean;
  }
  if (Object.keys(extensions).length > 0) facts.extensions = extensions;
  // Checked as RFC 3339 already; read to write `t` and `z` upper-case.
  const time = readTime(ce.time);
  return timedAt(
    {
      id: ce.id,
      source: ce.source,
      type: ce.type,
      time: time ?? receiptTime(),
      ...(ce.subject ? { subject: ce.subject } : {}),
      summary: oneLine(typeof message === 'string' && message ? message : `${ce.type} from ${ce.source}`),
      origin: 'cloudevent',
      cloudevent: facts,
      data: ce.data,
    },
    time,
  );
}

function contentType(headers: HeaderBag | undefined): string {
  const entry = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type');
  return String(entry?.[1] ?? '');
}

/** A vCenter event as the VMware Event Broker Appliance sends it in binary mode (seed 004). */
export const vebaHeadersSample = {
  'Ce-Id': '08179137-b8e0-4973-b05f-8f212bf5003b',
  'Ce-Source': 'https://vcenter-01:443/sdk',
  'Ce-Specversion': '1.0',
  'Ce-Time': '2021-09-27T19:02:54.063Z',
  'Ce-Type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
  'Content-Type': 'application/json',
};
export const vebaBodySample = {
  Key: 280034,
  CreatedTime: '2024-01-17T13:02:05.426999Z',
  UserName: 'VSPHERE.LOCAL\\Administrator',
  Vm: { Name: 'workload1', Vm: { Type: 'VirtualMachine', Value: 'vm-2073' } },
  FullFormattedMessage: 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab',
};

/** The same event in structured mode. */
const structured = {
  specversion: '1.0',
  id: vebaHeadersSample['Ce-Id'],
  source: vebaHeadersSample['Ce-Source'],
  type: vebaHeadersSample['Ce-Type'],
  time: vebaHeadersSample['Ce-Time'],
  subject: 'DrsVmPoweredOnEvent',
  datacontenttype: 'application/json',
  eventclass: 'event',
  data: vebaBodySample,
};

const samples: FormatSample[] = [
  { name: 'CloudEvent, structured', input: { payload: structured }, ownSource: structured.source },
  {
    name: 'CloudEvents, batch',
    input: { payload: [structured, { ...structured, id: 'second' }] },
    ownSource: structured.source,
  },
  {
    name: 'CloudEvent, binary mode (VEBA)',
    input: { payload: vebaBodySample, httpHeaders: vebaHeadersSample },
    ownSource: structured.source,
  },
];

export const cloudeventFormat = decoder({
  name: 'cloudevent',
  description: 'CloudEvent',
  detect: (value, headers) =>
    isBinaryCloudEvent(headers) ||
    contentType(headers).startsWith('application/cloudevents') ||
    (Array.isArray(value) && value.length > 0 && value.every(isStructuredCloudEvent)) ||
    isStructuredCloudEvent(value),
  decode(value, input) {
    const cloudevents = isBinaryCloudEvent(input.httpHeaders)
      ? [fromBinary(input.httpHeaders ?? {}, input.payload)]
      : Array.isArray(value)
        ? fromBatch(value)
        : [fromStructured(value)];
    return { events: cloudevents.map(cloudEventToInfraEvent), cloudevents };
  },
  samples,
});
