/**
 * Round trips: well-formed inputs written by something other than event decode (the cloudevents SDK, or XML and
 * JSON this file writes from values it chose) are all accepted, and what decode reads from them is what was
 * written. The other fuzz properties show that odd input is refused safely; these show that good input is read
 * right, so a decoder that refused everything, or read a field from the wrong place, fails here.
 */
import assert from 'node:assert/strict';
import { CloudEvent as SdkEvent, HTTP } from 'cloudevents';
import fc from 'fast-check';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { decode, type DecodeInput } from '../../nodes/events/decode';
import { property } from './support';

const SITE = 'https://vcd.example.com';

/** Decodes `input` as `format`, expecting exactly one event and a one-line summary. */
function one(input: DecodeInput, format: string): InfraEvent {
  const { events } = decode(input, { format: format as never, source: SITE });
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.doesNotMatch(event.summary, /[\r\n]/, 'a summary is one line');
  return event;
}

/** Text with no control characters, that XML 1.0 can carry and no reader trims: names as people write them. */
const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  .map((s) => s.replace(/[\p{Cc}\ufffe\uffff]/gu, '').trim())
  .filter((s) => s.length > 0);
const uuid = fc.uuid();
const urn = (kind: string) => uuid.map((u) => `urn:vcloud:${kind}:${u}`);
/** RFC 3339 with any precision (none to nanoseconds) and offset. */
const rfc3339 = fc
  .tuple(
    fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    fc.constantFrom('', '.1', '.123', '.123456', '.123456789'),
    fc.constantFrom('Z', '+00:00', '-07:00', '+05:30', '+14:00'),
  )
  .map(([d, fraction, zone]) => d.toISOString().slice(0, 19) + fraction + zone);
const eventType = fc
  .tuple(
    fc.constantFrom('vm', 'vapp', 'vdc', 'org', 'user', 'task'),
    fc.constantFrom('create', 'modify', 'delete'),
  )
  .map(([object, action]) => `com/vmware/vcloud/event/${object}/${action}`);

const notification = fc.record({
  eventId: uuid,
  type: eventType,
  timestamp: rfc3339,
  operationSuccess: fc.boolean(),
  org: urn('org'),
  orgName: name,
  user: urn('user'),
  userName: name,
  entity: urn('vm'),
  entityType: fc.constantFrom('vm', 'vApp', 'vdc'),
  entityName: name,
});
type Notification = typeof notification extends fc.Arbitrary<infer T> ? T : never;

