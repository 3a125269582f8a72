/**
 * Whatever a message carries, cloudevent emit either builds a CloudEvent that
 * the cloudevents SDK reads back as it was meant, in every mode, or refuses it
 * with a CE_* code.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { HTTP } from 'cloudevents';
import fc from 'fast-check';
import { CodedError } from '../../nodes/common/errors';
import {
  type CloudEvent,
  type MessageAttributes,
  fromPayload,
  percentDecode,
  toBatch,
  toBinary,
  toStructured,
} from '../../nodes/events/cloudevent-model';
import { property } from './support';

type Read = Record<string, unknown>;

/** What an event's data is once written as JSON and read back (bytes stay bytes). */
function asJson(data: unknown): unknown {
  return data instanceof Uint8Array ? Buffer.from(data) : JSON.parse(JSON.stringify(data) ?? 'null');
}

function sameData(ce: CloudEvent, read: Read, mode: string): void {
  if (ce.data === undefined) return;
  // The SDK reads falsy data (false, 0, null, "", no bytes) as no data or as its JSON text, unparsed.
  const empty = !ce.data || (ce.data instanceof Uint8Array && ce.data.length === 0);
  if (empty && (read.data === undefined || read.data === JSON.stringify(ce.data))) return;
  const got = read.data_base64 !== undefined ? Buffer.from(read.data_base64 as string, 'base64') : read.data;
  const bytes = got instanceof Uint8Array && !(got instanceof Buffer) ? Buffer.from(got) : got;
  const asText = Buffer.isBuffer(bytes) ? bytes.toString('utf8') : bytes;
  if (typeof ce.data === 'string' && !/json/i.test(ce.datacontenttype ?? 'json')) {
    // Text travels as it is; the SDK may hand it back as text or as bytes.
    assert.equal(asText, ce.data, `${mode}: text data`);
    return;
  }
  if (mode === 'binary' && !(ce.data instanceof Uint8Array) && !/json/i.test(ce.datacontenttype ?? 'json')) {
    // A value sent under a type that is not JSON goes as its JSON text; the SDK hands that back as text.
    assert.equal(asText, JSON.stringify(ce.data), `${mode}: data as JSON text`);
    return;
  }
  // In binary mode the SDK parses only objects and arrays of application/json; the rest it hands back as text.
  const expected = asJson(ce.data);
  const parsed =
    typeof bytes === 'string' && mode === 'binary' && !isDeepStrictEqual(bytes, expected)
      ? JSON.parse(bytes)
      : bytes;
  assert.deepEqual(parsed, expected, `${mode}: data`);
}

function sameAttributes(ce: CloudEvent, read: Read, mode: string, headers: boolean): void {
  for (const [name, value] of Object.entries(ce)) {
    if (name === 'data' || name === 'data_base64' || name === 'time' || value === undefined) continue;
    if (name === 'datacontenttype' && mode === 'binary') continue;
    const got = headers ? percentDecode(String(read[name])) : read[name];
    assert.equal(String(got), String(value), `${mode}: ${name}`);
  }
  // The SDK rounds time to milliseconds: the instant must be the same.
  if (ce.time) assert.equal(Date.parse(String(read.time)), Date.parse(ce.time.replace(/(\.\d{3})\d+/, '$1')));
}

/** Encodes in every mode and reads each back with the SDK; a refusal must carry a CE_ code. Accepted: true. */
function roundTrips(data: unknown, attrs: MessageAttributes): boolean {
  let ce: CloudEvent;
  try {
    ce = fromPayload(data, attrs);
    const bin = toBinary(ce);
    const structured = toStructured(ce);
    const batch = toBatch([ce, ce]);
    const fromBinary = HTTP.toEvent({ headers: bin.headers, body: bin.body }) as unknown as Read;
    sameAttributes(ce, fromBinary, 'binary', true);
    sameData(ce, fromBinary, 'binary');
    const fromStructured = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: structured,
    }) as unknown as Read;
    sameAttributes(ce, fromStructured, 'structured', false);
    sameData(ce, fromStructured, 'structured');
    const fromBatch = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: batch,
    }) as unknown as Read[];
    assert.equal(fromBatch.length, 2);
    sameAttributes(ce, fromBatch[1]!, 'batch', false);
    return true;
  } catch (err) {
    if (err instanceof CodedError && err.code.startsWith('CE_')) return false;
    throw err;
  }
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const uriRef = fc.oneof(
  fc.constantFrom('/s', 'https://vcd.example.com/api', 'urn:vcloud:org:1', 'a-b_c', 'mailto:x@y', '%41'),
  fc.webUrl(),
  text,
);
const rfc3339 = fc
  .tuple(
    fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
    fc.stringMatching(/^(\.\d{1,9})?$/),
    fc.constantFrom('Z', 'z', '+00:00', '-05:30', '+14:00'),
  )
  .map(([d, frac, zone]) => d.toISOString().slice(0, 19) + frac + zone);
const extensionName = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,20}$/), text);
const extensionValue = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double(),
  fc.bigInt(),
  fc.constant(null),
);
/** Usually a value that is right, sometimes an odd one: most events can be built, and every check is reached. */
const mostly = <T>(right: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: odd, weight: 1 });
const attributes: fc.Arbitrary<MessageAttributes> = fc.record(
  {
    type: mostly(fc.constant('com.example.t'), text),
    source: uriRef,
    subject: text,
    id: text,
    time: mostly(rfc3339, text),
    datacontenttype: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/octet-stream',
      'application/xml',
      'application/vnd.x+json',
    ),
    dataschema: mostly(fc.webUrl(), uriRef),
    extensions: fc.dictionary(
      mostly(fc.stringMatching(/^[a-z0-9]{1,20}$/), extensionName),
      mostly(
        fc.oneof(fc.string(), fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        extensionValue,
      ),
      { maxKeys: 4 },
    ) as fc.Arbitrary<MessageAttributes['extensions']>,
  },
  { requiredKeys: ['type', 'source'] },
);
const data = fc.oneof(
  fc.jsonValue({ maxDepth: 5 }),
  text,
  fc.uint8Array({ maxLength: 300 }),
  fc.anything({
    withBigInt: true,
    withTypedArray: true,
    withDate: true,
    withMap: true,
    withSet: true,
    maxDepth: 3,
  }),
  fc.constant(undefined),
);

describe('fuzz: CloudEvent encoding', () => {
  property(
    'random attributes and data: encoded in every mode and read back by the SDK, or refused with a code',
    fc.tuple(data, attributes),
    ([d, a]) => roundTrips(d, a),
    0.15,
  );
  property('data with no JSON form is refused with CE_DATA_UNSERIALIZABLE', data, (d) => {
    const loop: Record<string, unknown> = { d };
    loop.self = loop;
    for (const bad of [loop, { d, n: 1n }]) {
      assert.throws(
        () =>
          toBinary(
            fromPayload(bad, { type: 't', source: '/s', id: 'x', datacontenttype: 'application/json' }),
          ),
        { code: 'CE_DATA_UNSERIALIZABLE' },
      );
    }
  });
});
