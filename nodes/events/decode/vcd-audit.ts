/**
 * The input format `vcd-audit`: VCD audit-trail records (`GET
 * /cloudapi/1.0.0/auditTrail`), one or a page, → the message-bus notification
 * they stand for, so the one VCD decoder reads both. The record's `eventId` is
 * a URN over the same UUID the message bus sends.
 */
import type { InfraEvent } from '../../common/infra-event';
import { readTime } from '../../common/times';
import { DecodeCodes, decodeError } from './errors';
import { type DecoderContext, decoder } from './types';
import { vcdNotificationEvent, vcdNotificationSample } from './vcd-notification';

export interface VcdAuditRecord {
  eventId: string;
  eventType: string;
  eventStatus?: string;
  timestamp: string;
  operatingOrg?: { name?: string; id?: string };
  user?: { name?: string; id?: string };
  eventEntity?: { name?: string; id?: string };
  description?: string;
  additionalProperties?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const bare = (urn: string | undefined) => urn?.slice(urn.lastIndexOf(':') + 1);

export function isVcdAuditRecord(value: unknown): value is VcdAuditRecord {
  const r = value as Json | null;
  return (
    !!r &&
    typeof r === 'object' &&
    typeof r.eventId === 'string' &&
    typeof r.eventType === 'string' &&
    typeof r.timestamp === 'string'
  );
}

/** A page of the audit-trail API: `{values: [records], page, pageCount, ...}`. */
export function isVcdAuditPage(value: unknown): value is { values: unknown[] } {
  const p = value as Json | null;
  return (
    !!p &&
    typeof p === 'object' &&
    Array.isArray(p.values) &&
    'pageCount' in p &&
    p.values.every(isVcdAuditRecord)
  );
}

/**
 * The notification fields (as the message bus sends them) of an audit record.
 * Its time is written in RFC 3339, as the bus writes it (the audit trail writes
 * `+0000`); one that cannot be read stays as it was, for the decoder to replace.
 */
export function notificationFromAudit(r: VcdAuditRecord): Json {
  const entity = r.eventEntity?.id;
  const taskName = r.additionalProperties?.taskName;
  return {
    eventId: bare(r.eventId),
    type: r.eventType,
    timestamp: readTime(r.timestamp) ?? r.timestamp,
    operationSuccess: r.eventStatus !== 'FAILURE',
    user: r.user?.id,
    userName: r.user?.name,
    org: r.operatingOrg?.id,
    orgName: r.operatingOrg?.name,
    entity,
    // urn:vcloud:vm:<uuid> → vm
    entityType: entity?.split(':')[2],
    entityName: r.eventEntity?.name,
    ...(typeof taskName === 'string' ? { taskName } : {}),
    ...(r.description ? { details: r.description } : {}),
  };
}

/** The message-bus topic the record's event was published on: publish/<org uuid>/<user uuid>. */
export function auditTopic(r: VcdAuditRecord): string {
  return `publish/${bare(r.operatingOrg?.id) ?? ''}/${bare(r.user?.id) ?? ''}`;
}

/** One record or a page of records → InfraEvents. */
export function vcdAuditEvents(value: unknown, ctx: DecoderContext = {}): InfraEvent[] {
  const records = isVcdAuditPage(value) ? (value.values as VcdAuditRecord[]) : [value];
  return records.map((r) => {
    if (!isVcdAuditRecord(r)) {
      throw decodeError(
        DecodeCodes.WRONG_SHAPE,
        'A VCD audit-trail record needs "eventId", "eventType" and "timestamp"',
        JSON.stringify(r) ?? String(r),
      );
    }
    return vcdNotificationEvent(notificationFromAudit(r), ctx);
  });
}

/** The audit-trail record of vcd-notification's sample: the same event. */
export const vcdAuditRecordSample = {
  eventId: `urn:vcloud:audit:${vcdNotificationSample.eventId}`,
  eventType: vcdNotificationSample.type,
  eventStatus: 'SUCCESS',
  timestamp: vcdNotificationSample.timestamp,
  operatingOrg: { name: 'acme', id: vcdNotificationSample.org },
  user: { name: 'acmeadmin', id: vcdNotificationSample.user },
  eventEntity: { name: 'web-01', id: vcdNotificationSample.entity },
  description: 'vm web-01 created',
  additionalProperties: { taskName: 'vdcComposeVapp' },
};

/** As a real VCD writes its audit trail's times (go-vcloud-director's sample): `+0000`. */
const asWritten = { ...vcdAuditRecordSample, timestamp: '2020-07-19T18:57:34.398+0000' };

export const vcdAuditFormat = decoder({
  name: 'vcd-audit',
  description: 'VCD audit record',
  detect: (value) => isVcdAuditRecord(value) || isVcdAuditPage(value),
  decode: (value, _input, ctx) => ({ events: vcdAuditEvents(value, ctx) }),
  samples: [
    { name: 'VCD audit record', input: { payload: asWritten } },
    {
      name: 'VCD audit page',
      input: { payload: { resultTotal: 1, pageCount: 1, page: 1, pageSize: 25, values: [asWritten] } },
    },
  ],
});