/** What decode must read from a notification, however it was carried. */
function readsNotification(event: InfraEvent, n: Notification): void {
  assert.deepEqual(
    [event.id, event.source, event.type, event.subject, event.time],
    [n.eventId, SITE, n.type.replace(/\//g, '.'), n.entity, n.timestamp],
  );
  assert.equal(event.vcd?.org, n.orgName);
  assert.equal(event.vcd?.user, n.userName);
  assert.equal(event.vcd?.entityName, n.entityName);
  assert.equal(event.vcd?.operationSuccess, n.operationSuccess);
}

const escapeXml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/** The notification as VCD's legacy AMQP body (vmext:Notification), every value escaped as XML requires. */
function notificationXml(n: Notification): string {
  const link = (rel: string, type: string, nameOf: string, id: string) =>
    `<vmext:EntityLink rel="${rel}" type="${type}" name="${escapeXml(nameOf)}" id="${id}"/>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" type="${n.type}" eventId="${n.eventId}">`,
    `<vmext:Link rel="entityResolver" href="${SITE}/api/entity/"/>`,
    link('entity', `vcloud:${n.entityType}`, n.entityName, n.entity),
    link('up', 'vcloud:org', n.orgName, n.org),
    link('down', 'vcloud:user', n.userName, n.user),
    `<vmext:Timestamp>${n.timestamp}</vmext:Timestamp>`,
    `<vmext:OperationSuccess>${n.operationSuccess}</vmext:OperationSuccess>`,
    '</vmext:Notification>',
  ].join('\n');
}

/** Attribute values the SDK sends in binary mode as they are: the HTTP binding percent-encodes the rest. */
const headerSafe = fc.stringMatching(/^[!#-$&-~]{1,40}$/);
const RESERVED = new Set([
  'id',
  'source',
  'type',
  'subject',
  'time',
  'specversion',
  'data',
  'datacontenttype',
]);
/** Extension names; the SDK's binary writer breaks on names of Object.prototype ("constructor"), ours does not. */
const extensionName = fc
  .stringMatching(/^[a-z0-9]{1,20}$/)
  .filter((n) => !RESERVED.has(n) && !(n in Object.prototype));
const sdkEvent = (text: fc.Arbitrary<string>) =>
  fc.record({
    id: text,
    source: fc.constantFrom('/vcenter-01/sdk', 'https://vcenter-01.example.com/sdk', 'urn:uuid:6e8bc430'),
    type: fc.constantFrom('com.vmware.vsphere.VmPoweredOffEvent.v0', 'com.example.object.deleted'),
    subject: text,
    time: fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    data: fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null && typeof v === 'object'),
    extensions: fc.dictionary(extensionName, headerSafe, { maxKeys: 3 }),
  });
type SdkFields = typeof sdkEvent extends (t: never) => fc.Arbitrary<infer T> ? T : never;

/** What decode must read from a CloudEvent the SDK wrote. */
function readsCloudEvent(event: InfraEvent, e: SdkFields): void {
  assert.deepEqual(
    [event.id, event.source, event.type, event.subject, Date.parse(event.time), event.origin],
    [e.id, e.source, e.type, e.subject, e.time.getTime(), 'cloudevent'],
  );
  assert.deepEqual(event.data, JSON.parse(JSON.stringify(e.data)), 'the data, as JSON carries it (-0 is 0)');
  assert.deepEqual(event.cloudevent?.extensions ?? {}, { ...e.extensions });
}

const sdk = (e: SdkFields) =>
  new SdkEvent({
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject,
    time: e.time.toISOString(),
    datacontenttype: 'application/json',
    data: e.data,
    ...e.extensions,
  });

describe('fuzz: round trips through event decode', () => {
  property(
    'VCD notifications as JSON, JSON text and in a message-bus envelope: every one read as written',
    fc.tuple(notification, fc.constantFrom('object', 'text', 'envelope')),
    ([n, carried]) => {
      const text = JSON.stringify(n);
      const [payload, format] =
        carried === 'envelope'
          ? [{ type: 'EVENT', headers: { contentType: 'application/json' }, payload: text }, 'vcd-envelope']
          : [carried === 'text' ? text : n, 'vcd-notification'];
      for (const f of [format, 'auto']) readsNotification(one({ payload }, f), n);
      return true;
    },
    1,
  );
  property(
    'VCD AMQP notifications (XML, names with &, <, quotes and any script): every one read as written',
    notification,
    (n) => {
      const xml = notificationXml(n);
      for (const f of ['vcd-amqp', 'auto']) readsNotification(one({ payload: xml }, f), n);
      return true;
    },
    1,
  );
  property(
    'CloudEvents the cloudevents SDK writes, structured with any text: every one read as written',
    sdkEvent(name),
    (e) => {
      const message = HTTP.structured(sdk(e));
      readsCloudEvent(one({ payload: message.body, httpHeaders: message.headers }, 'auto'), e);
      readsCloudEvent(one({ payload: JSON.parse(String(message.body)) }, 'cloudevent'), e);
      return true;
    },
    1,
  );
  property(
    'CloudEvents the cloudevents SDK writes in binary mode: every one read as written',
    sdkEvent(headerSafe),
    (e) => {
      const message = HTTP.binary(sdk(e));
      readsCloudEvent(one({ payload: message.body, httpHeaders: message.headers }, 'auto'), e);
      return true;
    },
    1,
  );
});
