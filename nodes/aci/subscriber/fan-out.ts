/**
 * Changes to recipients: each recipient gets an object's change once, however
 * many of its subscriptions matched, naming every one it came through.
 */
import { datedDeletion } from '../object-facts';
import type { Connection } from './connection';
import type { Push } from './push';
import type { Recipient, RecipientEntry, Recipients } from './recipients';
import { isNews, track } from './resync';
import type { AciChange, AciObject } from './types';
import { extended } from '../../common/objects';

function toChange(
  o: AciObject,
  reason: AciChange['reason'],
  from: RecipientEntry[],
  connection: Connection,
): AciChange {
  const subscriptionIds = from.map((e) => connection.subscriptions.get(e)?.id as string);
  return changeOf(
    o,
    reason,
    subscriptionIds,
    from.map((e) => e.entry.key),
    connection.host,
  );
}

/** The object as a recipient's change, made with one literal (no spread, no Object.assign: once per object). */
function changeOf(
  o: AciObject,
  reason: AciChange['reason'],
  subscriptionIds: string[],
  entries: string[],
  apic: string,
): AciChange {
  const change: AciChange = {
    className: o.className,
    dn: o.dn,
    status: o.status,
    attributes: o.attributes,
    reason,
    subscriptionIds,
    entries,
    apic,
  };
  if (o.children) change.children = o.children;
  return change;
}

/** A deletion of an object whose modTs is "never" carries no time: it gets the last known one. */
function withKnownTime(pushed: AciObject, entries: RecipientEntry[]): AciObject {
  if (pushed.status !== 'deleted') return pushed;
  const known = entries.map((e) => e.known?.get(pushed.dn)?.stamp).find(Boolean);
  return extended(pushed, { attributes: datedDeletion(pushed.attributes, known) });
}

/** The changes of one sync (snapshots, resync), gathered per recipient and handed over at its end. */
export class ChangeBatch {
  private readonly byRecipient = new Map<Recipient, Map<string, AciChange>>();

  /** Adds a change, once per recipient and object state, naming every subscription it came through. */
  add(connection: Connection, e: RecipientEntry, o: AciObject, reason: AciChange['reason']): void {
    const changes = this.byRecipient.get(e.recipient) ?? new Map<string, AciChange>();
    this.byRecipient.set(e.recipient, changes);
    const key = `${reason}|${o.dn}|${o.status}|${o.attributes.modTs ?? ''}`;
    const existing = changes.get(key);
    if (existing) {
      existing.subscriptionIds.push(connection.subscriptions.get(e)?.id as string);
      existing.entries.push(e.entry.key);
    } else {
      changes.set(key, toChange(o, reason, [e], connection));
    }
  }

  deliver(recipients: Recipients, onError: (err: unknown) => void): void {
    for (const [recipient, changes] of this.byRecipient)
      recipients.deliver(recipient, [...changes.values()], onError);
  }
}

/**
 * Sends a push to each recipient it names, once per object however many of
 * its subscriptions matched. A push held during a sync is dropped for an
 * entry when that entry's fresh read already said the same or newer.
 */
export function fanOut(
  connection: Connection,
  push: Push,
  held: boolean,
  recipients: Recipients,
  onError: (err: unknown) => void,
): void {
  const named = new Map<Recipient, RecipientEntry[]>();
  for (const id of push.ids) {
    const e = connection.byId.get(id);
    if (!e || !recipients.has(e)) continue;
    const list = named.get(e.recipient) ?? [];
    if (!list.includes(e)) list.push(e);
    named.set(e.recipient, list);
  }
  for (const [recipient, entries] of named) {
    // The same for every object of the push: made once, copied per change (a recipient may keep and change them).
    const subscriptionIds = entries.map((e) => connection.subscriptions.get(e)?.id as string);
    const keys = entries.map((e) => e.entry.key);
    const changes: AciChange[] = [];
    for (const pushed of push.objects) {
      const o = withKnownTime(pushed, entries);
      const fresh = !held || entries.some((e) => isNews(e.known, connection.resynced.get(e), o));
      for (const e of entries) {
        track(e.known, o);
        if (e.known) e.recipient.handlers.tracked?.(e.entry.key, o.dn, e.known.get(o.dn));
      }
      if (fresh) {
        changes.push(changeOf(o, 'push', subscriptionIds.slice(), keys.slice(), connection.host));
      }
    }
    recipients.deliver(recipient, changes, onError);
  }
}
