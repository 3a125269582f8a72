/**
 * VCD notifications → InfraEvent: the message-bus envelope (EVENT, TASK, ...)
 * and the bare JSON notification. Field names follow VCD's JSON notification
 * format; names (`userName`, `orgName`) are used when present, URNs otherwise.
 */
import { createHash } from 'node:crypto';
import { type InfraEvent, type VcdEventFacts, timedAt } from '../../common/infra-event';
import { readTime, receiptTime } from '../../common/times';
import type { XmlNode } from '../../common/xml';
import { DecodeCodes, decodeError, oneLine } from './errors';
import { notificationXmlEvent } from './vcd-amqp';
import { dottedType, vcdSummary } from './vcd-facts';
import { type VcdEnvelope, envelopeFrom } from './vcd-envelope';
import { definedOnly, extended } from '../../common/objects';

export interface VcdDecodeContext {
  /** The VCD site URL, used as the event source. */
  source?: string;
  /** The MQTT topic, if any (not needed for decoding, kept for callers). */
  topic?: string;
}

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A stable id for messages that carry none: the same message always hashes the same. */
function contentId(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

/** The source when none is given: the site from a link, else the organization. */
function sourceOf(n: Json, ctx: VcdDecodeContext): string {
  if (ctx.source) return ctx.source;
  const link = str(n.link) ?? str((n.link as Json | undefined)?.href);
  if (link) {
    try {
      return new URL(link).origin;
    } catch {
      // not a URL: fall through
    }
  }
  return str(n.org) ?? 'urn:vcloud';
}

/** A VCD notification object (eventId, type, timestamp, user, org, entity, ...) → InfraEvent. */
export function vcdNotificationEvent(n: Json, ctx: VcdDecodeContext = {}): InfraEvent {
  const rawType = str(n.type);
  const eventId = str(n.eventId);
  if (!rawType || !eventId) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A VCD notification needs "eventId" and "type"', n);
  }
  const action = rawType.slice(rawType.lastIndexOf('/') + 1);
  // Task notifications may carry the names only inside their task object.
  const task = (n.task && typeof n.task === 'object' ? n.task : {}) as { org?: Json; user?: Json };
  const facts: VcdEventFacts = {
    org: str(n.orgName) ?? str(task.org?.name) ?? str(n.org),
    user: str(n.userName) ?? str(task.user?.name) ?? str(n.user),
    entity: str(n.entity),
    entityType: str(n.entityType),
    entityName: str(n.entityName),
    operationSuccess:
      typeof n.operationSuccess === 'boolean' ? n.operationSuccess : n.operationSuccess !== 'false',
    taskName: str(n.taskName),
  };
  const time = readTime(n.timestamp);
  return timedAt(
    {
      id: eventId,
      source: sourceOf(n, ctx),
      type: dottedType(rawType),
      time: time ?? receiptTime(),
      subject: facts.entity,
      summary: vcdSummary(facts, action),
      origin: 'vcd',
      vcd: definedOnly(facts),
      data: n,
    },
    time,
  );
}

/** A task representation (OpenAPI style: id, operationName, status, owner, org, user) → InfraEvent. */
function taskEvent(t: Json, ctx: VcdDecodeContext): InfraEvent {
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
      source: ctx.source ?? str(org.id) ?? 'urn:vcloud',
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
export function vcdEnvelopeEvent(env: VcdEnvelope, ctx: VcdDecodeContext = {}): InfraEvent {
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
      source: ctx.source ?? 'urn:vcloud',
      type: `com.vmware.vcloud.message.${env.type.toLowerCase()}`,
      time: time ?? receiptTime(),
      summary: oneLine(`VCD ${env.type} message${ctx.topic ? ` on ${ctx.topic}` : ''}`),
      origin: 'vcd',
      data: env,
    },
    time,
  );
}

/** Checks and decodes an envelope given as an object; envelope types VCD may add are kept. */
export function vcdEnvelopeObjectEvent(value: unknown, ctx: VcdDecodeContext = {}): InfraEvent {
  return vcdEnvelopeEvent(envelopeFrom(value), ctx);
}

export function isVcdNotification(value: unknown): value is Json {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as Json).eventId === 'string' &&
    typeof (value as Json).type === 'string' &&
    ((value as Json).type as string).startsWith('com/vmware/')
  );
}
