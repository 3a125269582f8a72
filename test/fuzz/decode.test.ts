/** Whatever arrives, event decode answers with events or a DECODE_* error, and what it decodes can be emitted. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodedError } from '../../nodes/common/errors';
import { excerpt } from '../../nodes/common/http';
import { HTTP } from 'cloudevents';
import type { InfraEvent } from '../../nodes/common/infra-event';
import {
  isInfraEvent,
  fromInfraEvent,
  percentDecode,
  toBinary,
  toStructured,
} from '../../nodes/events/cloudevent-model';
import { FORMATS, decode, type DecodeInput } from '../../nodes/events/decode';
import {
  vebaBodySample as vebaBody,
  vebaHeadersSample as vebaHeaders,
} from '../../nodes/events/decode/cloudevent';
import { amqpXmlSample as amqpXml } from '../../nodes/events/decode/vcd-amqp';
import { property } from './support';

/** Whether `fn` returned (true) or threw a CodedError whose code matches (false); anything else is thrown. */
function onlyCoded(fn: () => void, code: RegExp): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof CodedError && code.test(err.code)) return false;
    throw err;
  }
}

/**
 * Decodes, checks every event, and emits each as a CloudEvent (which may refuse it, with a CE_ code), which the
 * cloudevents SDK must read back as the event it came from. Accepted: decoded into events, each one emitted.
 */
function decodesSafely(input: DecodeInput, format: (typeof FORMATS)[number]): boolean {
  let emitted = true;
  const decoded = onlyCoded(() => {
    const { events } = decode(input, { format, source: 'https://vcd.example.com' });
    assert.ok(Array.isArray(events));
    emitted = events.length > 0;
    for (const event of events) {
      if (!isInfraEvent(event)) assert.fail(`not an InfraEvent: ${excerpt(event, 200)}`);
      assert.equal(typeof event.time, 'string');
      const sent = onlyCoded(() => sdkReadsBack(event), /^CE_/);
      emitted &&= sent;
    }
  }, /^DECODE_/);
  return decoded && emitted;
}

/** The event as cloudevent emit sends it (binary and structured), read by the cloudevents SDK. */
function sdkReadsBack(event: InfraEvent): void {
  const ce = fromInfraEvent(event);
  const binary = toBinary(ce);
  const structured = toStructured(ce);
  const reads = [
    // Binary mode percent-encodes header values (the HTTP binding); the SDK leaves that to its caller.
    [HTTP.toEvent({ headers: binary.headers, body: binary.body }), percentDecode],
    [HTTP.toEvent({ headers: { 'content-type': 'application/cloudevents+json' }, body: structured }), String],
  ] as unknown as [Record<string, unknown>, (v: string) => string][];
  for (const [read, text] of reads) {
    const attribute = (name: string) => (read[name] === undefined ? undefined : text(String(read[name])));
    assert.deepEqual(['id', 'source', 'type', 'subject'].map(attribute), [
      event.id,
      event.source,
      event.type,
      event.subject,
    ]);
    assert.equal(Date.parse(String(read.time)), Date.parse(event.time.replace(/(\.\d{3})\d+/, '$1')));
  }
}

/** Shaped values as JSON text, where they have one. */
function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? '';
  } catch {
    return '';
  }
}

const format = fc.constantFrom(...FORMATS);
const anything = fc.anything({
  withBigInt: true,
  withTypedArray: true,
  withNullPrototype: true,
  maxDepth: 4,
});
/** A field that is usually right and sometimes anything at all. */
const either = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: anything, weight: 1 });
const uuid = fc.uuid();
const urn = (kind: string) => uuid.map((u) => `urn:vcloud:${kind}:${u}`);
const timestamp = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant('2026-11-22T13:45:12.345678+01:00'),
  fc.string(),
);

