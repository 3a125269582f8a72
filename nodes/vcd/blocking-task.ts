/**
 * Answering VCD blocking tasks (docs/vcd.md, "Blocking tasks"): which one a
 * message means, what an approver needs to decide (the operation, the object
 * and its owner, who asked, the time left before VCD applies the default
 * action), and the answer itself (resume, abort, fail) with its outcome. A
 * blocking task that ended before the answer (timeout, another approver) is an
 * outcome with a code, not a failure. Plain TypeScript; the vcd-blocking-task
 * node adapts it to Node-RED.
 */
import { CodedError } from '../common/errors';
import { OBJECT_ANSWER_BYTES, SMALL_ANSWER_BYTES, excerpt, header, type HttpResponse } from '../common/http';
import { isRecord } from '../common/guards';
import { checkPath } from '../common/request-guard';
import { parseXml, xmlList, xmlText, type XmlNode } from '../common/xml';
import { VcdCodes } from './codes';
import type { VcdSession } from './session';

export const BlockingCodes = {
  /** The message names no blocking task, or an unknown decision. */
  INPUT_INVALID: 'VCD_BLOCKING_INPUT_INVALID',
  /** The blocking task ended before the decision: an outcome, not an error. */
  ENDED: 'VCD_BLOCKING_TASK_ENDED',
  NOT_FOUND: 'VCD_BLOCKING_TASK_NOT_FOUND',
  /** Only system administrators may read and answer blocking tasks. */
  FORBIDDEN: 'VCD_BLOCKING_FORBIDDEN',
  ANSWER_FAILED: 'VCD_BLOCKING_ANSWER_FAILED',
} as const;

export type Decision = 'resume' | 'abort' | 'fail';
export const DECISIONS: readonly Decision[] = ['resume', 'abort', 'fail'];

/** What an answer made of the blocking task; `late` when it had ended already, `timed-out` when VCD decided. */
export type Outcome = 'waiting' | 'resumed' | 'aborted' | 'failed' | 'late' | 'timed-out';

const OUTCOME: Record<Decision, Outcome> = { resume: 'resumed', abort: 'aborted', fail: 'failed' };

export interface Ref {
  name?: string;
  id?: string;
  href?: string;
  type?: string;
}

/** A blocking task as an approver needs it. */
export interface BlockingTaskView {
  /** urn:vcloud:blockingTask:<uuid> */
  blockingTask: string;
  /** The blocked operation (a task name such as vappUpdateVm). */
  operation: string;
  /** `active` while it waits. */
  status: string;
  /** What the operation does, as VCD words it ("Updating Virtual Machine web-01(…)"). */
  description?: string;
  /** The object the operation changes, with its owner when VCD names one. */
  object: Ref & { owner?: string };
  org: Ref;
  /** Who asked for the operation. */
  requestedBy: Ref;
  created?: string;
  timeout: { at?: string; action?: string; leftMs?: number };
  /** The blocked task, with its status when read. */
  task: Ref & { status?: string };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const URN = new RegExp(`^urn:vcloud:blockingTask:(${UUID.source})$`, 'i');

function fromString(text: string): string | undefined {
  const t = text.trim();
  const urn = URN.exec(t);
  if (urn) return urn[1];
  if (new RegExp(`^${UUID.source}$`, 'i').test(t)) return t;
  return new RegExp(`/blockingTask/(${UUID.source})$`, 'i').exec(t)?.[1];
}

/** The entity of a notification given as an InfraEvent, an envelope, the inner event or this node's own output. */
function entityOf(value: Record<string, unknown>): unknown {
  const vcd = value.vcd;
  if (isRecord(vcd) && typeof vcd.entity === 'string') return vcd.entity;
  if (typeof value.blockingTask === 'string') return value.blockingTask;
  if (typeof value.entity === 'string') return value.entity;
  if (typeof value.subject === 'string') return value.subject;
  const inner = value.payload;
  if (typeof inner === 'string' && inner.trimStart().startsWith('{')) {
    try {
      return entityOf(JSON.parse(inner) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }
  return isRecord(inner) ? entityOf(inner) : undefined;
}

/**
 * The UUID of the blocking task a message means: a blocking-task event (the
 * InfraEvent of any VCD path, a message-bus envelope, its inner event), this
 * node's own output, or the URN, UUID or href itself.
 */
export function blockingTaskId(payload: unknown): string {
  const candidate = typeof payload === 'string' ? payload : isRecord(payload) ? entityOf(payload) : undefined;
  const id = typeof candidate === 'string' ? fromString(candidate) : undefined;
  if (id) return id.toLowerCase();
  throw new CodedError(
    BlockingCodes.INPUT_INVALID,
    'msg.payload names no blocking task: give a blockingtask event (from vcd subscribe or event decode), ' +
      "this node's own output, or urn:vcloud:blockingTask:<id>.",
    { given: excerpt(payload, 80) },
  );
}

/** resume | abort | fail, or undefined when the message asks nothing but what the task is. */
export function decisionOf(value: unknown): Decision | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const d = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if ((DECISIONS as readonly string[]).includes(d)) return d as Decision;
  throw new CodedError(
    BlockingCodes.INPUT_INVALID,
    `msg.decision must be resume, abort or fail, not ${excerpt(value, 30)}.`,
  );
}

function ref(node: unknown): Ref {
  if (!isRecord(node)) return {};
  const text = (k: string) =>
    typeof node[k] === 'string' && node[k] !== '' ? (node[k] as string) : undefined;
  return { name: text('@name'), id: text('@id'), href: text('@href'), type: text('@type') };
}

const EXT = '/api/admin/extension/blockingTask';

function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string);
}

