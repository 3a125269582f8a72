/** Checks on values that come from outside (messages, parsed answers) before they are read as a type. */

/** A plain object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** A plain object whose named fields are all strings. */
export function hasStringFields(value: unknown, ...keys: string[]): value is Record<string, unknown> {
  return isRecord(value) && keys.every((key) => typeof value[key] === 'string');
}

/**
 * The variable a setting still names as `${NAME}`: Node-RED fills in a setting whose whole value is `${NAME}` from
 * the environment when the flows start, and leaves the text as it is when the variable is not set.
 */
export function unsetVariable(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  return text.startsWith('${') && text.endsWith('}') && !text.slice(2, -1).includes('}')
    ? text.slice(2, -1)
    : undefined;
}

/** `The environment variable NAME is not set (the <what> is "${NAME}").`, or undefined when the value is no such name. */
export function unsetVariableMessage(what: string, value: unknown): string | undefined {
  const name = unsetVariable(value);
  return name === undefined
    ? undefined
    : `The environment variable ${name} is not set (the ${what} is "\${${name}}").`;
}
