/**
 * vcd-login (config node): one VCD session and one message-bus connection,
 * shared by every node that uses it.
 */
import path from 'node:path';
import { adminPost, deployedWithTarget, targetKey, testRequest } from '../common/admin';
import { outboundOf, type ConnectionDef } from '../common/core-config';
import { CodedError, UNEXPECTED, errorMessage } from '../common/errors';
import { onClose, registerNode, reportSetupError, Users } from '../common/glue';
import { type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import { NodeFiles } from '../common/node-files';
import type { ConnectionState } from '../common/reconnect-loop';
import { LOGIN_CREDENTIALS, type AdminResponse, type Node, type NodeAPI, type NodeDef } from '../common/red';
import { testCategories } from '../common/status-keys';
import { RotatingSecret } from '../common/rotating-secret';
import { cleartextWarning, trustKey } from '../common/tls';
import type { StateListener, VcdLoginCredentials, VcdLoginNode } from './login-api';
import { VcdMessaging } from './messaging';
import { VcdCodes, VcdSession, type VcdAuthType, type VcdSessionOptions } from './session';

interface VcdLoginDef extends NodeDef, ConnectionDef {
  url: string;
  org: string;
  authType: VcdAuthType;
}

/** The session's settings; a TLS configuration or proxy that is not deployed is refused (CONFIG_NODE_MISSING). */
function sessionOptions(
  RED: NodeAPI,
  def: Partial<VcdLoginDef>,
  creds: Partial<VcdLoginCredentials>,
): VcdSessionOptions {
  return {
    url: String(def.url ?? ''),
    org: String(def.org ?? ''),
    authType: def.authType === 'apiToken' ? 'apiToken' : 'password',
    username: creds.username,
    password: creds.password,
    apiToken: creds.apiToken,
    ...outboundOf(RED, def),
  };
}

/**
 * Exactly where a login's secrets go, normalized as the session does (the URL's
 * origin, the trimmed org and user): a stored secret serves only this target.
 * Undefined for settings that name no target (an unreadable URL).
 */
function vcdTarget(
  RED: NodeAPI,
  def: Partial<VcdLoginDef>,
  creds: Partial<VcdLoginCredentials>,
): string | undefined {
  let site: string;
  let options: VcdSessionOptions;
  try {
    site = new URL(String(def.url ?? '').trim()).origin;
    options = sessionOptions(RED, def, {});
  } catch {
    return undefined;
  }
  return targetKey('vcd-login', {
    site,
    org: String(def.org ?? '').trim(),
    authType: options.authType,
    user: options.authType === 'password' ? String(creds.username ?? '').trim() : undefined,
    trust: trustKey(options.tls ?? {}),
    proxy: def.proxy?.trim() || undefined,
  });
}

/** What a failed test says it was, for the dialog (any TLS_* code is "tls"). */
const category = testCategories({
  credentials: [VcdCodes.AUTH_FAILED],
  connection: [VcdCodes.UNAVAILABLE],
  'not-vcd': [VcdCodes.NOT_VCD],
  version: [VcdCodes.VERSION_TOO_OLD],
  settings: [VcdCodes.CONFIG_INVALID],
});

/** The key Node-RED encrypts its credentials file with (none when it is told not to). */
function credentialKey(RED: NodeAPI): string | undefined {
  const { credentialSecret, get } = RED.settings;
  if (credentialSecret === false) return undefined;
  if (typeof credentialSecret === 'string') return credentialSecret;
  const generated = typeof get === 'function' ? get.call(RED.settings, '_credentialSecret') : undefined;
  return typeof generated === 'string' ? generated : undefined;
}

/** Where a login's rotating token outlives a restart (none without a user directory). */
function rotatingToken(RED: NodeAPI, id: string): RotatingSecret | undefined {
  const userDir = RED.settings.userDir;
  if (!userDir) return undefined;
  const secret = new RotatingSecret(new NodeFiles(userDir, 'vcd-login-tokens'), id, credentialKey(RED));
  try {
    secret.migrateFrom(path.join(userDir, 'vcd-login-tokens'));
  } catch {
    // the old file stays; the chain starts again from the deployed token
  }
  return secret;
}

/**
 * The API token a login goes on with (the newest of its service account's
 * chain), and `keep`, which keeps each new one: in the credential store
 * (redeploys) and in the token file (restarts).
 */
function serviceAccountToken(RED: NodeAPI, node: VcdLoginNode, def: VcdLoginDef) {
  const tokenFile = def.authType === 'apiToken' ? rotatingToken(RED, node.id) : undefined;
  const configured = node.credentials.apiToken?.trim();
  const apiToken = configured && tokenFile ? tokenFile.resolve(configured) : configured;
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
  return { apiToken, keep, forget: () => tokenFile?.remove() };
}

/** The session of a login's settings; settings it cannot work with are reported, and leave none. */
function openSession(
  RED: NodeAPI,
  node: VcdLoginNode,
  def: VcdLoginDef,
  apiToken: string | undefined,
  texts: StatusTexts,
): VcdSession | undefined {
  try {
    node.session = new VcdSession(sessionOptions(RED, def, { ...node.credentials, apiToken }));
  } catch (err) {
    node.configError = err as CodedError;
    reportSetupError(RED, node, err as Error, texts.error('badSettings'));
    return undefined;
  }
  const cleartext = cleartextWarning([node.session.site]);
  if (cleartext) node.warn(cleartext);
  return node.session;
}

/** Counts logins and keeps every token VCD rotates. */
function wireSession(node: VcdLoginNode, session: VcdSession, keep: (token: string) => void): void {
  const metrics = metricsFor(node).uses('logins');
  session.on('rotated', (token: string) => {
    keep(token);
    node.log('VCD rotated the API token; the new one is kept.');
  });
  session.on('login', (info: { user: { name: string }; org: { name: string }; apiVersion: string }) => {
    metrics.logins++;
    node.debug(`logged in as ${info.user.name}@${info.org.name} (API ${info.apiVersion})`);
  });
}

/** The vcd subscribe nodes on the login's bus, each told its state. */
type Subscribers = Users<Node, StateListener>;

/** The one message-bus connection of a login; its state goes to every subscriber's listener. */
function connectMessaging(
  RED: NodeAPI,
  node: VcdLoginNode,
  session: VcdSession,
  def: VcdLoginDef,
  users: Subscribers,
): VcdMessaging {
  const metrics = metricsFor(node).holdsConnection();
  const messaging = new VcdMessaging({ site: session.site, tokens: session, ...outboundOf(RED, def) });
  messaging.on('state', (state: ConnectionState, error?: CodedError) => {
    metrics.setState(state);
    if (error) metrics.error(error.code);
    users.tell(state, error);
  });
  messaging.on('handler-error', (err: unknown) => node.warn(`a subscriber failed: ${errorMessage(err)}`));
  return messaging;
}

/** What the login offers its vcd-subscribe nodes: the connection opens with the first and closes with the last. */
function offerSubscriptions(
  node: VcdLoginNode,
  messaging: VcdMessaging | undefined,
  users: Subscribers,
): void {
  node.attach = (user, onState) => {
    if (!messaging) {
      users.add(user);
      onState('auth-failed', node.configError);
      return;
    }
    users.add(user, onState);
    messaging.start();
    onState(messaging.state, messaging.error);
  };
  node.subscribe = (user, template, qos, handlers) => messaging?.add(user.id, template, qos, handlers);
  node.unsubscribe = (user, template) => messaging?.remove(user.id, template);
  node.detach = async (user) => {
    messaging?.remove(user.id);
    if (users.remove(user) && messaging) await messaging.stop();
  };
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'vcd-login', __dirname, VcdLogin, {
    credentials: { ...LOGIN_CREDENTIALS, apiToken: { type: 'password' } },
  });

  function VcdLogin(node: VcdLoginNode, def: VcdLoginDef, texts: StatusTexts): void {
    const { apiToken, keep, forget } = serviceAccountToken(RED, node, def);
    const session = openSession(RED, node, def, apiToken, texts);
    node.secretTarget = vcdTarget(RED, def, node.credentials);
    node.adoptApiToken = (token: string) => {
      session?.useApiToken(token);
      keep(token);
    };
    if (session) wireSession(node, session, keep);
    const users: Subscribers = new Users(node);
    const messaging = session && connectMessaging(RED, node, session, def, users);
    offerSubscriptions(node, messaging, users);

    onClose(node, async (removed) => {
      await messaging?.stop();
      await session?.close();
      if (removed) forget();
    });
  }

  adminPost(RED, '/vcd-login/test', 'vcd-login', (body, res) => testConnection(RED, body, res));
};

