/**
 * The legacy vCloud API (`/api/...`, XML) as far as the simulator needs it:
 * VMs and vApps, a VM's reconfiguration (a task, held when the operation
 * blocks), tasks, and the blocking-task extension a system administrator uses
 * (settings, operations, list, one blocking task, its actions). Strict as VCD
 * is: a version in Accept, a Bearer token, system administrators only for the
 * extension, the right media type for what is posted.
 */
import type http from 'node:http';
import { sendJson, type Router, type SimRequest } from '../http';
import type { Directory, SimSession, SimUser } from './directory';
import type { EventOptions } from './events';
import { BLOCKING_ACTIONS, type BlockingAction, type BlockingTasks } from './blocking-tasks';
import type { Inventory, SimTask, SimVm } from './inventory';
import { childList, parsePosted, sendXml, sendXmlError, type XmlElement } from './vcloud-xml';

export interface LegacyDeps {
  directory: Directory;
  inventory: Inventory;
  blocking: BlockingTasks;
  /** API versions offered. */
  versions: () => string[];
  site: () => string;
  /** The fault set for the next answer to a blocking task, taken (once). */
  takeBlockingFault: () => BlockingFault;
}

/**
 * What the next answer to a blocking task meets: `refused`, VCD fails it (500, the task still waits);
 * `endsFirst`, the task times out just before the answer arrives (400, as for any ended one).
 */
export type BlockingFault = '' | 'refused' | 'endsFirst';

interface Caller {
  session: SimSession;
  version: string;
}

const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const EXTENSION = '/api/admin/extension';
/** How long a VM's reconfiguration takes when nothing holds it. */
const WORK_MS = 300;

type Handler = (req: SimRequest, res: http.ServerResponse, caller: Caller) => void;

/** The task-end notifications: the TASK envelope and the object's EVENT, with the task's outcome. */
export function taskEndedEvents(task: SimTask): EventOptions[] {
  const success = task.status === 'success';
  const event = {
    type: 'com/vmware/vcloud/event/vm/modify',
    operationSuccess: success,
    entity: `urn:vcloud:${task.owner.kind.toLowerCase()}:${task.owner.id}`,
    entityType: task.owner.kind.toLowerCase(),
    entityName: task.owner.name,
    task: `urn:vcloud:task:${task.id}`,
    taskName: task.operationName,
    details: success ? undefined : task.details,
  };
  const actor = `${task.user.name}@${task.user.org}`;
  return [
    { actor, envelopeType: 'TASK', taskStatus: task.status, event },
    { actor, envelopeType: 'EVENT', event },
  ];
}

/** A VM's reconfiguration (task vappUpdateVm): held when that operation blocks, else done shortly. */
export function reconfigureVm(deps: LegacyDeps, vm: SimVm, user: SimUser, rename?: string) {
  const task = deps.inventory.startTask(vm, 'vappUpdateVm', 'Updating', user);
  if (rename) task.onSuccess = () => (vm.name = rename);
  if (deps.blocking.blocks(task.operationName)) return { task, blockingTask: deps.blocking.hold(task) };
  deps.inventory.complete(task, WORK_MS);
  return { task, blockingTask: undefined };
}

