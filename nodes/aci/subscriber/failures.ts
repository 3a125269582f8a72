/**
 * The failure policy: which failures end the connection (a new login and
 * socket), which refuse one entry (asking again cannot help), which pass (the
 * entry is retried with backoff and reported once a streak is long), and which
 * need a person (a refused login).
 */
import { Backoff, type BackoffOptions } from '../../common/backoff';
import { CodedError } from '../../common/errors';
import { ApicCodes, isNetworkFailure } from '../session';
import type { Connection } from './connection';
import { settleWaiters, type RecipientEntry } from './recipients';
import { SubscriptionCodes } from './types';

/** Consecutive passing failures of one entry before they are reported (a one-off blip only goes to debug). */
const REPORT_AFTER = 3;

/** Between retries of something passing (a lost connection, a 5xx, throttling): 1 s growing to 1 min. */
export function passingBackoff(options?: BackoffOptions): Backoff {
  return new Backoff({ initialMs: 1000, maxMs: 60_000, ...options });
}

/** A refused login or unusable settings: a person must act, and trying often only risks the APIC's lockout. */
export function needsPerson(err: CodedError | undefined): boolean {
  return err?.code === ApicCodes.AUTH_FAILED || err?.code === ApicCodes.CONFIG_INVALID;
}

/**
 * 405 "Unable to locate opened web socket": the APIC no longer ties our socket
 * to the session, so nothing would be pushed on it.
 */
function isSocketLost(err: CodedError): boolean {
  return err.details?.status === 405;
}

/** Failures that end the session or the connection (not just one subscription). */
export function endsConnection(err: CodedError): boolean {
  return (
    err.code === ApicCodes.SESSION_EXPIRED ||
    err.code === ApicCodes.CLOSED ||
    err.code === SubscriptionCodes.CONNECTION_LOST ||
    isNetworkFailure(err) ||
    isSocketLost(err)
  );
}

/** The error a connection ends with: a lost socket says so, and what happens next. */
export function connectionError(err: CodedError, host: string): CodedError {
  if (!isSocketLost(err) || err.code === SubscriptionCodes.CONNECTION_LOST) return err;
  return new CodedError(
    SubscriptionCodes.CONNECTION_LOST,
    `${host} no longer knows this session's socket (${err.message}); logging in again and resubscribing. ` +
      'If this repeats, a load balancer may send the socket and the requests to different APICs.',
    { status: 405, host },
  );
}

/**
 * The APIC says the request itself is wrong (an unknown class, a bad filter:
 * 400-type answers): asking again cannot help. Everything else that does not
 * end the connection (5xx, odd answers) may pass, and is retried.
 */
export function isRefusal(err: CodedError): boolean {
  const status = err.details?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** A passing failure (5xx, no subscriptionId): try that entry again later, with backoff. */
export function postpone(
  connection: Connection,
  e: RecipientEntry,
  cause: CodedError,
  context: { passingBackoff(): Backoff; emit(event: 'debug', text: string): void },
): void {
  const retry = connection.retry.get(e) ?? { at: 0, backoff: context.passingBackoff(), failures: 0 };
  connection.retry.set(e, retry);
  retry.failures++;
  const wait = retry.backoff.next();
  retry.at = Date.now() + wait;
  context.emit('debug', `subscribing ${e.entry.key} failed (${cause.message}); trying again in ${wait} ms`);
  if (retry.failures !== REPORT_AFTER) return;
  const error = new CodedError(
    SubscriptionCodes.SUBSCRIBE_FAILED,
    `Subscribing ${e.entry.key} failed ${retry.failures} times in a row (${cause.message}); still trying.`,
    { entry: e.entry.key, status: cause.details?.status },
  );
  // The input message that asked for it gets the answer; the entry stays and is retried.
  if (e.waiters.length > 0) settleWaiters(e, error);
  else e.recipient.handlers.failing?.(error, e.entry);
}

/** The APIC refused an entry: it is not subscribed again on this connection. */
export function refuse(connection: Connection, e: RecipientEntry, cause: CodedError): void {
  connection.refused.add(e);
  const error = new CodedError(
    SubscriptionCodes.SUBSCRIBE_REFUSED,
    `The APIC refused the subscription to ${e.entry.key}: ${cause.message}`,
    { entry: e.entry.key, status: cause.details?.status },
  );
  if (e.waiters.length > 0) {
    // Asked for by an input message: that message fails; an entry it added (never read) is not kept.
    if (!e.known) e.recipient.entries.delete(e.entry.key);
    settleWaiters(e, error);
  } else {
    e.recipient.handlers.refused?.(error, e.entry);
  }
}
