/**
 * A realistic stream of VCD activity: VMs and vApps created, powered on and
 * off, deleted, tasks and logins, as message-bus envelopes and as audit-trail
 * records.
 */
import { pick, randomUUID } from '../ids';
import { type AuditRecord, auditTimestamp } from './audit';
import type { Directory, SimOrg, SimUser } from './directory';

export interface InnerEvent {
  eventId: string;
  type: string;
  timestamp: string;
  operationSuccess: boolean;
  user: string;
  userName: string;
  org: string;
  orgName: string;
  entity: string;
  entityType: string;
  entityName: string;
  taskOwner?: string;
  task?: string;
  taskName?: string;
  details?: string;
}

export interface Envelope {
  type: string;
  headers: Record<string, string>;
  payload: string;
}

export interface EventOptions {
  /** Who acts, as `user@org` (default: a random tenant user). */
  actor?: string;
  /** EVENT or TASK (default: mostly EVENT). */
  envelopeType?: string;
  /** Fields to set in the inner event. */
  event?: Partial<InnerEvent>;
  /** A TASK envelope's task status (default: success or error, from operationSuccess). */
  taskStatus?: string;
}

export interface Published {
  topic: string;
  envelope: Envelope;
  event: InnerEvent;
}

interface Activity {
  action: string;
  entityType: 'vm' | 'vApp' | 'session';
  verb: string;
  task?: string;
}

const ACTIVITIES: Activity[] = [
  { action: 'vm/create', entityType: 'vm', verb: 'created', task: 'vdcComposeVapp' },
  { action: 'vm/deploy', entityType: 'vm', verb: 'powered on', task: 'vappDeploy' },
  { action: 'vm/undeploy', entityType: 'vm', verb: 'powered off', task: 'vappUndeployPowerOff' },
  { action: 'vm/modify', entityType: 'vm', verb: 'modified', task: 'vappUpdateVm' },
  { action: 'vm/delete', entityType: 'vm', verb: 'deleted', task: 'vdcDeleteVm' },
  { action: 'vapp/create', entityType: 'vApp', verb: 'created', task: 'vdcInstantiateVapp' },
  { action: 'vapp/delete', entityType: 'vApp', verb: 'deleted', task: 'vdcDeleteVapp' },
  { action: 'session/login', entityType: 'session', verb: 'logged in' },
];

const VM_NAMES = ['web-01', 'web-02', 'app-01', 'db-01', 'cache-01', 'build-07', 'jump-01', 'mail-01'];
const VAPP_NAMES = ['web-tier', 'erp-prod', 'ci-runners', 'k8s-workers', 'lab-é-ü'];

/**
 * RFC 3339 with milliseconds and a numeric offset, as VCD's notifications
 * write `timestamp` (the audit trail writes `+0000` instead: see audit.ts).
 */
export function vcdTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

export class EventFactory {
  constructor(
    private readonly directory: Directory,
    private readonly random: () => number,
    /** VCD's clock (ms): it may run apart from ours. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** `user@org` → that user (tests choose who acts, and so the topic). */
  private actor(name: string): SimUser {
    const at = name.lastIndexOf('@');
    const user = this.directory.findUser(name.slice(0, at), name.slice(at + 1));
    if (!user) throw new Error(`no simulated user ${name}`);
    return user;
  }

  /** Users that act in tenant orgs (everyone but the provider). */
  private actors(): SimUser[] {
    return this.directory.users.filter((u) => u.org.toLowerCase() !== 'system' && u.password !== '');
  }

  next(options: EventOptions = {}): Published {
    const user = options.actor ? this.actor(options.actor) : pick(this.actors(), this.random);
    const org = this.directory.org(user.org);
    const activity = pick(ACTIVITIES, this.random);
    const success = this.random() > 0.08;
    const entityName =
      activity.entityType === 'vm'
        ? pick(VM_NAMES, this.random)
        : activity.entityType === 'vApp'
          ? pick(VAPP_NAMES, this.random)
          : user.name;
    const entityId =
      activity.entityType === 'session'
        ? `urn:vcloud:session:${randomUUID()}`
        : `urn:vcloud:${activity.entityType.toLowerCase()}:${randomUUID()}`;
    const event: InnerEvent = {
      eventId: randomUUID(),
      type: `com/vmware/vcloud/event/${activity.action}`,
      timestamp: vcdTimestamp(this.clock()),
      operationSuccess: success,
      user: `urn:vcloud:user:${this.directory.userId(user)}`,
      userName: user.name,
      org: `urn:vcloud:org:${org.id}`,
      orgName: org.name,
      entity: entityId,
      entityType: activity.entityType.toLowerCase(),
      entityName,
      ...(activity.task ? { taskName: activity.task, task: `urn:vcloud:task:${randomUUID()}` } : {}),
      ...(success ? {} : { details: 'The operation failed: insufficient resources in the VDC.' }),
      ...options.event,
    };
    const envelopeType = options.envelopeType ?? (activity.task && this.random() < 0.25 ? 'TASK' : 'EVENT');
    const payload = envelopeType === 'TASK' ? taskPayload(event, org, user, options.taskStatus) : event;
    return {
      topic: `publish/${org.id}/${this.directory.userId(user)}`,
      envelope: {
        type: envelopeType,
        headers: { contentType: 'application/json', eventType: event.type },
        payload: JSON.stringify(payload),
      },
      event,
    };
  }
}

function taskPayload(e: InnerEvent, org: SimOrg, user: SimUser, status?: string): Record<string, unknown> {
  return {
    eventId: e.eventId,
    type: e.type,
    timestamp: e.timestamp,
    operationSuccess: e.operationSuccess,
    task: {
      id: e.task,
      name: 'task',
      operationName: e.taskName,
      operation: `${e.entityType} ${e.entityName} ${e.operationSuccess ? 'succeeded' : 'failed'}`,
      status: status ?? (e.operationSuccess ? 'success' : 'error'),
      startDate: e.timestamp,
      endDate: e.timestamp,
      owner: { name: e.entityName, id: e.entity },
      org: { name: org.name, id: e.org },
      user: { name: user.name, id: e.user },
    },
    user: e.user,
    org: e.org,
    entity: e.entity,
    entityType: e.entityType,
    entityName: e.entityName,
    taskName: e.taskName,
  };
}

/** The audit record VCD writes for an event: the same time, written as the audit trail writes times. */
export function auditRecord(e: InnerEvent, verb = 'changed'): AuditRecord {
  const at = Date.parse(e.timestamp);
  return {
    eventId: `urn:vcloud:audit:${e.eventId}`,
    eventType: e.type,
    eventStatus: e.operationSuccess ? 'SUCCESS' : 'FAILURE',
    // A time a test made unreadable stays so.
    timestamp: Number.isFinite(at) ? auditTimestamp(at) : e.timestamp,
    operatingOrg: { name: e.orgName, id: e.org },
    user: { name: e.userName, id: e.user },
    eventEntity: { name: e.entityName, id: e.entity },
    description: `${e.entityType} ${e.entityName} ${verb}`,
    additionalProperties: e.taskName ? { taskName: e.taskName } : {},
  };
}

export function activityVerb(type: string): string {
  return ACTIVITIES.find((a) => type.endsWith(a.action))?.verb ?? 'changed';
}
