/**
 * What a user may watch: a class name (`fvBD`) or a DN (`uni/tn-prod`), each
 * optionally followed by allow-listed query options. Everything is checked
 * here and URLs are built with URL/URLSearchParams, so nothing typed into the
 * node or sent in `msg.subscribe` can change the request path or add
 * parameters.
 */
import { CodedError } from '../common/errors';

export const ENTRY_INVALID = 'APIC_ENTRY_INVALID';

/** A watch list that cannot be: a bad entry, a message that says no change, an entry not watched. */
export const EntryCodes = {
  ENTRY_INVALID,
  INPUT_INVALID: 'APIC_INPUT_INVALID',
  NOT_SUBSCRIBED: 'APIC_NOT_SUBSCRIBED',
} as const;

export interface WatchEntry {
  kind: 'class' | 'dn';
  /** The class name or DN. */
  target: string;
  /** Allow-listed query options, sorted by name. */
  options: [string, string][];
  /** Canonical text (target?option=value&...), the entry's identity. */
  key: string;
}

/** ACI class names: a lower-case package prefix, then the class (fvBD, l3extOut, aaaActiveUserSession). */
const CLASS_NAME = /^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$/;
const CLASS_LIST = /^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*(,[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)*$/;
/** DN characters: names, prefixes and bracketed keys such as [eth1/1] or [10.0.0.1]. */
const DN_CHARS = /^[A-Za-z0-9_.:\-[\]/]+$/;

const ONE_OF =
  (...values: string[]) =>
  (v: string) =>
    values.includes(v) ? undefined : `use one of ${values.join(', ')}`;

/** The query options that work with subscriptions (PROTOCOLS: APIC REST API), and how each is checked. */
const OPTIONS: Record<string, (value: string) => string | undefined> = {
  'query-target': ONE_OF('self', 'children', 'subtree'),
  'target-subtree-class': (v) => (CLASS_LIST.test(v) ? undefined : 'give class names separated by commas'),
  'query-target-filter': checkFilter,
  'rsp-subtree': ONE_OF('no', 'children', 'full'),
  'rsp-subtree-class': (v) => (CLASS_LIST.test(v) ? undefined : 'give class names separated by commas'),
  'rsp-subtree-include': (v) =>
    /^[a-z-]+(,[a-z-]+)*$/.test(v) ? undefined : 'give words separated by commas (e.g. faults,health)',
  'rsp-prop-include': ONE_OF('all', 'naming-only', 'config-only'),
};

/** Options the node sets itself. */
const RESERVED = new Set(['subscription', 'refresh-timeout', 'page', 'page-size', 'order-by']);

export const ENTRY_OPTIONS = Object.keys(OPTIONS);

/** A filter is a function expression, e.g. and(eq(fvBD.name,"web"),wcard(fvBD.dn,"tn-prod")). */
function checkFilter(v: string): string | undefined {
  if (v.length > 1024) return 'it is too long';
  if ([...v].some((c) => c < ' ' || c === '\u007f')) return 'it holds control characters';
  if (!/^[a-z]+\(.*\)$/.test(v)) return 'write it as a function, e.g. eq(fvBD.name,"web")';
  let depth = 0;
  let quoted = false;
  for (const c of v) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && --depth < 0) break;
  }
  return depth === 0 && !quoted ? undefined : 'its parentheses or quotes do not match';
}

function checkDn(dn: string): string | undefined {
  if (dn.length > 512) return 'it is too long';
  if (/^\/?api\//.test(dn)) return 'give the class or DN only, not an /api/... URL';
  if (/\.(json|xml)$/.test(dn)) return 'leave out .json';
  if (!DN_CHARS.test(dn)) return 'a DN holds letters, digits and _ . : - [ ] / only';
  const parts = dn.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'it has an empty, . or .. part';
  let depth = 0;
  for (const c of dn) {
    if (c === '[') depth++;
    else if (c === ']' && --depth < 0) break;
  }
  if (depth !== 0) return 'its brackets do not match';
  return undefined;
}

/**
 * Splits the options at `&`, except inside double quotes, so a filter can
 * compare with a text such as "R&D". Safe: every value is checked on its own
 * and URL-encoded when the request is built, so it cannot add a parameter.
 */
function splitQuery(query: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let current = '';
  for (const c of query) {
    if (c === '"') quoted = !quoted;
    if (c === '&' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current) parts.push(current);
  return parts;
}

/**
 * %XX escapes are decoded everywhere; inside the quotes of a filter a `%`
 * that starts no escape is taken as it is ("100%").
 */
function decodeValue(name: string, text: string): string {
  if (name !== 'query-target-filter') return decodeURIComponent(text);
  let quoted = false;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') quoted = !quoted;
    out += c === '%' && quoted && !/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3)) ? '%25' : c;
  }
  return decodeURIComponent(out);
}

