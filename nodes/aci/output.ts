/**
 * What aci-subscribe sends for one managed object: the object as APIC wrote it
 * (`object`), or the InfraEvent of the event-decode node (`event`, the same
 * decoder: one decoding path).
 */
import type { NodeMessage } from '../common/red';
import { aciChangeEvent } from '../events/decode/aci';
import type { AciChange } from './subscriber';

export type AciOutput = 'object' | 'event';

export const OUTPUTS: readonly AciOutput[] = ['object', 'event'];

export interface AciObjectPayload {
  className: string;
  dn: string;
  /** created | modified | deleted, or snapshot for the current state at start. */
  status: string;
  /**
   * As APIC sent them: everything when created, the changed properties (plus dn, modTs) when modified; a
   * deletion that carries no time (modTs "never") gets the last known times (see object-facts).
   */
  attributes: Record<string, string>;
  children?: unknown[];
  /** push, snapshot, or resync (a difference found after a reconnect). */
  reason: AciChange['reason'];
  /** This node's subscriptions the object came through. */
  subscriptionIds: string[];
  /** Their entries, as written in the node. */
  entries: string[];
  /** The APIC that sent it. */
  apic: string;
}

/** `source`: the cluster's URL, the same whichever APIC answered (ids stay stable across a failover). */
export function toMessage(change: AciChange, output: AciOutput, source: string): NodeMessage {
  const via = {
    reason: change.reason,
    subscriptionIds: change.subscriptionIds,
    entries: change.entries,
    apic: change.apic,
  };
  if (output === 'event') {
    const event = aciChangeEvent(change, { source });
    return { topic: event.type, payload: event, aci: via };
  }
  const payload: AciObjectPayload = {
    className: change.className,
    dn: change.dn,
    status: change.status,
    attributes: change.attributes,
    ...(change.children ? { children: change.children } : {}),
    ...via,
  };
  return { topic: change.className, payload };
}
