/**
 * Incoming CloudEvents: HTTP binary mode (ce-* headers), structured and
 * batch mode → InfraEvents that keep what cloudevent emit needs to send them on.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { vebaBodySample, vebaHeadersSample } from '../../nodes/events/decode/cloudevent';
import { refusesWithCode } from '../support/decode-fixtures';

describe('decoding CloudEvents', () => {
  it('a binary-mode CloudEvent from the Event Broker Appliance (http-in headers)', () => {
    const { format, events, cloudevents } = decode({
      payload: vebaBodySample,
      httpHeaders: vebaHeadersSample,
    });
    assert.equal(format, 'cloudevent');
    const e = events[0]!;
    assert.equal(e.id, '08179137-b8e0-4973-b05f-8f212bf5003b');
    assert.equal(e.source, 'https://vcenter-01:443/sdk');
    assert.equal(e.type, 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0');
    assert.equal(e.time, '2021-09-27T19:02:54.063Z');
    assert.equal(e.summary, 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab');
    assert.deepEqual(e.data, vebaBodySample);
    assert.equal(cloudevents![0]!.datacontenttype, 'application/json');
  });

  it('percent-decodes binary-mode header values', () => {
    const headers = {
      ...vebaHeadersSample,
      'ce-subject': 'lab-%C3%A9-%C3%BC%20vm',
      'content-type': 'application/json',
    };
    assert.equal(decode({ payload: '{}', httpHeaders: headers }).events[0]!.subject, 'lab-é-ü vm');
  });

  it('structured and batch CloudEvents; data_base64 becomes bytes', () => {
    const one = {
      specversion: '1.0',
      id: '1',
      source: '/s',
      type: 't',
      time: '2026-11-22T10:00:00.123456789Z',
      data: { a: 1 },
    };
    const two = {
      specversion: '1.0',
      id: '2',
      source: '/s',
      type: 't',
      data_base64: Buffer.from([1, 2, 3]).toString('base64'),
    };
    assert.equal(decode({ payload: JSON.stringify(one) }).events[0]!.time, '2026-11-22T10:00:00.123456789Z');
    const batch = decode({ payload: [one, two] });
    assert.equal(batch.events.length, 2);
    assert.deepEqual(batch.events[1]!.data, Buffer.from([1, 2, 3]));
  });

  it("keeps a CloudEvent's extensions, datacontenttype and dataschema in the InfraEvent", () => {
    const e = decode({
      payload: vebaBodySample,
      httpHeaders: {
        ...vebaHeadersSample,
        'ce-vsphereapiver': '8.0',
        'ce-dataschema': 'https://example.com/s',
      },
    }).events[0] as InfraEvent;
    assert.deepEqual(e.cloudevent, {
      extensions: { vsphereapiver: '8.0' },
      datacontenttype: 'application/json',
      dataschema: 'https://example.com/s',
    });
  });

  it('CloudEvent summaries are one line, whatever the message holds', () => {
    const ce = decode({
      payload: {
        specversion: '1.0',
        id: '1',
        source: '/s',
        type: 't',
        data: { FullFormattedMessage: 'a\nb' },
      },
    }).events[0]!;
    assert.equal(ce.summary, 'a b');
  });

  it('refuses invalid data_base64 and extension values CloudEvents has no type for', () => {
    const ce = { specversion: '1.0', id: '1', source: '/s', type: 't' };
    assert.throws(() => decode({ payload: { ...ce, data_base64: '!!!' } }), { code: 'DECODE_WRONG_SHAPE' });
    assert.throws(() => decode({ payload: { ...ce, rate: 1.5 } }), { code: 'DECODE_WRONG_SHAPE' });
    assert.throws(() => decode({ payload: { ...ce, big: 2 ** 40 } }), { code: 'DECODE_WRONG_SHAPE' });
    assert.throws(() => decode({ payload: { ...ce, obj: { a: 1 } } }), { code: 'DECODE_WRONG_SHAPE' });
    assert.throws(() => decode({ payload: { ...ce, source: 'not a uri' } }), { code: 'DECODE_WRONG_SHAPE' });
    assert.equal(decode({ payload: { ...ce, count: 7 } }).events[0]!.id, '1');
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      [
        'a CloudEvent without id',
        { payload: { specversion: '1.0', source: '/s', type: 't' } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'a CloudEvent with a bad time',
        { payload: { specversion: '1.0', id: '1', source: '/s', type: 't', time: 'yesterday' } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'broken percent-encoding',
        { payload: '{}', httpHeaders: { ...vebaHeadersSample, 'ce-subject': 'a%zz' } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
    ]);
  });
});