function refuse(entry: string, why: string): never {
  throw new CodedError(ENTRY_INVALID, `"${entry}" is not a valid subscription: ${why}.`, { entry });
}

/** Parses one entry: `fvBD`, `uni/tn-prod?query-target=subtree`, ... */
export function parseEntry(text: string): WatchEntry {
  const raw = String(text).trim();
  if (!raw) refuse(raw, 'it is empty');
  if (raw.length > 2048) refuse(raw.slice(0, 40) + '…', 'it is too long');
  const q = raw.indexOf('?');
  const target = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);

  let kind: WatchEntry['kind'];
  if (CLASS_NAME.test(target)) {
    kind = 'class';
  } else {
    const why = checkDn(target);
    if (why) {
      refuse(raw, /^[A-Za-z0-9]+$/.test(target) ? `${target} is neither a class name (fvBD) nor a DN` : why);
    }
    kind = 'dn';
  }

  const options = new Map<string, string>();
  for (const part of splitQuery(query)) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq === -1 ? part : part.slice(0, eq)).trim();
      value = eq === -1 ? '' : decodeValue(name, part.slice(eq + 1)).trim();
    } catch {
      refuse(raw, `"${part}" has a broken %-escape`);
    }
    if (RESERVED.has(name)) refuse(raw, `${name} is set by the node`);
    const check = OPTIONS[name];
    if (!check) refuse(raw, `unknown option "${name}" (allowed: ${ENTRY_OPTIONS.join(', ')})`);
    if (options.has(name)) refuse(raw, `${name} is given twice`);
    if (!value) refuse(raw, `${name} has no value`);
    const why = check(value);
    if (why) refuse(raw, `${name}: ${why}`);
    options.set(name, value);
  }
  const sorted = [...options.entries()].sort(([a], [b]) => a.localeCompare(b));
  const key = sorted.length ? `${target}?${sorted.map(([k, v]) => `${k}=${v}`).join('&')}` : target;
  return { kind, target, options: sorted, key };
}

/**
 * Parses a list: one entry per line (or an array of them); blank lines and
 * lines starting with # are skipped, repeats dropped. Every bad line is named
 * in one error, and nothing is accepted when any line is bad.
 */
export function parseEntries(input: unknown): WatchEntry[] {
  if (Array.isArray(input)) {
    const odd = input.findIndex((v) => typeof v !== 'string');
    if (odd !== -1) {
      throw new CodedError(
        ENTRY_INVALID,
        `Item ${odd + 1} of the list is not a string (${input[odd] === null ? 'null' : typeof input[odd]}); ` +
          'give each class or DN as a string.',
      );
    }
  }
  const lines = Array.isArray(input)
    ? (input as string[]).flatMap((v) => v.split(/\r?\n/))
    : typeof input === 'string'
      ? input.split(/\r?\n/)
      : undefined;
  if (!lines) {
    throw new CodedError(ENTRY_INVALID, 'Give a class or DN as a string, or a list of them.');
  }
  const entries = new Map<string, WatchEntry>();
  const problems: string[] = [];
  lines.forEach((line, i) => {
    const text = line.trim();
    if (!text || text.startsWith('#')) return;
    try {
      const entry = parseEntry(text);
      entries.set(entry.key, entry);
    } catch (err) {
      problems.push(lines.length > 1 ? `line ${i + 1}: ${(err as Error).message}` : (err as Error).message);
    }
  });
  if (problems.length) throw new CodedError(ENTRY_INVALID, problems.join(' '), { problems });
  return [...entries.values()];
}

/**
 * The request URL of an entry on one APIC: /api/class/<class>.json or
 * /api/mo/<dn>.json with the entry's options and the node's own `extra`.
 * Spaces are sent as %20 (never +), which every decoder reads the same way.
 */
export function entryUrl(origin: string, entry: WatchEntry, extra: Record<string, string> = {}): URL {
  const url = new URL(origin);
  url.pathname = entry.kind === 'class' ? `/api/class/${entry.target}.json` : `/api/mo/${entry.target}.json`;
  const params = new URLSearchParams(entry.options);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  url.search = params.toString().replace(/\+/g, '%20');
  return url;
}

/**
 * The class to sort a paged answer by, when the answer holds one class: the
 * class itself for a class query, the one target-subtree-class of a children
 * or subtree query. Mixed answers (or a single object) are read unsorted.
 */
export function orderClass(entry: WatchEntry): string | undefined {
  const option = (name: string) => entry.options.find(([k]) => k === name)?.[1];
  const target = option('query-target') ?? 'self';
  if (target === 'self') return entry.kind === 'class' ? entry.target : undefined;
  const classes = option('target-subtree-class')?.split(',') ?? [];
  return classes.length === 1 ? classes[0] : undefined;
}
