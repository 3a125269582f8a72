/**
 * msg.cloudevent overrides an event's attributes one by one; the result is checked like any event we build, so
 * a message cannot make cloudevent emit send an invalid CloudEvent (the sink would refuse it, or worse, take it).
 */
import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import {
  fromInfraEvent,
  fromPayload,
  withOverrides,
  type MessageAttributes,
} from '../../nodes/events/cloudevent-model';

const infra = {
  id: 'cecb8de7-b87c-4a8e-9b0e-1f6a2d7e5c11',
  source: 'https://vcd.example.com',
  type: 'com.vmware.vcloud.event.vm.create',
  time: '2026-11-22T13:45:12.345678+01:00',
  subject: 'urn:vcloud:vm:2f1f3b5c',
  summary: 'vm web-01 created by acmeadmin in acme: succeeded',
  origin: 'vcd' as const,
  vcd: { org: 'acme', entityType: 'vm', operationSuccess: true },
  data: { eventId: 'cecb8de7', entityName: 'web-01' },
};

describe('CloudEvent attributes a message overrides', () => {
  it('refuses an override that leaves an invalid event, with a code naming the attribute, the event unchanged', () => {
    const ce = fromInfraEvent(infra);
    const before = JSON.stringify(ce);
    const invalid: [MessageAttributes, RegExp][] = [
      [{ id: '' }, /"id"/],
      [{ type: null }, /"type"/],
      [{ source: 'not a uri' }, /source/],
      [{ subject: '' }, /subject/],
      [{ dataschema: 'relative/schema.json' }, /dataschema/],
      [{ time: 'yesterday' }, /time/],
      [{ extensions: { 'Bad-Name': 'x' } }, /Bad-Name/],
    ];
    for (const [override, names] of invalid) {
      assert.throws(
        () => withOverrides(ce, override),
        (err: CodedError) => /^CE_INVALID/.test(err.code) && names.test(err.message),
        JSON.stringify(override),
      );
    }
    assert.equal(JSON.stringify(ce), before);
  });

  it('replaces exactly the attributes named, unsets those given as null, and keeps the rest', () => {
    const ce = fromPayload(
      { n: 1 },
      { type: 'com.example.a', source: '/a', subject: 's', dataschema: 'https://x/s' },
    );
    const out = withOverrides(ce, {
      type: 'com.example.b',
      source: 'https://b.example.com',
      id: 'b-1',
      time: '2026-11-22T13:45:12Z',
      subject: null,
      dataschema: null,
      datacontenttype: 'application/cloudevents+json',
      extensions: { team: 'netops' },
    });
    assert.deepEqual(out, {
      specversion: '1.0',
      id: 'b-1',
      source: 'https://b.example.com',
      type: 'com.example.b',
      time: '2026-11-22T13:45:12Z',
      datacontenttype: 'application/cloudevents+json',
      team: 'netops',
      data: { n: 1 },
    });
    assert.deepEqual(withOverrides(out, { time: null, extensions: { team: null } }).time, undefined);
    assert.equal(withOverrides(out, { extensions: { team: null } }).team, undefined);
    assert.deepEqual(withOverrides(out, {}), out);
  });
});
