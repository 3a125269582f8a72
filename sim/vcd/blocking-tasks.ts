/**
 * Blocking tasks (docs/vcd.md): a system administrator names operations that
 * must wait for an answer; such an operation's task is held, a BlockingTask is
 * recorded and announced (the AMQP-style XML notification and the message-bus
 * EVENT), and it ends by resume, abort or fail, or at its timeout by the
 * default action. Answered ones stay readable a while, as "recently
 * completed" ones do.
 */
import { randomUUID } from '../ids';
import type { Directory, SimUser } from './directory';
import { vcdTimestamp, type EventOptions } from './events';
import type { Inventory, SimTask } from './inventory';
import { NS, el, renderXml, type XmlElement } from './vcloud-xml';

export type BlockingAction = 'resume' | 'abort' | 'fail';
export const BLOCKING_ACTIONS: readonly BlockingAction[] = ['resume', 'abort', 'fail'];

/** The status an answered blocking task keeps (not published by VMware: the simulator's choice). */
const ENDED_STATUS: Record<BlockingAction, string> = { resume: 'resumed', abort: 'aborted', fail: 'failed' };

export interface BlockingSettings {
  timeoutAction: BlockingAction;
  timeoutMs: number;
  /** Operation names (task names) that block, e.g. vappUpdateVm. */
  operations: Set<string>;
}

export interface SimBlockingTask {
  id: string;
  task: SimTask;
  status: string;
  createdTime: string;
  timeoutDate: string;
  timeoutAction: BlockingAction;
  /** How it ended: an answer, or the timeout's default action. */
  endedBy?: 'answer' | 'timeout';
  endedAt?: number;
  timer?: NodeJS.Timeout;
}

/** A notification as the AMQP broker would get it: routing key, headers and the XML body. */
export interface AmqpNotification {
  routingKey: string;
  headers: Record<string, string>;
  body: string;
}

/** Answered blocking tasks stay readable this long. */
const KEEP_ENDED_MS = 10 * 60_000;
const MAX_AMQP = 1000;
/** How long a resumed task takes to do its work. */
const RESUMED_WORK_MS = 300;

export interface BlockingDeps {
  directory: Directory;
  inventory: Inventory;
  publish: (options: EventOptions) => void;
  site: () => string;
  /** VCD's clock (ms): what its documents are dated with. */
  now: () => number;
}

export class BlockingTasks {
  readonly settings: BlockingSettings = {
    timeoutAction: 'abort',
    timeoutMs: 86_400_000,
    operations: new Set(),
  };
  readonly items = new Map<string, SimBlockingTask>();
  /** What an AMQP consumer would have received, newest last (bounded). */
  readonly amqp: AmqpNotification[] = [];
  /** Called with each AMQP-style notification as it is made. */
  onAmqp: (n: AmqpNotification) => void = () => undefined;
  /** The bodies of the answers posted (resume, abort, fail), as sent, newest last (bounded). */
  readonly answersPosted: Array<{ id: string; action: BlockingAction; body: string }> = [];

  constructor(private readonly deps: BlockingDeps) {}

  blocks(operationName: string): boolean {
    return this.settings.operations.has(operationName);
  }

  /** Holds a task until an answer or the timeout, and announces it. */
  hold(task: SimTask): SimBlockingTask {
    this.forgetOld();
    const now = this.deps.now();
    const bt: SimBlockingTask = {
      id: randomUUID(),
      task,
      status: 'active',
      createdTime: vcdTimestamp(now),
      timeoutDate: vcdTimestamp(now + this.settings.timeoutMs),
      timeoutAction: this.settings.timeoutAction,
    };
    this.items.set(bt.id, bt);
    this.arm(bt, this.settings.timeoutMs);
    this.announce(bt, 'create', task.user);
    return bt;
  }

  /** An answer; 'ended' when the blocking task no longer waits, 'unknown' when there is none. */
  answer(
    id: string,
    action: BlockingAction,
    message: string,
    by: SimUser | 'timeout',
  ): 'ok' | 'ended' | 'unknown' {
    const bt = this.items.get(id);
    if (!bt) return 'unknown';
    if (bt.status !== 'active') return 'ended';
    clearTimeout(bt.timer);
    bt.status = ENDED_STATUS[action];
    bt.endedBy = by === 'timeout' ? 'timeout' : 'answer';
    bt.endedAt = Date.now();
    this.announce(bt, action, by);
    const { inventory } = this.deps;
    if (action === 'resume') inventory.complete(bt.task, RESUMED_WORK_MS);
    else inventory.finish(bt.task, action === 'abort' ? 'aborted' : 'error', message);
    return 'ok';
  }

