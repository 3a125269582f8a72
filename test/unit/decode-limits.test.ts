/**
 * What decoding refuses to take on: inputs over the size limit, nesting too
 * deep to read, and errors that would quote a whole input.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { excerpt } from '../../nodes/common/http';
import { vcdEvent } from '../support/decode-fixtures';

describe('decoding limits', () => {
  it('refuses input over the size limit with DECODE_TOO_LARGE', () => {
    const big = JSON.stringify({ ...vcdEvent, pad: 'x'.repeat(2000) });
    assert.throws(() => decode({ payload: big }, { maxBytes: 1000 }), { code: 'DECODE_TOO_LARGE' });
    assert.throws(() => decode({ payload: Buffer.from(big) }, { maxBytes: 1000 }), {
      code: 'DECODE_TOO_LARGE',
    });
    assert.equal(decode({ payload: big }).events[0]!.id, vcdEvent.eventId, 'the default is generous');
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
    try {
      decode({ payload: `<a>${'x'.repeat(100_000)}` });
      assert.fail('should throw');
    } catch (err) {
      assert.ok((err as Error).message.length < 300);
    }
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
