/**
 * The input format `vcd-amqp`: legacy VCD AMQP notifications. The XML
 * `vmext:Notification` body, the routing key
 * `operationSuccess.entity.org.user.subType1...subTypeN[.taskName]`, and the
 * `notification.*` headers. The XML is authoritative; key and headers fill gaps.
 */
import type { CodedError } from '../../common/errors';
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { readTime, receiptTime } from '../../common/times';
import { parseXml, xmlList, xmlText, type XmlNode } from '../../common/xml';
import { DecodeCodes, decodeError } from './errors';
import { decoder, sourceOf } from './types';
import { type VcdEventFacts, dottedType, vcdSummary } from './vcd-facts';

export interface AmqpContext {
  /** The AMQP routing key (msg.topic or msg.fields.routingKey). */
  routingKey?: string;
  /** AMQP headers (msg.properties.headers). */
  headers?: Record<string, unknown>;
  /** The VCD site, when the XML does not name it. */
  source?: string;
}

export interface RoutingKey {
  operationSuccess: boolean;
  entity: string;
  org: string;
  user: string;
  /** The dotted event type, e.g. com.vmware.vcloud.event.vapp.create */
  type: string;
}

/** Splits a routing key; the type starts at the "com" segment. */
export function parseRoutingKey(key: string): RoutingKey | undefined {
  const parts = key.split('.');
  const com = parts.indexOf('com', 4);
  if (parts.length < 5 || com === -1 || (parts[0] !== 'true' && parts[0] !== 'false')) return undefined;
  return {
    operationSuccess: parts[0] === 'true',
    entity: parts[1] as string,
    org: parts[2] as string,
    user: parts[3] as string,
    type: parts.slice(com).join('.'),
  };
}

const headerText = (h: Record<string, unknown> | undefined, name: string) => {
  const v = h?.[name];
  // amqplib hands string headers over as Buffers.
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'string' || typeof v === 'boolean' ? String(v) : undefined;
};

export function vcdAmqpEvent(xml: string, ctx: AmqpContext = {}): InfraEvent {
  const text = xml.trim();
  let doc: XmlNode;
  try {
    doc = parseXml(text);
  } catch (err) {
    throw decodeError(DecodeCodes.INVALID_XML, (err as CodedError).message, text);
  }
  const n = doc.Notification as XmlNode | undefined;
  if (!n || typeof n !== 'object') {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'The XML is not a VCD notification (no vmext:Notification element)',
      text,
    );
  }
  return notificationXmlEvent(n, ctx, 'vcd-amqp');
}

/** Who and what a notification is about: its links first, then the headers, then the routing key. */
function notificationFacts(
  n: XmlNode,
  key: RoutingKey | undefined,
  h: AmqpContext['headers'],
): VcdEventFacts {
  const links = xmlList(n.EntityLink);
  const link = (rel: string) => links.find((l) => l['@rel'] === rel);
  const entity = link('entity');
  const org = link('up');
  const user = link('down');
  const task = link('task');
  const successText = xmlText(n.OperationSuccess) ?? headerText(h, 'notification.operationSuccess');
  const operationSuccess =
    successText !== undefined ? successText === 'true' : (key?.operationSuccess ?? true);
  const entityType =
    (entity?.['@type'] as string | undefined)
      ?.split(':')
      .pop()
      ?.replace(/\+(xml|json)$/, '') ?? headerText(h, 'notification.entityType');
  return {
    org:
      (org?.['@name'] as string | undefined) ??
      (org?.['@id'] as string | undefined) ??
      headerText(h, 'notification.orgUUID') ??
      key?.org,
    user:
      (user?.['@name'] as string | undefined) ??
      (user?.['@id'] as string | undefined) ??
      headerText(h, 'notification.userUUID') ??
      key?.user,
    entity:
      (entity?.['@id'] as string | undefined) ?? headerText(h, 'notification.entityUUID') ?? key?.entity,
    entityType,
    entityName: entity?.['@name'] as string | undefined,
    operationSuccess,
    taskName: task?.['@name'] as string | undefined,
  };
}

