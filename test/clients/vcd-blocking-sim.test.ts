/**
 * The VCD simulator's blocking tasks, through the API as a client sees them:
 * settings, a held operation, its notifications (AMQP-style XML and the
 * message-bus EVENT), the actions and their task status, the timeout's default
 * action, system administrators only.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { parseXml, xmlList, type XmlNode } from '../../nodes/common/xml';
import { VcdSession } from '../../nodes/vcd/session';
import type { AuditRecord } from '../../sim/vcd/audit';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { waitFor } from '../support/wait';

const EXT = '/api/admin/extension';
const PARAMS = 'application/vnd.vmware.admin.blockingTaskOperationParams+xml';
const message = (text: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><BlockingTaskOperationParams xmlns="http://www.vmware.com/vcloud/extension/v1.5"><Message>${text}</Message></BlockingTaskOperationParams>`;

describe('VCD simulator: blocking tasks', () => {
  let sim: VcdSimulator;
  const sessions: VcdSession[] = [];

  function login(user: string, org: string): VcdSession {
    const s = new VcdSession({
      url: sim.url,
      org,
      authType: 'password',
      username: user,
      password: DEFAULT_PASSWORD,
      tls: { ca: sim.cert },
    });
    sessions.push(s);
    return s;
  }

  beforeEach(async () => {
    sim = await VcdSimulator.start();
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await sim.stop();
  });

  const xml = (text: string, root: string) => parseXml(text)[root] as XmlNode;

  async function blockVmChanges(admin: VcdSession, timeoutMs = 60_000, action = 'abort'): Promise<void> {
    const body =
      '<vmext:BlockingTaskSettings xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" xmlns:vcloud="http://www.vmware.com/vcloud/v1.5">' +
      `<vmext:TimeoutAction>${action}</vmext:TimeoutAction><vcloud:BlockingTaskOperations><vcloud:TaskOperationType><vcloud:Category>vApp</vcloud:Category><vcloud:Operation>vappUpdateVm</vcloud:Operation></vcloud:TaskOperationType></vcloud:BlockingTaskOperations>` +
      `<vmext:TimeoutInMilliseconds>${timeoutMs}</vmext:TimeoutInMilliseconds></vmext:BlockingTaskSettings>`;
    const res = await admin.send({
      method: 'PUT',
      path: `${EXT}/settings/blockingTask`,
      body,
      contentType: 'application/vnd.vmware.admin.blockingTaskSettings+xml',
    });
    assert.equal(res.status, 200, res.text);
  }

  /** A tenant renames web-01 through the API: the task, as VCD answers it. */
  async function changeVm(tenant: VcdSession, name = 'web-01-new'): Promise<XmlNode> {
    const vm = sim.inventory.vmNamed('acme', 'web-01')!;
    const res = await tenant.send({
      method: 'POST',
      path: `/api/vApp/vm-${vm.id}/action/reconfigureVm`,
      body: `<Vm xmlns="http://www.vmware.com/vcloud/v1.5" name="${name}"/>`,
      contentType: 'application/vnd.vmware.vcloud.vm+xml',
    });
    assert.equal(res.status, 202, res.text);
    return xml(res.text, 'Task');
  }

  async function blockingTask(admin: VcdSession, id: string) {
    const res = await admin.send({ method: 'GET', path: `${EXT}/blockingTask/${id}` });
    assert.equal(res.status, 200, res.text);
    return { doc: xml(res.text, 'BlockingTask'), date: res.headers.date };
  }

  async function taskStatus(admin: VcdSession, href: string): Promise<string> {
    const res = await admin.send({ method: 'GET', path: new URL(href).pathname });
    return xml(res.text, 'Task')['@status'] as string;
  }

  /** The audit trail as a system administrator reads it (its first 128 records). */
  const auditRecords = () =>
    (sim.audit.read(new URLSearchParams({ pageSize: '128' }), undefined).body as { values: AuditRecord[] })
      .values;

  const heldId = () => [...sim.blocking.items.keys()].at(-1) as string;

  it('holds a blocked operation, announces it on both paths and describes it as the API reference does', async () => {
    const admin = login('administrator', 'System');
    await blockVmChanges(admin);
    const task = await changeVm(login('acmeuser', 'acme'));
    assert.equal(task['@status'], 'running');
    assert.equal(task['@operationName'], 'vappUpdateVm');

    const { doc } = await blockingTask(admin, heldId());
    assert.equal(doc['@status'], 'active');
    assert.equal(doc['@timeoutAction'], 'abort');
    assert.equal(doc['@name'], 'vappUpdateVm');
    assert.ok(
      Date.parse(doc['@timeoutDate'] as string) - Date.parse(doc['@createdTime'] as string) === 60_000,
    );
    const rels = xmlList(doc.Link).map((l) => l['@rel']);
    assert.deepEqual(rels, ['resume', 'abort', 'fail', 'updateProgress', 'up']);
    assert.equal((doc.User as XmlNode)['@name'], 'acmeuser');
    assert.equal((doc.Organization as XmlNode)['@name'], 'acme');
    assert.equal((doc.TaskOwner as XmlNode)['@name'], '', 'the owner has no name, as in the guide');
    assert.match((doc.TaskOwner as XmlNode)['@href'] as string, /\/api\/vApp\/vm-/);
    const list = await admin.send({ method: 'GET', path: `${EXT}/blockingTasks/` });
    assert.match(list.text, new RegExp(`blockingTask/${heldId()}`));

    // The AMQP-style notification: routing key, headers and XML the event decoder reads.
    const amqp = sim.blocking.amqp[0]!;
    assert.match(
      amqp.routingKey,
      new RegExp(
        `^true\\.${heldId()}\\.[0-9a-f-]+\\.[0-9a-f-]+\\.com\\.vmware\\.vcloud\\.event\\.blockingtask\\.create\\.vappUpdateVm$`,
      ),
    );
    assert.equal(amqp.headers['notification.entityType'], 'blockingTask');
    const decoded = decode(
      { payload: amqp.body, routingKey: amqp.routingKey, amqpHeaders: amqp.headers },
      { format: 'vcd-amqp' },
    ).events[0]!;
    assert.equal(decoded.type, 'com.vmware.vcloud.event.blockingtask.create');
    assert.equal(decoded.subject, `urn:vcloud:blockingTask:${heldId()}`);
    assert.equal(decoded.vcd?.entityName, 'vappUpdateVm');
    // The message-bus EVENT of the same fact, on the tenant's topic.
    const record = auditRecords().find((a) => a.eventType === 'com/vmware/vcloud/event/blockingtask/create');
    assert.equal(record?.eventEntity.id, `urn:vcloud:blockingTask:${heldId()}`);
    assert.equal(record?.user.name, 'acmeuser');
  });

  it('resume lets the task finish (the change is made); a second answer is refused; the ended one keeps its word', async () => {
    const admin = login('administrator', 'System');
    await blockVmChanges(admin);
    const task = await changeVm(login('acmeuser', 'acme'), 'renamed-vm');
    const id = heldId();
    const res = await admin.send({
      method: 'POST',
      path: `${EXT}/blockingTask/${id}/action/resume`,
      body: message('approved'),
      contentType: PARAMS,
    });
    assert.equal(res.status, 204);
    await waitFor(
      async () => (await taskStatus(admin, task['@href'] as string)) === 'success',
      'the task to succeed',
    );
    assert.ok(sim.inventory.vmNamed('acme', 'renamed-vm'));
    const again = await admin.send({
      method: 'POST',
      path: `${EXT}/blockingTask/${id}/action/abort`,
      body: message('too late'),
      contentType: PARAMS,
    });
    assert.equal(again.status, 400);
    assert.equal((await blockingTask(admin, id)).doc['@status'], 'resumed');
    assert.ok(
      auditRecords().some(
        (a) =>
          a.eventType === 'com/vmware/vcloud/event/blockingtask/resume' && a.user.name === 'administrator',
      ),
    );
  });

  it('abort ends the task as aborted, fail as error; nothing changes', async () => {
    const admin = login('administrator', 'System');
    const tenant = login('acmeuser', 'acme');
    await blockVmChanges(admin);
    for (const [action, status] of [
      ['abort', 'aborted'],
      ['fail', 'error'],
    ]) {
      const task = await changeVm(tenant, `vm-${action}`);
      const res = await admin.send({
        method: 'POST',
        path: `${EXT}/blockingTask/${heldId()}/action/${action}`,
        body: message('no'),
        contentType: PARAMS,
      });
      assert.equal(res.status, 204);
      assert.equal(await taskStatus(admin, task['@href'] as string), status);
      assert.equal(sim.inventory.vmNamed('acme', `vm-${action}`), undefined);
    }
  });

  it('applies the default action at the timeout, announced as done by the system', async () => {
    const admin = login('administrator', 'System');
    await blockVmChanges(admin, 400, 'fail');
    const task = await changeVm(login('acmeuser', 'acme'));
    await waitFor(
      async () => (await taskStatus(admin, task['@href'] as string)) === 'error',
      'the default action',
    );
    assert.equal((await blockingTask(admin, heldId())).doc['@status'], 'failed');
    const last = sim.blocking.amqp.at(-1)!;
    assert.equal(last.headers['notification.type'], 'com/vmware/vcloud/event/blockingtask/fail');
    assert.match(last.body, /rel="down" type="vcloud:user" name="system"/);
  });

  it('updateProgress moves the timeout from now', async () => {
    const admin = login('administrator', 'System');
    await blockVmChanges(admin, 2000);
    await changeVm(login('acmeuser', 'acme'));
    const res = await admin.send({
      method: 'POST',
      path: `${EXT}/blockingTask/${heldId()}/action/updateProgress`,
      body: '<BlockingTaskUpdateProgressParams xmlns="http://www.vmware.com/vcloud/extension/v1.5"><Message>more time</Message><TimeoutValueInMilliseconds>600000</TimeoutValueInMilliseconds></BlockingTaskUpdateProgressParams>',
      contentType: 'application/vnd.vmware.admin.blockingTaskUpdateProgressOperationParams+xml',
    });
    assert.equal(res.status, 200, res.text);
    const left = Date.parse(xml(res.text, 'BlockingTask')['@timeoutDate'] as string) - Date.now();
    assert.ok(left > 590_000 && left <= 600_000, String(left));
  });

  it('is strict: system administrators only, a Message, the right media type, a version', async () => {
    const admin = login('administrator', 'System');
    const orgAdmin = login('acmeadmin', 'acme');
    await blockVmChanges(admin);
    await changeVm(login('acmeuser', 'acme'));
    const path = `${EXT}/blockingTask/${heldId()}/action/resume`;
    assert.equal(
      (await orgAdmin.send({ method: 'POST', path, body: message('x'), contentType: PARAMS })).status,
      403,
    );
    assert.equal((await orgAdmin.send({ method: 'GET', path: `${EXT}/blockingTasks/` })).status, 403);
    assert.equal(
      (await admin.send({ method: 'POST', path, body: message(''), contentType: PARAMS })).status,
      400,
    );
    assert.equal(
      (await admin.send({ method: 'POST', path, body: '{"message":"x"}', contentType: 'application/json' }))
        .status,
      415,
    );
    assert.equal(
      (await admin.send({ method: 'GET', path: `${EXT}/blockingTasks/`, accept: 'json' })).status,
      406,
    );
    // JSON parameters are accepted too (+json media type).
    const json = await admin.send({
      method: 'POST',
      path,
      body: '{"message":"ok"}',
      contentType: PARAMS.replace('+xml', '+json'),
    });
    assert.equal(json.status, 204);
  });
});
