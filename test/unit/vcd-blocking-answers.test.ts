/**
 * What BlockingTaskClient makes of VCD's answers, on hand-made ones: which
 * field of an event names the task, VCD's message out of each form of error
 * document, a blocking task VCD no longer knows, a broken answer, a refusal
 * and what the task is after it.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import type { HttpResponse } from '../../nodes/common/http';
import { BlockingCodes, BlockingTaskClient, blockingTaskId, vcdMessage } from '../../nodes/vcd/blocking-task';
import type { VcdSession } from '../../nodes/vcd/session';

const ID = '41aaf964-7452-42e6-9b8d-772e5f8421d8';
const OTHER = '0f0e0d0c-0b0a-4909-8807-060504030201';
const urn = (id: string) => `urn:vcloud:blockingTask:${id}`;
const SITE = 'https://vcd.example.com';

const answer = (status: number, text = ''): HttpResponse => ({ status, headers: {}, text });
const blockingTaskXml = (status: string) =>
  `<vmext:BlockingTask xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" status="${status}" ` +
  `name="vappUpdateVm" id="${urn(ID)}" timeoutAction="abort"/>`;
const errorXml = (message: string) =>
  `<Error xmlns="http://www.vmware.com/vcloud/v1.5" minorErrorCode="BAD_REQUEST" message="${message}" majorErrorCode="400"/>`;

/** A session whose answers come from `answers`, in turn per "METHOD path"; the last one repeats. */
function scripted(answers: Record<string, HttpResponse[]>) {
  const sent: Array<{ method: string; path: string }> = [];
  const session = {
    site: SITE,
    send: async (call: { method: string; path: string }) => {
      sent.push(call);
      const list = answers[`${call.method} ${call.path}`];
      assert.ok(list, `no answer for ${call.method} ${call.path}`);
      return list.length > 1 ? list.shift()! : list[0]!;
    },
  } as unknown as VcdSession;
  return { client: new BlockingTaskClient(session), sent };
}

const GET = `GET /api/admin/extension/blockingTask/${ID}`;
const POST = `POST /api/admin/extension/blockingTask/${ID}/action/resume`;

