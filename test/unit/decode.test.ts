import assert from 'node:assert/strict';
import { decode, detectFormat } from '../../nodes/events/decode';
import { parseRoutingKey } from '../../nodes/events/decode/vcd-amqp';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { excerpt } from '../../nodes/common/http';
import { parseXml } from '../../nodes/common/xml';
import { toMessage } from '../../nodes/aci/output';

const ORG = 'urn:vcloud:org:89d59365-0154-5eda-afc9-feae479281b8';
const USER = 'urn:vcloud:user:ee040994-7d67-5f74-a591-d30ca9e18e31';
const VM = 'urn:vcloud:vm:2f1f3b5c-7f6a-4d3e-9a43-1d2c3b4a5f60';

const vcdEvent = {
  eventId: 'cecb8de7-b87c-4a8e-9b0e-1f6a2d7e5c11',
  type: 'com/vmware/vcloud/event/vm/create',
  timestamp: '2026-11-22T13:45:12.345678+01:00',
  operationSuccess: true,
  user: USER,
  userName: 'acmeadmin',
  org: ORG,
  orgName: 'acme',
  entity: VM,
  entityType: 'vm',
  entityName: 'web-01',
  taskName: 'vdcComposeVapp',
};

const amqpXml = `<?xml version="1.0" encoding="UTF-8"?>
<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"
    type="com/vmware/vcloud/event/vapp/create" eventId="a1440dd8-60ae-46c7-b216-44693bc00c90">
  <vmext:Link rel="entityResolver" href="https://vcloud.example.com/api/entity/"/>
  <vmext:EntityLink rel="entity" type="vcloud:vapp" name="erp &amp; co" id="urn:vcloud:vapp:dc6a"/>
  <vmext:EntityLink rel="up" type="vcloud:org" name="acme" id="urn:vcloud:org:0b8a"/>
  <vmext:EntityLink rel="down" type="vcloud:user" name="acmeadmin" id="urn:vcloud:user:832c"/>
  <vmext:Timestamp>2011-06-18T14:33:27.787-07:00</vmext:Timestamp>
  <vmext:OperationSuccess>true</vmext:OperationSuccess>
</vmext:Notification>`;

const aciPush = {
  subscriptionId: ['72057598349672449', '72057598349672450'],
  imdata: [
    {
      fvBD: {
        attributes: {
          dn: 'uni/tn-prod/BD-web',
          descr: 'front end',
          modTs: '2026-11-22T13:40:01.123+00:00',
          status: 'modified',
          rn: '',
          childAction: '',
        },
      },
    },
    {
      faultInst: {
        attributes: {
          dn: 'uni/tn-prod/BD-web/fault-F0467',
          code: 'F0467',
          severity: 'major',
          lc: 'raised',
          descr: 'Configuration failed for EPG web',
          modTs: '2026-11-22T13:40:02.000+00:00',
          status: 'created',
        },
      },
    },
  ],
};

/** A vCenter event as the VMware Event Broker Appliance sends it (binary mode; seed 004). */
const vebaHeaders = {
  'Ce-Id': '08179137-b8e0-4973-b05f-8f212bf5003b',
  'Ce-Source': 'https://vcenter-01:443/sdk',
  'Ce-Specversion': '1.0',
  'Ce-Time': '2021-09-27T19:02:54.063Z',
  'Ce-Type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
  'Content-Type': 'application/json',
};
const vebaBody = {
  Key: 280034,
  CreatedTime: '2024-01-17T13:02:05.426999Z',
  UserName: 'VSPHERE.LOCAL\\Administrator',
  Vm: { Name: 'workload1', Vm: { Type: 'VirtualMachine', Value: 'vm-2073' } },
  FullFormattedMessage: 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab',
};

