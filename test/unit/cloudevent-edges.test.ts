/**
 * The CloudEvent model and encoder at the edges the mutation run found untested: what binary mode puts in the
 * body and Content-Type for each kind of data, the integer range of an extension from both sides, the reasons a
 * hand-made event is refused, and which payloads get the same id.
 */
import assert from 'node:assert/strict';
import {
  CeCodes,
  checkExtensions,
  fromPayload,
  isMediaType,
  percentDecode,
  toBinary,
  validateCloudEvent,
  withoutNulls,
  type CloudEvent,
} from '../../nodes/events/cloudevent-model';

const base = { specversion: '1.0', id: 'e1', source: '/s', type: 't' } as CloudEvent;
const refused = (fn: () => unknown, code: string, reason: RegExp) =>
  assert.throws(
    fn,
    (err: Error & { code?: string }) => err.code === code && reason.test(err.message),
    String(reason),
  );

describe('CloudEvents binary mode: body and Content-Type for each kind of data', () => {
  it('sends data_base64 as its bytes, octet-stream unless the event names a type', () => {
    const out = toBinary({ ...base, data_base64: Buffer.from([0, 255, 7]).toString('base64') });
    assert.deepEqual([...(out.body as Buffer)], [0, 255, 7]);
    assert.equal(out.headers['content-type'], 'application/octet-stream');
    const typed = toBinary({ ...base, datacontenttype: 'image/png', data_base64: 'AAE=' });
    assert.equal(typed.headers['content-type'], 'image/png');
  });

  it('sends a string as it is under a text type, and as a JSON string under a JSON type or none', () => {
    const text = toBinary({ ...base, datacontenttype: 'text/plain', data: 'hi "there"' });
    assert.equal(text.body, 'hi "there"');
    for (const type of ['application/json', 'application/vnd.x+json; charset=utf-8']) {
      assert.equal(toBinary({ ...base, datacontenttype: type, data: 'hi' }).body, '"hi"', type);
    }
    const untyped = toBinary({ ...base, data: 'hi' });
    assert.deepEqual([untyped.body, untyped.headers['content-type']], ['"hi"', 'application/json']);
    assert.equal(toBinary({ ...base, datacontenttype: 'text/x-json5', data: 'hi' }).body, 'hi');
  });

  it('puts every attribute but the data and its type in ce- headers, and no body without data', () => {
    const out = toBinary({ ...base, datacontenttype: 'text/plain', subject: 'a b', myext: 5 });
    assert.deepEqual(out.headers, {
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': '/s',
      'ce-type': 't',
      'ce-subject': 'a%20b',
      'ce-myext': '5',
      'content-type': 'text/plain',
    });
    assert.equal(out.body, undefined);
    assert.equal('content-type' in toBinary(base).headers, false, 'no data, no type: no Content-Type');
  });

  it('refuses only a Content-Type that is itself a CloudEvents format', () => {
    refused(
      () => toBinary({ ...base, datacontenttype: 'application/cloudevents+json', data: {} }),
      CeCodes.INVALID,
      /structured mode/,
    );
    const out = toBinary({ ...base, datacontenttype: 'text/x; of=application/cloudevents', data: 'x' });
    assert.equal(out.headers['content-type'], 'text/x; of=application/cloudevents');
  });
});

describe('CloudEvents model: limits and reasons', () => {
  it('takes a 32-bit integer extension at both ends and refuses one past either, or a fraction', () => {
    for (const ok of [2147483647, -2147483648, 0]) validateCloudEvent({ ...base, n: ok });
    for (const bad of [2147483648, -2147483649, 1.5]) {
      refused(
        () => validateCloudEvent({ ...base, n: bad }),
        CeCodes.INVALID_ATTRIBUTE,
        /"n" must be a string.*32-bit/,
      );
    }
    refused(
      () => validateCloudEvent({ ...base, n: 'a\u0000' }),
      CeCodes.INVALID_ATTRIBUTE,
      /extension "n" holds/,
    );
  });

  it('says why a hand-made event is refused', () => {
    refused(() => validateCloudEvent([] as unknown as CloudEvent), CeCodes.INVALID, /must be an object/);
    refused(() => validateCloudEvent(null as unknown as CloudEvent), CeCodes.INVALID, /must be an object/);
    refused(
      () => validateCloudEvent({ ...base, specversion: '0.3' }),
      CeCodes.INVALID,
      /specversion must be "1.0", not "0.3"/,
    );
    refused(
      () => validateCloudEvent({ ...base, data: 1, data_base64: 'AA==' }),
      CeCodes.INVALID,
      /data or data_base64/,
    );
    refused(() => validateCloudEvent({ ...base, data_base64: 'not base64!' }), CeCodes.INVALID, /not base64/);
    refused(
      () => validateCloudEvent({ ...base, data_base64: 5 as unknown as string }),
      CeCodes.INVALID,
      /not base64/,
    );
    refused(
      () => validateCloudEvent({ ...base, Bad: 'x' }),
      CeCodes.INVALID_ATTRIBUTE,
      /"Bad" is not a valid/,
    );
  });

  it('refuses extensions given as anything but an object, and context attributes among them', () => {
    checkExtensions(undefined, 'x');
    checkExtensions(null, 'x');
    checkExtensions({ gone: null }, 'x');
    refused(
      () => checkExtensions(['a'], 'the node'),
      CeCodes.INVALID_ATTRIBUTE,
      /the node must be an object/,
    );
    refused(
      () => checkExtensions({ id: 'x' }, 'x'),
      CeCodes.INVALID_ATTRIBUTE,
      /"id" is a context attribute/,
    );
    refused(() => checkExtensions({ data: 'x' }, 'x'), CeCodes.INVALID_ATTRIBUTE, /not "data"/);
    refused(() => checkExtensions({ ok: { a: 1 } }, 'x'), CeCodes.INVALID_ATTRIBUTE, /not \{"a":1\}/);
  });

  it('takes a media type of 1024 characters and refuses 1025', () => {
    const type = (n: number) => `application/${'x'.repeat(n - 12)}`;
    assert.equal(isMediaType(type(1024)), true);
    assert.equal(isMediaType(type(1025)), false);
  });

  it('drops null attributes read from JSON but keeps a null payload', () => {
    assert.deepEqual(withoutNulls({ id: 'a', subject: null, data: null }), { id: 'a', data: null });
  });

  it('decodes percent-escapes and names a broken one', () => {
    assert.equal(percentDecode('a%20b'), 'a b');
    assert.equal(percentDecode('plain'), 'plain');
    refused(() => percentDecode('a%2'), CeCodes.INVALID, /Broken percent-encoding in "a%2"/);
    refused(() => percentDecode('%ff'), CeCodes.INVALID, /"%ff" is not UTF-8/);
  });
});

