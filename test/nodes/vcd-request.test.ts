/**
 * vcd request in the Node-RED runtime, against the VCD simulator: OpenAPI and
 * legacy calls through a vcd login (version, renewal on a 401), pages, a task
 * followed to its end, and the request guard's refusals.
 */
import assert from 'node:assert/strict';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdRequest from '../../nodes/vcd/vcd-request';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import {
  catchAll,
  catchNode,
  collectCaught,
  helper,
  loggedText,
  record,
  type Recorded,
} from '../support/red';
import { waitFor } from '../support/wait';

type Msg = Record<string, unknown>;

describe('vcd request node', function () {
  this.timeout(30_000);
  let sim: VcdSimulator;
  let rec: Recorded;
  let caught: Msg[];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.stop();
  });

  async function start(
    settings: Record<string, unknown>,
    options: VcdSimOptions = {},
    org = 'acme',
    user = 'acmeadmin',
  ) {
    sim = await VcdSimulator.start(options);
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'login', type: 'vcd-login', url: sim.url, org, authType: 'password', ca: sim.cert },
      {
        id: 'req',
        type: 'vcd-request',
        z: 'tab',
        login: 'login',
        method: 'GET',
        path: '',
        methods: 'read',
        paging: 'none',
        output: 'parsed',
        followTask: true,
        ...settings,
        wires: [['out']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      ...catchAll('tab'),
    ];
    await helper.load([vcdLogin, vcdRequest, catchNode], flow, {
      login: { username: user, password: DEFAULT_PASSWORD },
    });
    rec = record(helper.getNode('req'), helper.getNode('out'));
    caught = collectCaught();
  }

  const send = (msg: Msg) => helper.getNode('req').receive(msg);
  const nth = (n: number) => waitFor(() => rec.messages[n], `output ${n + 1}`);
  const errorCode = (m: Msg) => (m.error as { code?: string }).code;

  it('reads the legacy API as an object, the path filled from the message, in the negotiated version', async () => {
    await start({ path: '/api/vApp/vm-{{vmId}}' });
    const vm = sim.inventory.vmNamed('acme', 'web-01')!;
    send({ vmId: vm.id, topic: 'kept' });
    const out = await nth(0);
    const doc = (out.payload as { Vm: Record<string, unknown> }).Vm;
    assert.equal(doc['@name'], 'web-01');
    assert.equal(out.statusCode, 200);
    assert.equal(out.topic, 'kept', 'the rest of the message goes on');
    assert.match(String(out.contentType), /application\/vnd\.vmware\.vcloud\.vm\+xml;version=39\.1/);
    assert.equal(JSON.stringify(out.headers).match(/token|authorization|cookie/i), null);
  });

  it('reads every page of an OpenAPI list, in one message or one per page', async () => {
    await start({ path: '/cloudapi/1.0.0/auditTrail', paging: 'all' });
    for (let i = 0; i < 300; i++) sim.publishEvent({ actor: 'acmeuser@acme' });
    send({ query: { sortAsc: 'timestamp' } });
    const all = await nth(0);
    assert.equal((all.payload as unknown[]).length, 300);
    assert.equal(all.resultTotal, 300);
    assert.equal(rec.messages.length, 1);
    await helper.unload();
    await sim.stop();

    await start({ path: '/cloudapi/1.0.0/auditTrail', paging: 'pages', output: 'parsed' });
    for (let i = 0; i < 300; i++) sim.publishEvent({ actor: 'acmeuser@acme' });
    send({ query: { pageSize: 100 } });
    await waitFor(() => rec.messages.length === 3, 'three pages');
    assert.deepEqual(
      rec.messages.map((m) => [m.page, m.pageCount]),
      [
        [1, 3],
        [2, 3],
        [3, 3],
      ],
    );
    assert.equal((rec.messages[2]!.payload as { values: unknown[] }).values.length, 100);
  });

  it('changes a VM and follows the task it starts to its end', async () => {
    await start({ method: 'POST', path: '/api/vApp/vm-{{vmId}}/action/reconfigureVm', methods: 'write' });
    const vm = sim.inventory.vmNamed('acme', 'web-02')!;
    send({
      vmId: vm.id,
      payload: '<Vm xmlns="http://www.vmware.com/vcloud/v1.5" name="web-02-renamed"/>',
      contentType: 'application/vnd.vmware.vcloud.vm+xml',
    });
    const out = await nth(0);
    const task = (out.payload as { Task: Record<string, string> }).Task;
    assert.equal(task['@status'], 'success');
    assert.equal(task['@operationName'], 'vappUpdateVm');
    assert.match(String(out.task), /\/api\/task\//);
    assert.ok(sim.inventory.vmNamed('acme', 'web-02-renamed'));
  });

  it('sends a task that ends in error to Catch with its message', async () => {
    await start({ method: 'POST', path: '/api/vApp/vm-{{vmId}}/action/reconfigureVm', methods: 'write' });
    Object.assign(sim.blocking.settings, {
      operations: new Set(['vappUpdateVm']),
      timeoutMs: 300,
      timeoutAction: 'fail',
    });
    send({
      vmId: sim.inventory.vmNamed('acme', 'web-01')!.id,
      payload: '<Vm xmlns="http://www.vmware.com/vcloud/v1.5"/>',
      contentType: 'application/vnd.vmware.vcloud.vm+xml',
    });
    const error = await waitFor(() => caught[0], 'the error');
    assert.equal(errorCode(error), 'VCD_TASK_FAILED');
    assert.match(String((error.error as { message: string }).message), /ended error: Timed out/);
  });

  it('goes on across token expiry and a 401 (renewed once, then answered)', async () => {
    await start({ path: '/cloudapi/1.0.0/auditTrail' }, { tokenLifetimeSec: 60 });
    send({});
    await nth(0);
    const logins = sim.stats.passwordLogins;
    sim.expireAllTokens();
    send({});
    assert.equal((await nth(1)).statusCode, 200);
    assert.equal(sim.stats.passwordLogins, logins + 1);
    assert.equal(caught.length, 0);
  });

  it('refuses what a message may not do, each with a code, and calls nothing', async () => {
    await start({ path: '' });
    const before = sim.stats.auditReads;
    for (const path of [
      'https://evil.example/cloudapi/1.0.0/auditTrail',
      '//evil.example/cloudapi/x',
      '/cloudapi/1.0.0/../../oauth/provider/token',
      '/cloudapi/%2e%2e/admin',
      '/cloudapi/1.0.0/sessions/current',
      '/cloudapi/1.0.0/tokens',
      '/api/sessions',
      '/oauth/provider/token',
    ]) {
      send({ path });
    }
    send({ path: '/cloudapi/1.0.0/auditTrail', method: 'DELETE' }); // the node's method wins: a GET
    send({ path: '/cloudapi/1.0.0/auditTrail', query: 'filter=x' });
    await waitFor(() => caught.length === 9 && rec.messages.length === 1, 'nine refusals and one answer');
    assert.deepEqual([...new Set(caught.slice(0, 8).map(errorCode))], ['REQUEST_PATH_INVALID']);
    assert.equal(errorCode(caught[8]!), 'REQUEST_QUERY_INVALID');
    assert.equal(sim.stats.auditReads, before + 1);
    assert.doesNotMatch(loggedText(), new RegExp(DEFAULT_PASSWORD.replace('!', '\\!')));
  });

  it('is read-only unless allowed, and a placeholder cannot climb out of its segment', async () => {
    await start({ method: 'msg', path: '/api/vApp/vm-{{vmId}}/action/reconfigureVm' });
    const vm = sim.inventory.vmNamed('acme', 'web-01')!;
    send({
      method: 'POST',
      vmId: vm.id,
      payload: '<Vm/>',
      contentType: 'application/vnd.vmware.vcloud.vm+xml',
    });
    send({ method: 'GET', vmId: '../../admin/extension/blockingTasks' });
    await waitFor(() => caught.length === 2, 'two refusals');
    assert.deepEqual(caught.map(errorCode), ['REQUEST_METHOD_NOT_ALLOWED', 'REQUEST_PATH_INVALID']);
    assert.equal(sim.inventory.tasks.size, 0, 'nothing was changed');
  });

  it("sends VCD errors to Catch with the status and VCD's message", async () => {
    await start({ path: '/api/vApp/vm-{{vmId}}' });
    send({ vmId: '00000000-0000-4000-8000-000000000000' });
    const error = await waitFor(() => caught[0], 'the error');
    assert.equal(errorCode(error), 'VCD_HTTP_ERROR');
    assert.equal(error.statusCode, 404);
    assert.match(
      String((error.error as { message: string }).message),
      /answered 404: The requested resource was not found/,
    );
    await waitFor(() => rec.statuses.some((s) => s.fill === 'red' && s.text === 'HTTP 404'), 'the status');
  });

  it('says when its login reaches a VCD too old for it, in the status and to Catch', async () => {
    await start({ path: '/api/org' }, { versions: [{ version: '31.0' }, { version: '32.0' }] });
    send({});
    const error = await waitFor(() => caught[0], 'the error');
    assert.equal(errorCode(error), 'VCD_VERSION_TOO_OLD');
    await waitFor(() => rec.statuses.some((s) => s.fill === 'red' && s.text === 'VCD too old'), 'the status');
    assert.equal(rec.messages.length, 0);
  });
});
