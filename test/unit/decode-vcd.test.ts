/**
 * VCD message-bus envelopes (EVENT, TASK and types VCD may add) and bare JSON
 * notifications → InfraEvents.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { amqpXmlSample } from '../../nodes/events/decode/vcd-amqp';
import { vcdNotificationSample } from '../../nodes/events/decode/vcd-notification';
import { vcdTaskSample } from '../../nodes/events/decode/vcd-envelope';
import { refusesWithCode } from '../support/decode-fixtures';

const { org: ORG, user: USER, entity: VM } = vcdNotificationSample;

describe('decoding VCD envelopes and notifications', () => {
  it('a VCD envelope → one InfraEvent with a useful summary', () => {
    const envelope = {
      type: 'EVENT',
      headers: { contentType: 'application/json' },
      payload: JSON.stringify(vcdNotificationSample),
    };
    const { format, events } = decode(
      { payload: JSON.stringify(envelope) },
      { source: 'https://vcd.example.com' },
    );
    assert.equal(format, 'vcd-envelope');
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.id, vcdNotificationSample.eventId);
    assert.equal(e.type, 'com.vmware.vcloud.event.vm.create');
    assert.equal(e.time, '2026-11-22T13:45:12.345678+01:00', 'microseconds and offset kept');
    assert.equal(e.source, 'https://vcd.example.com');
    assert.equal(e.subject, VM);
    assert.equal(e.summary, 'vm web-01 created by acmeadmin in acme: succeeded');
    assert.equal(e.origin, 'vcd');
    assert.deepEqual(e.vcd, {
      org: 'acme',
      user: 'acmeadmin',
      entity: VM,
      entityType: 'vm',
      entityName: 'web-01',
      operationSuccess: true,
      taskName: 'vdcComposeVapp',
    });
    assert.deepEqual(e.data, vcdNotificationSample);
  });

  it('a VCD JSON notification (without envelope), with URNs where names are missing', () => {
    const bare = {
      ...vcdNotificationSample,
      userName: undefined,
      orgName: undefined,
      operationSuccess: false,
      type: 'com/vmware/vcloud/event/vm/deploy',
    };
    const [e] = decode({ payload: bare }).events;
    assert.equal(e!.summary, `vm web-01 deployed by ${USER} in ${ORG}: failed`);
    assert.equal(e!.source, ORG, 'without a site, the organization is the source');
  });

  it('a login event reads naturally', () => {
    const login = {
      ...vcdNotificationSample,
      type: 'com/vmware/vcloud/event/session/login',
      entityType: 'session',
      entityName: 'acmeadmin',
    };
    assert.equal(decode({ payload: login }).events[0]!.summary, 'acmeadmin logged in to acme: succeeded');
  });

  it('VCD summaries are one line, whatever the names hold', () => {
    const e = decode({ payload: { ...vcdNotificationSample, entityName: 'web\n01\r\n' } }).events[0]!;
    assert.equal(e.summary, 'vm web 01 created by acmeadmin in acme: succeeded');
  });

  it('a TASK envelope with a task representation', () => {
    const [e] = decode({
      payload: { type: 'TASK', headers: {}, payload: JSON.stringify(vcdTaskSample) },
    }).events;
    assert.equal(e!.type, 'com.vmware.vcloud.task.running');
    assert.equal(e!.id, 'urn:vcloud:task:1234#running', 'each status change of a task is its own event');
    assert.equal(e!.summary, 'task vappDeploy on web-01 by acmeadmin in acme: running');
    assert.equal(e!.subject, VM);
  });

  it('a task owned by a vApp names the entity type vApp', () => {
    const task = {
      id: 'urn:vcloud:task:1',
      operationName: 'vappDeploy',
      status: 'success',
      owner: { name: 'app', id: 'urn:vcloud:vapp:1', type: 'application/vnd.vmware.vcloud.vApp+xml' },
    };
    const e = decode({ payload: { type: 'TASK', headers: {}, payload: JSON.stringify({ task }) } })
      .events[0]!;
    assert.equal(e.vcd?.entityType, 'vApp');
  });

  it('other envelope types are kept whole with a stable id', () => {
    const env = { type: 'API_REQUEST', headers: {}, payload: '{"x":1}' };
    const a = decode({ payload: JSON.stringify(env) }).events[0]!;
    const b = decode({ payload: env }).events[0]!;
    assert.equal(a.type, 'com.vmware.vcloud.message.api_request');
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, decode({ payload: { ...env, payload: '{"x":2}' } }).events[0]!.id);
  });

  it('an envelope type VCD may add is kept, decoded generically with its type', () => {
    for (const options of [{}, { format: 'vcd-envelope' as const }]) {
      const e = decode({ payload: { type: 'METRICS', headers: {}, payload: '{"cpu":1}' } }, options)
        .events[0]!;
      assert.equal(e.type, 'com.vmware.vcloud.message.metrics');
      assert.deepEqual((e.data as { payload: unknown }).payload, { cpu: 1 });
    }
  });

  it('an envelope carrying a legacy XML notification decodes as that notification', () => {
    const env = { type: 'EVENT', headers: { contentType: 'application/xml' }, payload: amqpXmlSample };
    const e = decode({ payload: JSON.stringify(env) }).events[0]!;
    assert.equal(e.id, 'a1440dd8-60ae-46c7-b216-44693bc00c90');
    assert.equal(e.type, 'com.vmware.vcloud.event.vapp.create');
    assert.equal(e.time, '2011-06-18T14:33:27.787-07:00', 'the notification time, not now');
    assert.equal(e.summary, 'vapp erp & co created by acmeadmin in acme: succeeded');
    assert.equal(e.source, 'https://vcloud.example.com');
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      [
        'an envelope without a type, when told',
        { payload: { headers: {}, payload: '' } },
        { format: 'vcd-envelope' },
        'DECODE_UNKNOWN_TYPE',
      ],
      [
        'an envelope whose payload is broken',
        { payload: { type: 'EVENT', payload: '{"a":' } },
        {},
        'DECODE_BAD_PAYLOAD',
      ],
      [
        'a notification without eventId',
        { payload: { type: 'com/vmware/x' } },
        { format: 'vcd-notification' },
        'DECODE_WRONG_SHAPE',
      ],
    ]);
  });
});
