/**
 * What the simulated VCD holds besides its users: vApps with their owners,
 * their VMs, and the tasks that operations on them run (queued → running →
 * success, error or aborted), each as the legacy API writes it in XML.
 */
import { randomUUID, stableUuid } from '../ids';
import type { Directory, SimOrg, SimUser } from './directory';
import { vcdTimestamp } from './events';
import { NS, el, type XmlElement } from './vcloud-xml';

export type TaskStatus = 'queued' | 'preRunning' | 'running' | 'success' | 'error' | 'canceled' | 'aborted';

export interface SimVm {
  id: string;
  name: string;
  vAppId: string;
  org: SimOrg;
}

export interface SimVApp {
  id: string;
  name: string;
  org: SimOrg;
  owner: SimUser;
  vms: string[];
}

export interface SimTask {
  id: string;
  operationName: string;
  /** The task's one-line description, e.g. "Updating Virtual Machine web-01(<uuid>)". */
  operation: string;
  status: TaskStatus;
  owner: { kind: 'vm' | 'vApp'; id: string; name: string };
  user: SimUser;
  org: SimOrg;
  startTime: string;
  endTime?: string;
  /** Why it ended in error or was aborted. */
  details?: string;
  /** What the task changes, done when it succeeds. */
  onSuccess?: () => void;
}

/** The vApps every simulated VCD starts with: org, vApp, owner, VMs. */
const SEED: [string, string, string, string[]][] = [
  ['acme', 'web-tier', 'acmeuser', ['web-01', 'web-02']],
  ['acme', 'erp-prod', 'acmeadmin', ['db-01', 'app-01']],
  ['globex', 'ci-runners', 'globexadmin', ['build-07']],
];

const MAX_TASKS = 10_000;

export const TASK_DONE: ReadonlySet<TaskStatus> = new Set(['success', 'error', 'canceled', 'aborted']);