describe('CloudEvents model: URI-references from end to end', () => {
  const sourceOk = (source: string) => assert.equal(validateCloudEvent({ ...base, source }).source, source);
  const sourceRefused = (source: string) =>
    refused(
      () => validateCloudEvent({ ...base, source }),
      CeCodes.INVALID,
      /^source .* is not a URI-reference$/,
    );
  const schemaOk = (dataschema: string) =>
    assert.equal(validateCloudEvent({ ...base, dataschema }).dataschema, dataschema);
  const schemaRefused = (dataschema: string) =>
    refused(
      () => validateCloudEvent({ ...base, dataschema }),
      CeCodes.INVALID,
      /^dataschema .* is not an absolute URI$/,
    );

  it('takes an IPv6 host in brackets, after a user too, and brackets nowhere else', () => {
    for (const source of ['https://[2001:db8::1]/vcd', '//[::1]:8080/x', 'amqp://nr@[fe80::1]:5672/'])
      sourceOk(source);
    // Brackets after the host: no IP literal, even where "//" starts a path segment.
    for (const source of ['https://vcd.example.com//[::1]', '/events//[::1]', 'https://[::1]/[::2]'])
      sourceRefused(source);
    // What comes before the literal is checked as any other part.
    for (const source of ['https://n r@[::1]/', 'https://%zz@[::1]/', 'ht_tp://[::1]/'])
      sourceRefused(source);
  });

  it('checks every character of a source, not only its start or its end', () => {
    sourceOk('/tenants/acme%20corp/vm-1');
    for (const source of ['/a b', 'a b', '/vm-1 ', '/%zz/x', '/x/%4', '/a#b#c']) sourceRefused(source);
  });

  it('checks the scheme where there is one, and takes a colon later in a relative path', () => {
    for (const source of ['urn:vcd:org:1', 'x+y.z-1:rest', '/orgs/urn:vcd:org:1', 'vm-1/a:b'])
      sourceOk(source);
    for (const source of ['1abc:x', 'a_b:x', '-a:x']) sourceRefused(source);
  });

  it('takes as dataschema only a URI with a scheme and something after it', () => {
    for (const dataschema of ['https://example.com/s.json', 'urn:x']) schemaOk(dataschema);
    for (const dataschema of ['/schemas/event:v1', 'schemas/v1:x', 'urn:', './a:b'])
      schemaRefused(dataschema);
  });

  it('refuses data_base64 that is not a string even where its text would be base64', () => {
    validateCloudEvent({ ...base, data_base64: 'AAE=' });
    validateCloudEvent({ ...base, data_base64: '' });
    for (const data_base64 of [1234, Buffer.from('abcd'), ['QUJD'], { toString: () => 'QUJD' }])
      refused(
        () => validateCloudEvent({ ...base, data_base64: data_base64 as unknown as string }),
        CeCodes.INVALID,
        /^data_base64 is not base64$/,
      );
    for (const data_base64 of ['AAE', 'AA=E', 'AAE=\n', ' AAE='])
      refused(() => validateCloudEvent({ ...base, data_base64 }), CeCodes.INVALID, /not base64/);
  });
});

describe('CloudEvents from a payload', () => {
  it('needs a type and a source, and says which is missing', () => {
    refused(() => fromPayload({}, { source: '/s' }), CeCodes.INVALID, /Set the CloudEvent type/);
    refused(() => fromPayload({}, { type: 't' }), CeCodes.INVALID, /Set the CloudEvent source/);
  });

  it('types the data it is given: bytes, text, JSON', () => {
    const attrs = { type: 't', source: '/s' };
    assert.equal(fromPayload(Buffer.from('x'), attrs).datacontenttype, 'application/octet-stream');
    assert.equal(fromPayload('x', attrs).datacontenttype, 'text/plain');
    assert.equal(fromPayload({ x: 1 }, attrs).datacontenttype, 'application/json');
    assert.equal(fromPayload('x', { ...attrs, datacontenttype: 'text/csv' }).datacontenttype, 'text/csv');
  });

  it('gives the same payload the same id, and another subject, type or payload another', () => {
    const attrs = { type: 't', source: '/s', subject: 'a' };
    const id = fromPayload({ x: 1 }, attrs).id;
    assert.equal(fromPayload({ x: 1 }, attrs).id, id);
    assert.notEqual(fromPayload({ x: 1 }, { ...attrs, subject: 'b' }).id, id);
    assert.notEqual(fromPayload({ x: 1 }, { ...attrs, type: 'u' }).id, id);
    assert.notEqual(fromPayload({ x: 2 }, attrs).id, id);
    assert.notEqual(fromPayload(Buffer.from('1'), attrs).id, fromPayload(Buffer.from('2'), attrs).id);
  });
});
