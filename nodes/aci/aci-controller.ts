/**
 * aci-controller (config node): one APIC cluster, one session and one socket,
 * shared by every aci-subscribe node that uses it.
 */
import { adminPost, targetKey, testRequest } from '../common/admin';
import { outboundOf, type ConnectionDef } from '../common/core-config';
import { CodedError, UNEXPECTED, errorMessage } from '../common/errors';
import { onClose, registerNode, reportSetupError, Users } from '../common/glue';
import { type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import type { ConnectionState } from '../common/reconnect-loop';
import { LOGIN_CREDENTIALS, type AdminResponse, type Node, type NodeAPI, type NodeDef } from '../common/red';
import { testCategories } from '../common/status-keys';
import { cleartextWarning, trustKey } from '../common/tls';
import type { AciControllerCredentials, AciControllerNode, StateListener } from './controller-api';
import { ApicCluster, ApicCodes, parseHosts, type ApicAuthType, type ApicClusterOptions } from './session';
import { ApicRest } from './rest-client';
import { ApicSubscriber, type StateInfo } from './subscriber';

interface AciControllerDef extends NodeDef, ConnectionDef {
  hosts: string;
  authType: ApicAuthType;
}

/** The cluster's settings; a TLS configuration or proxy that is not deployed is refused (CONFIG_NODE_MISSING). */
function clusterOptions(
  RED: NodeAPI,
  def: Partial<AciControllerDef>,
  creds: Partial<AciControllerCredentials>,
): ApicClusterOptions {
  return {
    hosts: String(def.hosts ?? ''),
    authType: def.authType === 'certificate' ? 'certificate' : 'password',
    username: creds.username,
    password: creds.password,
    privateKey: creds.privateKey,
    certificateName: creds.certificateName,
    ...outboundOf(RED, def),
  };
}

/**
 * Exactly where a controller's secrets go: every APIC of the cluster (parsed
 * as the cluster does; the order does not matter, each one gets the login),
 * the account, and TLS trust. A stored secret serves only this target.
 * Undefined for settings that name no target (an unreadable host list).
 */
function aciTarget(
  RED: NodeAPI,
  def: Partial<AciControllerDef>,
  creds: Partial<AciControllerCredentials>,
): string | undefined {
  let hosts: string[];
  let options: ApicClusterOptions;
  try {
    hosts = parseHosts(String(def.hosts ?? ''));
    options = clusterOptions(RED, def, {});
  } catch {
    return undefined;
  }
  const { authType } = options;
  return targetKey('aci-controller', {
    hosts: [...hosts].sort(),
    authType,
    user: String(creds.username ?? '').trim(),
    certificateName: authType === 'certificate' ? String(creds.certificateName ?? '').trim() : undefined,
    trust: trustKey(options.tls ?? {}),
    proxy: def.proxy?.trim() || undefined,
  });
}

/** What a failed test says it was, for the dialog (any TLS_* code is "tls"). */
const category = testCategories({
  credentials: [ApicCodes.AUTH_FAILED],
  throttled: [ApicCodes.THROTTLED],
  connection: [ApicCodes.UNREACHABLE, ApicCodes.HTTP_ERROR],
  'not-apic': [ApicCodes.NOT_APIC],
  settings: [ApicCodes.CONFIG_INVALID],
});

/**
 * The controller's cluster and its one subscriber (socket); settings it
 * cannot work with are reported, and leave neither.
 */
function openCluster(RED: NodeAPI, node: AciControllerNode, def: AciControllerDef, texts: StatusTexts) {
  try {
    const cluster = new ApicCluster(clusterOptions(RED, def, node.credentials));
    node.source = cluster.hosts[0];
    node.secretTarget = aciTarget(RED, def, node.credentials);
    const cleartext = cleartextWarning(cluster.hosts);
    if (cleartext) node.warn(cleartext);
    return { cluster, subscriber: new ApicSubscriber({ cluster }) };
  } catch (err) {
    node.configError = err as CodedError;
    reportSetupError(RED, node, err as Error, texts.error('badSettings'));
    return {};
  }
}

/** The aci subscribe nodes that watch through the controller, each told the socket's state. */
type Watchers = Users<Node, StateListener>;

/** Counts logins and refreshes; the state goes to every watching node's listener. */
function wireSubscriber(node: AciControllerNode, subscriber: ApicSubscriber, users: Watchers): void {
  const metrics = metricsFor(node).holdsConnection().uses('logins', 'refreshes');
  subscriber.on('state', (state: ConnectionState, info: StateInfo) => {
    // Every connection is a new APIC session: a login.
    if (state === 'connected') metrics.logins++;
    metrics.setState(state);
    if (info.error) metrics.error(info.error.code);
    users.tell(state, info);
  });
  subscriber.on('subscription-refreshed', () => metrics.refreshes++);
  subscriber.on('debug', (text: string) => node.debug(text));
  subscriber.on('handler-error', (err: unknown) => node.warn(`a subscriber failed: ${errorMessage(err)}`));
}

/** What the controller offers its aci-subscribe nodes: the socket opens with the first and closes with the last. */
function offerWatches(
  node: AciControllerNode,
  subscriber: ApicSubscriber | undefined,
  users: Watchers,
): void {
  node.watch = (user, entries, handlers, options, onState) => {
    if (!subscriber) {
      users.add(user);
      onState('auth-failed', { error: node.configError });
      return;
    }
    users.add(user, onState);
    subscriber.add(user.id, entries, handlers, options);
    onState(subscriber.state, subscriber.stateInfo);
  };
  node.update = async (user, add, remove) => {
    if (!subscriber)
      throw node.configError ?? new CodedError(ApicCodes.CONFIG_INVALID, 'The controller is not set up.');
    await subscriber.update(user.id, add, remove);
  };
  node.entries = (user) => subscriber?.entries(user.id) ?? [];
  node.subscriptionIds = (user) => subscriber?.subscriptionIds(user.id) ?? {};
  node.resync = async (user) => {
    if (!subscriber)
      throw node.configError ?? new CodedError(ApicCodes.CONFIG_INVALID, 'The controller is not set up.');
    await subscriber.resync(user.id);
  };
  node.unwatch = async (user) => {
    subscriber?.remove(user.id);
    if (users.remove(user) && subscriber) await subscriber.stop();
  };
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'aci-controller', __dirname, AciController, {
    credentials: {
      ...LOGIN_CREDENTIALS,
      privateKey: { type: 'password' },
      certificateName: { type: 'text' },
    },
  });

  function AciController(node: AciControllerNode, def: AciControllerDef, texts: StatusTexts): void {
    const { cluster, subscriber } = openCluster(RED, node, def, texts);
    const users: Watchers = new Users(node);
    if (subscriber) wireSubscriber(node, subscriber, users);
    offerWatches(node, subscriber, users);
    let rest: ApicRest | undefined;
    node.rest = () => {
      if (!cluster)
        throw node.configError ?? new CodedError(ApicCodes.CONFIG_INVALID, 'The controller is not set up.');
      return (rest ??= new ApicRest(cluster));
    };

    onClose(node, async () => {
      await Promise.all([subscriber?.stop(), rest?.close()]);
      await cluster?.close();
    });
  }

  adminPost(RED, '/aci-controller/test', 'aci-controller', (body, res) => testConnection(RED, body, res));
};