describe('answering VCD blocking tasks (hand-made answers)', () => {
  it('takes the task vcd.entity names before blockingTask, entity and subject, and each in that order', () => {
    const named = (value: unknown) => blockingTaskId(value);
    assert.equal(named({ vcd: { entity: urn(ID) }, subject: urn(OTHER) }), ID);
    assert.equal(named({ vcd: { entity: 42 }, subject: urn(ID) }), ID, 'an entity that is no text is passed');
    assert.equal(named({ vcd: urn(OTHER), subject: urn(ID) }), ID, 'vcd that is no object is passed');
    assert.equal(named({ vcd: null, subject: urn(ID) }), ID, 'vcd null is passed');
    assert.equal(named({ blockingTask: urn(ID), entity: urn(OTHER), subject: urn(OTHER) }), ID);
    assert.equal(named({ entity: urn(ID), subject: urn(OTHER) }), ID);
    assert.equal(named({ subject: urn(ID), payload: { entity: urn(OTHER) } }), ID);
    assert.equal(
      named({ subject: 7, payload: { entity: urn(ID) } }),
      ID,
      'a subject that is no text is passed',
    );
  });

  it("reads VCD's message out of an XML Error, a JSON error and blanks before them, else an excerpt", () => {
    assert.equal(vcdMessage(answer(400, errorXml('No longer active.'))), 'No longer active.');
    assert.equal(vcdMessage(answer(400, `\n  ${errorXml('Spaced.')}`)), 'Spaced.');
    const json =
      '{"minorErrorCode":"BAD_REQUEST","message":"From JSON.","majorErrorCode":400,"stackTrace":null}';
    assert.equal(vcdMessage(answer(400, json)), 'From JSON.');
    assert.equal(vcdMessage(answer(400, `  \n${json}`)), 'From JSON.');
    // An Error without a message, JSON without one, a message that is no text: the answer itself.
    const bare = '<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="500"/>';
    assert.equal(vcdMessage(answer(500, bare)), bare);
    assert.equal(vcdMessage(answer(500, '{"message":7}')), '{"message":7}');
    assert.equal(vcdMessage(answer(500, '{"error":"x"}')), '{"error":"x"}');
    assert.equal(vcdMessage(answer(500, '<Other message="not this"/>')), '<Other message="not this"/>');
    assert.equal(vcdMessage(answer(502, 'Bad gateway')), 'Bad gateway');
    assert.equal(vcdMessage(answer(500, '{broken')), '{broken');
    assert.equal(vcdMessage(answer(503, '')), 'HTTP 503', 'an empty answer names its status');
  });

  it('a blocking task VCD answers with another status or without a BlockingTask is VCD_HTTP_ERROR', async () => {
    const failing = scripted({ [GET]: [answer(500, errorXml('Database down.'))] }).client;
    await assert.rejects(failing.read(ID), (err: unknown) => {
      assert.ok(isCoded(err, 'VCD_HTTP_ERROR'), String(err));
      assert.match(err.message, / answered 500: Database down\.$/);
      assert.deepEqual(err.details, { status: 500 });
      return true;
    });
    const other = scripted({ [GET]: [answer(200, '<Task status="running"/>')] }).client;
    await assert.rejects(other.read(ID), (err: unknown) => {
      assert.ok(isCoded(err, 'VCD_HTTP_ERROR'), String(err));
      assert.match(err.message, /answered no BlockingTask: <Task/);
      return true;
    });
    const gone = scripted({ [GET]: [answer(404, errorXml('Not found.'))] }).client;
    await assert.rejects(gone.read(ID), (err: unknown) => isCoded(err, BlockingCodes.NOT_FOUND));
  });

  it('a 403 is VCD_BLOCKING_FORBIDDEN with its status, on a read and on an answer', async () => {
    const forbidden = (err: unknown) => {
      assert.ok(isCoded(err, BlockingCodes.FORBIDDEN), String(err));
      assert.deepEqual(err.details, { status: 403 });
      return true;
    };
    await assert.rejects(scripted({ [GET]: [answer(403)] }).client.read(ID), forbidden);
    const answering = scripted({ [GET]: [answer(200, blockingTaskXml('active'))], [POST]: [answer(403)] });
    await assert.rejects(answering.client.decide(ID, 'resume', 'ok'), forbidden);
  });

  it('a refused answer whose task VCD then no longer knows is late, shown as it was before', async () => {
    const { client, sent } = scripted({
      [GET]: [answer(200, blockingTaskXml('active')), answer(404)],
      [POST]: [answer(400, errorXml('Gone.'))],
    });
    const result = await client.decide(ID, 'resume', 'ok');
    assert.equal(result.outcome, 'late');
    assert.equal(result.code, BlockingCodes.ENDED);
    assert.equal(result.view.status, 'active', 'the last view there was');
    assert.deepEqual(
      sent.map((c) => c.method),
      ['GET', 'POST', 'GET'],
    );
  });

  it("a refused answer whose task cannot be read again fails with the read's error", async () => {
    const { client } = scripted({
      [GET]: [answer(200, blockingTaskXml('active')), answer(500, errorXml('Database down.'))],
      [POST]: [answer(400, errorXml('Refused.'))],
    });
    await assert.rejects(client.decide(ID, 'resume', 'ok'), (err: unknown) => {
      assert.ok(isCoded(err, 'VCD_HTTP_ERROR'), String(err));
      assert.match(err.message, /Database down/);
      return true;
    });
  });

  it('a refused answer whose task still waits is VCD_BLOCKING_ANSWER_FAILED; one that ended is late', async () => {
    const still = scripted({
      [GET]: [answer(200, blockingTaskXml('active'))],
      [POST]: [answer(400, ` ${errorXml('Refused.')}`)],
    }).client;
    await assert.rejects(still.decide(ID, 'resume', 'ok'), (err: unknown) => {
      assert.ok(isCoded(err, BlockingCodes.ANSWER_FAILED), String(err));
      assert.equal(err.message, `VCD refused to resume blocking task ${ID} (400): Refused.`);
      assert.deepEqual(err.details, { status: 400, blockingTask: ID });
      return true;
    });
    const ended = scripted({
      [GET]: [answer(200, blockingTaskXml('active')), answer(200, blockingTaskXml('aborted'))],
      [POST]: [answer(400, errorXml('No longer active.'))],
    }).client;
    const result = await ended.decide(ID, 'resume', 'ok');
    assert.equal(result.outcome, 'late');
    assert.equal(result.view.status, 'aborted');
  });

  it('an answer taken (any 2xx) gives the outcome of the decision; a 3xx is no answer taken', async () => {
    for (const status of [200, 202, 204, 299]) {
      const { client } = scripted({
        [GET]: [answer(200, blockingTaskXml('active')), answer(200, blockingTaskXml('resumed'))],
        [POST]: [answer(status)],
      });
      const result = await client.decide(ID, 'resume', 'ok');
      assert.equal(result.outcome, 'resumed', String(status));
      assert.equal(result.view.status, 'resumed');
    }
    // Taken, but the task cannot be read after: the outcome stands, shown as the task was before.
    const unread = scripted({
      [GET]: [answer(200, blockingTaskXml('active')), answer(500)],
      [POST]: [answer(204)],
    }).client;
    const taken = await unread.decide(ID, 'resume', 'ok');
    assert.equal(taken.outcome, 'resumed');
    assert.equal(taken.view.status, 'active');
    const { client } = scripted({
      [GET]: [answer(200, blockingTaskXml('active'))],
      [POST]: [answer(300, 'Multiple choices')],
    });
    await assert.rejects(client.decide(ID, 'resume', 'ok'), (err: unknown) =>
      isCoded(err, BlockingCodes.ANSWER_FAILED),
    );
  });
});

