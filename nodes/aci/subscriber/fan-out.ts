/**
 * Changes to recipients: each recipient gets an object's change once, however
 * many of its subscriptions matched, naming every one it came through.
 */
import { datedDeletion } from '../object-facts';
import type { Connection } from './connection';
import type { Push } from './push';
import type { Recipient, RecipientEntry, Recipients } from './recipients';
import { trackLog } from './log-window';
import { isNews, track, type Tracked } from './resync';
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

/**
 * The changes of one sync (snapshots, resync), gathered per recipient and
 * handed over page by page. A recipient with several entries in the sync may
 * be told of one object by each: it hears of it once, from the first (what
 * was handed over is remembered for it, and only for it, until the sync ends).
 */
export class ChangeBatch {
  private byRecipient = new Map<Recipient, Map<string, AciChange>>();
  private readonly handedOver = new Map<Recipient, Set<string>>();

  /** `shared`: recipients with more than one entry in this sync. */
  constructor(shared: Iterable<Recipient> = []) {
    for (const recipient of shared) this.handedOver.set(recipient, new Set());
  }

  /** Adds a change, once per recipient and object state, naming every subscription it came through. */
  add(connection: Connection, e: RecipientEntry, o: AciObject, reason: AciChange['reason']): void {
    const key = `${reason}|${o.dn}|${o.status}|${o.attributes.modTs ?? ''}`;
    if (this.handedOver.get(e.recipient)?.has(key)) return;
    const changes = this.byRecipient.get(e.recipient) ?? new Map<string, AciChange>();
    this.byRecipient.set(e.recipient, changes);
    const existing = changes.get(key);
    if (existing) {
      existing.subscriptionIds.push(connection.subscriptions.get(e)?.id as string);
      existing.entries.push(e.entry.key);
    } else {
      changes.set(key, toChange(o, reason, [e], connection));
    }
  }

  /** Hands over what was gathered since the last time. */
  deliver(recipients: Recipients, onError: (err: unknown) => void): void {
    const gathered = this.byRecipient;
    this.byRecipient = new Map();
    for (const [recipient, changes] of gathered) {
      const handed = this.handedOver.get(recipient);
      if (handed) for (const key of changes.keys()) handed.add(key);
      recipients.deliver(recipient, [...changes.values()], onError);
    }
  }
}

/** Keeps what an entry knows current with a push (a log: its window); what changed in it. */
function trackPush(e: RecipientEntry, o: AciObject, clockNow: () => number): Tracked {
  return e.log ? trackLog(e.known, o, clockNow()) : track(e.known, o);
}

/**
 * Sends a push to each recipient it names, once per object however many of
 * its subscriptions matched. A push held during a sync is dropped for an
 * entry when that entry's fresh read already said the same or newer (and not
 * kept as its state either).
 */
export function fanOut(
  connection: Connection,
  push: Push,
  held: boolean,
  recipients: Recipients,
  onError: (err: unknown) => void,
): void {
  const clockNow = () => connection.clock.now() ?? Date.now();
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
      // Kept only where it is news: an older push held during a read must not roll back what the read found.
      const newsTo = held ? entries.filter((e) => isNews(e.known, connection.resynced.get(e), o)) : entries;
      for (const e of newsTo) {
        const tracked = e.recipient.handlers.tracked;
        for (const [dn, state] of trackPush(e, o, clockNow)) tracked?.(e.entry.key, dn, state, false);
      }
      if (newsTo.length > 0) {
        changes.push(changeOf(o, 'push', subscriptionIds.slice(), keys.slice(), connection.host));
      }
    }
    recipients.deliver(recipient, changes, onError);
  }
}