  /** updateProgress: the timeout now counts `ms` from now. */
  extend(id: string, ms: number): SimBlockingTask | 'ended' | 'unknown' {
    const bt = this.items.get(id);
    if (!bt) return 'unknown';
    if (bt.status !== 'active') return 'ended';
    bt.timeoutDate = vcdTimestamp(this.deps.now() + ms);
    this.arm(bt, ms);
    return bt;
  }

  /** The timeout's default action, now. */
  timeOut(id: string): void {
    const bt = this.items.get(id);
    if (!bt) return;
    this.answer(
      id,
      bt.timeoutAction,
      `Timed out: the default action ${bt.timeoutAction} was applied.`,
      'timeout',
    );
  }

  /** Keeps what an answer posted, for tests that read it back. */
  recordPosted(id: string, action: BlockingAction, body: string): void {
    this.answersPosted.push({ id, action, body });
    if (this.answersPosted.length > MAX_AMQP) this.answersPosted.shift();
  }

  stop(): void {
    for (const bt of this.items.values()) clearTimeout(bt.timer);
  }

  private arm(bt: SimBlockingTask, ms: number): void {
    clearTimeout(bt.timer);
    // Timers beyond 2^31 ms fire at once: a long timeout is re-armed on the way.
    bt.timer = setTimeout(
      () => {
        // The deadline is in VCD's clock (as timeoutDate is written).
        const left = Date.parse(bt.timeoutDate) - this.deps.now();
        if (left > 5) return this.arm(bt, left);
        this.timeOut(bt.id);
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    bt.timer.unref();
  }

  private forgetOld(): void {
    const cutoff = Date.now() - KEEP_ENDED_MS;
    for (const [id, bt] of this.items)
      if (bt.endedAt !== undefined && bt.endedAt < cutoff) this.items.delete(id);
  }

  /** The message-bus EVENT and the AMQP-style notification of blockingtask/<verb>. */
  private announce(bt: SimBlockingTask, verb: 'create' | BlockingAction, by: SimUser | 'timeout'): void {
    const { directory } = this.deps;
    const task = bt.task;
    const actor = by === 'timeout' ? task.user : by;
    const system = by === 'timeout' ? { user: 'urn:vcloud:user:system', userName: 'system' } : {};
    this.deps.publish({
      actor: `${actor.name}@${actor.org}`,
      envelopeType: 'EVENT',
      event: {
        type: `com/vmware/vcloud/event/blockingtask/${verb}`,
        operationSuccess: true,
        entity: `urn:vcloud:blockingTask:${bt.id}`,
        entityType: 'blockingTask',
        entityName: task.operationName,
        task: `urn:vcloud:task:${task.id}`,
        taskName: task.operationName,
        taskOwner: `urn:vcloud:${task.owner.kind.toLowerCase()}:${task.owner.id}`,
        details: undefined,
        ...system,
      },
    });
    const org = directory.org(actor.org);
    const userId = by === 'timeout' ? 'system' : directory.userId(actor);
    this.notifyAmqp(bt, verb, org.id, userId, by === 'timeout' ? 'system' : actor.name, org.name);
  }

  /** The legacy notification: routing key true.<entity>.<org>.<user>.<type parts>.<task name>, headers, XML. */
  private notifyAmqp(
    bt: SimBlockingTask,
    verb: string,
    orgId: string,
    userId: string,
    userName: string,
    orgName: string,
  ): void {
    const site = this.deps.site();
    const type = `com/vmware/vcloud/event/blockingtask/${verb}`;
    const eventId = randomUUID();
    const task = bt.task;
    const body = el(
      'vmext:Notification',
      { 'xmlns:vmext': NS.vmext, type, eventId },
      el('vmext:Link', { rel: 'entityResolver', href: `${site}/api/entity/` }),
      el('vmext:EntityLink', {
        rel: 'entity',
        type: 'vcloud:blockingTask',
        name: task.operationName,
        id: `urn:vcloud:blockingTask:${bt.id}`,
      }),
      el('vmext:EntityLink', {
        rel: 'down',
        type: 'vcloud:user',
        name: userName,
        id: `urn:vcloud:user:${userId}`,
      }),
      el('vmext:EntityLink', { rel: 'up', type: 'vcloud:org', name: orgName, id: `urn:vcloud:org:${orgId}` }),
      el('vmext:EntityLink', {
        rel: 'task',
        type: 'vcloud:task',
        name: task.operationName,
        id: `urn:vcloud:task:${task.id}`,
      }),
      // As in the real capture: the task owner's link has no name.
      el('vmext:EntityLink', {
        rel: 'task:owner',
        type: `vcloud:${task.owner.kind.toLowerCase()}`,
        id: `urn:vcloud:${task.owner.kind.toLowerCase()}:${task.owner.id}`,
      }),
      el('vmext:Timestamp', {}, vcdTimestamp(this.deps.now())),
      el('vmext:OperationSuccess', {}, 'true'),
    );
    const notification: AmqpNotification = {
      routingKey: ['true', bt.id, orgId, userId, ...type.split('/'), task.operationName].join('.'),
      headers: {
        'notification.type': type,
        'notification.entityType': 'blockingTask',
        'notification.entityUUID': bt.id,
        'notification.orgUUID': orgId,
        'notification.userUUID': userId,
        'notification.operationSuccess': 'true',
      },
      body: renderXml(body),
    };
    this.amqp.push(notification);
    if (this.amqp.length > MAX_AMQP) this.amqp.shift();
    this.onAmqp(notification);
  }

  // ---- XML, as the API reference writes these types ----

  xml(bt: SimBlockingTask): XmlElement {
    const site = this.deps.site();
    const { inventory } = this.deps;
    const href = `${site}/api/admin/extension/blockingTask/${bt.id}`;
    const action = (rel: string, type = 'application/vnd.vmware.admin.blockingTaskOperationParams+xml') =>
      el('vcloud:Link', { rel, type, href: `${href}/action/${rel}` });
    const owner = inventory.ref(bt.task.owner.kind, bt.task.owner.id, site);
    return el(
      'vmext:BlockingTask',
      {
        'xmlns:vmext': NS.vmext,
        'xmlns:vcloud': NS.vcloud,
        status: bt.status,
        timeoutDate: bt.timeoutDate,
        timeoutAction: bt.timeoutAction,
        createdTime: bt.createdTime,
        name: bt.task.operationName,
        id: `urn:vcloud:blockingTask:${bt.id}`,
        type: 'application/vnd.vmware.admin.blockingTask+xml',
        href,
      },
      ...(bt.status === 'active'
        ? [
            action('resume'),
            action('abort'),
            action('fail'),
            action(
              'updateProgress',
              'application/vnd.vmware.admin.blockingTaskUpdateProgressOperationParams+xml',
            ),
          ]
        : []),
      el('vcloud:Link', {
        rel: 'up',
        type: 'application/vnd.vmware.vcloud.task+xml',
        href: `${site}/api/task/${bt.task.id}`,
      }),
      el('vmext:Description', {}, bt.task.operation),
      inventory.orgRef('vcloud:Organization', bt.task.org, site),
      inventory.userRef('vcloud:User', bt.task.user, site),
      // As in the programming guide's example: the owner's name is empty.
      el('vcloud:TaskOwner', { ...owner, name: '' }),
    );
  }

  referencesXml(): XmlElement {
    const site = this.deps.site();
    return extensionDoc(
      'BlockingTaskReferences',
      'blockingTaskList',
      {},
      el('vcloud:Link', {
        rel: 'up',
        type: 'application/vnd.vmware.admin.vmwExtension+xml',
        href: `${site}/api/admin/extension`,
      }),
      ...[...this.items.values()].map((bt) =>
        el('vcloud:Reference', {
          type: 'application/vnd.vmware.admin.blockingTask+xml',
          name: bt.task.operationName,
          href: `${site}/api/admin/extension/blockingTask/${bt.id}`,
        }),
      ),
    );
  }

  operationsXml(): XmlElement {
    return extensionDoc('BlockingTaskOperations', 'taskOperationList', {}, ...this.operationElements());
  }

  private operationElements(): XmlElement[] {
    return [...this.settings.operations].map((op) => el('vcloud:Operation', {}, op));
  }

  settingsXml(): XmlElement {
    const href = `${this.deps.site()}/api/admin/extension/settings/blockingTask`;
    return extensionDoc(
      'BlockingTaskSettings',
      'blockingTaskSettings',
      { href },
      el('vmext:TimeoutAction', {}, this.settings.timeoutAction),
      el('vcloud:BlockingTaskOperations', {}, ...this.operationElements()),
      el('vmext:TimeoutInMilliseconds', {}, String(this.settings.timeoutMs)),
    );
  }
}

/** A root element of the extension API: its namespaces and media type. */
function extensionDoc(
  name: string,
  type: string,
  attrs: Record<string, string>,
  ...children: XmlElement[]
): XmlElement {
  const root = {
    'xmlns:vmext': NS.vmext,
    'xmlns:vcloud': NS.vcloud,
    type: `application/vnd.vmware.admin.${type}+xml`,
  };
  return el(`vmext:${name}`, { ...root, ...attrs }, ...children);
}