/** Reads and answers blocking tasks through one VCD session (a system administrator's). */
export class BlockingTaskClient {
  constructor(private readonly session: VcdSession) {}

  /** The blocking task as an approver needs it: the object's name and owner and the task's status looked up. */
  async read(uuid: string): Promise<BlockingTaskView> {
    const res = await this.get(`${EXT}/${uuid}`);
    if (res.status === 404) {
      throw new CodedError(BlockingCodes.NOT_FOUND, `VCD knows no blocking task ${uuid} (any more).`, {
        blockingTask: uuid,
      });
    }
    const doc = this.document(res, 'BlockingTask', `${EXT}/${uuid}`);
    const view = this.view(doc, res, uuid);
    await Promise.all([this.resolveObject(view), this.readTask(view)]);
    return view;
  }

  /**
   * Answers with `decision` and `reason` (VCD requires a message). A blocking
   * task that no longer waits, or that ends while the answer is on its way,
   * gives the outcome `late` with the code VCD_BLOCKING_TASK_ENDED.
   */
  async decide(
    uuid: string,
    decision: Decision,
    reason: string,
  ): Promise<{ view: BlockingTaskView; outcome: Outcome; code?: string }> {
    const before = await this.read(uuid);
    if (before.status !== 'active') return { view: before, outcome: 'late', code: BlockingCodes.ENDED };
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><BlockingTaskOperationParams xmlns="http://www.vmware.com/vcloud/extension/v1.5">' +
      `<Message>${escapeXml(reason)}</Message></BlockingTaskOperationParams>`;
    const res = await this.session.send({
      method: 'POST',
      path: `${EXT}/${uuid}/action/${decision}`,
      body,
      contentType: 'application/vnd.vmware.admin.blockingTaskOperationParams+xml',
      maxBodyBytes: SMALL_ANSWER_BYTES,
    });
    this.refuseForbidden(res);
    if (res.status >= 200 && res.status < 300) {
      const after = await this.read(uuid).catch(() => before);
      return { view: after, outcome: OUTCOME[decision] };
    }
    // Refused: ended meanwhile (timeout, another approver), or a real failure.
    const now = await this.read(uuid).catch((err: unknown) => {
      if (err instanceof CodedError && err.code === BlockingCodes.NOT_FOUND) return undefined;
      throw err;
    });
    if (!now || now.status !== 'active')
      return { view: now ?? before, outcome: 'late', code: BlockingCodes.ENDED };
    throw new CodedError(
      BlockingCodes.ANSWER_FAILED,
      `VCD refused to ${decision} blocking task ${uuid} (${res.status}): ${vcdMessage(res)}`,
      { status: res.status, blockingTask: uuid },
    );
  }

  private async get(path: string): Promise<HttpResponse> {
    const res = await this.session.send({ method: 'GET', path, maxBodyBytes: OBJECT_ANSWER_BYTES });
    this.refuseForbidden(res);
    return res;
  }

  private refuseForbidden(res: HttpResponse): void {
    if (res.status === 403) {
      throw new CodedError(
        BlockingCodes.FORBIDDEN,
        'VCD refused: only system administrators read and answer blocking tasks. Use a vcd login of organization System.',
        { status: 403 },
      );
    }
  }

