/**
 * query-target-filter as the simulated APIC reads and applies it: eq, ne, lt,
 * gt, le, ge, bw, wcard, and, or, not over properties of a class. Times (such
 * as `created`) compare as instants, whatever offset each is written with.
 */

export type Filter = { fn: string; args: (Filter | string)[] } | { ref: [string, string] } | { lit: string };

/** Parses eq(fvBD.name,"web") and friends; throws an Error with APIC-like text when it cannot. */
export function parseFilter(text: string): Filter {
  let i = 0;
  const fail = (): never => {
    throw new Error(`Invalid filter expression at position ${i}: ${text}`);
  };
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  const term = (): Filter => {
    skip();
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1) fail();
      const lit = text.slice(i + 1, end);
      i = end + 1;
      return { lit };
    }
    const m = /^[A-Za-z0-9_.-]+/.exec(text.slice(i));
    if (!m) return fail();
    i += m[0].length;
    skip();
    if (text[i] === '(') {
      i++;
      const args: Filter[] = [];
      skip();
      while (text[i] !== ')') {
        args.push(term());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail();
      }
      i++;
      return { fn: m[0], args };
    }
    const dot = m[0].indexOf('.');
    if (dot === -1) return { lit: m[0] };
    return { ref: [m[0].slice(0, dot), m[0].slice(dot + 1)] };
  };
  const f = term();
  skip();
  if (i !== text.length || !('fn' in f)) fail();
  check(f as Filter);
  return f;
}

const FUNCTIONS = new Set(['eq', 'ne', 'lt', 'gt', 'le', 'ge', 'wcard', 'and', 'or', 'not', 'bw']);

function check(f: Filter): void {
  if (!('fn' in f)) return;
  if (!FUNCTIONS.has(f.fn)) throw new Error(`Invalid filter function ${f.fn}`);
  f.args.forEach((a) => typeof a !== 'string' && check(a));
}

function value(arg: Filter | string, mo: { className: string; attributes: Record<string, string> }) {
  if (typeof arg === 'string') return arg;
  if ('lit' in arg) return arg.lit;
  if ('ref' in arg) return arg.ref[0] === mo.className ? (mo.attributes[arg.ref[1]] ?? '') : undefined;
  return undefined;
}

/** A date (`2024-03-20`, `2024-03-20T05:00`, `...T05:00:00.123+02:00`): APIC compares these as instants. */
const TIME = /^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/;

/** What a value compares as: a number, an instant (ms), or the text itself. */
function comparable(x: string): number | string {
  if (/^-?\d+(\.\d+)?$/.test(x)) return Number(x);
  if (TIME.test(x)) {
    const ms = Date.parse(x);
    if (Number.isFinite(ms)) return ms;
  }
  return x;
}

/**
 * The earliest `created` a filter lets through (ms), when it says so at its
 * top: `ge(<cls>.created,"t")` or `gt(...)`, alone or within an `and`. The
 * simulator starts a log's query there instead of reading it all.
 */
export function createdFloor(f: Filter | undefined, className: string): number | undefined {
  if (!f || !('fn' in f)) return undefined;
  if (f.fn === 'and') {
    const floors = f.args.map((a) => (typeof a === 'string' ? undefined : createdFloor(a, className)));
    const known = floors.filter((t): t is number => t !== undefined);
    return known.length ? Math.max(...known) : undefined;
  }
  if (f.fn !== 'ge' && f.fn !== 'gt') return undefined;
  const [ref, lit] = f.args;
  if (typeof ref === 'string' || typeof lit === 'string' || !ref || !lit) return undefined;
  if (!('ref' in ref) || ref.ref[0] !== className || ref.ref[1] !== 'created' || !('lit' in lit))
    return undefined;
  const at = comparable(lit.lit);
  return typeof at === 'number' ? at : undefined;
}

export function matchFilter(
  f: Filter,
  mo: { className: string; attributes: Record<string, string> },
): boolean {
  if (!('fn' in f)) return false;
  const args = f.args;
  switch (f.fn) {
    case 'and':
      return args.every((a) => typeof a !== 'string' && matchFilter(a, mo));
    case 'or':
      return args.some((a) => typeof a !== 'string' && matchFilter(a, mo));
    case 'not':
      return !(args[0] && typeof args[0] !== 'string' && matchFilter(args[0], mo));
  }
  const [a, b, c] = args.map((x) => value(x, mo));
  if (a === undefined || b === undefined) return false; // a property of another class never matches
  const num = comparable;
  switch (f.fn) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'wcard':
      return a.includes(b);
    case 'lt':
      return num(a) < num(b);
    case 'gt':
      return num(a) > num(b);
    case 'le':
      return num(a) <= num(b);
    case 'ge':
      return num(a) >= num(b);
    case 'bw':
      return c !== undefined && num(a) >= num(b) && num(a) <= num(c);
  }
  return false;
}
