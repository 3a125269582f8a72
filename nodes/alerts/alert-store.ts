/**
 * alert-store (config node): the Redis server an HA pair of Node-REDs shares,
 * so that their alert gates let each event through once. One connection for
 * every alert gate that uses it: it opens with the first and closes with the last.
 */
import { CodedError } from '../common/errors';
import { onClose, registerNode, reportSetupError, Users } from '../common/glue';
import { type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import { LOGIN_CREDENTIALS, type Node, type NodeAPI, type NodeDef } from '../common/red';
import { RedisStore, parseStoreUrl, type RedisStoreOptions, type StateListener } from './redis-store';
import { DEFAULT_PREFIX, type AlertStoreCredentials, type AlertStoreNode } from './store-api';

interface AlertStoreDef extends NodeDef {
  url: string;
  tls?: boolean;
  tlsInsecure?: boolean;
  ca?: string;
  prefix?: string;
}

function storeOptions(def: AlertStoreDef, creds: Partial<AlertStoreCredentials>): RedisStoreOptions {
  const options: RedisStoreOptions = {
    url: String(def.url ?? '').trim(),
    tls: def.tls === true,
    insecure: def.tlsInsecure === true,
    ca: def.ca,
    prefix: String(def.prefix ?? '').trim() || DEFAULT_PREFIX,
  };
  parseStoreUrl(options.url);
  if (creds.username) options.username = creds.username;
  if (creds.password) options.password = creds.password;
  return options;
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'alert-store', __dirname, AlertStore, {
    credentials: LOGIN_CREDENTIALS,
  });

  function AlertStore(node: AlertStoreNode, def: AlertStoreDef, texts: StatusTexts): void {
    const users = new Users<Node, StateListener>(node);
    // A Redis connection: its state and reconnects (no login to count: AUTH rides on each connect).
    const metrics = metricsFor(node).holdsConnection();
    let options: RedisStoreOptions | undefined;
    let store: RedisStore | undefined;
    try {
      options = storeOptions(def, node.credentials);
    } catch (err) {
      node.configError = err as CodedError;
      reportSetupError(RED, node, err as Error, texts.error('badSettings'));
    }

    node.use = (user, listener) => {
      if (!options) return undefined;
      if (users.add(user, listener) || !store) {
        store = new RedisStore(options);
        store.onState((state, error) => {
          metrics.setState(state);
          if (error) metrics.error(error.code);
          users.tell(state, error);
        });
        store.start();
      }
      return store;
    };

    node.release = (user) => {
      if (!users.remove(user)) return;
      const last = store;
      store = undefined;
      last?.close().catch(() => undefined);
    };

    onClose(node, async () => {
      users.hush();
      await store?.close();
      store = undefined;
    });
  }
};
