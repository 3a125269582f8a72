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
  /** Adds a user's topic filter to the shared connection; `onState` follows the connection. */
  subscribe(
    user: Node,
    template: string,
    qos: QoS,
    handlers: SubscriptionHandlers,
    onState: StateListener,
  ): void;
  unsubscribe(user: Node): Promise<void>;
  /** Goes on with a service-account token that replaced the one in use. */
  adoptApiToken(token: string): void;
}