const notification = fc.record(
  {
    eventId: either(uuid),
    type: either(
      fc.constantFrom('com/vmware/vcloud/event/vm/create', 'com/vmware/vcloud/event/task/complete'),
    ),
    timestamp: either(timestamp),
    operationSuccess: either(fc.boolean()),
    org: either(urn('org')),
    orgName: either(fc.string()),
    user: either(urn('user')),
    userName: either(fc.string()),
    entity: either(urn('vm')),
    entityType: either(fc.constantFrom('vm', 'vApp', 'task')),
    entityName: either(fc.string()),
    taskName: either(fc.string()),
    details: either(fc.string()),
  },
  { requiredKeys: [] },
);
const envelope = fc.record({
  type: either(fc.constantFrom('EVENT', 'TASK', 'METRIC', 'NEW_THING')),
  headers: either(
    fc.record({ contentType: fc.constantFrom('application/json', 'application/xml', 'text/plain') }),
  ),
  payload: fc.oneof(notification.map(jsonOf), notification, fc.string()),
});
const auditRecord = fc.record(
  {
    eventId: either(urn('audit')),
    eventType: either(fc.constant('com/vmware/vcloud/event/vm/create')),
    eventStatus: either(fc.constantFrom('SUCCESS', 'FAILURE')),
    timestamp: either(timestamp),
    operatingOrg: either(fc.record({ name: fc.string(), id: either(urn('org')) })),
    user: either(fc.record({ name: fc.string(), id: either(urn('user')) })),
    eventEntity: either(fc.record({ name: fc.string(), id: either(urn('vm')) })),
    additionalProperties: either(fc.dictionary(fc.string(), anything)),
  },
  { requiredKeys: [] },
);
const auditPage = fc.record({ values: fc.array(auditRecord, { maxLength: 4 }), pageCount: either(fc.nat()) });
const aciObject = fc.record({
  attributes: either(
    fc.record(
      {
        dn: either(fc.constantFrom('uni/tn-prod/BD-web', 'uni/tn-a/ap-b/epg-c', '')),
        status: either(fc.constantFrom('created', 'modified', 'deleted', '')),
        modTs: either(timestamp),
        descr: either(fc.string()),
      },
      { requiredKeys: [] },
    ),
  ),
  children: fc.option(fc.array(anything, { maxLength: 2 }), { nil: undefined }),
});
const aciDocument = fc.record({
  subscriptionId: either(fc.array(fc.stringMatching(/^\d{1,17}$/), { maxLength: 3 })),
  totalCount: either(fc.nat().map(String)),
  imdata: either(
    fc.array(
      fc.dictionary(fc.constantFrom('fvBD', 'faultInst', 'fvTenant', 'x'), aciObject, {
        minKeys: 1,
        maxKeys: 2,
      }),
      { maxLength: 4 },
    ),
  ),
});
const cloudEvent = fc.record(
  {
    specversion: either(fc.constant('1.0')),
    id: either(fc.string({ minLength: 1 })),
    source: either(fc.constantFrom('/s', 'https://vcd.example.com', 'urn:x')),
    type: either(fc.constant('com.example.t')),
    time: either(timestamp),
    subject: either(fc.string()),
    datacontenttype: either(fc.constantFrom('application/json', 'text/plain', 'application/xml')),
    data: anything,
    data_base64: either(fc.base64String()),
    ext: either(fc.oneof(fc.string(), fc.integer(), fc.boolean())),
  },
  { requiredKeys: ['specversion', 'id', 'source', 'type'] },
);
const shaped = fc.oneof(
  notification,
  envelope,
  auditRecord,
  auditPage,
  aciDocument,
  cloudEvent,
  fc.array(cloudEvent, { maxLength: 3 }),
);