/** The VCD site a notification came from, read from its entity resolver link. */
function resolverOrigin(n: XmlNode): string | undefined {
  const resolver = xmlList(n.Link).find((l) => l['@rel'] === 'entityResolver')?.['@href'] as
    string | undefined;
  if (!resolver) return undefined;
  try {
    return new URL(resolver).origin;
  } catch {
    return undefined; // not a URL
  }
}

/**
 * A parsed `vmext:Notification` element → InfraEvent. The legacy AMQP body, and
 * the same XML inside a message-bus envelope (`origin` says which).
 */
export function notificationXmlEvent(
  n: XmlNode,
  ctx: AmqpContext = {},
  origin: 'vcd-amqp' | 'vcd' = 'vcd-amqp',
): InfraEvent {
  const key = ctx.routingKey ? parseRoutingKey(ctx.routingKey) : undefined;
  const h = ctx.headers;
  const rawType = (n['@type'] as string | undefined) ?? headerText(h, 'notification.type');
  const type = rawType ? dottedType(rawType) : key?.type;
  const eventId = n['@eventId'] as string | undefined;
  if (!type || !eventId) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'The notification has no type or eventId', n);
  }
  const facts = notificationFacts(n, key, h);
  const time = readTime(xmlText(n.Timestamp));
  return timedAt(
    {
      id: eventId,
      // The site the notification names in its entity resolver link.
      source: sourceOf(resolverOrigin(n), ctx, 'urn:vcloud'),
      type,
      time: time ?? receiptTime(),
      subject: facts.entity,
      summary: vcdSummary(facts, type.split('.').pop() ?? type),
      origin,
      vcd: Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as VcdEventFacts,
      data: { notification: n, routingKey: ctx.routingKey, headers: h },
    },
    time,
  );
}

const resolverLink = '\n  <vmext:Link rel="entityResolver" href="https://vcloud.example.com/api/entity/"/>';

/** A vApp created, as the AMQP body VCD's guide shows (an entity name with an escaped character). */
export const amqpXmlSample = `<?xml version="1.0" encoding="UTF-8"?>
<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"
    type="com/vmware/vcloud/event/vapp/create" eventId="a1440dd8-60ae-46c7-b216-44693bc00c90">${resolverLink}
  <vmext:EntityLink rel="entity" type="vcloud:vapp" name="erp &amp; co" id="urn:vcloud:vapp:dc6a"/>
  <vmext:EntityLink rel="up" type="vcloud:org" name="acme" id="urn:vcloud:org:0b8a"/>
  <vmext:EntityLink rel="down" type="vcloud:user" name="acmeadmin" id="urn:vcloud:user:832c"/>
  <vmext:Timestamp>2011-06-18T14:33:27.787-07:00</vmext:Timestamp>
  <vmext:OperationSuccess>true</vmext:OperationSuccess>
</vmext:Notification>`;

export const vcdAmqpFormat = decoder({
  name: 'vcd-amqp',
  description: 'AMQP XML',
  // Text that is still text here is XML: JSON was parsed before detection.
  detect: (value) => typeof value === 'string',
  takesText: true,
  decode(value, input, ctx) {
    if (typeof value !== 'string')
      throw decodeError(DecodeCodes.WRONG_SHAPE, 'An AMQP notification must be XML text');
    const amqp = { routingKey: input.routingKey, headers: input.amqpHeaders, source: ctx.source };
    return { events: [vcdAmqpEvent(value, amqp)] };
  },
  samples: [
    {
      name: 'VCD AMQP notification (XML), routing key and headers',
      input: {
        payload: amqpXmlSample,
        routingKey: 'true.dc6a.0b8a.832c.com.vmware.vcloud.event.vapp.create',
        amqpHeaders: {
          'notification.type': 'com/vmware/vcloud/event/vapp/create',
          'notification.entityType': 'vcloud:vapp',
        },
      },
      ownSource: 'https://vcloud.example.com',
    },
    {
      name: 'VCD AMQP notification without an entity resolver link',
      input: {
        payload: amqpXmlSample.replace(resolverLink, ''),
        routingKey: 'true.dc6a.0b8a.832c.com.vmware.vcloud.event.vapp.create',
      },
    },
  ],
});
