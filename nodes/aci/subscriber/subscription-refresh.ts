/**
 * When and how each APIC subscription is refreshed: subscriptionRefresh, one
 * id per call (the session's own aaaRefresh is ApicSession's). Every timing
 * rule lives here: the refresh timeout per APIC version, the share of it after
 * which a subscription is refreshed, the spread of a batch's first refreshes,
 * and how long a throttled refresh may be retried before subscribing anew.
 */
import { type Backoff } from '../../common/backoff';
import { toCoded } from '../../common/errors';
import { ApicCodes, versionAtLeast, type ApicSession } from '../session';
import type { ApicSubscription, Connection } from './connection';
import { connectionError, endsConnection } from './failures';
import type { RecipientEntry } from './recipients';

/** APICs before 3.2(3) ignore refresh-timeout and expire subscriptions after about 60 s. */
const LEGACY_TIMEOUT_SEC = 60;
/** Refresh when this share of the refresh timeout has passed: APICs may expire them early. */
const REFRESH_SHARE = 0.5;
/** A throttled refresh is retried until this share of the refresh timeout; then the subscription is made anew. */
const REFRESH_GIVE_UP = 0.75;

/** Where a subscription stands among those made together: the `index`-th of `count`, from `start`. */
export interface BatchSlot {
  start: number;
  index: number;
  count: number;
}

/** A subscription's refresh-timeout: the one asked for, or APIC's fixed one on versions that ignore it (seconds). */
export function subscriptionTimeoutSec(e: RecipientEntry, session: ApicSession): number {
  return versionAtLeast(session.info.version, [3, 2, 3])
    ? e.recipient.options.refreshTimeoutSec
    : LEGACY_TIMEOUT_SEC;
}

/**
 * The first refresh of the `index`-th of `count` subscriptions made together:
 * evenly over (start, start + interval], so their refreshes never come in a
 * burst (each next one follows a whole interval later).
 */
export function spreadDue(start: number, intervalMs: number, index: number, count: number): number {
  return start + (intervalMs * (index + 1)) / Math.max(1, count);
}

/** A subscription just made, its first refresh spread over its batch. */
export function newSubscription(id: string, timeoutSec: number, slot: BatchSlot): ApicSubscription {
  const interval = timeoutSec * 1000 * REFRESH_SHARE;
  return { id, due: spreadDue(slot.start, interval, slot.index, slot.count), aliveSince: Date.now() };
}

/** The soonest subscription to refresh, or undefined when none is due yet. */
function nextDue(connection: Connection): [RecipientEntry, ApicSubscription] | undefined {
  let next: [RecipientEntry, ApicSubscription] | undefined;
  for (const pair of connection.subscriptions) if (!next || pair[1].due < next[1].due) next = pair;
  return next && next[1].due <= Date.now() ? next : undefined;
}

/** When the next refresh falls due (Infinity without subscriptions). */
export function nextRefreshAt(connection: Connection): number {
  let at = Infinity;
  for (const subscription of connection.subscriptions.values()) at = Math.min(at, subscription.due);
  return at;
}

export interface RefreshContext {
  /** A fresh backoff for retries of something passing. */
  passingBackoff(): Backoff;
  emit(event: 'subscription-refreshed' | 'resubscribing' | 'debug', text: string): void;
}

/**
 * Refreshes every subscription that is due, soonest first. Called between
 * the requests of a long read too, so no subscription lapses behind it.
 */
export async function refreshDue(connection: Connection, context: RefreshContext): Promise<void> {
  while (!connection.done) {
    const next = nextDue(connection);
    if (!next) return;
    await refreshSubscription(connection, next[0], next[1], context);
  }
}

/**
 * subscriptionRefresh for one id. Throttled (503), it is tried again with
 * backoff while the subscription surely lives; any other failure, or the
 * deadline drawing near, resubscribes that one (with a comparison).
 */
async function refreshSubscription(
  connection: Connection,
  e: RecipientEntry,
  subscription: ApicSubscription,
  context: RefreshContext,
): Promise<void> {
  const { session, host } = connection;
  const url = new URL('/api/subscriptionRefresh.json', host);
  url.searchParams.set('id', subscription.id);
  const timeoutMs = subscriptionTimeoutSec(e, session) * 1000;
  try {
    await session.get(url);
    subscription.aliveSince = Date.now();
    subscription.due = subscription.aliveSince + timeoutMs * REFRESH_SHARE;
    subscription.retry = undefined;
    context.emit('subscription-refreshed', subscription.id);
  } catch (err) {
    const error = toCoded(err, host);
    if (endsConnection(error)) throw connectionError(error, host);
    if (error.code === ApicCodes.THROTTLED) {
      const wait = (subscription.retry ??= context.passingBackoff()).next();
      // Past three quarters of the timeout an early-expiring APIC may have dropped it already.
      if (Date.now() + wait < subscription.aliveSince + timeoutMs * REFRESH_GIVE_UP) {
        subscription.due = Date.now() + wait;
        context.emit('debug', `refresh of ${e.entry.key} throttled; trying again in ${wait} ms`);
        return;
      }
    }
    connection.drop(e);
    context.emit('resubscribing', e.entry.key);
    context.emit('debug', `refresh of ${e.entry.key} failed (${error.message}); subscribing again`);
  }
}