export function legacyRoutes(r: Router, deps: LegacyDeps): void {
  const { inventory } = deps;
  const on = (method: string, path: RegExp, handler: Handler, sysAdmin = false) =>
    r.on(method, path, (req, res) => {
      const caller = authorize(deps, req, res, sysAdmin);
      if (caller) handler(req, res, caller);
    });
  const send = (res: http.ServerResponse, status: number, doc: XmlElement, type: string, c: Caller) =>
    sendXml(res, status, doc, `application/vnd.vmware.${type}+xml`, c.version);

  on('GET', new RegExp(`^/api/vApp/vm-${UUID}$`), (req, res, c) => {
    const vm = inventory.vms.get(req.params[0] as string);
    if (!vm || !sees(c, vm.org.id)) return notFound(res, c);
    send(res, 200, inventory.vmXml(vm, deps.site()), 'vcloud.vm', c);
  });
  on('GET', new RegExp(`^/api/vApp/vapp-${UUID}$`), (req, res, c) => {
    const vApp = inventory.vApps.get(req.params[0] as string);
    if (!vApp || !sees(c, vApp.org.id)) return notFound(res, c);
    send(res, 200, inventory.vAppXml(vApp, deps.site()), 'vcloud.vApp', c);
  });
  on('GET', new RegExp(`^/api/task/${UUID}$`), (req, res, c) => {
    const task = inventory.tasks.get(req.params[0] as string);
    if (!task || !sees(c, task.org.id)) return notFound(res, c);
    send(res, 200, inventory.taskXml(task, deps.site()), 'vcloud.task', c);
  });
  on('POST', new RegExp(`^/api/vApp/vm-${UUID}/action/reconfigureVm$`), (req, res, c) => {
    const vm = inventory.vms.get(req.params[0] as string);
    if (!vm || !sees(c, vm.org.id)) return notFound(res, c);
    if (!mediaType(req, 'application/vnd.vmware.vcloud.vm+xml')) return unsupported(res, c);
    const posted = parsePosted(req.body, 'Vm');
    if (!posted) return sendXmlError(res, 400, 'BAD_REQUEST', 'The body must be a Vm element.', c.version);
    const rename = typeof posted['@name'] === 'string' ? posted['@name'] : undefined;
    const { task } = reconfigureVm(deps, vm, c.session.user, rename);
    send(res, 202, inventory.taskXml(task, deps.site()), 'vcloud.task', c);
  });
  blockingRoutes(deps, on, send);
}

type On = (method: string, path: RegExp, handler: Handler, sysAdmin?: boolean) => void;
type Send = (res: http.ServerResponse, status: number, doc: XmlElement, type: string, c: Caller) => void;

function blockingRoutes(deps: LegacyDeps, on: On, send: Send): void {
  const { blocking } = deps;
  const item = new RegExp(`^${EXTENSION}/blockingTask/${UUID}$`);
  on(
    'GET',
    new RegExp(`^${EXTENSION}/blockingTasks/?$`),
    (_req, res, c) => send(res, 200, blocking.referencesXml(), 'admin.blockingTaskList', c),
    true,
  );
  on(
    'GET',
    item,
    (req, res, c) => {
      const bt = blocking.items.get(req.params[0] as string);
      if (!bt) return notFound(res, c);
      send(res, 200, blocking.xml(bt), 'admin.blockingTask', c);
    },
    true,
  );
  on(
    'POST',
    new RegExp(`^${EXTENSION}/blockingTask/${UUID}/action/(resume|abort|fail)$`),
    (req, res, c) => {
      const message = postedMessage(req, 'blockingTaskOperationParams', 'BlockingTaskOperationParams');
      if (message === null) return unsupported(res, c);
      if (!message) return sendXmlError(res, 400, 'BAD_REQUEST', 'Message is required.', c.version);
      const id = req.params[0] as string;
      const action = req.params[1] as BlockingAction;
      blocking.recordPosted(id, action, req.body);
      const fault = deps.takeBlockingFault();
      if (fault === 'refused') return refused(res, c);
      if (fault === 'endsFirst') blocking.timeOut(id);
      const result = blocking.answer(id, action, message, c.session.user);
      if (result === 'unknown') return notFound(res, c);
      if (result === 'ended') return ended(res, c);
      res.writeHead(204).end();
    },
    true,
  );
  on(
    'POST',
    new RegExp(`^${EXTENSION}/blockingTask/${UUID}/action/updateProgress$`),
    (req, res, c) => {
      const type = 'blockingTaskUpdateProgressOperationParams';
      if (postedMessage(req, type, 'BlockingTaskUpdateProgressParams') === null) return unsupported(res, c);
      const ms = Number(
        postedField(
          req,
          'BlockingTaskUpdateProgressParams',
          'TimeoutValueInMilliseconds',
          'timeoutValueInMilliseconds',
        ),
      );
      if (!Number.isInteger(ms) || ms <= 0)
        return sendXmlError(
          res,
          400,
          'BAD_REQUEST',
          'TimeoutValueInMilliseconds must be a positive number.',
          c.version,
        );
      const result = blocking.extend(req.params[0] as string, ms);
      if (result === 'unknown') return notFound(res, c);
      if (result === 'ended') return ended(res, c);
      send(res, 200, blocking.xml(result), 'admin.blockingTask', c);
    },
    true,
  );
  settingsRoutes(deps, on, send);
}

