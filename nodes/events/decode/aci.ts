/**
 * The input format `aci`: Cisco APIC → InfraEvents. A WebSocket push
 * (`subscriptionId` array, objects with a `status` of created / modified /
 * deleted), a query / subscribe answer (current objects, no status: decoded as
 * snapshots), or an object as aci subscribe sends it. One event per object.
 */
import { hasStringFields, isRecord } from '../../common/guards';
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { receiptTime } from '../../common/times';
import { digestOf, objectTime } from './aci-object';
import { ACI_SAMPLES } from './aci-samples';
import { aciSummary } from './aci-summary';
import { DecodeCodes, decodeError } from './errors';
import { soleKey } from '../../common/objects';
import { decoder, sourceOf } from './types';

/** What an ACI event says of its object. */
export interface AciEventFacts {
  className: string;
  dn: string;
  status: string;
  attributes: Record<string, string>;
}

declare module '../../common/infra-event' {
  interface EventFacts {
    aci?: AciEventFacts;
  }
}

export interface AciDecodeContext {
  /** The APIC cluster URL, used as the event source. */
  source?: string;
  /** When the object arrived; the event time only when the object carries none. Default: now. */
  receivedAt?: string;
}

/** One managed object as APIC writes it: {"fvBD": {"attributes": {...}, "children": [...]}}. */
export type AciMo = Record<string, { attributes?: Record<string, unknown>; children?: unknown[] }>;

/** The attributes as text (APIC writes every value as a string; a hand-made object may not). */
function strings(attrs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in attrs) {
    if (!Object.hasOwn(attrs, k)) continue;
    const v = attrs[k];
    out[k] = typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
  }
  return out;
}

/**
 * The id of a change: `status:dn@time`, the time being the best the object
 * carries (for a fault its last transition, so raised → cleared → raised again
 * are three ids). A modification, or an object without any time, adds a short
 * digest of its attributes: two pushes for one object can share a time.
 */
function changeId(dn: string, status: string, time: string | undefined, a: Record<string, string>): string {
  const at = time ? `@${time}` : '';
  return status === 'modified' || !time ? `${status}:${dn}${at}#${digestOf(a)}` : `${status}:${dn}${at}`;
}

/** One managed object → InfraEvent; `status` defaults to the object's own, or "snapshot". */
export function aciObjectEvent(mo: AciMo, ctx: AciDecodeContext = {}): InfraEvent {
  const className = mo && typeof mo === 'object' ? soleKey(mo) : undefined;
  const body = className === undefined ? undefined : mo[className];
  if (!className || !body || typeof body !== 'object' || typeof body.attributes !== 'object') {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'An APIC object must be {"<class>": {"attributes": {...}}}',
      mo,
    );
  }
  return objectEvent(className, strings(body.attributes ?? {}), mo, ctx);
}

/** An object as aci subscribe holds it: a change, or the message of its Output "object". */
export interface AciHeldObject {
  className: string;
  dn: string;
  /** Of the change: it replaces the object's own. */
  status: string;
  attributes: Record<string, unknown>;
  children?: unknown[];
}

/**
 * The event of an object as aci subscribe holds it, with one copy of the
 * attributes made to text (the change's status in it, and its dn when the
 * attributes lack one): the same event aciObjectEvent gives for the object as
 * APIC writes it.
 */
export function aciChangeEvent(object: AciHeldObject, ctx: AciDecodeContext = {}): InfraEvent {
  const { className, children } = object;
  const text = strings(object.attributes);
  text.status = object.status;
  if (!('dn' in text)) text.dn = object.dn;
  const body = children ? { attributes: text, children } : { attributes: text };
  return objectEvent(className, text, { [className]: body }, ctx);
}

function objectEvent(
  className: string,
  attributes: Record<string, string>,
  mo: AciMo,
  ctx: AciDecodeContext,
): InfraEvent {
  const dn = attributes.dn;
  if (!dn) throw decodeError(DecodeCodes.WRONG_SHAPE, `The ${className} object has no dn`, mo);
  const status = attributes.status || 'snapshot';
  const time = objectTime(attributes);
  const aci: AciEventFacts = { className, dn, status, attributes };
  return timedAt(
    {
      // Deterministic: the same change (object, occurrence, kind, what changed) always has the same id.
      id: changeId(dn, status, time, attributes),
      // An APIC object does not name its cluster.
      source: sourceOf(undefined, ctx, 'urn:cisco:aci'),
      type: `com.cisco.aci.${className}.${status}`,
      // Never "never": the object's own time, else the time it arrived.
      time: time ?? ctx.receivedAt ?? receiptTime(),
      subject: dn,
      summary: aciSummary(className, dn, status, attributes),
      origin: 'aci',
      aci,
      data: mo,
    },
    time,
  );
}

export function isAciDocument(value: unknown): value is { imdata: unknown[] } {
  return !!value && typeof value === 'object' && Array.isArray((value as { imdata?: unknown }).imdata);
}

/**
 * A push or an answer → one event per object. An APIC error answer
 * (`{"imdata":[{"error":...}]}`) is refused with its text.
 */
export function aciEvents(doc: unknown, ctx: AciDecodeContext = {}): InfraEvent[] {
  if (!isAciDocument(doc)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'An APIC document needs an "imdata" array', doc);
  }
  const error = (doc.imdata[0] as { error?: { attributes?: { code?: string; text?: string } } } | undefined)
    ?.error;
  if (error) {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      `APIC answered an error ${error.attributes?.code ?? ''}: ${error.attributes?.text ?? ''}`.trim(),
    );
  }
  return doc.imdata.map((mo) => aciObjectEvent(mo as AciMo, ctx));
}

/** What aci-subscribe sends with Output "object": {className, dn, status, attributes, ...}. */
export function isAciObjectMessage(
  value: unknown,
): value is { className: string; dn: string; status: string; attributes: Record<string, unknown> } {
  return hasStringFields(value, 'className', 'dn', 'status') && isRecord(value.attributes);
}

/** An aci-subscribe object message → the same InfraEvent its Output "event" gives. */
export function aciObjectMessageEvent(value: unknown, ctx: AciDecodeContext = {}): InfraEvent {
  if (!isAciObjectMessage(value)) {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'An aci subscribe object needs className, dn, status and attributes',
      value,
    );
  }
  // As aci-subscribe builds it for Output "event", so both give the same data.
  return aciChangeEvent(value as AciHeldObject, ctx);
}

export const aciFormat = decoder({
  name: 'aci',
  description: 'ACI push or answer',
  detect: (value) => isAciDocument(value) || isAciObjectMessage(value),
  decode: (value, _input, ctx) => ({
    events: isAciObjectMessage(value) ? [aciObjectMessageEvent(value, ctx)] : aciEvents(value, ctx),
  }),
  samples: ACI_SAMPLES,
});
