/**
 * The pure parts of acting on VCD: which blocking task a message means, the
 * decision it asks for, time left as a status shows it, whether VCD applied
 * the default action, which answers start a task, which paths a request may take.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import { OBJECT_ANSWER_BYTES } from '../../nodes/common/http';
import { REQUEST_ANSWER_BYTES, VcdApi, apiPath, type ApiAnswer } from '../../nodes/vcd/api-request';
import { blockingTaskId, decisionOf, formatLeft, type BlockingTaskView } from '../../nodes/vcd/blocking-task';
import { appliedDefault } from '../../nodes/vcd/pending-approvals';
import type { VcdSession } from '../../nodes/vcd/session';
import { parseXml } from '../../nodes/common/xml';

const ID = '41aaf964-7452-42e6-9b8d-772e5f8421d8';
const URN = `urn:vcloud:blockingTask:${ID}`;

describe('acting on VCD (pure parts)', () => {
  it('finds the blocking task in every form a flow hands it over', () => {
    const forms: unknown[] = [
      URN,
      ID.toUpperCase(),
      `https://vcd.example.com/api/admin/extension/blockingTask/${ID}`,
      `https://vcd.example.com/api/admin/extension/blockingTask/${ID.toUpperCase()}`,
      { type: 'com.vmware.vcloud.event.blockingtask.create', subject: URN, vcd: { entity: URN } },
      {
        type: 'EVENT',
        headers: {},
        payload: { eventId: 'e', type: 'com/vmware/vcloud/event/blockingtask/create', entity: URN },
      },
      { type: 'EVENT', headers: {}, payload: JSON.stringify({ entity: URN }) },
      { blockingTask: URN, outcome: 'waiting' },
      ` ${URN}\n`,
      { type: 'EVENT', headers: {}, payload: `  ${JSON.stringify({ entity: URN })}` },
    ];
    for (const form of forms) assert.equal(blockingTaskId(form), ID, JSON.stringify(form));
    for (const bad of [
      undefined,
      42,
      'urn:vcloud:vm:' + ID,
      { vcd: { entity: 'urn:vcloud:vm:1' } },
      { payload: '{broken' },
      `https://vcd.example.com/api/vApp/vm-${ID}`,
      `https://vcd.example.com/api/admin/extension/blockingTask/${ID}/action/resume`,
      `x${URN}`,
    ]) {
      assert.throws(
        () => blockingTaskId(bad),
        (e: unknown) => isCoded(e, 'VCD_BLOCKING_INPUT_INVALID'),
      );
    }
  });

  it('takes resume, abort and fail as decisions, nothing else; none means "show me"', () => {
    assert.equal(decisionOf(' Resume '), 'resume');
    assert.equal(decisionOf('fail'), 'fail');
    assert.equal(decisionOf(undefined), undefined);
    assert.equal(decisionOf(''), undefined);
    assert.equal(decisionOf(null), undefined);
    for (const bad of ['approve', 'reject', 1, true]) {
      assert.throws(
        () => decisionOf(bad),
        (e: unknown) => isCoded(e, 'VCD_BLOCKING_INPUT_INVALID'),
      );
    }
  });

  it('writes the time left short enough for a status line, at both ends of each range', () => {
    assert.equal(formatLeft(-5), '0:00');
    assert.equal(formatLeft(59_999), '0:59');
    assert.equal(formatLeft(3_599_000), '59:59');
    assert.equal(formatLeft(3_600_000), '1h 0m');
    assert.equal(formatLeft(86_399_000), '23h 59m');
    assert.equal(formatLeft(86_400_000), '1d 0h');
    assert.equal(formatLeft(86_400_000 * 3 + 3_600_000 * 4), '3d 4h');
  });

  it('tells the default action by the task status it leaves (abort → aborted, fail → error)', () => {
    const view = (action: string, status?: string) =>
      ({ timeout: { action }, task: { status } }) as unknown as BlockingTaskView;
    assert.equal(appliedDefault(view('abort', 'aborted')), true);
    assert.equal(appliedDefault(view('fail', 'error')), true);
    assert.equal(appliedDefault(view('resume', 'success')), true);
    assert.equal(appliedDefault(view('abort', 'success')), false, 'someone resumed it first');
    assert.equal(appliedDefault(view('abort', undefined)), false);
    assert.equal(
      appliedDefault(view('unknown', 'success')),
      false,
      'an action VCD does not name applies nothing',
    );
    assert.equal(
      appliedDefault({ timeout: {}, task: { status: 'aborted' } } as unknown as BlockingTaskView),
      false,
    );
  });

  it('sees a task in a legacy Task answer or a 202 with a Location, and nowhere else', () => {
    const api = new VcdApi({ site: 'https://vcd.example.com' } as VcdSession);
    const answer = (status: number, text: string, headers: Record<string, string> = {}): ApiAnswer => ({
      status,
      headers,
      text,
      parsed: text.startsWith('<') ? parseXml(text) : text ? JSON.parse(text) : undefined,
    });
    const task =
      '<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="running" href="https://vcd.example.com/api/task/1"/>';
    assert.equal(api.taskOf(answer(202, task)), 'https://vcd.example.com/api/task/1');
    assert.equal(
      api.taskOf(answer(202, '', { location: 'https://vcd.example.com/api/task/2' })),
      'https://vcd.example.com/api/task/2',
    );
    assert.equal(api.taskOf(answer(200, '{"values":[]}')), undefined);
    assert.equal(api.taskOf(answer(200, '<Vm href="x"/>')), undefined);
    // A 202 names its task in Location whatever its body is; a Task without an href is no task to follow.
    const location = { location: 'https://vcd.example.com/api/task/3' };
    assert.equal(api.taskOf(answer(202, '{"id":"urn:vcloud:vm:1"}', location)), location.location);
    assert.equal(api.taskOf(answer(202, '<Task status="running"/>', location)), location.location);
    assert.equal(api.taskOf(answer(200, '<Task status="running"/>', location)), undefined);
  });

  it("keeps request nodes off the login's own session and token endpoints", () => {
    for (const path of [
      '/api/sessions',
      '/api/session',
      '/cloudapi/1.0.0/sessions/provider',
      '/cloudapi/1.0.0/tokens/x',
      '/oauth/tenant/acme/token',
    ]) {
      assert.throws(
        () => apiPath(path),
        (e: unknown) => isCoded(e, 'REQUEST_PATH_INVALID'),
        path,
      );
    }
    assert.equal(apiPath('/cloudapi/1.0.0/sessionsHistory'), '/cloudapi/1.0.0/sessionsHistory');
    assert.equal(apiPath('/api/query'), '/api/query');
  });

  it('reads an answer by its content type, and by its first character when it has none', async () => {
    let answer: { type?: string; text: string } = { text: '' };
    const session = {
      site: 'https://vcd.example.com',
      send: async () => ({
        status: 200,
        headers: answer.type === undefined ? {} : { 'content-type': answer.type },
        text: answer.text,
      }),
    } as unknown as VcdSession;
    const api = new VcdApi(session);
    const parsedOf = async (type: string | undefined, text: string) => {
      answer = { type, text };
      const read = await api.call({ method: 'GET', path: '/api/x', query: '' });
      assert.equal(read.text, text, 'the text is always kept');
      assert.equal(read.contentType, type);
      return read.parsed;
    };
    assert.deepEqual(await parsedOf('application/json', '{"a":1}'), { a: 1 });
    assert.deepEqual(await parsedOf('Application/JSON;version=38.1', '[1]'), [1]);
    assert.equal(await parsedOf('application/json', ''), undefined);
    assert.equal(await parsedOf('application/json', '{"a":'), undefined, 'broken JSON stays text');
    assert.equal(await parsedOf('text/plain', '{"a":1}'), undefined, 'the content type wins over the look');
    assert.equal(await parsedOf('text/plain', 'hello'), undefined);
    assert.deepEqual(await parsedOf(undefined, '{"a":1}'), { a: 1 });
    assert.deepEqual(await parsedOf(undefined, ' \n [1,2]'), [1, 2]);
    assert.equal(await parsedOf(undefined, 'a text'), undefined);
    assert.equal(await parsedOf(undefined, ''), undefined);
    const vm = { Vm: { '@name': 'a' } };
    assert.deepEqual(await parsedOf('application/vnd.vmware.vcloud.vm+XML', '<Vm name="a"/>'), vm);
    assert.deepEqual(await parsedOf(undefined, '  <Vm name="a"/>'), vm);
    assert.equal(await parsedOf('application/xml', ''), undefined);
    await assert.rejects(
      parsedOf('application/xml', 'Service unavailable'),
      (e: unknown) => isCoded(e, 'XML_INVALID'),
      'an answer labelled XML that is none is refused as broken XML is',
    );
  });

  it('reads XML answers into objects up to 4 MiB and keeps larger ones as text only, under a cap it asks for', async () => {
    const asked: unknown[] = [];
    const xmlOf = (bytes: number) => {
      const head = '<Vm name="web-01">';
      return `${head}${'x'.repeat(bytes - head.length - '</Vm>'.length)}</Vm>`;
    };
    let text = '';
    const session = {
      site: 'https://vcd.example.com',
      send: async (call: unknown) => {
        asked.push(call);
        return { status: 200, headers: { 'content-type': 'application/vnd.vmware.vcloud.vm+xml' }, text };
      },
    } as unknown as VcdSession;
    const api = new VcdApi(session);
    text = xmlOf(OBJECT_ANSWER_BYTES);
    const read = await api.call({ method: 'GET', path: '/api/vApp/vm-1', query: '' });
    assert.equal((read.parsed as { Vm: { '@name': string } }).Vm['@name'], 'web-01');
    assert.equal(read.unread, undefined);
    text = xmlOf(OBJECT_ANSWER_BYTES + 1);
    const kept = await api.call({ method: 'GET', path: '/api/vApp/vm-1', query: '' });
    assert.equal(kept.parsed, undefined);
    assert.equal(kept.unread, true);
    assert.equal(kept.text.length, OBJECT_ANSWER_BYTES + 1);
    for (const call of asked)
      assert.equal((call as { maxBodyBytes: number }).maxBodyBytes, REQUEST_ANSWER_BYTES);
  });
});
