/**
 * Binary mode puts datacontenttype in Content-Type, and a receiver takes a request whose Content-Type is a
 * CloudEvents format (application/cloudevents+json, ...-batch+json) for an event in structured mode: an event
 * whose data is itself an event in that format cannot travel in binary mode. It is refused with a code, not
 * sent to be misread.
 */
import assert from 'node:assert/strict';
import { HTTP } from 'cloudevents';
import type { CodedError } from '../../nodes/common/errors';
import { fromPayload, toBinary, toStructured } from '../../nodes/events/cloudevent-model';

const inner = { specversion: '1.0', id: 'inner-1', source: '/inner', type: 'com.example.inner' };

describe('CloudEvents binary mode and event formats as data', () => {
  it('refuses, in binary mode, data whose content type is a CloudEvents format, saying to use structured mode', () => {
    for (const datacontenttype of [
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'Application/CloudEvents+JSON; charset=utf-8',
    ]) {
      const ce = fromPayload(inner, { type: 'com.example.outer', source: '/outer', datacontenttype });
      assert.throws(
        () => toBinary(ce),
        (err: CodedError) => err.code === 'CE_INVALID' && /structured mode/.test(err.message),
        datacontenttype,
      );
      const read = HTTP.toEvent({
        headers: { 'content-type': 'application/cloudevents+json' },
        body: toStructured(ce),
      }) as unknown as Record<string, unknown>;
      assert.deepEqual(
        [read.id, read.type, read.data],
        [ce.id, 'com.example.outer', inner],
        'structured carries it',
      );
    }
  });

  it('sends other JSON types in binary mode as they are', () => {
    const ce = fromPayload(inner, {
      type: 'com.example.outer',
      source: '/outer',
      datacontenttype: 'application/vnd.x+json',
    });
    const { headers, body } = toBinary(ce);
    assert.equal(headers['content-type'], 'application/vnd.x+json');
    const read = HTTP.toEvent({ headers, body }) as unknown as Record<string, unknown>;
    assert.deepEqual([read.id, read.type], [ce.id, 'com.example.outer']);
  });
});
