/** What an alert-store config node offers the alert gates that use it. */
import type { CodedError } from '../common/errors';
import type { Node } from '../common/red';
import type { RedisStore, StateListener } from './redis-store';

export interface AlertStoreCredentials {
  username?: string;
  password?: string;
}

export interface AlertStoreNode extends Node<AlertStoreCredentials> {
  /** The shared store, connected while any gate uses it; undefined when its settings cannot work. */
  use(user: Node, listener: StateListener): RedisStore | undefined;
  release(user: Node): void;
  /** Why the settings cannot work. */
  configError?: CodedError;
}

/** Keys start with this unless the dialog says otherwise (several uses can share one server). */
export const DEFAULT_PREFIX = 'dcevents:alerts:';
