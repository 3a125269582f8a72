/**
 * The core config nodes a node may point at for how it connects, as the core
 * http request, mqtt and websocket nodes do: `tls-config` (CA, client
 * certificate, verification, server name) and `http proxy` (URL, hosts that
 * bypass it, credentials). Nodes saved before they could point at one keep
 * their own CA and "skip verification" fields until a TLS configuration is
 * chosen.
 */
import { CodedError } from './errors';
import type { ProxySettings } from './proxy';
import type { NodeAPI } from './red';
import type { TlsSettings } from './tls';

export const CoreConfigCodes = {
  /** The node names a TLS configuration or proxy that is not deployed (deleted, or disabled). */
  MISSING: 'CONFIG_NODE_MISSING',
  /** The TLS configuration could not read its files (it logs why). */
  TLS_INVALID: 'CONFIG_TLS_INVALID',
} as const;

/** What a node saves about how it connects: the config nodes, and the fields of older versions. */
export interface ConnectionDef {
  /** A core `tls-config` node. */
  tls?: string;
  /** A core `http proxy` node. */
  proxy?: string;
  /** Before a TLS configuration could be chosen: the node's own CA and "skip verification". */
  ca?: string;
  tlsInsecure?: boolean;
}

/** The core tls-config node as the runtime has it. */
interface TlsConfigNode {
  type: string;
  valid?: boolean;
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

/** The core `http proxy` node as the runtime has it. */
interface HttpProxyNode {
  type: string;
  url?: string;
  noproxy?: unknown;
  credentials?: { username?: string; password?: string };
}

const text = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);

function configNode<N extends { type: string }>(RED: NodeAPI, id: string, type: string, what: string): N {
  const node = RED.nodes.getNode(id) as N | null;
  if (!node || node.type !== type) {
    throw new CodedError(
      CoreConfigCodes.MISSING,
      `The ${what} this node uses (${id}) is not deployed: choose another or deploy it.`,
    );
  }
  return node;
}

/**
 * A node's TLS settings: its TLS configuration's when it names one (its CA is
 * trusted in addition to the system's roots, as every connection here does),
 * else its own fields of an older version.
 */
export function tlsSettingsOf(RED: NodeAPI, def: ConnectionDef): TlsSettings {
  const id = def.tls?.trim();
  if (!id) return { insecure: def.tlsInsecure === true, ca: def.ca };
  const node = configNode<TlsConfigNode>(RED, id, 'tls-config', 'TLS configuration');
  if (node.valid === false) {
    throw new CodedError(
      CoreConfigCodes.TLS_INVALID,
      'The TLS configuration could not read its certificates (its error is in the log).',
    );
  }
  const options = node.addTLSOptions({});
  return {
    insecure: options.rejectUnauthorized === false,
    ca: text(options.ca),
    cert: text(options.cert),
    key: text(options.key),
    passphrase: text(options.passphrase),
    servername: text(options.servername),
  };
}

/** A node's own proxy (an `http proxy` config node), or undefined: the environment's applies. */
export function proxySettingsOf(RED: NodeAPI, def: ConnectionDef): ProxySettings | undefined {
  const id = def.proxy?.trim();
  if (!id) return undefined;
  const node = configNode<HttpProxyNode>(RED, id, 'http proxy', 'proxy');
  const noProxy = Array.isArray(node.noproxy) ? node.noproxy.map(String) : [];
  return {
    url: String(node.url ?? ''),
    noProxy,
    username: node.credentials?.username || undefined,
    password: node.credentials?.password || undefined,
  };
}

/** Both, for the outbound settings of a client (`common/outbound`). */
export function outboundOf(RED: NodeAPI, def: ConnectionDef): { tls: TlsSettings; proxy?: ProxySettings } {
  return { tls: tlsSettingsOf(RED, def), proxy: proxySettingsOf(RED, def) };
}