  private document(res: HttpResponse, root: string, path: string): XmlNode {
    if (res.status !== 200) {
      throw new CodedError(VcdCodes.HTTP_ERROR, `GET ${path} answered ${res.status}: ${vcdMessage(res)}`, {
        status: res.status,
      });
    }
    const doc = parseXml(res.text)[root];
    if (!isRecord(doc))
      throw new CodedError(VcdCodes.HTTP_ERROR, `GET ${path} answered no ${root}: ${excerpt(res.text)}`);
    return doc;
  }

  private view(doc: XmlNode, res: HttpResponse, uuid: string): BlockingTaskView {
    const at = doc['@timeoutDate'] as string | undefined;
    // Time left by VCD's own clock (its Date header), not by comparing its clock with ours.
    const serverNow = Date.parse(header(res.headers, 'date') ?? '');
    const deadline = Date.parse(at ?? '');
    // The Date header has whole seconds: never more than the whole timeout is left.
    const whole = deadline - Date.parse(String(doc['@createdTime'] ?? ''));
    const left = Math.min(deadline - serverNow, Number.isFinite(whole) ? whole : Infinity);
    const leftMs = Number.isFinite(left) ? Math.max(0, left) : undefined;
    const up = xmlList(doc.Link).find((l) => l['@rel'] === 'up');
    return {
      // The one asked for when VCD names none: the output can still be answered.
      blockingTask: String(doc['@id'] ?? `urn:vcloud:blockingTask:${uuid}`),
      operation: String(doc['@name'] ?? ''),
      status: String(doc['@status'] ?? 'unknown'),
      description: xmlText(doc.Description),
      object: ref(doc.TaskOwner),
      org: ref(doc.Organization),
      requestedBy: ref(doc.User),
      created: doc['@createdTime'] as string | undefined,
      timeout: { at, action: doc['@timeoutAction'] as string | undefined, leftMs },
      task: ref(up),
    };
  }

  /** A path on this session's site from an href VCD gave, or undefined for any other place. */
  private local(href: string | undefined): string | undefined {
    if (!href) return undefined;
    try {
      const url = new URL(href);
      return url.origin === this.session.site ? checkPath(url.pathname, ['/api/']) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The object's name (its reference may have none) and its owner: a vApp's Owner, or a VM's vApp's. */
  private async resolveObject(view: BlockingTaskView): Promise<void> {
    try {
      const path = this.local(view.object.href);
      if (!path) return;
      const res = await this.get(path);
      const [root, doc] =
        Object.entries(parseXml(res.text)).find(([k, v]) => !k.startsWith('?') && isRecord(v)) ?? [];
      if (res.status !== 200 || !isRecord(doc)) return;
      view.object.name ||= doc['@name'] as string | undefined;
      view.object.id ||= doc['@id'] as string | undefined;
      view.object.owner = ownerName(doc) ?? (root === 'Vm' ? await this.vAppOwner(doc) : undefined);
    } catch {
      // The approver still sees the blocking task; only the object's details are missing.
    }
  }

  private async vAppOwner(vm: XmlNode): Promise<string | undefined> {
    const path = this.local(
      xmlList(vm.Link).find((l) => l['@rel'] === 'up')?.['@href'] as string | undefined,
    );
    if (!path) return undefined;
    const res = await this.get(path);
    const doc = res.status === 200 ? parseXml(res.text).VApp : undefined;
    return isRecord(doc) ? ownerName(doc) : undefined;
  }

  private async readTask(view: BlockingTaskView): Promise<void> {
    try {
      const path = this.local(view.task.href);
      if (!path) return;
      const res = await this.get(path);
      const task = res.status === 200 ? parseXml(res.text).Task : undefined;
      if (isRecord(task)) {
        view.task.status = task['@status'] as string | undefined;
        view.task.id = task['@id'] as string | undefined;
      }
    } catch {
      // the task's status stays unknown
    }
  }
}

/** 4:05, 2h 10m, 3d 4h: short enough for a status line. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

function ownerName(doc: XmlNode): string | undefined {
  const owner = doc.Owner;
  return isRecord(owner) ? ref(owner.User).name : undefined;
}

/** The message of VCD's error document (XML or JSON), or an excerpt of the answer. */
export function vcdMessage(res: HttpResponse): string {
  try {
    const text = res.text.trimStart();
    if (text.startsWith('<')) {
      const error = parseXml(text).Error;
      if (isRecord(error) && typeof error['@message'] === 'string') return error['@message'];
    } else if (text.startsWith('{')) {
      const error = JSON.parse(text) as { message?: unknown };
      if (typeof error.message === 'string') return error.message;
    }
  } catch {
    // not a VCD error document
  }
  return excerpt(res.text) || `HTTP ${res.status}`;
}
