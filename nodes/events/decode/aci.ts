/**
 * Cisco APIC → InfraEvents: a WebSocket push (`subscriptionId` array, objects
 * with a `status` of created / modified / deleted) or a query / subscribe answer
 * (current objects, no status: decoded as snapshots). One event per object.
 */
import type { AciEventFacts, InfraEvent } from '../../common/infra-event';
import { DecodeCodes, decodeError } from './errors';

export interface AciDecodeContext {
  /** The APIC cluster URL, used as the event source. */
  source?: string;
}

/** One managed object as APIC writes it: {"fvBD": {"attributes": {...}, "children": [...]}}. */
export type AciMo = Record<string, { attributes?: Record<string, unknown>; children?: unknown[] }>;

/** Attributes that say where and when, not what changed. */
const BOOKKEEPING = new Set(['dn', 'status', 'modTs', 'rn', 'childAction']);

function strings(attrs: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attrs).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]),
  );
}

function summaryOf(className: string, dn: string, status: string, a: Record<string, string>): string {
  if (className === 'faultInst' || className === 'faultDelegate') {
    const state = status === 'deleted' ? 'deleted' : a.lc || status;
    return `${a.severity || 'fault'} ${a.code || ''} on ${dn.replace(/\/fault-[^/]+$/, '')}: ${a.descr || a.cause || state} (${state})`.replace(
      /\s+/g,
      ' ',
    );
  }
  if (className === 'eventRecord' && a.descr) return `event ${a.code || ''}: ${a.descr}`.replace(/\s+/g, ' ');
  if (className === 'aaaActiveUserSession') {
    return `user ${a.userName || a.name || dn} session ${status === 'deleted' ? 'ended' : 'started'}`;
  }
  const changed = status === 'modified' ? Object.keys(a).filter((k) => !BOOKKEEPING.has(k)) : [];
  return `${className} ${dn} ${status}${changed.length ? ` (${changed.join(', ')})` : ''}`;
}

/** One managed object → InfraEvent; `status` defaults to the object's own, or "snapshot". */
export function aciObjectEvent(mo: AciMo, ctx: AciDecodeContext = {}): InfraEvent {
  const entries = mo && typeof mo === 'object' ? Object.entries(mo) : [];
  const [className, body] = entries[0] ?? [];
  if (
    entries.length !== 1 ||
    !className ||
    !body ||
    typeof body !== 'object' ||
    typeof body.attributes !== 'object'
  ) {
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'An APIC object must be {"<class>": {"attributes": {...}}}',
      JSON.stringify(mo),
    );
  }
  const attributes = strings(body.attributes ?? {});
  const dn = attributes.dn;
  if (!dn)
    throw decodeError(DecodeCodes.WRONG_SHAPE, `The ${className} object has no dn`, JSON.stringify(mo));
  const status = attributes.status || 'snapshot';
  const modTs = attributes.modTs ?? '';
  const aci: AciEventFacts = { className, dn, status, attributes };
  return {
    // Deterministic: the same change (object, time, kind) always has the same id.
    id: `${status}:${dn}@${modTs}`,
    source: ctx.source ?? 'urn:cisco:aci',
    type: `com.cisco.aci.${className}.${status}`,
    time: modTs || new Date().toISOString(),
    subject: dn,
    summary: summaryOf(className, dn, status, attributes),
    origin: 'aci',
    aci,
    data: mo,
  };
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
    throw decodeError(
      DecodeCodes.WRONG_SHAPE,
      'An APIC document needs an "imdata" array',
      JSON.stringify(doc) ?? String(doc),
    );
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
