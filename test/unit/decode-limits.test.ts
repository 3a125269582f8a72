/**
 * What decoding refuses to take on: inputs over the size limits (objects and
 * XML included), nesting too deep to read, and errors that would quote a whole
 * input.
 */
import assert from 'node:assert/strict';
import { DEFAULT_MAX_BYTES, decode, estimateSize } from '../../nodes/events/decode';
import { excerpt } from '../../nodes/common/http';
import { vcdNotificationSample } from '../../nodes/events/decode/vcd-notification';

const notification = {
  eventId: 'cecb8de7-0000-4000-8000-000000000001',
  type: 'com/vmware/vcloud/event/vm/create',
  timestamp: '2026-11-22T13:45:12.345678+01:00',
  operationSuccess: true,
  entity: 'urn:vcloud:vm:1',
  entityType: 'vm',
};
const amqp = (padding: number) =>
  `<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" type="com/vmware/vcloud/event/vm/create" eventId="e1"><vmext:Timestamp>2026-01-01T00:00:00Z</vmext:Timestamp>${'<vmext:X/>'.repeat(padding)}</vmext:Notification>`;

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'decoded';
};

describe('decoding limits', () => {
  it('accepts up to 1 MiB by default, and what the node is set to', () => {
    assert.equal(DEFAULT_MAX_BYTES, 1024 * 1024);
    const big = JSON.stringify({ ...notification, details: 'x'.repeat(1.5 * 1024 * 1024) });
    assert.equal(
      code(() => decode({ payload: big })),
      'DECODE_TOO_LARGE',
    );
    assert.equal(
      code(() => decode({ payload: big }, { maxBytes: 4 * 1024 * 1024 })),
      'decoded',
    );
  });

  it('checks objects too: large, wide, long or circular ones are refused without reading them whole', () => {
    const large = { ...notification, details: 'x'.repeat(2 * 1024 * 1024) };
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const long = { ...notification, list: new Array(5_000_000).fill(0) };
    const nested = { ...notification, blob: Buffer.alloc(2 * 1024 * 1024) };
    for (const payload of [large, wide, long, nested])
      assert.equal(
        code(() => decode({ payload })),
        'DECODE_TOO_LARGE',
      );
    // A small object is estimated close to its JSON size.
    const size = estimateSize(notification, DEFAULT_MAX_BYTES);
    const json = JSON.stringify(notification).length;
    assert.ok(size >= json * 0.8 && size <= json * 1.5, `estimated ${size} for ${json} bytes`);
    // A circle is counted once: the estimate ends, and decoding says what is wrong with a code.
    const loop: Record<string, unknown> = { ...notification };
    loop.self = loop;
    assert.ok(estimateSize(loop, DEFAULT_MAX_BYTES) < 1000);
    assert.match(String(code(() => decode({ payload: loop }))), /^DECODE_|^decoded$/);
  });

  it('XML gets 64 KiB, in AMQP text and in an envelope payload alike', () => {
    assert.equal(
      code(() => decode({ payload: amqp(100) })),
      'decoded',
    );
    assert.equal(
      code(() => decode({ payload: amqp(10_000) })),
      'DECODE_TOO_LARGE',
    );
    const envelope = (xml: string) => ({
      type: 'EVENT',
      headers: { contentType: 'application/xml' },
      payload: xml,
    });
    assert.equal(
      code(() => decode({ payload: envelope(amqp(10_000)) })),
      'DECODE_TOO_LARGE',
    );
    assert.equal(
      code(() => decode({ payload: amqp(10_000) }, { maxXmlBytes: 1024 * 1024 })),
      'decoded',
    );
  });

  it('refuses input over the size limit with DECODE_TOO_LARGE', () => {
    const big = JSON.stringify({ ...vcdNotificationSample, pad: 'x'.repeat(2000) });
    assert.throws(() => decode({ payload: big }, { maxBytes: 1000 }), { code: 'DECODE_TOO_LARGE' });
    assert.throws(() => decode({ payload: Buffer.from(big) }, { maxBytes: 1000 }), {
      code: 'DECODE_TOO_LARGE',
    });
    assert.equal(
      decode({ payload: big }).events[0]!.id,
      vcdNotificationSample.eventId,
      'the default is generous',
    );
  });

  it('deep JSON and deep XML are refused with a DECODE_ code and a short excerpt, not a TypeError', () => {
    const deepJson = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deepXml = `${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}`;
    const deepObject: unknown[] = [];
    let cursor = deepObject;
    for (let i = 0; i < 20_000; i++) cursor.push((cursor = []));
    for (const payload of [deepJson, deepXml, deepObject]) {
      assert.throws(
        () => decode({ payload }),
        (err: Error & { code?: string }) => {
          assert.match(err.code ?? '', /^DECODE_/);
          assert.ok(err.message.length < 400);
          return true;
        },
      );
    }
  });

  it('quotes no more than an excerpt of a large input', () => {
    assert.throws(
      () => decode({ payload: `<a>${'x'.repeat(100_000)}` }),
      (err: Error & { code?: string }) =>
        err.code === 'DECODE_TOO_LARGE' && err.message.includes('"<a>xxx') && err.message.length < 300,
    );
  });

  it('excerpt() is safe on huge and deep values', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100_000; i++) cursor = (cursor.a = {}) as Record<string, unknown>;
    assert.ok(excerpt(deep, 80).length <= 81);
    assert.ok(excerpt('x'.repeat(50 * 1024 * 1024), 80).length <= 81);
    assert.equal(excerpt({ a: 'b\nc', n: [1, 2] }), '{"a":"b\\nc","n":[1,2]}');
  });
});
