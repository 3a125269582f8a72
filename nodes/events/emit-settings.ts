/** The text settings of cloudevent-emit, read strictly: a bad line is refused, not ignored. */
import { CodedError } from '../common/errors';
import { DeliveryCodes } from './delivery';

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
