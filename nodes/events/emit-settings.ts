/**
 * The settings of a sink (a cloudevent-sink config node's, or those a
 * cloudevent emit of an older version kept itself) and the text settings of
 * cloudevent emit, read strictly: a bad line is refused, not ignored.
 */
import { outboundOf, type ConnectionDef } from '../common/core-config';
import { CodedError } from '../common/errors';
import { numberSetting } from '../common/glue';
import type { NodeAPI } from '../common/red';
import { DeliveryCodes, type SinkOptions } from './delivery';

const CONFIG_INVALID = DeliveryCodes.CONFIG_INVALID;

/**
 * "Name: value" lines → headers; refuses names that are not HTTP tokens and
 * values with line breaks. `secret`: the lines hold a credential, so an error
 * never quotes them.
 */
export function parseHeaderLines(text: string, secret = false): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of (text ?? '').split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new CodedError(
        CONFIG_INVALID,
        secret
          ? 'The secret header is not "Name: value".'
          : `Header line "${line.trim()}" is not "Name: value".`,
      );
    }
    if (name.startsWith('ce-') || name === 'content-type' || name === 'authorization') {
      throw new CodedError(CONFIG_INVALID, `Header ${name} is set by the node itself.`);
    }
    headers[name] = line.slice(i + 1).trim();
  }
  return headers;
}

/** "name=value" lines → extension attributes (names are checked when the event is built). */
export function parseExtensionLines(text: string): Record<string, string> {
  const ext: Record<string, string> = {};
  for (const line of (text ?? '').split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf('=');
    if (i <= 0) throw new CodedError(CONFIG_INVALID, `Extension line "${line.trim()}" is not "name=value".`);
    ext[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return ext;
}

/** What a sink's settings say: where, how to authenticate, what else every request carries. */
export interface SinkDef extends ConnectionDef {
  url?: string;
  authType?: 'none' | 'bearer' | 'basic';
  /** "Name: value" lines. */
  headers?: string;
  /** Seconds per request. */
  timeout?: number | string;
  /** Webhook handshake (OPTIONS) before the first event. */
  handshake?: boolean;
}

export interface SinkCredentials {
  token: string;
  username: string;
  password: string;
  /** One "Name: value" header the sink wants, e.g. an API key. */
  secretHeader: string;
}

/** Do the settings send a credential (which then must not cross the network in the clear)? */
export function sendsSecret(def: SinkDef, creds: Partial<SinkCredentials>): boolean {
  return (def.authType ?? 'none') !== 'none' || Boolean(creds.secretHeader?.trim());
}

/**
 * A sink's settings as a Sink's options; `origin` is its WebHook-Request-Origin.
 * A TLS configuration or proxy that is not deployed is refused.
 */
export function sinkOptions(
  RED: NodeAPI,
  def: SinkDef,
  creds: Partial<SinkCredentials>,
  origin: string,
): SinkOptions {
  return {
    url: String(def.url ?? '').trim(),
    headers: { ...parseHeaderLines(def.headers ?? ''), ...parseHeaderLines(creds.secretHeader ?? '', true) },
    auth: {
      type: def.authType ?? 'none',
      token: creds.token,
      username: creds.username,
      password: creds.password,
    },
    ...outboundOf(RED, def),
    timeoutMs: numberSetting(def.timeout, 10, 1, 600) * 1000,
    handshake: def.handshake === true,
    origin,
  };
}
