import assert from 'node:assert/strict';
import { HTTP } from 'cloudevents';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import eventDecode from '../../nodes/events/event-decode';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { SinkSimulator } from '../../sim/sink';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { helper, loggedText, record } from '../support/red';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpRequestNode = require('@node-red/nodes/core/network/21-httprequest.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;
type Flow = Msg[];

const envelope = (eventId: string) => ({
  type: 'EVENT',
  headers: { contentType: 'application/json' },
  payload: JSON.stringify({
    eventId,
    type: 'com/vmware/vcloud/event/vm/create',
    timestamp: '2026-11-22T13:45:12.345678+01:00',
    operationSuccess: true,
    userName: 'acmeadmin',
    orgName: 'acme',
    entity: 'urn:vcloud:vm:1',
    entityType: 'vm',
    entityName: 'web-01',
  }),
});

/** node under test → out (and out2), plus a Catch → caught. */
function flowWith(node: Msg, outputs = 1): Flow {
  return [
    { id: 'tab', type: 'tab' },
    { ...node, id: 'n', z: 'tab', wires: outputs === 2 ? [['out'], ['out2']] : [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'out2', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

async function load(flow: Flow, credentials: Record<string, Record<string, string>> = {}) {
  await helper.load(
    [eventDecode, cloudeventEmit, catchNode, vcdLogin, vcdSubscribe, httpRequestNode],
    flow,
    credentials,
  );
  const got = { out: [] as Msg[], out2: [] as Msg[], caught: [] as Msg[] };
  for (const k of ['out', 'out2', 'caught'] as const)
    helper.getNode(k)?.on('input', (m: Msg) => got[k].push(m));
  return got;
}

describe('event decode node', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('turns a VCD envelope into an InfraEvent message, keeping the input when asked', async () => {
    const got = await load(
      flowWith({ type: 'event-decode', format: 'auto', keepOriginal: true, errors: 'catch' }),
    );
    const input = JSON.stringify(envelope('e-1'));
    helper.getNode('n').receive({ payload: input, topic: 'publish/o/u' });
    const msg = await waitFor(() => got.out[0], 'a decoded event');
    const payload = msg.payload as { id: string; summary: string; type: string };
    assert.equal(payload.id, 'e-1');
    assert.equal(payload.summary, 'vm web-01 created by acmeadmin in acme: succeeded');
    assert.equal(msg.topic, 'com.vmware.vcloud.event.vm.create');
    assert.equal(msg.original, input);
  });

  it('sends one message per object of an ACI push', async () => {
    const got = await load(flowWith({ type: 'event-decode', format: 'aci', errors: 'catch' }));
    const mo = (dn: string) => ({
      fvBD: { attributes: { dn, status: 'created', modTs: '2026-11-22T10:00:00.000+00:00' } },
    });
    helper
      .getNode('n')
      .receive({ payload: { subscriptionId: ['1'], imdata: [mo('uni/tn-a/BD-1'), mo('uni/tn-a/BD-2')] } });
    await waitFor(() => got.out.length === 2, 'two events');
    assert.deepEqual(
      got.out.map((m) => (m.payload as { subject: string }).subject),
      ['uni/tn-a/BD-1', 'uni/tn-a/BD-2'],
    );
  });

  it('reads binary-mode CloudEvents from http-in headers, and AMQP routing keys from msg.fields', async () => {
    const got = await load(flowWith({ type: 'event-decode', format: 'auto', errors: 'catch' }));
    helper.getNode('n').receive({
      payload: { FullFormattedMessage: 'DRS powered on workload1' },
      req: {
        headers: {
          'ce-id': 'x1',
          'ce-source': 'https://vcenter-01:443/sdk',
          'ce-specversion': '1.0',
          'ce-type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
          'content-type': 'application/json',
        },
      },
    });
    helper.getNode('n').receive({
      payload:
        '<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" eventId="a-1"/>',
      fields: { routingKey: 'true.e.o.u.com.vmware.vcloud.event.vm.delete' },
    });
    await waitFor(() => got.out.length === 2, 'two events');
    assert.equal((got.out[0]!.payload as { summary: string }).summary, 'DRS powered on workload1');
    assert.equal((got.out[0]!.payload as { source: string }).source, 'https://vcenter-01:443/sdk');
    assert.equal(got.out[0]!.cloudevent, undefined, 'nothing cloudevent emit would take for overrides');
    assert.equal((got.out[1]!.payload as { type: string }).type, 'com.vmware.vcloud.event.vm.delete');
  });

  it('sends bad input to Catch with a code, and goes on', async () => {
    const got = await load(flowWith({ type: 'event-decode', format: 'auto', errors: 'catch' }));
    helper.getNode('n').receive({ payload: '{"type": "EVENT", "payload": ' });
    helper.getNode('n').receive({ payload: envelope('e-2') });
    await waitFor(() => got.caught.length === 1 && got.out.length === 1, 'an error and then an event');
    const error = got.caught[0]!.error as { code: string; message: string };
    assert.equal(error.code, 'DECODE_INVALID_JSON');
    assert.match(error.message, /input: "\{"type": "EVENT"/);
    assert.equal(got.caught[0]!.payload, '{"type": "EVENT", "payload": ', 'the input is kept');
  });

  it('or to a second output, when set so', async () => {
    const got = await load(
      flowWith({ type: 'event-decode', format: 'auto', errors: 'output', outputs: 2 }, 2),
    );
    helper.getNode('n').receive({ payload: '<html>down</html>' });
    await waitFor(() => got.out2.length === 1, 'the error on output 2');
    assert.equal((got.out2[0]!.error as { code: string }).code, 'DECODE_WRONG_SHAPE');
    assert.equal(got.caught.length, 0);
  });

  it('every failure, whatever its cause, leaves by the error output with a DECODE_ code', async () => {
    const got = await load(
      flowWith({ type: 'event-decode', format: 'auto', errors: 'output', outputs: 2, maxSize: 1 }, 2),
    );
    const rec = record(helper.getNode('n'));
    const inputs = [
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      JSON.stringify({
        type: 'EVENT',
        headers: {},
        payload: '<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
      }),
      `${'<a>'.repeat(2000)}${'</a>'.repeat(2000)}`,
      'x'.repeat(2 * 1024 * 1024),
    ];
    for (const payload of inputs) helper.getNode('n').receive({ payload });
    await waitFor(() => got.out2.length === 4, 'four errors on output 2');
    assert.deepEqual(
      got.out2.map((m) => (m.error as { code: string }).code),
      ['DECODE_UNKNOWN_FORMAT', 'DECODE_BAD_PAYLOAD', 'DECODE_INVALID_XML', 'DECODE_TOO_LARGE'],
    );
    assert.ok(got.out2.every((m) => (m.error as { message: string }).message.length < 400));
    assert.equal(got.caught.length, 0);
    assert.deepEqual(
      rec.statuses.map((st) => st.text),
      ['unknown format', 'bad payload', 'bad XML', 'too large'],
    );
  });
});

describe('pipeline: event decode → cloudevent emit', () => {
  let sink: SinkSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sink.stop();
  });

  it('a binary-mode CloudEvent from the Event Broker Appliance arrives at the sink as it came', async () => {
    sink = await SinkSimulator.start();
    const flow: Flow = [
      { id: 'tab', type: 'tab' },
      { id: 'dec', type: 'event-decode', z: 'tab', format: 'auto', errors: 'catch', wires: [['emit']] },
      {
        id: 'emit',
        type: 'cloudevent-emit',
        z: 'tab',
        url: `${sink.url}/events`,
        mode: 'binary',
        ca: sink.cert,
        wires: [['out'], ['out2']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'out2', type: 'helper', z: 'tab' },
    ];
    const got = await load(flow);
    const headers = {
      'ce-id': '08179137-b8e0-4973-b05f-8f212bf5003b',
      'ce-source': 'https://vcenter-01:443/sdk',
      'ce-specversion': '1.0',
      'ce-type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
      'ce-time': '2021-09-27T19:02:54.063123Z',
      'ce-subject': 'workload1',
      'ce-vsphereapiver': '8.0',
      'content-type': 'application/json',
    };
    const data = { Key: 1, FullFormattedMessage: 'DRS powered on workload1', Vm: { Name: 'workload1' } };
    helper.getNode('dec').receive({ payload: data, req: { headers } });
    await waitFor(() => got.out.length === 1, 'delivered');
    assert.deepEqual(sink.rejected, []);
    const { datacontenttype, ...ev } = sink.received[0]!.event;
    assert.deepEqual(ev, {
      specversion: '1.0',
      id: headers['ce-id'],
      source: headers['ce-source'],
      type: headers['ce-type'],
      time: headers['ce-time'],
      subject: 'workload1',
      vsphereapiver: '8.0',
      data,
    });
    assert.equal(datacontenttype, 'application/json');
  });
});

describe('cloudevent emit node', () => {
  let sink: SinkSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sink = await SinkSimulator.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sink.stop();
  });

  const infra = {
    id: 'cecb8de7',
    source: 'https://vcd.example.com',
    type: 'com.vmware.vcloud.event.vm.create',
    time: '2026-11-22T13:45:12.345678+01:00',
    subject: 'urn:vcloud:vm:1',
    summary: 'vm web-01 created',
    origin: 'vcd',
    vcd: { org: 'acme' },
    data: { eventId: 'cecb8de7' },
  };

  const emitter = (extra: Msg = {}): Msg => ({
    type: 'cloudevent-emit',
    url: `${sink.url}/events`,
    mode: 'binary',
    ca: sink.cert,
    retryBudget: 5,
    ...extra,
  });

  it('without a URL, outputs the event as an http request node must send it, in either mode', async () => {
    const plain = await SinkSimulator.start({ tls: false });
    try {
      for (const mode of ['binary', 'structured']) {
        const flow: Flow = [
          { id: 'tab', type: 'tab' },
          { id: 'n', type: 'cloudevent-emit', z: 'tab', url: '', mode, wires: [['req'], []] },
          {
            id: 'req',
            type: 'http request',
            z: 'tab',
            method: 'POST',
            ret: 'txt',
            url: `${plain.url}/events`,
            wires: [['out']],
          },
          { id: 'out', type: 'helper', z: 'tab' },
        ];
        const got = await load(flow);
        helper.getNode('n').receive({ payload: { ...infra, subject: 'vm ü' } });
        const msg = await waitFor(() => got.out[0], `the answer of the sink (${mode})`);
        assert.equal(msg.statusCode, 202, String(msg.payload));
        await helper.unload();
      }
      assert.deepEqual(plain.rejected, []);
      assert.deepEqual(
        plain.received.map((r) => r.mode),
        ['binary', 'structured'],
      );
      for (const { event } of plain.received) {
        assert.equal(event.id, 'cecb8de7');
        assert.equal(event.time, infra.time);
        assert.equal(event.subject, 'vm ü');
        assert.equal(event.vcdorg, 'acme');
        assert.deepEqual(event.data, infra.data);
      }
    } finally {
      await plain.stop();
    }
    // Whatever carries it next, the SDK reads the binary form back.
    const got = await load(flowWith({ type: 'cloudevent-emit', url: '' }, 2));
    helper.getNode('n').receive({ payload: infra });
    const msg = await waitFor(() => got.out[0], 'the event');
    const back = HTTP.toEvent({
      headers: msg.headers as Record<string, string>,
      body: msg.payload,
    }) as unknown as {
      vcdorg: string;
      data: unknown;
    };
    assert.equal(back.vcdorg, 'acme');
    assert.deepEqual(back.data, infra.data);
  });

  it('delivers an InfraEvent and reports the result on output 1', async () => {
    const got = await load(flowWith(emitter(), 2));
    helper.getNode('n').receive({ payload: infra });
    const msg = await waitFor(() => got.out[0], 'the delivery result');
    assert.deepEqual(msg.payload && { status: (msg.payload as { status: number }).status }, { status: 202 });
    assert.equal(sink.received[0]!.event.id, 'cecb8de7');
    assert.equal(sink.received[0]!.event.vcdorg, 'acme');
  });

  it('describes other messages with the node settings and msg.cloudevent', async () => {
    const got = await load(
      flowWith(emitter({ ceType: 'com.example.alarm', ceSource: '/alarms', extensions: 'team=netops' }), 2),
    );
    helper.getNode('n').receive({
      payload: { alarm: 'disk full' },
      cloudevent: { subject: 'host-7', extensions: { sev: 'major' } },
    });
    await waitFor(() => got.out.length === 1, 'delivered');
    const ev = sink.received[0]!.event;
    assert.deepEqual(
      { type: ev.type, source: ev.source, subject: ev.subject, team: ev.team, sev: ev.sev, data: ev.data },
      {
        type: 'com.example.alarm',
        source: '/alarms',
        subject: 'host-7',
        team: 'netops',
        sev: 'major',
        data: { alarm: 'disk full' },
      },
    );
  });

  it('sends an event that is finally not delivered to output 2, with the error', async () => {
    const got = await load(flowWith(emitter(), 2));
    sink.failNext(1, 400);
    helper.getNode('n').receive({ payload: infra });
    const msg = await waitFor(() => got.out2[0], 'the failure on output 2');
    assert.equal((msg.error as { code: string }).code, 'CE_DELIVERY_REJECTED');
    assert.equal((msg.error as { status: number }).status, 400);
    assert.equal((msg.payload as { id: string }).id, 'cecb8de7', 'the event itself is kept');
    assert.equal(got.caught.length, 0);
  });

  it('with nothing wired to output 2, sends the failure to Catch instead', async () => {
    const flow = flowWith(emitter(), 2);
    (flow[1] as { wires: string[][] }).wires = [['out'], []];
    const got = await load(flow);
    sink.failNext(1, 400);
    helper.getNode('n').receive({ payload: infra });
    const msg = await waitFor(() => got.caught[0], 'the failure at Catch');
    assert.equal((msg.error as { code: string }).code, 'CE_DELIVERY_REJECTED');
  });

  it('applies only what msg.cloudevent names to an InfraEvent, and refuses extensions that are not an object', async () => {
    const got = await load(flowWith(emitter(), 2));
    helper
      .getNode('n')
      .receive({ payload: infra, cloudevent: { subject: 'override', extensions: { team: 'a' } } });
    helper.getNode('n').receive({ payload: infra, cloudevent: { extensions: 'team=x' } });
    await waitFor(() => got.out.length === 1 && got.out2.length === 1, 'one delivered, one refused');
    const ev = sink.received[0]!.event;
    assert.deepEqual(
      [ev.id, ev.type, ev.subject, ev.team, ev.vcdorg],
      [infra.id, infra.type, 'override', 'a', 'acme'],
    );
    assert.deepEqual(ev.data, infra.data);
    assert.equal((got.out2[0]!.error as { code: string }).code, 'CE_INVALID_ATTRIBUTE');
  });

  it('a failure never shows green, and the status stays short', async () => {
    const got = await load(flowWith(emitter(), 2));
    const rec = record(helper.getNode('n'));
    helper.getNode('n').receive({ payload: infra });
    await waitFor(() => got.out.length === 1, 'delivered');
    sink.failNext(1, 400);
    helper.getNode('n').receive({ payload: { ...infra, id: 'e-2' } });
    await waitFor(() => got.out2.length === 1, 'refused');
    const last = await waitFor(
      () => rec.statuses.find((st) => st.text?.includes('failed')),
      'a status with the failure',
    );
    assert.notEqual(last.fill, 'green');
    assert.ok(rec.statuses.every((st) => (st.text ?? '').length < 20));
  });

  it('on stop, says how many events it could not deliver', async () => {
    const got = await load(flowWith(emitter({ timeout: 60 }), 2));
    const node = helper.getNode('n');
    const warnings: string[] = [];
    // The helper's spies are gone by the time nodes close: watch this node's warn() directly.
    (node as unknown as { warn(m: unknown): void }).warn = (m) => warnings.push(String(m));
    sink.faults.slowMs = 60_000;
    for (let i = 0; i < 3; i++) node.receive({ payload: { ...infra, id: `lost-${i}` } });
    await waitFor(() => sink.log.length >= 1, 'requests in flight');
    await helper.unload();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^3 events not delivered when the flow stopped \(lost-\d, lost-\d, lost-\d\)/);
    assert.equal(got.caught.length, 0, 'one warning, not an error per event');
  });

  it('refuses a message it cannot describe, with a code, on output 2 as it came', async () => {
    const got = await load(flowWith(emitter(), 2));
    helper.getNode('n').receive({ payload: { alarm: 'x' } });
    const msg = await waitFor(() => got.out2[0], 'the refusal on output 2');
    assert.equal((msg.error as { code: string }).code, 'CE_INVALID');
    assert.match((msg.error as { message: string }).message, /type/);
    assert.deepEqual(msg.payload, { alarm: 'x' }, 'nothing lost');
    assert.equal(sink.requests, 0);
  });

  it('sends the bearer token and the secret header but never shows them, and shows the queue in the status', async () => {
    const got = await load(flowWith(emitter({ authType: 'bearer' }), 2), {
      n: { token: 'Sup3r-Secret-T0ken', secretHeader: 'X-Api-Key: k3y-0f-the-sink' },
    });
    const rec = record(helper.getNode('n'));
    for (let i = 0; i < 5; i++) helper.getNode('n').receive({ payload: { ...infra, id: `e-${i}` } });
    await waitFor(() => got.out.length === 5, 'five delivered');
    assert.equal(sink.log[0]!.authorization, 'Bearer Sup3r-Secret-T0ken');
    assert.equal(sink.log[0]!.apiKey, 'k3y-0f-the-sink');
    await waitFor(() => rec.statuses.some((s) => s.text === 'q 0 · sent 5'), 'the status with the count');
    assert.doesNotMatch(loggedText() + JSON.stringify(got), /Sup3r-Secret-T0ken|k3y-0f-the-sink/);
  });

  it('refuses a secret header that is not "Name: value" without quoting it', async () => {
    const got = await load(flowWith(emitter({ authType: 'none' }), 2), {
      n: { secretHeader: 'just-the-k3y-value' },
    });
    await waitFor(() => got.caught.length === 1, 'the error at Catch');
    assert.equal((got.caught[0]!.error as { code: string }).code, 'CE_CONFIG_INVALID');
    assert.doesNotMatch(JSON.stringify(got.caught) + loggedText(), /just-the-k3y-value/);
  });
});

describe('pipeline: vcd subscribe (event output) → cloudevent emit → sink', () => {
  let sim: VcdSimulator;
  let sink: SinkSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    await sink.stop();
  });

  it('VCD events arrive at the sink as valid CloudEvents, one per event', async () => {
    sim = await VcdSimulator.start();
    sink = await SinkSimulator.start();
    const flow: Flow = [
      { id: 'tab', type: 'tab' },
      { id: 'login', type: 'vcd-login', url: sim.url, org: 'acme', authType: 'password', ca: sim.cert },
      {
        id: 'sub',
        type: 'vcd-subscribe',
        z: 'tab',
        login: 'login',
        topic: 'publish/{org}/+',
        output: 'event',
        wires: [['emit']],
      },
      {
        id: 'emit',
        type: 'cloudevent-emit',
        z: 'tab',
        url: `${sink.url}/events`,
        mode: 'binary',
        ca: sink.cert,
        wires: [['out'], ['out2']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'out2', type: 'helper', z: 'tab' },
    ];
    const got = await load(flow, { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } });
    await waitFor(() => sim.subscriptions.length === 1, 'subscribed');
    const sent = Array.from({ length: 10 }, () => sim.publishEvent({ actor: 'acmeuser@acme' }).event);
    await waitFor(() => got.out.length === 10, 'ten deliveries');
    assert.deepEqual(sink.rejected, []);
    assert.deepEqual(sink.received.map((r) => r.event.id).sort(), sent.map((e) => e.eventId).sort());
    const first = sink.received.find((r) => r.event.id === sent[0]!.eventId)!.event;
    assert.equal(first.source, sim.url);
    assert.equal(first.type, sent[0]!.type.replace(/\//g, '.'));
    assert.equal(first.time, sent[0]!.timestamp);
    assert.equal(first.vcdorg, 'acme');
    assert.equal(got.out2.length, 0);
  });
});
