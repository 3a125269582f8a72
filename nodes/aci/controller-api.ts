/** What an aci-controller config node offers the nodes that use it. */
import type { SecretHolder } from '../common/admin';
import type { CodedError } from '../common/errors';
import type { ConnectionState } from '../common/reconnect-loop';
import type { Node } from '../common/red';
import type { WatchEntry } from './entries';
import type { ApicRest } from './rest-client';
import type { StateInfo, WatchHandlers, WatchOptions } from './subscriber';

export interface AciControllerCredentials {
  username: string;
  password: string;
  privateKey: string;
  certificateName: string;
}

export type StateListener = (state: ConnectionState, info: StateInfo) => void;

export interface AciControllerNode extends SecretHolder, Node<AciControllerCredentials> {
  /** Why the node cannot work (bad settings), if so. */
  configError?: CodedError;
  /** The cluster's URL (its first APIC), the `source` of its events. */
  source?: string;
  /** Starts watching a node's entries on the shared connection; `onState` follows the connection. */
  watch(
    user: Node,
    entries: WatchEntry[],
    handlers: WatchHandlers,
    options: WatchOptions,
    onState: StateListener,
  ): void;
  /** Changes a node's entries at run time (see ApicSubscriber.update). */
  update(user: Node, add: WatchEntry[], remove: WatchEntry[]): Promise<void>;
  /** The node's entries now. */
  entries(user: Node): WatchEntry[];
  /** The APIC's subscription id of each of the node's entries on the live connection (entry key → id). */
  subscriptionIds(user: Node): Record<string, string>;
  /** Reads the node's entries again and sends what changed (see ApicSubscriber.resync). */
  resync(user: Node): Promise<void>;
  unwatch(user: Node): Promise<void>;
  /** REST calls through the cluster (its own session: login, refresh, failover, 503 backoff); throws bad settings. */
  rest(): ApicRest;
}
