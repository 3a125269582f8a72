/** What a cloudevent-sink config node offers the cloudevent emit nodes that use it. */
import type { CodedError } from '../common/errors';
import { LOGIN_CREDENTIALS, type Node } from '../common/red';
import type { Sink } from './delivery/sink';
import type { SinkCredentials } from './emit-settings';

export interface SinkNode extends Node<SinkCredentials> {
  /** Why the sink cannot be used (bad settings), if so. */
  configError?: CodedError;
  /**
   * The shared sink, for as long as `user` runs (until `release`); its
   * connections close when the config node stops and the last user let go.
   * Throws the settings' error.
   */
  take(user: Node): Sink;
  release(user: Node): void;
}

/** A sink's credentials as registerType declares them (an emit node saved before sinks were config nodes has them too). */
export const SINK_CREDENTIALS = {
  token: { type: 'password' },
  ...LOGIN_CREDENTIALS,
  secretHeader: { type: 'password' },
} as const;
