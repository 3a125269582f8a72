/**
 * aci-controller (config node): one APIC cluster, one session and one socket,
 * shared by every aci-subscribe node that uses it.
 */
import { CodedError, errorMessage } from '../common/errors';
import { createNode, Users, dialogSecrets, onClose, reportSetupError } from '../common/glue';
import type { NodeAPI, NodeDef } from '../common/red';
import type { AciControllerCredentials, AciControllerNode, StateListener } from './controller-api';
import { ApicCluster, type ApicAuthType, type ApicClusterOptions } from './session';
import { ApicSubscriber, type AciState, type StateInfo } from './subscriptions';

interface AciControllerDef extends NodeDef {
  hosts: string;
  authType: ApicAuthType;
  tlsInsecure?: boolean;
  ca?: string;
}

function clusterOptions(
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
    tls: { insecure: def.tlsInsecure === true, ca: def.ca },
  };
}

/** What a failed test says it was, for the dialog. */
function category(code: string): string {
  if (code === 'APIC_AUTH_FAILED') return 'credentials';
  if (code.startsWith('TLS_') || code === 'CONFIG_CA_INVALID') return 'tls';
  if (code === 'DNS_FAILED') return 'dns';
  if (code === 'APIC_THROTTLED') return 'throttled';
  if (['CONNECT_FAILED', 'TIMEOUT', 'APIC_UNREACHABLE', 'APIC_HTTP_ERROR'].includes(code))
    return 'connection';
  if (code === 'APIC_NOT_APIC') return 'not-apic';
  if (code === 'APIC_CONFIG_INVALID') return 'settings';
  return 'other';
}

export = function register(RED: NodeAPI): void {
  function AciController(this: AciControllerNode, saved: AciControllerDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const users = new Users(node);
    const listeners = new Map<string, StateListener>();
    let cluster: ApicCluster | undefined;
    let subscriber: ApicSubscriber | undefined;

    try {
      cluster = new ApicCluster(clusterOptions(def, node.credentials));
      node.source = cluster.hosts[0];
      subscriber = new ApicSubscriber({ cluster });
      subscriber.on('state', (state: AciState, info: StateInfo) => {
        for (const listener of listeners.values()) listener(state, info);
      });
      subscriber.on('debug', (text: string) => node.debug(text));
      subscriber.on('handler-error', (err: unknown) =>
        node.warn(`a subscriber failed: ${errorMessage(err)}`),
      );
    } catch (err) {
      node.configError = err as CodedError;
      reportSetupError(RED, node, err as Error, 'bad settings');
    }

    node.watch = (user, entries, handlers, options, onState) => {
      users.add(user);
      if (!subscriber) {
        onState('auth-failed', { error: node.configError });
        return;
      }
      listeners.set(user.id, onState);
      subscriber.add(user.id, entries, handlers, options);
      onState(subscriber.state, subscriber.stateInfo);
    };

    node.update = async (user, add, remove) => {
      if (!subscriber)
        throw node.configError ?? new CodedError('APIC_CONFIG_INVALID', 'The controller is not set up.');
      await subscriber.update(user.id, add, remove);
    };

    node.entries = (user) => subscriber?.entries(user.id) ?? [];

    node.unwatch = async (user) => {
      listeners.delete(user.id);
      subscriber?.remove(user.id);
      if (users.remove(user) && subscriber) await subscriber.stop();
    };

    onClose(node, async () => {
      await subscriber?.stop();
      await cluster?.close();
    });
  }

  RED.nodes.registerType('aci-controller', AciController, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      privateKey: { type: 'password' },
      certificateName: { type: 'text' },
    },
  });

  // "Test connection" in the edit dialog: log in on every APIC with the
  // dialog's settings, report who answered with which version, log out.
  // Stored secrets are used where the dialog shows the unchanged placeholder.
  RED.httpAdmin.post('/aci-controller/test', RED.auth.needsPermission('aci-controller.write'), (req, res) => {
    const body = (req.body ?? {}) as Partial<AciControllerDef & AciControllerCredentials>;
    const creds = {
      username: body.username,
      certificateName: body.certificateName,
      ...dialogSecrets(RED, body, ['password', 'privateKey'] as const),
    };
    let cluster: ApicCluster;
    try {
      cluster = new ApicCluster({ ...clusterOptions(body, creds), timeoutMs: 15_000 });
    } catch (err) {
      const code = (err as CodedError).code ?? 'UNEXPECTED';
      res.json({ ok: false, code, category: category(code), message: errorMessage(err), hosts: [] });
      return;
    }
    cluster
      .probe()
      .then((hosts) => {
        const good = hosts.find((h) => h.ok);
        const bad = hosts.find((h) => !h.ok);
        res.json({
          ok: Boolean(good),
          version: good?.version,
          user: good?.user,
          hosts: hosts.map((h) => ({ ...h, category: h.code ? category(h.code) : undefined })),
          ...(good ? {} : { code: bad?.code, category: category(bad?.code ?? ''), message: bad?.message }),
        });
      })
      .catch((err: unknown) => {
        res.json({ ok: false, code: 'UNEXPECTED', category: 'other', message: errorMessage(err), hosts: [] });
      })
      .finally(() => void cluster.close());
  });
};
