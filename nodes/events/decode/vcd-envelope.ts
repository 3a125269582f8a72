/**
 * The input format `vcd-envelope`: what VCD's message bus (MQTT) sends,
 * `{"type", "headers", "payload"}` where `payload` is itself JSON or XML
 * encoded as a string. Parsed as JSON, then the payload by
 * `headers.contentType` or its first character; unknown fields are kept. An
 * EVENT carries a notification (vcd-notification, or the XML of vcd-amqp), a
 * TASK a task; other types are kept whole.
 */
import { createHash } from 'node:crypto';
import type { CodedError } from '../../common/errors';
import { hasStringFields } from '../../common/guards';
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { extended } from '../../common/objects';
import { readTime, receiptTime } from '../../common/times';
import { type XmlNode, parseXml } from '../../common/xml';
import { DecodeCodes, decodeError, oneLine } from './errors';
import { type DecoderContext, type FormatSample, decoder, sourceOf } from './types';
import { amqpXmlSample, notificationXmlEvent } from './vcd-amqp';
import { str, vcdNotificationEvent, vcdNotificationSample } from './vcd-notification';

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

type Json = Record<string, unknown>;

/** A stable id for messages that carry none: the same message always hashes the same. */
function contentId(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

/** A task representation (OpenAPI style: id, operationName, status, owner, org, user) → InfraEvent. */
function taskEvent(t: Json, ctx: DecoderContext): InfraEvent {
  const owner = (t.owner ?? {}) as Json;
  const org = (t.org ?? {}) as Json;
  const user = (t.user ?? {}) as Json;
  const status = str(t.status) ?? 'unknown';
  const id = str(t.id) ?? contentId(t);
  // application/vnd.vmware.vcloud.vApp+xml → vApp
  const entityType = str(owner.type)
    ?.replace(/\+(xml|json)$/, '')
    .split(/[.:/]/)
    .pop();
  const operation = str(t.operationName) ?? str(t.name) ?? 'task';
  const time = readTime(t.endDate) ?? readTime(t.startDate);
  return timedAt(
    {
      id: `${id}#${status}`,
      source: sourceOf(undefined, ctx, str(org.id) ?? 'urn:vcloud'),
      type: `com.vmware.vcloud.task.${status.toLowerCase()}`,
      time: time ?? receiptTime(),
      subject: str(owner.id) ?? id,
      summary: oneLine(
        `task ${operation} on ${str(owner.name) ?? 'unknown'} by ${str(user.name) ?? 'unknown user'} in ${str(org.name) ?? 'unknown org'}: ${status}`,
      ),
      origin: 'vcd',
      vcd: {
        org: str(org.name) ?? str(org.id),
        user: str(user.name) ?? str(user.id),
        entity: str(owner.id),
        entityType,
        entityName: str(owner.name),
        operationSuccess: status !== 'error' && status !== 'aborted',
        taskName: operation,
      },
      data: t,
    },
    time,
  );
}

/** An envelope (already parsed by parseVcdEnvelope or envelopeFrom) → InfraEvent. */
export function vcdEnvelopeEvent(env: VcdEnvelope, ctx: DecoderContext = {}): InfraEvent {
  const p = env.payload;
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const inner = p as Json;
    if (str(inner.eventId) && str(inner.type)) {
      const event = vcdNotificationEvent(inner, ctx);
      return env.type === 'EVENT'
        ? event
        : extended(event, { data: extended(inner, { envelopeType: env.type }) });
    }
    const task = (inner.task ?? (env.type.endsWith('TASK') ? inner : undefined)) as Json | undefined;
    if (task && typeof task === 'object' && (str(task.operationName) || str(task.status)))
      return taskEvent(task, ctx);
    // A legacy XML notification carried in the envelope: the same decoder as for AMQP.
    const xml = inner.Notification as XmlNode | undefined;
    if (xml && typeof xml === 'object' && (xml['@eventId'] || xml['@type'])) {
      return notificationXmlEvent(xml, { source: ctx.source }, 'vcd');
    }
  }
  // Other envelope types (API_REQUEST, BEHAVIOR_INVOCATION, and types VCD may add): kept whole,
  // with a stable id and the type preserved.
  const time = readTime(env.headers.timestamp);
  return timedAt(
    {
      id: contentId(env),
      source: sourceOf(undefined, ctx, 'urn:vcloud'),
      type: `com.vmware.vcloud.message.${env.type.toLowerCase()}`,
      time: time ?? receiptTime(),
      summary: oneLine(`VCD ${env.type} message${ctx.topic ? ` on ${ctx.topic}` : ''}`),
      origin: 'vcd',
      data: env,
    },
    time,
  );
}

/** A task as a TASK envelope carries it (OpenAPI style). */
export const vcdTaskSample = {
  id: 'urn:vcloud:task:1234',
  operationName: 'vappDeploy',
  status: 'running',
  startDate: '2026-11-22T13:45:12.000+00:00',
  owner: {
    name: 'web-01',
    id: vcdNotificationSample.entity,
    type: 'application/vnd.vmware.vcloud.vm+xml',
  },
  org: { name: 'acme', id: vcdNotificationSample.org },
  user: { name: 'acmeadmin', id: vcdNotificationSample.user },
};

const eventEnvelope = {
  type: 'EVENT',
  headers: { contentType: 'application/json' },
  payload: JSON.stringify(vcdNotificationSample),
};
const bare = (urn: string) => urn.slice(urn.lastIndexOf(':') + 1);

const samples: FormatSample[] = [
  {
    name: 'VCD envelope (EVENT, JSON payload as text)',
    input: {
      payload: eventEnvelope,
      topic: `publish/${bare(vcdNotificationSample.org)}/${bare(vcdNotificationSample.user)}`,
    },
  },
  { name: 'VCD envelope as JSON text', input: { payload: JSON.stringify(eventEnvelope) } },
  {
    name: 'VCD envelope (TASK)',
    input: { payload: { type: 'TASK', headers: {}, payload: JSON.stringify(vcdTaskSample) } },
  },
  {
    name: 'VCD envelope of a type VCD may add',
    input: { payload: { type: 'NEW_THING', headers: {}, payload: '{"x":"y"}' } },
  },
  {
    name: 'VCD envelope carrying AMQP XML',
    input: {
      payload: { type: 'EVENT', headers: { contentType: 'application/xml' }, payload: amqpXmlSample },
    },
    // The notification names its site in its entity resolver link.
    ownSource: 'https://vcloud.example.com',
  },
];

export const vcdEnvelopeFormat = decoder({
  name: 'vcd-envelope',
  description: 'VCD envelope',
  detect: looksLikeEnvelope,
  decode: (value, _input, ctx) => ({ events: [vcdEnvelopeEvent(envelopeFrom(value), ctx)] }),
  samples,
});
