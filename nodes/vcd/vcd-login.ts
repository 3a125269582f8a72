/**
 * vcd-login (config node): one VCD session and one message-bus connection,
 * shared by every node that uses it.
 */
import path from 'node:path';
import { CodedError, errorMessage } from '../common/errors';
import { createNode, Users, dialogSecrets, onClose, reportSetupError } from '../common/glue';
import type { NodeAPI, NodeDef } from '../common/red';
import { RotatingSecret } from '../common/rotating-secret';
import type { StateListener, VcdLoginCredentials, VcdLoginNode } from './login-api';
import { VcdMessaging, type MessagingState } from './messaging';
import { VcdSession, type VcdAuthType, type VcdSessionOptions } from './session';

interface VcdLoginDef extends NodeDef {
  url: string;
  org: string;
  authType: VcdAuthType;
  tlsInsecure?: boolean;
  ca?: string;
}

function sessionOptions(def: Partial<VcdLoginDef>, creds: Partial<VcdLoginCredentials>): VcdSessionOptions {
  return {
    url: String(def.url ?? ''),
    org: String(def.org ?? ''),
    authType: def.authType === 'apiToken' ? 'apiToken' : 'password',
    username: creds.username,
    password: creds.password,
    apiToken: creds.apiToken,
    tls: { insecure: def.tlsInsecure === true, ca: def.ca },
  };
}

/** What a failed test says it was, for the dialog. */
function category(code: string): string {
  if (code === 'VCD_AUTH_FAILED') return 'credentials';
  if (code.startsWith('TLS_') || code === 'CONFIG_CA_INVALID') return 'tls';
  if (code === 'DNS_FAILED') return 'dns';
  if (code === 'CONNECT_FAILED' || code === 'TIMEOUT' || code === 'VCD_UNAVAILABLE') return 'connection';
  if (code === 'VCD_NOT_VCD') return 'not-vcd';
  if (code === 'VCD_VERSION_TOO_OLD') return 'version';
  if (code === 'VCD_CONFIG_INVALID') return 'settings';
  return 'other';
}

/** The key Node-RED encrypts its credentials file with (none when it is told not to). */
function credentialKey(RED: NodeAPI): string | undefined {
  const { credentialSecret, get } = RED.settings;
  if (credentialSecret === false) return undefined;
  if (typeof credentialSecret === 'string') return credentialSecret;
  const generated = typeof get === 'function' ? get.call(RED.settings, '_credentialSecret') : undefined;
  return typeof generated === 'string' ? generated : undefined;
}

