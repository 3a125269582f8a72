/** A managed object and a change of one, as the simulated APIC keeps and pushes them. */

export interface Mo {
  className: string;
  dn: string;
  attributes: Record<string, string>;
}

export type ChangeStatus = 'created' | 'modified' | 'deleted';

export interface Change {
  className: string;
  dn: string;
  status: ChangeStatus;
  /** What a push carries: everything when created, changed properties when modified, dn only when deleted. */
  attributes: Record<string, string>;
  /** The whole object after the change (before it, for a deletion): what filters look at. */
  full: Record<string, string>;
}

/** Splits a DN into RNs; brackets may hold slashes (rsdomAtt-[uni/vmmp-VMware/dom-dvs]). */
export function splitDn(dn: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of dn) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === '/' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

export function parentDn(dn: string): string {
  return splitDn(dn).slice(0, -1).join('/');
}

/** RFC 3339 with milliseconds and an offset, the way APIC writes modTs. */
export function apicTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}
