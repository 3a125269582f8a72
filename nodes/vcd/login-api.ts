/** What a vcd-login config node offers the nodes that use it. */
import type { SecretHolder } from '../common/admin';
import type { CodedError } from '../common/errors';
import type { ConnectionState } from '../common/reconnect-loop';
import type { Node } from '../common/red';
import type { QoS, SubscriptionHandlers } from './messaging';
import type { VcdSession } from './session';

export interface VcdLoginCredentials {
  username: string;
  password: string;
  apiToken: string;
}

export type StateListener = (state: ConnectionState, error?: CodedError) => void;

export interface VcdLoginNode extends SecretHolder, Node<VcdLoginCredentials> {
  session?: VcdSession;
  /** Why the node cannot work (bad settings), if so. */
  configError?: CodedError;
  /** Makes a node a user of the shared connection (it opens with the first); `onState` follows it. */
  attach(user: Node, onState: StateListener): void;
  /** Adds (or replaces) one of a user's topic filters. */
  subscribe(user: Node, template: string, qos: QoS, handlers: SubscriptionHandlers): void;
  /** Removes one of a user's topic filters. */
  unsubscribe(user: Node, template: string): void;
  /** Removes a user and its filters; the connection closes with the last user. */
  detach(user: Node): Promise<void>;
  /** Goes on with a service-account token that replaced the one in use. */
  adoptApiToken(token: string): void;
}
