/**
 * The package's admin routes (the edit dialogs' "test connection"): who may
 * call them, what they accept, and when a request may use a deployed node's
 * stored secret. Anyone who reaches the editor's admin API can call these
 * routes, so a stored secret goes only where the deployed node sends it anyway.
 */
import { CodedError, UNEXPECTED, errorMessage } from './errors';
import type { AdminRequest, AdminResponse, NodeAPI } from './red';

export const AdminCodes = {
  /** The request body is not JSON (a cross-site form or a text/plain POST). */
  JSON_ONLY: 'ADMIN_JSON_ONLY',
  /** The JSON body is not an object. */
  BAD_REQUEST: 'ADMIN_BAD_REQUEST',
  /** A stored secret was asked for, but the request does not target what the deployed node targets. */
  SECRET_RETYPE: 'ADMIN_SECRET_RETYPE',
  /** A setting is an environment variable (`${NAME}`), but not of the deployed node with this target. */
  ENV_NOT_DEPLOYED: 'ADMIN_ENV_NOT_DEPLOYED',
} as const;

/** The editor sends this for a password field it did not change (it never receives the secret). */
export const UNCHANGED = '__PWRD__';

/**
 * A deployed config node that holds secrets: `secretTarget` says exactly where
 * they go (node type, address, account, TLS trust), in the runtime's own
 * normalization, so that a test request can be compared with it.
 */
export interface SecretHolder {
  id: string;
  type: string;
  secretTarget?: string;
}

/** A canonical text for a target: equal texts mean the same system and account. */
export function targetKey(type: string, parts: Record<string, unknown>): string {
  return JSON.stringify([
    type,
    ...Object.keys(parts)
      .sort()
      .map((k) => [k, parts[k] ?? null]),
  ]);
}

/** Is the request's body JSON? (Forms and text/plain are what a foreign web page can send without CORS.) */
function isJson(req: AdminRequest): boolean {
  const type = req.headers['content-type'];
  const media = (Array.isArray(type) ? type[0] : type)?.split(';')[0]?.trim().toLowerCase();
  return media === 'application/json';
}

/** The refusals of a test request that withhold what the deployed node holds, and their category in the dialog. */
const WITHHELD: Record<string, string> = {
  [AdminCodes.SECRET_RETYPE]: 'retype',
  [AdminCodes.ENV_NOT_DEPLOYED]: 'environment',
};

/**
 * Registers an admin POST route: editor permission `<type>.write`, JSON bodies
 * only (415 otherwise), and a handler whose CodedError becomes a 400 with its code.
 */
export function adminPost(
  RED: NodeAPI,
  route: string,
  type: string,
  handler: (body: Record<string, unknown>, res: AdminResponse) => Promise<void>,
): void {
  RED.httpAdmin.post(route, RED.auth.needsPermission(`${type}.write`), (req, res) => {
    if (!isJson(req)) {
      res.status(415).json({
        ok: false,
        code: AdminCodes.JSON_ONLY,
        message: 'This route accepts application/json only.',
      });
      return;
    }
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      res
        .status(400)
        .json({ ok: false, code: AdminCodes.BAD_REQUEST, message: 'The body must be a JSON object.' });
      return;
    }
    handler(body as Record<string, unknown>, res).catch((err: unknown) => {
      const code = (err as CodedError).code;
      const category = WITHHELD[code];
      if (category) {
        res.status(400).json({ ok: false, code, category, message: errorMessage(err) });
      } else {
        res.status(500).json({ ok: false, code: UNEXPECTED, category: 'other', message: errorMessage(err) });
      }
    });
  });
}

/** Secret fields as the dialogs call them. */
const SECRET_WORDS: Record<string, string> = {
  password: 'password',
  apiToken: 'API token',
  privateKey: 'private key',
};

/** The deployed node `id` when it is of `type` and has exactly `target` as its target. */
export function deployedWithTarget<N extends SecretHolder>(
  RED: NodeAPI,
  id: unknown,
  type: string,
  target: string | undefined,
): N | undefined {
  if (typeof id !== 'string' || !id || target === undefined) return undefined;
  const node = RED.nodes.getNode(id) as N | null;
  return node && node.type === type && node.secretTarget === target ? node : undefined;
}

/**
 * The name in a setting written `${NAME}` (or the older `$(NAME)`) as a whole,
 * which the runtime fills in from the environment when it starts a node (its
 * settings and its credentials alike); undefined for any other value.
 */
export function envReference(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 4 || value[0] !== '$') return undefined;
  const close = value[1] === '{' ? '}' : value[1] === '(' ? ')' : undefined;
  if (!close || !value.endsWith(close)) return undefined;
  const name = value.slice(2, -1);
  return /\s/.test(name) ? undefined : name;
}

