/** A message on the APIC socket → the subscriptions it names and the objects it carries. */
import { CodedError } from '../../common/errors';
import { excerpt } from '../../common/http';
import { soleKey } from '../../common/objects';
import type { ApicMo } from '../session';
import { SubscriptionCodes, type AciObject } from './types';

export interface Push {
  ids: string[];
  objects: AciObject[];
}

/** {"fvBD": {"attributes": {...}}} → AciObject; undefined when it is not an object with a dn. */
export function toAciObject(mo: unknown): AciObject | undefined {
  if (!mo || typeof mo !== 'object') return undefined;
  const className = soleKey(mo);
  if (className === undefined) return undefined;
  const body = (mo as ApicMo)[className];
  const attributes = body?.attributes;
  if (!attributes || typeof attributes !== 'object' || typeof attributes.dn !== 'string') return undefined;
  const object: AciObject = {
    className,
    dn: attributes.dn,
    status: String(attributes.status ?? ''),
    attributes,
  };
  if (Array.isArray(body.children)) object.children = body.children;
  return object;
}

/** Reads a push: `subscriptionId` is an array in pushes (a string is accepted too). */
export function parsePush(text: string): Push {
  let body: { subscriptionId?: unknown; imdata?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push from the APIC is not JSON: ${excerpt(text, 80)}`,
    );
  }
  const raw = body?.subscriptionId;
  const ids = (Array.isArray(raw) ? raw : [raw]).filter(
    (id) => typeof id === 'string' || typeof id === 'number',
  );
  if (ids.length === 0 || !Array.isArray(body.imdata)) {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push from the APIC has no subscriptionId or imdata: ${excerpt(text, 80)}`,
    );
  }
  const objects = body.imdata.map(toAciObject);
  if (objects.some((o) => !o)) {
    throw new CodedError(
      SubscriptionCodes.BAD_PUSH,
      `A push holds an object without a dn: ${excerpt(text, 80)}`,
    );
  }
  return { ids: ids.map(String), objects: objects as AciObject[] };
}