/** XML-ish text: elements the decoders look for, random names, attributes and text, and the odd broken piece. */
const xmlName = fc.oneof(
  fc.constantFrom(
    'vmext:Notification',
    'Notification',
    'vmext:Link',
    'vmext:EntityLink',
    'vmext:Timestamp',
    'vmext:OperationSuccess',
    'a',
  ),
  fc.stringMatching(/^[A-Za-z_][\w.:-]{0,8}$/),
);
const xmlText = fc.oneof(
  fc.string(),
  fc.constantFrom('&amp;', '&lt;', '&#x41;', '&#0;', '&bogus;', ']]>', '<![CDATA[x]]>', 'true'),
);
const xmlAttr = fc
  .tuple(
    fc.constantFrom('type', 'eventId', 'rel', 'href', 'name', 'id', 'xmlns:vmext'),
    fc.oneof(fc.string(), uuid),
  )
  .map(([k, v]) => ` ${k}="${v.replace(/"/g, '&quot;')}"`);
const { element } = fc.letrec<{ element: string }>((tie) => ({
  element: fc
    .tuple(
      xmlName,
      fc.array(xmlAttr, { maxLength: 3 }),
      fc.array(fc.oneof(xmlText, tie('element')), { maxLength: 3 }),
    )
    .map(([name, attrs, children]) => `<${name}${attrs.join('')}>${children.join('')}</${name}>`),
}));
const xmlish = fc.oneof(
  element,
  element.map((x) => `<?xml version="1.0" encoding="UTF-8"?>\n${x}`),
  fc.tuple(element, fc.nat(), fc.string()).map(([x, at, junk]) => x.slice(0, at % (x.length + 1)) + junk),
  element.map((x) => `<!DOCTYPE x [<!ENTITY e "boom">]>${x}`),
);

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc.json({ maxDepth: 6 }),
  fc.jsonValue({ maxDepth: 6 }),
  anything,
  shaped,
  shaped.map(jsonOf),
  xmlish,
);
const ceHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'ce-specversion',
      'ce-id',
      'ce-source',
      'ce-type',
      'ce-time',
      'content-type',
      'Ce-Subject',
    ),
    fc.string(),
  ),
  fc.oneof(
    fc.constantFrom('1.0', 'x', '/s', 'application/json', 'application/cloudevents+json', '%E2%82', '%zz'),
    fc.string(),
  ),
);

/** A CloudEvent's headers as VEBA sends them, with random ones added or put in their place. */
const vebaWithOdd = ceHeaders.map((odd) => Object.assign({}, vebaHeaders, odd));

// Each property is held to a share of accepted inputs, about half of what its draws give: a decoder that
// refused everything would pass the safety checks alone.
describe('fuzz: event decode', () => {
  property(
    'random payloads in every format',
    fc.tuple(payload, format),
    ([p, f]) => decodesSafely({ payload: p }, f),
    0.005,
  );
  property(
    'random XML-ish text as AMQP notifications and envelope payloads',
    fc.tuple(xmlish, format),
    ([x, f]) => {
      const asBody = decodesSafely(
        { payload: x, routingKey: 'true.x.y.z.com.vmware.vcloud.event.vm.create' },
        f,
      );
      const inEnvelope = decodesSafely(
        { payload: { type: 'EVENT', headers: { contentType: 'application/xml' }, payload: x } },
        f,
      );
      return asBody || inEnvelope;
    },
    0.04,
  );
  property(
    'notifications, audit records, ACI documents and CloudEvents with odd fields',
    fc.tuple(shaped, format),
    ([v, f]) => decodesSafely({ payload: v }, f),
    0.02,
  );
  property(
    'binary-mode CloudEvents with random headers and body',
    fc.tuple(fc.oneof(ceHeaders, vebaWithOdd), fc.oneof(payload, fc.constant(JSON.stringify(vebaBody)))),
    ([headers, body]) => decodesSafely({ payload: body, httpHeaders: headers }, 'auto'),
    0.05,
  );
  property(
    'AMQP headers and routing keys of any shape, on odd XML and on a real notification',
    fc.tuple(fc.oneof(xmlish, fc.constant(amqpXml)), fc.string(), fc.dictionary(fc.string(), anything)),
    ([x, key, headers]) => decodesSafely({ payload: x, routingKey: key, amqpHeaders: headers }, 'vcd-amqp'),
    0.08,
  );
});
