/**
 * Edges of the CloudEvent model a receiver would notice: the headers binary
 * mode sends and the Content-Type it picks, attributes that are not strings,
 * names reserved for the data, data that has no JSON form, and ids that stay
 * the same from one release to the next (a receiver drops duplicates by id).
 */
import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import {
  type CloudEvent,
  fromPayload,
  toBinary,
  validateCloudEvent,
} from '../../nodes/events/cloudevent-model';

const base = (extra: Record<string, unknown> = {}): CloudEvent =>
  ({ specversion: '1.0', id: 'e-1', source: '/tests', type: 'com.example.test', ...extra }) as CloudEvent;

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return `${(err as CodedError).code}: ${(err as Error).message}`;
  }
  return 'accepted';
};

describe('CloudEvent model: attribute edges', () => {
  it('binary mode: a header per attribute that is set, none for the data, its type or an attribute left undefined', () => {
    const { headers } = toBinary(
      base({ subject: undefined, data: { a: 1 }, datacontenttype: 'application/json', tenant: 'x' }),
    );
    assert.deepEqual(Object.keys(headers).sort(), [
      'ce-id',
      'ce-source',
      'ce-specversion',
      'ce-tenant',
      'ce-type',
      'content-type',
    ]);
    const bytes = toBinary(base({ data_base64: 'eA==' }));
    assert.deepEqual(Object.keys(bytes.headers).sort(), [
      'ce-id',
      'ce-source',
      'ce-specversion',
      'ce-type',
      'content-type',
    ]);
  });

  it('binary mode: data_base64 goes as its bytes with its datacontenttype, or application/octet-stream without one', () => {
    const typed = toBinary(base({ data_base64: 'eA==', datacontenttype: 'image/png' }));
    assert.deepEqual([typed.headers['content-type'], typed.body], ['image/png', Buffer.from('x')]);
    const untyped = toBinary(base({ data_base64: 'eA==' }));
    assert.deepEqual(
      [untyped.headers['content-type'], untyped.body],
      ['application/octet-stream', Buffer.from('x')],
    );
  });

  it('binary mode: data held as bytes goes as those bytes with its datacontenttype, or application/octet-stream without one', () => {
    const typed = toBinary(base({ data: Buffer.from('x'), datacontenttype: 'image/png' }));
    assert.deepEqual([typed.headers['content-type'], typed.body], ['image/png', Buffer.from('x')]);
    const untyped = toBinary(base({ data: new Uint8Array([0x78]) }));
    assert.deepEqual(
      [untyped.headers['content-type'], untyped.body],
      ['application/octet-stream', Buffer.from('x')],
    );
  });

  it('binary mode: data that is no string goes as JSON whatever its type says', () => {
    const { headers, body } = toBinary(base({ data: { a: 1 }, datacontenttype: 'text/plain' }));
    assert.deepEqual([headers['content-type'], body], ['text/plain', '{"a":1}']);
  });

  it('refuses an optional attribute that is no string, and an extension named for the data', () => {
    for (const subject of [5, true, { a: 1 }])
      assert.match(
        code(() => validateCloudEvent(base({ subject }))),
        /^CE_INVALID: subject must be a non-empty string/,
      );
    for (const name of ['data', 'data_base64'])
      assert.match(
        code(() => fromPayload({ n: 1 }, { type: 't', source: '/s', extensions: { [name]: 'eA==' } })),
        new RegExp(`^CE_INVALID_ATTRIBUTE: "${name}" is not a valid CloudEvents attribute name`),
      );
  });

  it('refuses data with no JSON form, and names what cannot be written', () => {
    const circle: Record<string, unknown> = {};
    circle.self = circle;
    assert.match(
      code(() => fromPayload(circle, { type: 't', source: '/s' })),
      /^CE_DATA_UNSERIALIZABLE: .*circular/,
    );
    assert.match(
      code(() => fromPayload({ n: 1n }, { type: 't', source: '/s' })),
      /^CE_DATA_UNSERIALIZABLE: .*BigInt/,
    );
    assert.match(
      code(() => fromPayload(1, { type: 't', source: '/s', extensions: { big: 10n as unknown as number } })),
      /^CE_INVALID_ATTRIBUTE: The extension "big" must be .* not bigint$/,
    );
  });

  it('an event without an id gets the same id in every release: the source, type, subject and data decide it', () => {
    const attrs = { type: 'com.example.test', source: '/tests' };
    assert.equal(fromPayload({ n: 1 }, attrs).id, 'bcbd8450f6ae88e47fe66bdbe4ad3a34');
    assert.equal(fromPayload({ n: 2 }, attrs).id, '57d6b73d24db94fce473274e33f38937');
  });
});