/** A BlockingTask as VCD writes it (API reference, programming guide), with what `parts` gives in its body. */
const documentXml = (attributes: string, ...parts: string[]) =>
  '<vmext:BlockingTask xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" ' +
  `xmlns:vcloud="http://www.vmware.com/vcloud/v1.5" ${attributes}>${parts.join('')}</vmext:BlockingTask>`;
const TASK = 'b1a4c3d2-0e1f-4a2b-8c3d-4e5f6a7b8c9d';
const VM = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a';
const ACTIVE = `status="active" name="vappUpdateVm" id="${urn(ID)}"`;
const action = (rel: string) =>
  `<vcloud:Link rel="${rel}" type="application/vnd.vmware.admin.blockingTaskOperationParams+xml" ` +
  `href="${SITE}/api/admin/extension/blockingTask/${ID}/action/${rel}"/>`;
const upLink = `<vcloud:Link rel="up" type="application/vnd.vmware.vcloud.task+xml" href="${SITE}/api/task/${TASK}"/>`;
const owner = (href: string, name = '') =>
  `<vcloud:TaskOwner type="application/vnd.vmware.vcloud.vm+xml" name="${name}" id="urn:vcloud:vm:${VM}" href="${href}"/>`;
const vmXml = (name: string) =>
  `<Vm xmlns="http://www.vmware.com/vcloud/v1.5" name="${name}" id="urn:vcloud:vm:${VM}" ` +
  `href="${SITE}/api/vApp/vm-${VM}"><Owner><User type="application/vnd.vmware.admin.user+xml" name="alice"/></Owner></Vm>`;
const dated = (status: number, text: string, date: string): HttpResponse => ({
  status,
  headers: { date },
  text,
});