/** `value` as the runtime fills it in for `node`: an environment variable it names, or itself. */
function filledIn(RED: NodeAPI, node: SecretHolder, value: unknown): unknown {
  const name = envReference(value);
  if (name === undefined) return value;
  // Without the runtime's lookup (some test runtimes), the process's variables, as it reads them last.
  const found = RED.util?.getSetting ? RED.util.getSetting(node, name) : process.env[name];
  return found === undefined ? value : found;
}

const notDeployed = () =>
  new CodedError(
    AdminCodes.ENV_NOT_DEPLOYED,
    'Settings written as ${NAME} are filled in from the environment as the deployed node fills them in: deploy these settings first, or type the values to test them.',
  );

/** The deployed node `id` when it is of `type`, whatever its target. */
function deployedOfType(RED: NodeAPI, id: unknown, type: string): SecretHolder | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  const node = RED.nodes.getNode(id) as SecretHolder | null;
  return node?.type === type ? node : undefined;
}

/** What a test request means: its settings and secrets as the deployed node would use them. */
export interface TestRequest<K extends string> {
  settings: Record<string, unknown>;
  secrets: Partial<Record<K, string>>;
  /** A secret the deployed node holds was used. */
  stored: boolean;
  target: string | undefined;
}

/**
 * A test request as the deployed node would log in with it. Settings written
 * `${NAME}` are filled in as the runtime fills in the deployed node's (in its
 * flow and group, RED.util.getSetting), and then only for the deployed node
 * `body.id` of `type` and only when the request, so filled in, targets exactly
 * what it targets: an environment variable is a secret the runtime holds, and
 * goes where the deployed node sends it or nowhere (no text of a refusal
 * shows a value). Secrets (`names`): what the dialog typed, or, where it sent
 * the unchanged placeholder or the same `${NAME}` the node holds, the deployed
 * node's own, filled in. Throws ADMIN_SECRET_RETYPE or ADMIN_ENV_NOT_DEPLOYED.
 */
export function testRequest<K extends string>(
  RED: NodeAPI,
  body: Record<string, unknown>,
  type: string,
  targetOf: (settings: Record<string, unknown>) => string | undefined,
  names: readonly K[],
): TestRequest<K> {
  const settings: Record<string, unknown> = { ...body };
  // Secrets are filled in below, and only where the node holds them.
  const fromEnv = Object.keys(body).filter(
    (k) => !(k in SECRET_WORDS) && envReference(body[k]) !== undefined,
  );
  if (fromEnv.length > 0) {
    const node = deployedOfType(RED, body.id, type);
    if (!node) throw notDeployed();
    for (const k of fromEnv) settings[k] = filledIn(RED, node, body[k]);
  }
  const target = targetOf(settings);
  if (fromEnv.length > 0 && !deployedWithTarget(RED, body.id, type, target)) throw notDeployed();
  return { settings, target, ...requestSecrets(RED, settings, type, target, names) };
}

/**
 * The secrets of a test request: what the dialog typed, or, where it sent the
 * unchanged placeholder (or the `${NAME}` the deployed node holds), the stored
 * secret of the deployed node `body.id`, filled in from the environment as the
 * runtime does; that only when the node is of `type` and `target` is exactly
 * its target. Otherwise ADMIN_SECRET_RETYPE (or ADMIN_ENV_NOT_DEPLOYED for a
 * `${NAME}` the node does not hold). `names` are the secret fields the
 * request's authentication type uses.
 */
function requestSecrets<K extends string>(
  RED: NodeAPI,
  body: Record<string, unknown>,
  type: string,
  target: string | undefined,
  names: readonly K[],
): { secrets: Partial<Record<K, string>>; stored: boolean } {
  const secrets: Partial<Record<K, string>> = {};
  const wanted = names.filter((name) => body[name] === UNCHANGED || envReference(body[name]) !== undefined);
  for (const name of names) {
    const sent = body[name];
    if (typeof sent === 'string' && !wanted.includes(name)) secrets[name] = sent;
  }
  if (wanted.length === 0) return { secrets, stored: false };
  const deployed = deployedWithTarget(RED, body.id, type, target);
  if (!deployed) {
    if (wanted.some((name) => body[name] !== UNCHANGED)) throw notDeployed();
    throw new CodedError(
      AdminCodes.SECRET_RETYPE,
      `Type the ${wanted.map((name) => SECRET_WORDS[name] ?? name).join(' and ')} again: a stored secret is used only with the settings the node was deployed with (address, organization, user, certificate, authentication and TLS).`,
    );
  }
  const stored = RED.nodes.getCredentials(deployed.id) ?? {};
  for (const name of wanted) {
    const value = stored[name];
    // A ${NAME} typed into the dialog stands for the node's secret only when it is the node's own.
    if (body[name] !== UNCHANGED && body[name] !== value) throw notDeployed();
    const filled = filledIn(RED, deployed, value);
    if (filled !== undefined && filled !== null) secrets[name] = String(filled);
  }
  return { secrets, stored: true };
}