/**
 * "Test connection" in the edit dialog: log in on every APIC with the dialog's
 * settings, report who answered with which version, log out. A stored secret
 * (the dialog sent the unchanged placeholder) is used only when the dialog
 * targets what the deployed node does.
 */
async function testConnection(
  RED: NodeAPI,
  body: Partial<AciControllerDef & AciControllerCredentials>,
  res: AdminResponse,
): Promise<void> {
  const names = body.authType === 'certificate' ? (['privateKey'] as const) : (['password'] as const);
  const request = testRequest(RED, body, 'aci-controller', (s) => aciTarget(RED, s, s), names);
  const settings = request.settings as Partial<AciControllerDef & AciControllerCredentials>;
  const creds = {
    username: settings.username,
    certificateName: settings.certificateName,
    ...request.secrets,
  };
  let cluster: ApicCluster;
  try {
    cluster = new ApicCluster({ ...clusterOptions(RED, settings, creds), timeoutMs: 15_000 });
  } catch (err) {
    const code = (err as CodedError).code ?? UNEXPECTED;
    res.json({ ok: false, code, category: category(code), message: errorMessage(err), hosts: [] });
    return;
  }
  try {
    const hosts = await cluster.probe();
    const good = hosts.find((h) => h.ok);
    const bad = hosts.find((h) => !h.ok);
    res.json({
      ok: Boolean(good),
      version: good?.version,
      user: good?.user,
      hosts: hosts.map((h) => ({ ...h, category: h.code ? category(h.code) : undefined })),
      ...(good ? {} : { code: bad?.code, category: category(bad?.code ?? ''), message: bad?.message }),
    });
  } catch (err) {
    res.json({ ok: false, code: UNEXPECTED, category: 'other', message: errorMessage(err), hosts: [] });
  } finally {
    cluster.close().catch(() => undefined); // a failed logout leaves sessions that expire on their own
  }
}