describe('event decode: formats', () => {
  it('a VCD envelope → one InfraEvent with a useful summary', () => {
    const envelope = {
      type: 'EVENT',
      headers: { contentType: 'application/json' },
      payload: JSON.stringify(vcdEvent),
    };
    const { format, events } = decode(
      { payload: JSON.stringify(envelope) },
      { source: 'https://vcd.example.com' },
    );
    assert.equal(format, 'vcd');
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.id, vcdEvent.eventId);
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
    assert.deepEqual(e.data, vcdEvent);
  });

  it('a VCD JSON notification (without envelope), with URNs where names are missing', () => {
    const bare = {
      ...vcdEvent,
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
      ...vcdEvent,
      type: 'com/vmware/vcloud/event/session/login',
      entityType: 'session',
      entityName: 'acmeadmin',
    };
    assert.equal(decode({ payload: login }).events[0]!.summary, 'acmeadmin logged in to acme: succeeded');
  });

  it('a TASK envelope with a task representation', () => {
    const task = {
      id: 'urn:vcloud:task:1234',
      operationName: 'vappDeploy',
      status: 'running',
      startDate: '2026-11-22T13:45:12.000+00:00',
      owner: { name: 'web-01', id: VM, type: 'application/vnd.vmware.vcloud.vm+xml' },
      org: { name: 'acme', id: ORG },
      user: { name: 'acmeadmin', id: USER },
    };
    const [e] = decode({ payload: { type: 'TASK', headers: {}, payload: JSON.stringify(task) } }).events;
    assert.equal(e!.type, 'com.vmware.vcloud.task.running');
    assert.equal(e!.id, 'urn:vcloud:task:1234#running', 'each status change of a task is its own event');
    assert.equal(e!.summary, 'task vappDeploy on web-01 by acmeadmin in acme: running');
    assert.equal(e!.subject, VM);
  });

  it('other envelope types are kept whole with a stable id', () => {
    const env = { type: 'API_REQUEST', headers: {}, payload: '{"x":1}' };
    const a = decode({ payload: JSON.stringify(env) }).events[0]!;
    const b = decode({ payload: env }).events[0]!;
    assert.equal(a.type, 'com.vmware.vcloud.message.api_request');
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, decode({ payload: { ...env, payload: '{"x":2}' } }).events[0]!.id);
  });

  it('a legacy AMQP XML notification with its routing key and headers', () => {
    const { format, events } = decode({
      payload: Buffer.from(amqpXml),
      routingKey: 'true.dc6a.0b8a.832c.com.vmware.vcloud.event.vapp.create',
      amqpHeaders: { 'notification.entityType': 'vApp' },
    });
    assert.equal(format, 'vcd-amqp');
    const e = events[0]!;
    assert.equal(e.id, 'a1440dd8-60ae-46c7-b216-44693bc00c90');
    assert.equal(e.type, 'com.vmware.vcloud.event.vapp.create');
    assert.equal(e.time, '2011-06-18T14:33:27.787-07:00');
    assert.equal(e.source, 'https://vcloud.example.com', 'the site from the entity resolver link');
    assert.equal(e.summary, 'vapp erp & co created by acmeadmin in acme: succeeded');
    assert.equal(e.origin, 'vcd-amqp');
    assert.equal(e.vcd?.entity, 'urn:vcloud:vapp:dc6a');
  });

  it('the routing key fills what the XML leaves out', () => {
    const xml =
      '<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" eventId="e-1"/>';
    const [e] = decode({
      payload: xml,
      routingKey: 'false.ent.org.usr.com.vmware.vcloud.event.vm.delete',
    }).events;
    assert.equal(e!.type, 'com.vmware.vcloud.event.vm.delete');
    assert.equal(e!.vcd?.operationSuccess, false);
    assert.equal(e!.vcd?.org, 'org');
    assert.deepEqual(
      parseRoutingKey('true.e.o.u.com.vmware.vcloud.event.vapp.create.vappDeploy')?.type,
      'com.vmware.vcloud.event.vapp.create.vappDeploy',
    );
  });

  it('an ACI push → one event per object, ids from dn + modTs + status (+ what changed)', () => {
    const { format, events } = decode(
      { payload: JSON.stringify(aciPush) },
      { source: 'https://apic.example.com' },
    );
    assert.equal(format, 'aci');
    assert.equal(events.length, 2);
    const [bd, fault] = events;
    assert.equal(bd!.type, 'com.cisco.aci.fvBD.modified');
    assert.match(bd!.id, /^modified:uni\/tn-prod\/BD-web@2026-11-22T13:40:01\.123\+00:00#[0-9a-f]{8}$/);
    assert.equal(fault!.id, 'created:uni/tn-prod/BD-web/fault-F0467@2026-11-22T13:40:02.000+00:00');
    assert.equal(bd!.subject, 'uni/tn-prod/BD-web');
    assert.equal(bd!.summary, 'fvBD uni/tn-prod/BD-web modified (descr front end)');
    assert.equal(bd!.time, '2026-11-22T13:40:01.123+00:00');
    assert.equal(bd!.aci?.className, 'fvBD');
    assert.equal(
      fault!.summary,
      'major fault F0467 raised on uni/tn-prod/BD-web: Configuration failed for EPG web',
    );
    assert.equal(fault!.source, 'https://apic.example.com');
  });

  it('an ACI query answer → snapshot events', () => {
    const answer = {
      totalCount: '1',
      imdata: [
        {
          fvTenant: {
            attributes: {
              dn: 'uni/tn-prod',
              name: 'prod',
              modTs: '2026-01-01T00:00:00.000+00:00',
              status: '',
            },
          },
        },
      ],
    };
    const [e] = decode({ payload: answer }).events;
    assert.equal(e!.type, 'com.cisco.aci.fvTenant.snapshot');
  });

  it('a binary-mode CloudEvent from the Event Broker Appliance (http-in headers)', () => {
    const { format, events, cloudevents } = decode({ payload: vebaBody, httpHeaders: vebaHeaders });
    assert.equal(format, 'cloudevent');
    const e = events[0]!;
    assert.equal(e.id, '08179137-b8e0-4973-b05f-8f212bf5003b');
    assert.equal(e.source, 'https://vcenter-01:443/sdk');
    assert.equal(e.type, 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0');
    assert.equal(e.time, '2021-09-27T19:02:54.063Z');
    assert.equal(e.summary, 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab');
    assert.deepEqual(e.data, vebaBody);
    assert.equal(cloudevents![0]!.datacontenttype, 'application/json');
  });

  it('percent-decodes binary-mode header values', () => {
    const headers = {
      ...vebaHeaders,
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

  it('an audit-trail record gives the same event as its message-bus notification', () => {
    const record = {
      eventId: `urn:vcloud:audit:${vcdEvent.eventId}`,
      eventType: vcdEvent.type,
      eventStatus: 'SUCCESS',
      timestamp: vcdEvent.timestamp,
      operatingOrg: { name: 'acme', id: ORG },
      user: { name: 'acmeadmin', id: USER },
      eventEntity: { name: 'web-01', id: VM },
      description: 'vm web-01 created',
      additionalProperties: { taskName: 'vdcComposeVapp' },
    };
    const page = {
      resultTotal: 2,
      pageCount: 1,
      page: 1,
      pageSize: 25,
      values: [record, { ...record, eventStatus: 'FAILURE', eventId: 'urn:vcloud:audit:x' }],
    };
    const live = decode({ payload: vcdEvent }, { source: 'https://vcd.example.com' }).events[0]!;
    const one = decode({ payload: record }, { source: 'https://vcd.example.com' });
    assert.equal(one.format, 'vcd-audit');
    const e = one.events[0]!;
    for (const field of ['id', 'type', 'time', 'subject', 'summary', 'source'] as const) {
      assert.equal(e[field], live[field], field);
    }
    assert.deepEqual(e.vcd, live.vcd);
    const both = decode({ payload: JSON.stringify(page) });
    assert.equal(both.format, 'vcd-audit');
    assert.deepEqual(
      both.events.map((x) => [x.id, x.vcd?.operationSuccess]),
      [
        [vcdEvent.eventId, true],
        ['x', false],
      ],
    );
  });

  it('detects every format from its shape', () => {
    assert.equal(detectFormat({ type: 'EVENT', headers: {}, payload: '{}' }), 'vcd');
    assert.equal(detectFormat(vcdEvent), 'vcd-json');
    assert.equal(detectFormat('<x/>'), 'vcd-amqp');
    assert.equal(detectFormat(aciPush), 'aci');
    assert.equal(detectFormat({ specversion: '1.0' }), 'cloudevent');
    assert.equal(detectFormat({ eventId: 'a', eventType: 't', timestamp: 'now' }), 'vcd-audit');
    assert.equal(detectFormat({}, { 'content-type': 'application/cloudevents-batch+json' }), 'cloudevent');
  });
});

describe('event decode: bad input is refused with a code and a short excerpt', () => {
  const cases: [string, Parameters<typeof decode>[0], Parameters<typeof decode>[1], string][] = [
    ['not JSON', { payload: '{"type": "EVENT", ' }, {}, 'DECODE_INVALID_JSON'],
    ['neither JSON nor XML', { payload: 'hello' }, {}, 'DECODE_UNKNOWN_FORMAT'],
    ['an unknown shape', { payload: { hello: 'world' } }, {}, 'DECODE_UNKNOWN_FORMAT'],
    [
      'an envelope without a type, when told',
      { payload: { headers: {}, payload: '' } },
      { format: 'vcd' },
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
      { format: 'vcd-json' },
      'DECODE_WRONG_SHAPE',
    ],
    ['broken XML', { payload: '<vmext:Notification><a></vmext:Notification>' }, {}, 'DECODE_INVALID_XML'],
    [
      'XML that is not a notification',
      { payload: '<html><body>503</body></html>' },
      {},
      'DECODE_WRONG_SHAPE',
    ],
    [
      'an entity-expansion attempt',
      {
        payload:
          '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Notification eventId="&b;"/>',
      },
      {},
      'DECODE_INVALID_XML',
    ],
    [
      'an ACI error answer',
      { payload: { imdata: [{ error: { attributes: { code: '403', text: 'Token was invalid' } } }] } },
      {},
      'DECODE_WRONG_SHAPE',
    ],
    [
      'an ACI object without dn',
      { payload: { imdata: [{ fvBD: { attributes: { name: 'x' } } }] } },
      {},
      'DECODE_WRONG_SHAPE',
    ],
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
      { payload: '{}', httpHeaders: { ...vebaHeaders, 'ce-subject': 'a%zz' } },
      {},
      'DECODE_WRONG_SHAPE',
    ],
    [
      'an audit page with a record that is not one',
      { payload: { pageCount: 1, values: [{ eventId: 'a' }] } },
      { format: 'vcd-audit' },
      'DECODE_WRONG_SHAPE',
    ],
    ['JSON where XML was asked for', { payload: '{"a":1}' }, { format: 'vcd-amqp' }, 'DECODE_INVALID_XML'],
  ];
  for (const [what, input, options, code] of cases) {
    it(`${what} → ${code}`, () => {
      assert.throws(
        () => decode(input, options),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, code);
          assert.ok(err.message.length < 400, 'a short excerpt, not the whole input');
          return true;
        },
      );
    });
  }

  it('quotes no more than an excerpt of a large input', () => {
    try {
      decode({ payload: `<a>${'x'.repeat(100_000)}` });
      assert.fail('should throw');
    } catch (err) {
      assert.ok((err as Error).message.length < 300);
    }
  });
});

describe('event decode: fixes from the audit', () => {
  const NS = 'xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"';

  it('an envelope type VCD may add is kept, decoded generically with its type', () => {
    for (const options of [{}, { format: 'vcd' as const }]) {
      const e = decode({ payload: { type: 'METRICS', headers: {}, payload: '{"cpu":1}' } }, options)
        .events[0]!;
      assert.equal(e.type, 'com.vmware.vcloud.message.metrics');
      assert.deepEqual((e.data as { payload: unknown }).payload, { cpu: 1 });
    }
  });

  it('an envelope carrying a legacy XML notification decodes as that notification', () => {
    const env = { type: 'EVENT', headers: { contentType: 'application/xml' }, payload: amqpXml };
    const e = decode({ payload: JSON.stringify(env) }).events[0]!;
    assert.equal(e.id, 'a1440dd8-60ae-46c7-b216-44693bc00c90');
    assert.equal(e.type, 'com.vmware.vcloud.event.vapp.create');
    assert.equal(e.time, '2011-06-18T14:33:27.787-07:00', 'the notification time, not now');
    assert.equal(e.summary, 'vapp erp & co created by acmeadmin in acme: succeeded');
    assert.equal(e.source, 'https://vcloud.example.com');
  });

  it('refuses DOCTYPEs and entities in every XML: AMQP body and envelope payload', () => {
    const internal = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "INJECTED">]><vmext:Notification ${NS} type="com/vmware/vcloud/event/vm/create" eventId="&a;"/>`;
    const external = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>`;
    assert.throws(() => decode({ payload: internal }), { code: 'DECODE_INVALID_XML' });
    for (const xml of [internal, external]) {
      assert.throws(() => decode({ payload: { type: 'EVENT', headers: {}, payload: xml } }), {
        code: 'DECODE_BAD_PAYLOAD',
      });
    }
    assert.throws(() => parseXml(internal), { code: 'XML_INVALID' });
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

  it('refuses input over the size limit with DECODE_TOO_LARGE', () => {
    const big = JSON.stringify({ ...vcdEvent, pad: 'x'.repeat(2000) });
    assert.throws(() => decode({ payload: big }, { maxBytes: 1000 }), { code: 'DECODE_TOO_LARGE' });
    assert.throws(() => decode({ payload: Buffer.from(big) }, { maxBytes: 1000 }), {
      code: 'DECODE_TOO_LARGE',
    });
    assert.equal(decode({ payload: big }).events[0]!.id, vcdEvent.eventId, 'the default is generous');
  });

  it('accepts a UTF-8 byte-order mark before JSON', () => {
    const text = `\uFEFF${JSON.stringify(vcdEvent)}`;
    assert.equal(decode({ payload: text }).events[0]!.id, vcdEvent.eventId);
    assert.equal(decode({ payload: Buffer.from(text) }).events[0]!.id, vcdEvent.eventId);
  });

  it('two modifications of one object in the same millisecond get different ids; the same one the same id', () => {
    const mod = (attrs: Record<string, string>) => ({
      fvBD: {
        attributes: {
          dn: 'uni/tn-a/BD-1',
          status: 'modified',
          modTs: '2026-01-01T00:00:00.000+00:00',
          ...attrs,
        },
      },
    });
    const [a, b, c] = decode({
      payload: { imdata: [mod({ arpFlood: 'yes' }), mod({ descr: 'x' }), mod({ arpFlood: 'yes' })] },
    }).events;
    assert.notEqual(a!.id, b!.id);
    assert.equal(a!.id, c!.id);
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

  it('fault modifications and deletions name the fault code from the dn', () => {
    const dn = 'uni/tn-prod/BD-web/fault-F1527';
    const [modified, deleted] = decode({
      payload: {
        imdata: [
          {
            faultInst: {
              attributes: { dn, status: 'modified', modTs: '2026-01-01T00:00:00.000+00:00', lc: 'retaining' },
            },
          },
          { faultInst: { attributes: { dn, status: 'deleted', modTs: '2026-01-01T00:01:00.000+00:00' } } },
        ],
      },
    }).events;
    assert.equal(modified!.summary, 'fault F1527 retaining on uni/tn-prod/BD-web');
    assert.equal(deleted!.summary, 'fault F1527 deleted on uni/tn-prod/BD-web');
  });

  it('summaries are one line, whatever the names hold', () => {
    const e = decode({ payload: { ...vcdEvent, entityName: 'web\n01\r\n' } }).events[0]!;
    assert.equal(e.summary, 'vm web 01 created by acmeadmin in acme: succeeded');
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

  it("keeps a CloudEvent's extensions, datacontenttype and dataschema in the InfraEvent", () => {
    const e = decode({
      payload: vebaBody,
      httpHeaders: { ...vebaHeaders, 'ce-vsphereapiver': '8.0', 'ce-dataschema': 'https://example.com/s' },
    }).events[0] as InfraEvent;
    assert.deepEqual(e.cloudevent, {
      extensions: { vsphereapiver: '8.0' },
      datacontenttype: 'application/json',
      dataschema: 'https://example.com/s',
    });
  });

  it('an aci subscribe object message gives the same event as its Output "event"', () => {
    const change = {
      className: 'fvBD',
      dn: 'uni/tn-a/BD-1',
      status: 'modified',
      attributes: { dn: 'uni/tn-a/BD-1', modTs: '2026-01-01T00:00:00.000+00:00', arpFlood: 'yes' },
      reason: 'push' as const,
      subscriptionIds: ['1'],
      entries: ['fvBD'],
      apic: 'https://127.0.0.1:8444',
    };
    const viaObject = decode(
      { payload: toMessage(change, 'object', 'x').payload },
      { source: 'https://apic' },
    ).events[0]!;
    const viaEvent = toMessage(change, 'event', 'https://apic').payload;
    assert.deepEqual(viaObject, viaEvent);
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
