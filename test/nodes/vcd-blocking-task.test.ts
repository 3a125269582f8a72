/**
 * vcd blocking task in the Node-RED runtime, against the VCD simulator: a
 * tenant's VM change is held, the node shows what an approver needs, answers
 * it, reports a late answer as an outcome, and says what VCD did at the
 * timeout. Both notification paths (message bus, AMQP-style XML) lead to it.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import vcdBlockingTask from '../../nodes/vcd/vcd-blocking-task';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import { catchAll, catchNode, collectCaught, helper, record, type Recorded } from '../support/red';
import { waitFor } from '../support/wait';

type Msg = Record<string, unknown>;
interface Payload {
  blockingTask: string;
  operation: string;
  status: string;
  description?: string;
  object: { name?: string; owner?: string; type?: string };
  org: { name?: string };
  requestedBy: { name?: string };
  timeout: { action?: string; leftMs?: number; left?: string };
  task: { status?: string };
  outcome: string;
  code?: string;
  decision?: string;
  reason?: string;
}

describe('vcd blocking task node', function () {
  this.timeout(30_000);
  let sim: VcdSimulator;
  let rec: Recorded;
  let events: Msg[];
  let caught: Msg[];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.stop();
  });

  async function start(
    options: VcdSimOptions = {},
    login = { org: 'System', username: 'administrator' },
    blocking = { operations: ['vappUpdateVm'], timeoutMs: 60_000, timeoutAction: 'abort' as const },
  ): Promise<void> {
    sim = await VcdSimulator.start(options);
    sim.blocking.settings.operations = new Set(blocking.operations);
    sim.blocking.settings.timeoutMs = blocking.timeoutMs;
    sim.blocking.settings.timeoutAction = blocking.timeoutAction;
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'login', type: 'vcd-login', url: sim.url, org: login.org, authType: 'password', ca: sim.cert },
      {
        id: 'sub',
        type: 'vcd-subscribe',
        z: 'tab',
        login: 'login',
        topic: login.org === 'System' ? 'publish/#' : 'publish/{org}/+',
        output: 'event',
        wires: [['events']],
      },
      { id: 'events', type: 'helper', z: 'tab' },
      {
        id: 'bt',
        type: 'vcd-blocking-task',
        z: 'tab',
        login: 'login',
        reason: 'by the test',
        wires: [['out']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      ...catchAll('tab'),
    ];
    await helper.load([vcdLogin, vcdSubscribe, vcdBlockingTask, catchNode], flow, {
      login: { username: login.username, password: DEFAULT_PASSWORD },
    });
    rec = record(helper.getNode('bt'), helper.getNode('out'));
    events = [];
    helper.getNode('events').on('input', (m: Msg) => events.push(m));
    caught = collectCaught();
    await waitFor(() => sim.subscriptions.length === 1, 'the message bus subscription');
  }

  const send = (msg: Msg) => helper.getNode('bt').receive(msg);
  const nth = async (n: number) =>
    (await waitFor(() => rec.messages[n], `output ${n + 1}`)) as Msg & { payload: Payload };

  /** A tenant changes web-01; the blockingtask/create event as vcd subscribe delivered it. */
  async function heldChange(rename = 'web-01-bigger'): Promise<Msg> {
    sim.reconfigureVm('acmeuser@acme', 'web-01', rename);
    return waitFor(
      () => events.find((m) => m.topic === 'com.vmware.vcloud.event.blockingtask.create'),
      'the blockingtask/create event',
    );
  }

  it('shows what the approver needs (operation, VM, owner, who asked, time left), then resumes it', async () => {
    await start();
    const event = await heldChange();
    send({ payload: event.payload });
    const shown = await nth(0);
    assert.equal(shown.topic, 'waiting');
    const p = shown.payload;
    assert.equal(p.operation, 'vappUpdateVm');
    assert.equal(p.status, 'active');
    assert.match(p.description ?? '', /Updating Virtual Machine web-01/);
    assert.deepEqual(
      [p.object.name, p.object.owner],
      ['web-01', 'acmeuser'],
      'named although VCD gives no name',
    );
    assert.equal(p.requestedBy.name, 'acmeuser');
    assert.equal(p.org.name, 'acme');
    assert.equal(p.timeout.action, 'abort');
    assert.ok(p.timeout.leftMs! > 50_000 && p.timeout.leftMs! <= 60_000, String(p.timeout.leftMs));
    assert.match(p.timeout.left ?? '', /^0:5\d|^1:00$/);
    await waitFor(
      () => rec.statuses.some((s) => /^1 waiting · [01]:\d\d$/.test(s.text ?? '')),
      'the countdown',
    );

    send({ payload: p, decision: 'resume', reason: 'ticket CHG-1' });
    const answered = await nth(1);
    assert.equal(answered.topic, 'resumed');
    assert.equal(answered.payload.decision, 'resume');
    assert.equal(answered.payload.reason, 'ticket CHG-1');
    assert.ok(
      ['running', 'success'].includes(answered.payload.task.status ?? ''),
      answered.payload.task.status,
    );
    await waitFor(() => sim.inventory.vmNamed('acme', 'web-01-bigger'), 'the change to be made');
    await waitFor(
      () => rec.statuses.some((s) => s.text === 'resumed · 1' && s.fill === 'green'),
      'the status',
    );
    assert.equal(caught.length, 0);
  });

  it('reports a decision after another answer as late, with a code, not as an error', async () => {
    await start();
    const event = await heldChange();
    send({ payload: event.payload, decision: 'abort' });
    assert.equal((await nth(0)).topic, 'aborted');
    assert.equal((await nth(0)).payload.task.status, 'aborted');
    send({ payload: event.payload, decision: 'resume' });
    const late = await nth(1);
    assert.equal(late.topic, 'late');
    assert.equal(late.payload.code, 'VCD_BLOCKING_TASK_ENDED');
    assert.equal(late.payload.status, 'aborted');
    assert.equal(late.payload.task.status, 'aborted');
    assert.equal(
      sim.inventory.vmNamed('acme', 'web-01-bigger'),
      undefined,
      'the late resume changed nothing',
    );
    await waitFor(() => rec.statuses.some((s) => s.text === 'too late · 2'), 'the status');
    assert.equal(caught.length, 0);
  });

  it('answers from the AMQP-style notification too (decoded by event decode)', async () => {
    await start();
    sim.reconfigureVm('acmeuser@acme', 'db-01');
    const amqp = await waitFor(() => sim.blocking.amqp[0], 'the AMQP notification');
    const [event] = decode(
      { payload: amqp.body, routingKey: amqp.routingKey },
      { format: 'vcd-amqp' },
    ).events;
    send({ payload: event, decision: 'fail', reason: 'not in a change window' });
    const out = await nth(0);
    assert.equal(out.topic, 'failed');
    assert.equal(out.payload.object.name, 'db-01');
    assert.equal(out.payload.object.owner, 'acmeadmin');
    assert.equal(out.payload.task.status, 'error');
  });

  it('shows the default action VCD applied when the time ran out, and a decision after it is late', async () => {
    await start({}, undefined, { operations: ['vappUpdateVm'], timeoutMs: 1500, timeoutAction: 'abort' });
    const event = await heldChange();
    send({ payload: event.payload });
    assert.equal((await nth(0)).topic, 'waiting');
    const timedOut = await nth(1);
    assert.equal(timedOut.topic, 'timed-out');
    assert.equal(timedOut.payload.timeout.action, 'abort');
    assert.equal(timedOut.payload.task.status, 'aborted');
    await waitFor(() => rec.statuses.some((s) => s.text === 'timed out: abort'), 'the status');
    // The message bus says so too.
    await waitFor(
      () => events.find((m) => m.topic === 'com.vmware.vcloud.event.blockingtask.abort'),
      'the abort event',
    );
    send({ payload: event.payload, decision: 'resume' });
    const late = await nth(2);
    assert.equal(late.topic, 'late');
    assert.equal(late.payload.code, 'VCD_BLOCKING_TASK_ENDED');
  });

  it("counts the time left by VCD's own clock, however far it runs from ours", async () => {
    for (const clockSkewSec of [3600, -3600]) {
      await start({ clockSkewSec }, undefined, {
        operations: ['vappUpdateVm'],
        timeoutMs: 1500,
        timeoutAction: 'abort',
      });
      const event = await heldChange();
      send({ payload: event.payload });
      const shown = await nth(0);
      assert.ok(
        shown.payload.timeout.leftMs! > 0 && shown.payload.timeout.leftMs! <= 1500,
        String(shown.payload.timeout.leftMs),
      );
      // Watched on our clock from that answer: the default action is seen shortly after the real deadline.
      assert.equal((await nth(1)).topic, 'timed-out');
      await helper.unload();
      await sim.stop();
    }
  });

  it('goes on across token expiry and a 401', async () => {
    await start({ tokenLifetimeSec: 3 });
    const event = await heldChange();
    send({ payload: event.payload });
    await nth(0);
    sim.expireAllTokens(); // the next call gets a 401: renewed once, then answered
    send({ payload: event.payload, decision: 'resume' });
    assert.equal((await nth(1)).topic, 'resumed');
    assert.equal(caught.length, 0);
  });

  it('sends what it cannot do to Catch with a code: no blocking task, an unknown decision, no system administrator', async () => {
    await start({}, { org: 'acme', username: 'acmeadmin' });
    send({ payload: { type: 'com.vmware.vcloud.event.vm.create', vcd: { entity: 'urn:vcloud:vm:1' } } });
    send({ payload: 'urn:vcloud:blockingTask:0b6f9c3e-8a1d-4f5e-9c2b-7d3e1f0a4b5c', decision: 'approve' });
    send({ payload: 'urn:vcloud:blockingTask:0b6f9c3e-8a1d-4f5e-9c2b-7d3e1f0a4b5c' });
    await waitFor(() => caught.length === 3, 'three errors');
    const codes = caught.map((m) => (m.error as { code?: string }).code).sort();
    assert.deepEqual(codes, [
      'VCD_BLOCKING_FORBIDDEN',
      'VCD_BLOCKING_INPUT_INVALID',
      'VCD_BLOCKING_INPUT_INVALID',
    ]);
    assert.equal(rec.messages.length, 0);
    await waitFor(
      () => rec.statuses.some((s) => s.fill === 'red' && s.text === 'not system admin'),
      'the status',
    );
  });
});