describe('reading VCD blocking tasks (hand-made documents)', () => {
  it('a document without id, name, status, references or links is shown with the task asked for, the rest absent', async () => {
    const bare = documentXml(
      `type="application/vnd.vmware.admin.blockingTask+xml" href="${SITE}${GET.slice(4)}"`,
    );
    const { client, sent } = scripted({ [GET]: [answer(200, bare)] });
    const view = await client.read(ID);
    assert.equal(view.blockingTask, urn(ID));
    assert.equal(blockingTaskId(view), ID, 'the output can still be answered');
    assert.equal(view.operation, '');
    assert.equal(view.status, 'unknown');
    for (const part of [view.object, view.org, view.requestedBy, view.task, view.timeout]) {
      assert.deepEqual(JSON.parse(JSON.stringify(part)), {});
    }
    assert.equal(view.description, undefined);
    assert.equal(view.created, undefined);
    assert.equal(sent.length, 1, 'nothing to look up');
    // Such a task is not waiting: an answer to it is late, and none is posted.
    const late = await scripted({ [GET]: [answer(200, bare)] }).client.decide(ID, 'resume', 'ok');
    assert.equal(late.outcome, 'late');
    // A root with nothing at all in it reads as no BlockingTask.
    await assert.rejects(
      scripted({ [GET]: [answer(200, documentXml(''))] }).client.read(ID),
      (err: unknown) => isCoded(err, 'VCD_HTTP_ERROR'),
    );
  });

  it('shows the ids and types the references give, and leaves an empty name absent', async () => {
    const doc = documentXml(
      ACTIVE,
      '<vcloud:Organization type="application/vnd.vmware.vcloud.org+xml" name="" id="urn:vcloud:org:acme" ' +
        `href="${SITE}/api/org/acme"/>`,
      `<vcloud:User type="application/vnd.vmware.admin.user+xml" name="bob" id="urn:vcloud:user:bob" href="${SITE}/api/admin/user/bob"/>`,
      owner(`https://elsewhere.example.com/api/vApp/vm-${VM}`),
    );
    const view = await scripted({ [GET]: [answer(200, doc)] }).client.read(ID);
    assert.equal(view.org.name, undefined, 'an empty name is no name');
    assert.equal(view.org.id, 'urn:vcloud:org:acme');
    assert.equal(view.org.type, 'application/vnd.vmware.vcloud.org+xml');
    assert.deepEqual([view.requestedBy.name, view.requestedBy.id], ['bob', 'urn:vcloud:user:bob']);
    assert.equal(view.object.name, undefined);
    assert.equal(view.object.id, `urn:vcloud:vm:${VM}`);
    assert.equal(view.object.type, 'application/vnd.vmware.vcloud.vm+xml');
  });

  it('follows the up link to the blocked task, wherever it stands among the action links', async () => {
    const doc = documentXml(ACTIVE, action('resume'), action('abort'), action('fail'), upLink);
    const { client, sent } = scripted({
      [GET]: [answer(200, doc)],
      [`GET /api/task/${TASK}`]: [answer(200, `<Task status="running" id="urn:vcloud:task:${TASK}"/>`)],
    });
    const view = await client.read(ID);
    assert.equal(view.task.href, `${SITE}/api/task/${TASK}`);
    assert.equal(view.task.status, 'running');
    assert.equal(view.task.id, `urn:vcloud:task:${TASK}`);
    assert.deepEqual(
      sent.map((c) => c.path),
      [`/api/admin/extension/blockingTask/${ID}`, `/api/task/${TASK}`],
    );
  });

  it("counts the time left on VCD's clock, never more than the whole timeout, never below zero", async () => {
    const left = async (created: string, timeout: string, date: string) => {
      const doc = documentXml(`${ACTIVE} createdTime="${created}" timeoutDate="${timeout}"`);
      const view = await scripted({ [GET]: [dated(200, doc, date)] }).client.read(ID);
      return view.timeout.leftMs;
    };
    // Created five days before it is read: one hour left by VCD's clock, not five days.
    assert.equal(
      await left('2026-12-01T10:00:00.000Z', '2026-12-06T10:00:00.000Z', 'Sun, 06 Dec 2026 09:00:00 GMT'),
      3_600_000,
    );
    // Read in the second it was created: the Date header's whole second would give 0.6 s more.
    assert.equal(
      await left('2026-12-06T09:59:59.600Z', '2026-12-06T10:04:59.600Z', 'Sun, 06 Dec 2026 09:59:59 GMT'),
      300_000,
    );
    assert.equal(
      await left('2026-12-06T09:00:00.000Z', '2026-12-06T10:00:00.000Z', 'Sun, 06 Dec 2026 10:00:05 GMT'),
      0,
    );
    assert.equal(await left('2026-12-06T09:00:00.000Z', '2026-12-06T10:00:00.000Z', ''), undefined);
  });

  it('reads the object only on its own site within /api/, and takes nothing from an answer that is an error', async () => {
    const shown = async (href: string, objectAnswer: HttpResponse = answer(200, vmXml('web-01'))) => {
      const { client, sent } = scripted({
        [GET]: [answer(200, documentXml(ACTIVE, owner(href, 'as-referenced')))],
        [`GET /api/vApp/vm-${VM}`]: [objectAnswer],
        [`GET /tenant/acme/vApp/vm-${VM}`]: [answer(200, vmXml('web-01'))],
      });
      const view = await client.read(ID);
      return { object: view.object, reads: sent.length - 1 };
    };
    const local = await shown(`${SITE}/api/vApp/vm-${VM}`);
    assert.deepEqual([local.object.name, local.object.owner, local.reads], ['as-referenced', 'alice', 1]);
    for (const href of [
      `https://elsewhere.example.com/api/vApp/vm-${VM}`,
      `http://vcd.example.com/api/vApp/vm-${VM}`,
      `${SITE}/tenant/acme/vApp/vm-${VM}`,
    ]) {
      const away = await shown(href);
      assert.deepEqual([away.object.owner, away.reads], [undefined, 0], href);
    }
    // VCD's Error, and an error status carrying a document (a proxy's stale page): neither is the object.
    const errors = [
      answer(500, errorXml('Database down.')),
      answer(503, vmXml('stale')),
      answer(404, vmXml('stale')),
    ];
    for (const error of errors) {
      const failed = await shown(`${SITE}/api/vApp/vm-${VM}`, error);
      assert.equal(failed.reads, 1);
      assert.equal(failed.object.name, 'as-referenced', String(error.status));
      assert.equal(failed.object.owner, undefined, String(error.status));
    }
  });
});
