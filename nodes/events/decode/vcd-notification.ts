/**
 * The input format `vcd-notification`: a VCD event notification as JSON (what
 * a message-bus EVENT envelope carries, and the JSON form of the AMQP
 * notification) → InfraEvent. Field names follow VCD's JSON notification
 * format; names (`userName`, `orgName`) are used when present, URNs otherwise.
 */
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { readTime, receiptTime } from '../../common/times';
import { definedOnly } from '../../common/objects';
import { DecodeCodes, decodeError } from './errors';
import { type DecoderContext, decoder, sourceOf } from './types';
import { type VcdEventFacts, dottedType, vcdSummary } from './vcd-facts';

type Json = Record<string, unknown>;

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The site a notification names in a link, if it has one. */
function ownSite(n: Json): string | undefined {
  const link = str(n.link) ?? str((n.link as Json | undefined)?.href);
  if (!link) return undefined;
  try {
    return new URL(link).origin;
  } catch {
    return undefined; // not a URL
  }
}

/** A VCD notification object (eventId, type, timestamp, user, org, entity, ...) → InfraEvent. */
export function vcdNotificationEvent(value: unknown, ctx: DecoderContext = {}): InfraEvent {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A VCD notification must be a JSON object', value);
  }
  const n = value as Json;
  const rawType = str(n.type);
  const eventId = str(n.eventId);
  if (!rawType || !eventId) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'A VCD notification needs "eventId" and "type"', n);
  }
  const action = rawType.slice(rawType.lastIndexOf('/') + 1);
  // Task notifications may carry the names only inside their task object.
  const task = (n.task && typeof n.task === 'object' ? n.task : {}) as { org?: Json; user?: Json };
  const facts: VcdEventFacts = {
    org: str(n.orgName) ?? str(task.org?.name) ?? str(n.org),
    user: str(n.userName) ?? str(task.user?.name) ?? str(n.user),
    entity: str(n.entity),
    entityType: str(n.entityType),
    entityName: str(n.entityName),
    operationSuccess:
      typeof n.operationSuccess === 'boolean' ? n.operationSuccess : n.operationSuccess !== 'false',
    taskName: str(n.taskName),
  };
  const time = readTime(n.timestamp);
  return timedAt(
    {
      id: eventId,
      // Without a site of its own or a Source, the organization is the best name of the system.
      source: sourceOf(ownSite(n), ctx, str(n.org) ?? 'urn:vcloud'),
      type: dottedType(rawType),
      time: time ?? receiptTime(),
      subject: facts.entity,
      summary: vcdSummary(facts, action),
      origin: 'vcd',
      vcd: definedOnly(facts),
      data: n,
    },
    time,
  );
}

export function isVcdNotification(value: unknown): value is Json {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as Json).eventId === 'string' &&
    typeof (value as Json).type === 'string' &&
    ((value as Json).type as string).startsWith('com/vmware/')
  );
}

const ORG = 'urn:vcloud:org:89d59365-0154-5eda-afc9-feae479281b8';
const USER = 'urn:vcloud:user:ee040994-7d67-5f74-a591-d30ca9e18e31';
const VM = 'urn:vcloud:vm:2f1f3b5c-7f6a-4d3e-9a43-1d2c3b4a5f60';

/** A VM created, as VCD's message bus carries it (the fields of VCD's JSON notification format). */
export const vcdNotificationSample = {
  eventId: 'cecb8de7-b87c-4a8e-9b0e-1f6a2d7e5c11',
  type: 'com/vmware/vcloud/event/vm/create',
  timestamp: '2026-11-22T13:45:12.345678+01:00',
  operationSuccess: true,
  user: USER,
  userName: 'acmeadmin',
  org: ORG,
  orgName: 'acme',
  entity: VM,
  entityType: 'vm',
  entityName: 'web-01',
  taskName: 'vdcComposeVapp',
};

export const vcdNotificationFormat = decoder({
  name: 'vcd-notification',
  description: 'VCD notification',
  detect: isVcdNotification,
  decode: (value, _input, ctx) => ({ events: [vcdNotificationEvent(value, ctx)] }),
  samples: [{ name: 'VCD notification (JSON)', input: { payload: vcdNotificationSample } }],
});