export = function register(RED: NodeAPI): void {
  /** Where a login's rotating token outlives a restart (none without a user directory). */
  const rotatingToken = (id: string) =>
    RED.settings.userDir
      ? new RotatingSecret(
          path.join(RED.settings.userDir, 'vcd-login-tokens', `${id}.json`),
          credentialKey(RED),
        )
      : undefined;

  function VcdLogin(this: VcdLoginNode, saved: VcdLoginDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const users = new Users(node);
    const listeners = new Map<string, StateListener>();
    let messaging: VcdMessaging | undefined;

    const tokenFile = def.authType === 'apiToken' ? rotatingToken(node.id) : undefined;
    const configured = node.credentials.apiToken?.trim();
    const apiToken = configured && tokenFile ? tokenFile.resolve(configured) : configured;
    /** Keeps the newest service-account token: in the credential store (redeploys) and on disk (restarts). */
    const keep = (token: string) => {
      RED.nodes.addCredentials(node.id, { ...RED.nodes.getCredentials(node.id), apiToken: token });
      try {
        tokenFile?.rotated(token);
      } catch (err) {
        node.warn(`The rotated API token could not be saved (${errorMessage(err)}); deploy to keep it.`);
      }
    };
    if (apiToken && apiToken !== configured) {
      keep(apiToken);
      node.log('Going on with the newest token of this service account (rotated since the last deploy).');
    }

    try {
      node.session = new VcdSession(sessionOptions(def, { ...node.credentials, apiToken }));
    } catch (err) {
      node.configError = err as CodedError;
      reportSetupError(RED, node, err as Error, 'bad settings');
    }
    const session = node.session;

    node.adoptApiToken = (token: string) => {
      session?.useApiToken(token);
      keep(token);
    };

    if (session) {
      session.on('rotated', (token: string) => {
        keep(token);
        node.log('VCD rotated the API token; the new one is kept.');
      });
      session.on('login', (info: { user: { name: string }; org: { name: string }; apiVersion: string }) => {
        node.debug(`logged in as ${info.user.name}@${info.org.name} (API ${info.apiVersion})`);
      });
      messaging = new VcdMessaging({ site: session.site, tokens: session, tls: sessionOptions(def, {}).tls });
      messaging.on('state', (state: MessagingState, error?: CodedError) => {
        for (const listener of listeners.values()) listener(state, error);
      });
      messaging.on('handler-error', (err: unknown) => node.warn(`a subscriber failed: ${errorMessage(err)}`));
    }

    node.subscribe = (user, template, qos, handlers, onState) => {
      users.add(user);
      if (!messaging) {
        onState('auth-failed', node.configError);
        return;
      }
      listeners.set(user.id, onState);
      messaging.add(user.id, template, qos, handlers);
      onState(messaging.state, messaging.error);
    };

    node.unsubscribe = async (user) => {
      listeners.delete(user.id);
      messaging?.remove(user.id);
      if (users.remove(user) && messaging) await messaging.stop();
    };

    onClose(node, async (removed) => {
      await messaging?.stop();
      await session?.close();
      if (removed) tokenFile?.remove();
    });
  }

  RED.nodes.registerType('vcd-login', VcdLogin, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      apiToken: { type: 'password' },
    },
  });

  // "Test connection" in the edit dialog: log in with the dialog's settings,
  // report who we are, log out. Stored secrets are used where the dialog shows
  // the unchanged placeholder.
  RED.httpAdmin.post('/vcd-login/test', RED.auth.needsPermission('vcd-login.write'), (req, res) => {
    const body = (req.body ?? {}) as Partial<VcdLoginDef & VcdLoginCredentials>;
    const creds = { username: body.username, ...dialogSecrets(RED, body, ['password', 'apiToken'] as const) };
    // The token the deployed node runs on, when the dialog left the field unchanged.
    const deployed = typeof body.id === 'string' ? (RED.nodes.getNode(body.id) as VcdLoginNode | null) : null;
    const sharesToken =
      deployed !== null &&
      creds.apiToken !== undefined &&
      creds.apiToken === deployed.session?.currentApiToken;
    let session: VcdSession;
    try {
      session = new VcdSession({
        ...sessionOptions(body, creds),
        timeoutMs: 15_000,
        retry: { initialMs: 0 },
      });
    } catch (err) {
      res.json({
        ok: false,
        code: (err as CodedError).code,
        category: 'settings',
        message: errorMessage(err),
      });
      return;
    }
    let rotated: string | undefined;
    session.on('rotated', (token: string) => {
      rotated = token;
      // This login spent the deployed node's token: the node goes on with the new one.
      if (sharesToken) deployed.adoptApiToken(token);
    });
    session
      .login()
      .then((cred) => {
        const i = cred.info;
        res.json({
          ok: true,
          apiVersion: i.apiVersion,
          site: i.site,
          org: i.org.name,
          user: i.user.name,
          roles: i.roles,
          provider: i.provider,
          // A service-account token typed into the dialog is spent by this login: give the dialog the new one.
          rotatedToken: sharesToken ? undefined : rotated,
        });
      })
      .catch((err: unknown) => {
        const code = (err as CodedError).code ?? 'UNEXPECTED';
        res.json({
          ok: false,
          code,
          category: category(code),
          message: errorMessage(err),
          rotatedToken: sharesToken ? undefined : rotated,
        });
      })
      .finally(() => void session.close());
  });
};