export class Inventory {
  readonly vms = new Map<string, SimVm>();
  readonly vApps = new Map<string, SimVApp>();
  readonly tasks = new Map<string, SimTask>();
  /** Runs when a task ends (the simulator publishes its notifications). */
  onEnded: (task: SimTask) => void = () => undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly directory: Directory,
    /** VCD's clock (ms): what tasks are dated with. */
    private readonly now: () => number = Date.now,
  ) {
    for (const [orgName, vAppName, ownerName, vmNames] of SEED) {
      const owner = directory.findUser(ownerName, orgName);
      if (!owner) continue; // a simulator started with other users has no seeded vApps
      const org = directory.org(orgName);
      const vApp: SimVApp = {
        id: stableUuid(`vapp:${orgName}:${vAppName}`),
        name: vAppName,
        org,
        owner,
        vms: [],
      };
      for (const name of vmNames) {
        const vm = { id: stableUuid(`vm:${orgName}:${name}`), name, vAppId: vApp.id, org };
        this.vms.set(vm.id, vm);
        vApp.vms.push(vm.id);
      }
      this.vApps.set(vApp.id, vApp);
    }
  }

  /** A VM by name in an organization (tests and the demo name them). */
  vmNamed(org: string, name: string): SimVm | undefined {
    return [...this.vms.values()].find(
      (v) => v.name === name && v.org.name.toLowerCase() === org.toLowerCase(),
    );
  }

  /** A task on a VM, running from now (the operation's text as VCD writes it). */
  startTask(vm: SimVm, operationName: string, verb: string, user: SimUser): SimTask {
    const task: SimTask = {
      id: randomUUID(),
      operationName,
      operation: `${verb} Virtual Machine ${vm.name}(${vm.id})`,
      status: 'running',
      owner: { kind: 'vm', id: vm.id, name: vm.name },
      user,
      org: vm.org,
      startTime: vcdTimestamp(this.now()),
    };
    this.tasks.set(task.id, task);
    if (this.tasks.size > MAX_TASKS) this.tasks.delete(this.tasks.keys().next().value as string);
    return task;
  }

  /** Ends a running task (once). */
  finish(task: SimTask, status: TaskStatus, details?: string): void {
    if (TASK_DONE.has(task.status)) return;
    task.status = status;
    task.endTime = vcdTimestamp(this.now());
    task.details = details;
    if (status === 'success') task.onSuccess?.();
    this.onEnded(task);
  }

  /** Lets a task do its work: it succeeds after `ms`. */
  complete(task: SimTask, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.finish(task, 'success');
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---- XML, as the legacy API writes it ----

  ref(kind: 'vm' | 'vApp', id: string, site: string): { href: string; type: string } {
    return kind === 'vm'
      ? { href: `${site}/api/vApp/vm-${id}`, type: 'application/vnd.vmware.vcloud.vm+xml' }
      : { href: `${site}/api/vApp/vapp-${id}`, type: 'application/vnd.vmware.vcloud.vApp+xml' };
  }

  userRef(tag: string, user: SimUser, site: string): XmlElement {
    return el(tag, {
      type: 'application/vnd.vmware.admin.user+xml',
      name: user.name,
      href: `${site}/api/admin/user/${this.directory.userId(user)}`,
    });
  }

  orgRef(tag: string, org: SimOrg, site: string): XmlElement {
    return el(tag, {
      type: 'application/vnd.vmware.vcloud.org+xml',
      name: org.name,
      href: `${site}/api/org/${org.id}`,
    });
  }

  taskXml(task: SimTask, site: string, root = true): XmlElement {
    const owner = this.ref(task.owner.kind, task.owner.id, site);
    return el(
      'Task',
      {
        xmlns: root ? NS.vcloud : undefined,
        cancelRequested: false,
        endTime: task.endTime,
        operation: task.operation,
        operationName: task.operationName,
        serviceNamespace: 'com.vmware.vcloud',
        startTime: task.startTime,
        status: task.status,
        name: 'task',
        id: `urn:vcloud:task:${task.id}`,
        href: `${site}/api/task/${task.id}`,
        type: 'application/vnd.vmware.vcloud.task+xml',
      },
      el('Owner', { ...owner, name: task.owner.name }),
      task.status === 'error'
        ? el('Error', { minorErrorCode: 'BAD_REQUEST', message: task.details ?? '', majorErrorCode: 400 })
        : undefined,
      this.userRef('User', task.user, site),
      this.orgRef('Organization', task.org, site),
      task.details ? el('Details', {}, task.details) : undefined,
    );
  }

  private running(id: string, site: string): XmlElement | undefined {
    const tasks = [...this.tasks.values()].filter((t) => t.owner.id === id && !TASK_DONE.has(t.status));
    return tasks.length ? el('Tasks', {}, ...tasks.map((t) => this.taskXml(t, site, false))) : undefined;
  }

  vmXml(vm: SimVm, site: string, root = true): XmlElement {
    const { href, type } = this.ref('vm', vm.id, site);
    return el(
      'Vm',
      {
        xmlns: root ? NS.vcloud : undefined,
        needsCustomization: false,
        deployed: true,
        status: 4,
        name: vm.name,
        id: `urn:vcloud:vm:${vm.id}`,
        href,
        type,
      },
      el('Link', { rel: 'up', ...this.ref('vApp', vm.vAppId, site) }),
      el('Link', { rel: 'power:powerOff', href: `${href}/power/action/powerOff` }),
      el('Link', { rel: 'power:powerOn', href: `${href}/power/action/powerOn` }),
      el('Link', { rel: 'reconfigureVm', type, name: vm.name, href: `${href}/action/reconfigureVm` }),
      el('Description'),
      root ? this.running(vm.id, site) : undefined,
    );
  }

  vAppXml(vApp: SimVApp, site: string): XmlElement {
    const vms = vApp.vms.map((id) => this.vms.get(id)).filter((v): v is SimVm => v !== undefined);
    return el(
      'VApp',
      {
        xmlns: NS.vcloud,
        deployed: true,
        status: 4,
        name: vApp.name,
        id: `urn:vcloud:vapp:${vApp.id}`,
        ...this.ref('vApp', vApp.id, site),
      },
      el('Link', {
        rel: 'up',
        type: 'application/vnd.vmware.vcloud.vdc+xml',
        href: `${site}/api/vdc/${stableUuid(`vdc:${vApp.org.name}`)}`,
      }),
      el('Description'),
      this.running(vApp.id, site),
      el(
        'Owner',
        { type: 'application/vnd.vmware.vcloud.owner+xml' },
        this.userRef('User', vApp.owner, site),
      ),
      el('Children', {}, ...vms.map((vm) => this.vmXml(vm, site, false))),
    );
  }
}
