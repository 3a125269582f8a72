/** What the APIC subscriber takes and gives: the changes a recipient receives, its handlers and options. */
import type { BackoffOptions } from '../../common/backoff';
import type { CodedError } from '../../common/errors';
import type { WatchEntry } from '../entries';
import type { ApicCluster, ApicMo } from '../session';
import type { Stamp } from '../object-facts';

export const SubscriptionCodes = {
  SOCKET_FAILED: 'APIC_SOCKET_FAILED',
  CONNECTION_LOST: 'APIC_CONNECTION_LOST',
  SUBSCRIBE_REFUSED: 'APIC_SUBSCRIBE_REFUSED',
  SUBSCRIBE_FAILED: 'APIC_SUBSCRIBE_FAILED',
  BAD_PUSH: 'APIC_BAD_PUSH',
} as const;

/** One managed object out of a push or a query answer. */
export interface AciObject {
  className: string;
  dn: string;
  /** created | modified | deleted in pushes; '' in query answers. */
  status: string;
  attributes: Record<string, string>;
  children?: ApicMo[];
}

/**
 * What a recipient receives. `reason`: `push` (APIC pushed it), `snapshot` (the
 * current state at start, when asked for), `resync` (found by comparing after
 * a gap: changed, created or gone while the connection was down).
 */
export interface AciChange extends AciObject {
  reason: 'push' | 'snapshot' | 'resync';
  /** This recipient's subscriptions it came through (once, however many matched). */
  subscriptionIds: string[];
  /** The entries (canonical text) of those subscriptions. */
  entries: string[];
  /** The APIC that sent it. */
  apic: string;
}

export interface WatchHandlers {
  changes(changes: AciChange[]): void;
  /** APIC refused an entry (e.g. an unknown class). */
  refused?(error: CodedError, entry: WatchEntry): void;
  /** An entry keeps failing for a passing reason (5xx, no subscriptionId); it is still retried. Once per streak. */
  failing?(error: CodedError, entry: WatchEntry): void;
  /** A push that could not be read; the raw text comes along. */
  invalid?(error: CodedError, raw: string): void;
  /** A paged first read (or re-read) under way: objects read of `total`; `done` once read. */
  progress?(entry: WatchEntry, read: number, total: number, done: boolean): void;
  /**
   * What is known of one object changed (undefined: gone), told before the
   * change is handed over; `baseline`: by a first read that sends nothing.
   */
  tracked?(entry: string, dn: string, state: KnownState | undefined, baseline: boolean): void;
  /**
   * A first read that sends nothing (a baseline) begins (`complete` false:
   * forget what was known of the entry) or has read everything (true).
   */
  baseline?(entry: string, complete: boolean): void;
}

export interface WatchOptions {
  /** changes: like skip, but compared with `restore` (what was known when the node last ran) at the first read. */
  initial: 'emit' | 'skip' | 'changes';
  /** The last known state of an entry's objects, from before this run. */
  restore?(entry: string): Map<string, KnownState> | undefined;
  /** refresh-timeout of each subscription, in seconds. */
  refreshTimeoutSec: number;
}

export interface SubscriberOptions {
  cluster: ApicCluster;
  /** Objects per page when reading a subscription's current state (default 1000). */
  pageSize?: number;
  /** Client pings on the socket; a ping unanswered by the next one ends it (default 30 s). */
  pingIntervalMs?: number;
  /** Delay between reconnects (grows, with jitter). */
  backoff?: BackoffOptions;
  /**
   * Delay between logins the APIC refused (a wrong password or certificate):
   * long, because a person must fix it and repeated failures can lock the
   * account (default 10 min growing to 30, with jitter: at least 5 min).
   */
  authBackoff?: BackoffOptions;
  /** A connection that lived this long resets the backoff (default 10 s). */
  stableMs?: number;
  connectTimeoutMs?: number;
}

export interface StateInfo {
  /** The APIC in use (or last tried). */
  host?: string;
  error?: CodedError;
}

/** What the subscriber last knew of an object. */
export interface KnownState {
  className: string;
  /** Its time and life-cycle attributes (modTs is "never" on many classes). */
  stamp: Stamp;
}

/** dn → last known state. */
export type KnownStates = Map<string, KnownState>;
