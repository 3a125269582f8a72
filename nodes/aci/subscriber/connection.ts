/** One session + socket, and the subscriptions made on it: everything that ends when the connection does. */
import type WebSocket from 'ws';
import type { Backoff } from '../../common/backoff';
import type { CodedError } from '../../common/errors';
import type { ServerClock } from '../../common/server-clock';
import type { ApicSession } from '../session';
import type { Push } from './push';
import type { RecipientEntry } from './recipients';

/** A subscription on the APIC, and when to refresh it. */
export interface ApicSubscription {
  id: string;
  /** When to refresh it next. */
  due: number;
  /** When it was made or last refreshed: it lives a refresh timeout from then (or less: APICs expire early). */
  aliveSince: number;
  /** Between refreshes refused by throttling (503). */
  retry?: Backoff;
}

/** An entry that failed for a passing reason, and when to try it again. */
export interface EntryRetry {
  at: number;
  backoff: Backoff;
  failures: number;
}

export interface EndReason {
  error?: CodedError;
  /** Reconnect without waiting (the session reached its lifetime: nothing is wrong). */
  immediate?: boolean;
}

export class Connection {
  readonly subscriptions = new Map<RecipientEntry, ApicSubscription>();
  readonly byId = new Map<string, RecipientEntry>();
  readonly refused = new Set<RecipientEntry>();
  /** Entries waiting out a passing failure (5xx, an answer without subscriptionId). */
  readonly retry = new Map<RecipientEntry, EntryRetry>();
  /** No subscribing before this time: the APIC is throttling (503). */
  pausedUntil = 0;
  /** Pushes held while subscriptions are being (re)read, so answers and pushes stay in order. */
  held: Push[] | undefined;
  /** Per entry read (and sent or compared) in the current sync: DNs reported gone by the comparison. */
  readonly resynced = new Map<RecipientEntry, Set<string>>();
  readonly ended: Promise<EndReason>;
  done = false;
  private finish!: (reason: EndReason) => void;
  private wakeUp: (() => void) | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    readonly session: ApicSession,
    readonly ws: WebSocket,
  ) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  get host(): string {
    return this.session.host;
  }

  /** The APIC's clock as measured (log marks follow it). */
  get clock(): ServerClock {
    return this.session.clock;
  }

  /** Records a subscription the APIC made for an entry. */
  subscribed(e: RecipientEntry, subscription: ApicSubscription): void {
    this.subscriptions.set(e, subscription);
    this.byId.set(subscription.id, e);
  }

  /** Forgets an entry's subscription: it is no longer refreshed and lapses on the APIC. */
  drop(e: RecipientEntry): void {
    const subscription = this.subscriptions.get(e);
    if (!subscription) return;
    this.subscriptions.delete(e);
    this.byId.delete(subscription.id);
  }

  /** Runs `cleanup` when the connection ends (timers, listeners on longer-lived objects). */
  onEnd(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  end(reason: EndReason): void {
    if (this.done) return;
    this.done = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.wake();
    this.finish(reason);
  }

  /** Waits until woken (work to do) or `ms` passed. */
  idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}