function settingsRoutes(deps: LegacyDeps, on: On, send: Send): void {
  const { blocking } = deps;
  const settings = new RegExp(`^${EXTENSION}/settings/blockingTask$`);
  const operations = new RegExp(`^${EXTENSION}/settings/blockingTask/operations$`);
  on(
    'GET',
    settings,
    (_req, res, c) => send(res, 200, blocking.settingsXml(), 'admin.blockingTaskSettings', c),
    true,
  );
  on(
    'GET',
    operations,
    (_req, res, c) => send(res, 200, blocking.operationsXml(), 'admin.taskOperationList', c),
    true,
  );
  on(
    'PUT',
    settings,
    (req, res, c) => {
      if (!mediaType(req, 'application/vnd.vmware.admin.blockingTaskSettings+xml'))
        return unsupported(res, c);
      const posted = parsePosted(req.body, 'BlockingTaskSettings');
      const action = String(posted?.TimeoutAction ?? '') as BlockingAction;
      const ms = Number(posted?.TimeoutInMilliseconds);
      if (!posted || !BLOCKING_ACTIONS.includes(action) || !Number.isInteger(ms) || ms <= 0) {
        return sendXmlError(
          res,
          400,
          'BAD_REQUEST',
          'TimeoutAction (abort, fail, resume) and TimeoutInMilliseconds are required.',
          c.version,
        );
      }
      blocking.settings.timeoutAction = action;
      blocking.settings.timeoutMs = ms;
      const ops = posted.BlockingTaskOperations as Record<string, unknown> | undefined;
      if (ops !== undefined) blocking.settings.operations = operationNames(ops);
      send(res, 200, blocking.settingsXml(), 'admin.blockingTaskSettings', c);
    },
    true,
  );
  on(
    'PUT',
    operations,
    (req, res, c) => {
      if (!mediaType(req, 'application/vnd.vmware.admin.taskOperationList+xml')) return unsupported(res, c);
      const posted = parsePosted(req.body, 'BlockingTaskOperations');
      if (!posted)
        return sendXmlError(
          res,
          400,
          'BAD_REQUEST',
          'The body must be a BlockingTaskOperations element.',
          c.version,
        );
      blocking.settings.operations = operationNames(posted);
      send(res, 200, blocking.operationsXml(), 'admin.taskOperationList', c);
    },
    true,
  );
}

/** Operation names, written as `Operation` or (API 33.0+) `TaskOperationType/Operation`. */
function operationNames(list: Record<string, unknown> | string): Set<string> {
  if (typeof list !== 'object') return new Set();
  const typed = childList(list, 'TaskOperationType').map((t) => (t as Record<string, unknown>).Operation);
  return new Set(
    [...childList(list, 'Operation'), ...typed].map(String).filter((s) => s !== '' && s !== 'undefined'),
  );
}

function authorize(
  deps: LegacyDeps,
  req: SimRequest,
  res: http.ServerResponse,
  sysAdmin: boolean,
): Caller | undefined {
  const accept = String(req.headers.accept ?? '');
  const version = /version=([\d.]+)/.exec(accept)?.[1];
  if (!version || !deps.versions().includes(version) || !/xml|\*\/\*/.test(accept)) {
    sendXmlError(
      res,
      406,
      'NOT_ACCEPTABLE',
      'The request has an invalid accept header: an XML media type with a supported version is required.',
    );
    return undefined;
  }
  const session = deps.directory.bearer(req.headers.authorization);
  if (!session) {
    sendXmlError(
      res,
      401,
      'UNAUTHORIZED',
      'Unauthorized: the access token is missing, invalid or expired.',
      version,
    );
    return undefined;
  }
  if (sysAdmin && session.user.role !== 'sysAdmin') {
    sendXmlError(
      res,
      403,
      'ACCESS_TO_RESOURCE_IS_FORBIDDEN',
      'This operation is denied: system administrators only.',
      version,
    );
    return undefined;
  }
  return { session, version };
}

const sees = (c: Caller, orgId: string) => c.session.user.role === 'sysAdmin' || c.session.org.id === orgId;

function mediaType(req: SimRequest, type: string): boolean {
  return (
    String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase() === type.toLowerCase()
  );
}

