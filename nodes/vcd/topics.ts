import { CodedError } from '../common/errors';

export const TOPIC_INVALID = 'VCD_TOPIC_INVALID';

/** The dialog's presets; `{org}` and `{user}` become the session's bare UUIDs. */
export const TOPIC_PRESETS = {
  mine: 'publish/{org}/{user}',
  org: 'publish/{org}/+',
  all: 'publish/#',
  // A system administrator's {org} is System; metrics come per tenant org: metrics/<org>/<vApp>.
  metrics: 'metrics/#',
} as const;

/** The names in `{...}` of a topic level, found with indexOf (a regex for them backtracks on a run of "{"). */
function placeholders(level: string): string[] {
  const names: string[] = [];
  for (let open = level.indexOf('{'); open !== -1;) {
    const close = level.indexOf('}', open + 1);
    if (close === -1) break;
    names.push(level.slice(open + 1, close));
    open = level.indexOf('{', close + 1);
  }
  return names;
}

/**
 * Checks an MQTT topic filter template: `+` and `#` only as whole levels, `#`
 * last, no empty text, and no placeholder other than {org} and {user}.
 */
export function validateTopic(template: string): string {
  const t = template.trim();
  const fail = (why: string): never => {
    throw new CodedError(TOPIC_INVALID, `Topic "${template}" is not valid: ${why}`);
  };
  if (!t) fail('it is empty.');
  if (t.length > 1024) fail('it is too long.');
  const levels = t.split('/');
  levels.forEach((level, i) => {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1))
      fail('# must be the whole last level.');
    if (level.includes('+') && level !== '+') fail('+ must be a whole level.');
    for (const name of placeholders(level)) {
      if (name !== 'org' && name !== 'user') fail(`unknown placeholder {${name}}; use {org} or {user}.`);
    }
    if (level === '*') fail('* is not an MQTT wildcard; use + for one level or # for all below.');
  });
  return t;
}

export function expandTopic(template: string, ids: { orgUuid: string; userUuid: string }): string {
  return template.replaceAll('{org}', ids.orgUuid).replaceAll('{user}', ids.userUuid);
}

/** MQTT topic matching: does `topic` fall under `filter`? */
export function topicMatches(filter: string, topic: string): boolean {
  // A filter without wildcards (the usual publish/{org}/{user}) matches itself alone: no split per message.
  if (!filter.includes('+') && !filter.includes('#')) return filter === topic;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