/**
 * "Test connection" in the edit dialog: log in with the dialog's settings,
 * report who we are, log out. A stored secret (the dialog sent the unchanged
 * placeholder) is used only when the dialog targets what the deployed node does.
 */
async function testConnection(
  RED: NodeAPI,
  body: Partial<VcdLoginDef & VcdLoginCredentials>,
  res: AdminResponse,
) {
  const secretNames = body.authType === 'apiToken' ? (['apiToken'] as const) : (['password'] as const);
  const request = testRequest(RED, body, 'vcd-login', (s) => vcdTarget(RED, s, s), secretNames);
  const { secrets, stored, target } = request;
  const settings = request.settings as Partial<VcdLoginDef & VcdLoginCredentials>;
  // The deployed node with exactly this target: if this login spends its token, it goes on with the new one.
  const deployed = deployedWithTarget<VcdLoginNode>(RED, body.id, 'vcd-login', target);
  const current = deployed?.session?.currentApiToken;
  const creds = { username: settings.username, ...secrets };
  if (stored && current && settings.authType === 'apiToken') creds.apiToken = current;
  const sharesToken = current !== undefined && creds.apiToken === current;
  // Neither the stored token nor its successor ever goes to the browser.
  const toDialog = (token: string | undefined) => (stored || sharesToken ? undefined : token);
  let session: VcdSession;
  try {
    session = new VcdSession({
      ...sessionOptions(RED, settings, creds),
      timeoutMs: 15_000,
      retry: { initialMs: 0 },
    });
  } catch (err) {
    res.json({ ok: false, code: (err as CodedError).code, category: 'settings', message: errorMessage(err) });
    return;
  }
  let rotated: string | undefined;
  session.on('rotated', (token: string) => {
    rotated = token;
    if (sharesToken) deployed?.adoptApiToken(token);
  });
  try {
    const i = (await session.login()).info;
    res.json({
      ok: true,
      apiVersion: i.apiVersion,
      site: i.site,
      org: i.org.name,
      user: i.user.name,
      roles: i.roles,
      provider: i.provider,
      // A token typed into the dialog is spent by this login: give the dialog the new one.
      rotatedToken: toDialog(rotated),
    });
  } catch (err) {
    const code = (err as CodedError).code ?? UNEXPECTED;
    res.json({
      ok: false,
      code,
      category: category(code),
      message: errorMessage(err),
      rotatedToken: toDialog(rotated),
    });
  } finally {
    session.close().catch(() => undefined); // a failed logout leaves a session that expires on its own
  }
}