/** The `Message` of posted parameters (XML or JSON); null when the media type is wrong. */
function postedMessage(req: SimRequest, type: string, root: string): string | null {
  if (
    !mediaType(req, `application/vnd.vmware.admin.${type}+xml`) &&
    !mediaType(req, `application/vnd.vmware.admin.${type}+json`)
  ) {
    return null;
  }
  return postedField(req, root, 'Message', 'message') ?? '';
}

function postedField(req: SimRequest, root: string, xmlName: string, jsonName: string): string | undefined {
  if (String(req.headers['content-type']).includes('+json')) {
    try {
      const value = (JSON.parse(req.body) as Record<string, unknown>)[jsonName];
      return value === undefined || value === null ? undefined : String(value);
    } catch {
      return undefined;
    }
  }
  const value = parsePosted(req.body, root)?.[xmlName];
  return value === undefined ? undefined : String(value);
}

const notFound = (res: http.ServerResponse, c: Caller) =>
  sendXmlError(res, 404, 'RESOURCE_NOT_FOUND', 'The requested resource was not found.', c.version);
const unsupported = (res: http.ServerResponse, c: Caller) =>
  sendXmlError(
    res,
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'The Content-Type of the request is not supported here.',
    c.version,
  );
// VCD's generic text for a failure inside it (an extension or the database), the Error's shape as ever.
const refused = (res: http.ServerResponse, c: Caller) =>
  sendXmlError(
    res,
    500,
    'INTERNAL_SERVER_ERROR',
    'Unable to perform this action. Contact your cloud administrator.',
    c.version,
  );
// Not published by VMware: the simulator's answer to an action on a blocking task that has ended.
const ended = (res: http.ServerResponse, c: Caller) =>
  sendXmlError(res, 400, 'BAD_REQUEST', 'The blocking task is no longer active.', c.version);

/** `user@org` changes their org's VM named `vmName`; the URNs of the task and of its blocking task, if held. */
export function reconfigureAs(deps: LegacyDeps, actor: string, vmName: string, rename?: string) {
  const at = actor.lastIndexOf('@');
  const user = at > 0 ? deps.directory.findUser(actor.slice(0, at), actor.slice(at + 1)) : undefined;
  const vm = user && deps.inventory.vmNamed(user.org, vmName);
  if (!user || !vm) return undefined;
  const { task, blockingTask } = reconfigureVm(deps, vm, user, rename);
  return {
    task: `urn:vcloud:task:${task.id}`,
    blockingTask: blockingTask && `urn:vcloud:blockingTask:${blockingTask.id}`,
  };
}

/** The simulator's own switches for blocking tasks (/_sim/...; no real VCD has them). */
export function legacyControlRoutes(r: Router, deps: LegacyDeps): void {
  const { blocking } = deps;
  const settingsJson = () => ({ ...blocking.settings, operations: [...blocking.settings.operations] });
  r.on('POST', '/_sim/blocking', (req, res) => {
    const body = JSON.parse(req.body || '{}') as {
      operations?: string[];
      timeoutMs?: number;
      timeoutAction?: string;
    };
    if (Array.isArray(body.operations)) blocking.settings.operations = new Set(body.operations.map(String));
    if (typeof body.timeoutMs === 'number' && body.timeoutMs > 0)
      blocking.settings.timeoutMs = body.timeoutMs;
    if (BLOCKING_ACTIONS.includes(body.timeoutAction as BlockingAction)) {
      blocking.settings.timeoutAction = body.timeoutAction as BlockingAction;
    }
    sendJson(res, 200, settingsJson());
  });
  // A tenant changes a VM, as `POST /api/vApp/vm-<id>/action/reconfigureVm` would: {actor, vm, name?}.
  r.on('POST', '/_sim/reconfigure', (req, res) => {
    const body = JSON.parse(req.body || '{}') as { actor?: string; vm?: string; name?: string };
    const started = reconfigureAs(deps, String(body.actor ?? ''), String(body.vm ?? ''), body.name);
    if (!started)
      return sendJson(res, 404, { message: 'Give actor (user@org) and the name of a VM of that org.' });
    sendJson(res, 200, started);
  });
  r.on('GET', '/_sim/amqp', (_req, res) => sendJson(res, 200, blocking.amqp));
}
