/**
 * Who receives changes: recipients (the users of one subscriber, one per node)
 * and each one's entries, with what is known of their objects.
 */
import type { CodedError } from '../../common/errors';
import type { WatchEntry } from '../entries';
import { isLogEntry } from './log-window';
import type { KnownStates } from './resync';
import type { AciChange, WatchHandlers, WatchOptions } from './types';

export interface Recipient {
  key: string;
  handlers: WatchHandlers;
  options: WatchOptions;
  /** Entry key → entry. */
  entries: Map<string, RecipientEntry>;
}

/** One entry of one recipient: subscribed on the APIC once per connection. */
export interface RecipientEntry {
  recipient: Recipient;
  entry: WatchEntry;
  /** The last known state of its objects, after the first full read (a log: its window, log-window.ts). */
  known?: KnownStates;
  /** A log (records): read from a time, known by a window. */
  log: boolean;
  /** Input messages waiting for this entry to be subscribed (or refused). */
  waiters: ((error?: CodedError) => void)[];
}

export function newRecipientEntry(recipient: Recipient, entry: WatchEntry): RecipientEntry {
  return { recipient, entry, waiters: [], log: isLogEntry(entry) };
}

/** Answers the input messages waiting for an entry: subscribed (no error) or not. */
export function settleWaiters(e: RecipientEntry, error?: CodedError): void {
  for (const resolve of e.waiters.splice(0)) resolve(error);
}

export class Recipients {
  private readonly byKey = new Map<string, Recipient>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Recipient | undefined {
    return this.byKey.get(key);
  }

  add(key: string, entries: WatchEntry[], handlers: WatchHandlers, options: WatchOptions): Recipient {
    const recipient: Recipient = { key, handlers, options, entries: new Map() };
    for (const entry of entries) {
      const e = newRecipientEntry(recipient, entry);
      e.known = options.restore?.(entry.key);
      recipient.entries.set(entry.key, e);
    }
    this.byKey.set(key, recipient);
    return recipient;
  }

  delete(key: string): Recipient | undefined {
    const recipient = this.byKey.get(key);
    this.byKey.delete(key);
    return recipient;
  }

  all(): Recipient[] {
    return [...this.byKey.values()];
  }

  allEntries(): RecipientEntry[] {
    return this.all().flatMap((r) => [...r.entries.values()]);
  }

  /** Is this entry still one of its recipient's (not removed, nor its recipient replaced)? */
  has(e: RecipientEntry): boolean {
    return this.byKey.get(e.recipient.key)?.entries.get(e.entry.key) === e;
  }

  /** Hands changes to a recipient that is still here; a handler's exception goes to `onError`. */
  deliver(recipient: Recipient, changes: AciChange[], onError: (err: unknown) => void): void {
    if (changes.length === 0 || this.byKey.get(recipient.key) !== recipient) return;
    try {
      recipient.handlers.changes(changes);
    } catch (err) {
      onError(err);
    }
  }
}
