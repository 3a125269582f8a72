/**
 * cloudevent-sink (config node): a CloudEvents sink (URL, credentials,
 * headers, timeout, Webhook handshake, TLS configuration, proxy) and the one
 * connection pool to it, shared by every cloudevent emit that sends there:
 * two emits to one broker hold one copy of the secret and one pool.
 */
import { CodedError } from '../common/errors';
import { onClose, registerNode, Users } from '../common/glue';
import type { Node, NodeAPI, NodeDef } from '../common/red';
import { cleartextWarning } from '../common/tls';
import { Sink } from './delivery/sink';
import { sendsSecret, sinkOptions, type SinkDef } from './emit-settings';
import { SINK_CREDENTIALS, type SinkNode } from './sink-api';

/** How long a stopping sink waits for its emits to let go (Node-RED gives a node 15 s to close). */
const RELEASE_WAIT_MS = 14_000;

/** The sink of the settings; settings it cannot work with are kept as the error every user gets. */
function openSink(RED: NodeAPI, node: SinkNode, def: SinkDef & NodeDef): Sink | undefined {
  try {
    const sink = new Sink(sinkOptions(RED, def, node.credentials, `node-red-${node.id}`));
    const cleartext = sendsSecret(def, node.credentials) ? cleartextWarning([sink.url.href]) : undefined;
    if (cleartext) node.warn(cleartext);
    return sink;
  } catch (err) {
    node.configError = err as CodedError;
    return undefined;
  }
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'cloudevent-sink', __dirname, CloudEventSink, {
    credentials: SINK_CREDENTIALS,
  });

  function CloudEventSink(node: SinkNode, def: SinkDef & NodeDef): void {
    const sink = openSink(RED, node, def);
    const users = new Users<Node>(node);
    let lastLeft: (() => void) | undefined;

    node.take = (user) => {
      if (!sink) throw node.configError;
      users.add(user);
      return sink;
    };
    node.release = (user) => {
      if (users.remove(user)) lastLeft?.();
    };

    // The emits close at the same time and drain through the pool first: it goes when the last has let go.
    onClose(node, async () => {
      if (users.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RELEASE_WAIT_MS);
          lastLeft = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await sink?.close();
    });
  }
};
