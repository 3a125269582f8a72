/**
 * What an alert gate calls one storm, and what kind of change an event is.
 * Pure functions of the event: both nodes of an HA pair, seeing the same
 * events, make the same keys.
 */
import type { InfraEvent } from '../common/infra-event';
import { parentOf } from '../events/decode/aci-summary';

/** How events are grouped into storms. */
export type StormBy = 'subject' | 'type' | 'property';

const FAULT_CLASSES = new Set(['faultInst', 'faultDelegate', 'faultRecord']);

/**
 * An ACI fault's object and code. A faultInst hangs under the object it is
 * about (`<object>/fault-F1527`), and its modifications carry only what
 * changed, so both come from the dn; a fault record is a new object at each
 * transition and names the object in `affected`; a delegate keeps its own dn.
 */
function faultKey(className: string, dn: string, a: Record<string, string>): string {
  const code = a.code || /fault-([A-Za-z0-9]+)$/.exec(dn)?.[1] || '';
  if (className === 'faultInst') return `${parentOf(dn)}\n${code}`;
  if (className === 'faultRecord' && a.affected) return `${a.affected}\n${code}`;
  return `${dn}\n${code}`;
}

/**
 * The storm an event belongs to. By subject (the default): its source and
 * subject, and for an ACI fault the affected object and the fault code (a
 * fault that flaps is one storm, whichever records and transitions it makes).
 * By type: source, type and subject. By property: the text a message property
 * holds (undefined when it holds nothing usable).
 */
export function stormKeyOf(event: InfraEvent, by: StormBy, property?: unknown): string | undefined {
  if (by === 'property') {
    if (typeof property === 'string') return property ? `p\n${property}` : undefined;
    return typeof property === 'number' || typeof property === 'boolean'
      ? `p\n${String(property)}`
      : undefined;
  }
  const aci = event.aci;
  const what =
    by === 'type'
      ? `${event.type}\n${event.subject ?? ''}`
      : aci && FAULT_CLASSES.has(aci.className)
        ? faultKey(aci.className, aci.dn, aci.attributes ?? {})
        : (event.subject ?? event.type);
  return `${by}\n${event.source}\n${what}`;
}

/** Distinct kinds counted per storm at most; others count as "other". */
export const MAX_KINDS = 8;
const MAX_KIND_LENGTH = 40;

/** A fault is cleared when APIC says so: severity cleared, retained, clearing, or gone. */
function faultCleared(status: string, a: Record<string, string>): boolean {
  const lc = a.lc ?? '';
  return status === 'deleted' || a.severity === 'cleared' || lc === 'retaining' || lc.endsWith('-clearing');
}

/**
 * What kind of change an event is, as a summary counts it: an ACI fault is
 * "raised" or "cleared"; anything else is named by the last part of its type
 * ("modified", "deleted", "deploy").
 */
export function kindOf(event: InfraEvent): string {
  const aci = event.aci;
  if (aci && FAULT_CLASSES.has(aci.className)) {
    return faultCleared(aci.status, aci.attributes ?? {}) ? 'cleared' : 'raised';
  }
  const type = String(event.type);
  const last = type.slice(type.lastIndexOf('.') + 1) || type;
  return last.slice(0, MAX_KIND_LENGTH);
}

export const CLEARED = 'cleared';

/** APIC's severities, least first. */
const SEVERITIES = ['cleared', 'info', 'warning', 'minor', 'major', 'critical'];

/** How severe an ACI fault or event record says it is (-1: it says nothing). */
export function severityOf(event: InfraEvent): number {
  const severity = event.aci?.attributes?.severity;
  return severity === undefined ? -1 : SEVERITIES.indexOf(severity);
}
