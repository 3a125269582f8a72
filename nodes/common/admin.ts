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
      if ((err as CodedError).code === AdminCodes.SECRET_RETYPE) {
        res.status(400).json({
          ok: false,
          code: AdminCodes.SECRET_RETYPE,
          category: 'retype',
          message: errorMessage(err),
        });
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
 * The secrets a test request means: what the dialog typed, or, where it sent
 * the unchanged placeholder, the stored secret of the deployed node `body.id`,
 * and that only when the node is of `type` and `target` is exactly its target.
 * Otherwise throws ADMIN_SECRET_RETYPE: the secret must be typed again.
 * `names` are the secret fields the request's authentication type uses.
 */
export function requestSecrets<K extends string>(
  RED: NodeAPI,
  body: Record<string, unknown>,
  type: string,
  target: string | undefined,
  names: readonly K[],
): { secrets: Partial<Record<K, string>>; stored: boolean } {
  const secrets: Partial<Record<K, string>> = {};
  const wanted = names.filter((name) => body[name] === UNCHANGED);
  for (const name of names) {
    const sent = body[name];
    if (typeof sent === 'string' && sent !== UNCHANGED) secrets[name] = sent;
  }
  if (wanted.length === 0) return { secrets, stored: false };
  const deployed = deployedWithTarget(RED, body.id, type, target);
  if (!deployed) {
    throw new CodedError(
      AdminCodes.SECRET_RETYPE,
      `Type the ${wanted.map((name) => SECRET_WORDS[name] ?? name).join(' and ')} again: a stored secret is used only with the settings the node was deployed with (address, organization, user, certificate, authentication and TLS).`,
    );
  }
  const stored = RED.nodes.getCredentials(deployed.id) ?? {};
  for (const name of wanted) {
    const value = stored[name];
    if (typeof value === 'string') secrets[name] = value;
  }
  return { secrets, stored: true };
}
