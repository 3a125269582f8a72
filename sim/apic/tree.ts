/**
 * The simulated APIC's management information tree: managed objects by DN,
 * queries the way the REST API answers them (class and DN queries with
 * query-target, target-subtree-class, query-target-filter and order-by), and the
 * changes that become pushes. Objects keep their times where APIC keeps them:
 * `modTs` on configuration, "never" there on faults, health scores and records.
 * What happens in the fabric is in fabric.ts.
 */

export interface Mo {
  className: string;
  dn: string;
  attributes: Record<string, string>;
}

export type ChangeStatus = 'created' | 'modified' | 'deleted';

export interface Change {
  className: string;
  dn: string;
  status: ChangeStatus;
  /** What a push carries: everything when created, changed properties when modified, dn only when deleted. */
  attributes: Record<string, string>;
  /** The whole object after the change (before it, for a deletion): what filters look at. */
  full: Record<string, string>;
}

export interface QueryOptions {
  queryTarget?: string;
  targetSubtreeClass?: string[];
  filter?: Filter;
  orderBy?: OrderKey[];
}

/** One key of order-by=<class>.<property>[|asc|desc] (the REST API's sort option). */
export interface OrderKey {
  className: string;
  property: string;
  desc: boolean;
}

/** Parses an order-by value; throws an Error with APIC-like text when it cannot. */
export function parseOrderBy(text: string, known: Set<string>): OrderKey[] {
  return text.split(',').map((part) => {
    const m = /^([A-Za-z0-9]+)\.([A-Za-z0-9]+)(?:\|(asc|desc))?$/.exec(part);
    if (!m) throw new Error(`Invalid order-by ${part}`);
    if (!known.has(m[1] as string)) throw new Error(`Request failed, unresolved class for ${m[1]}`);
    return { className: m[1] as string, property: m[2] as string, desc: m[3] === 'desc' };
  });
}

function compareBy(keys: OrderKey[], a: Mo, b: Mo): number {
  for (const k of keys) {
    // Objects of other classes have no value for the key; they go last, in storage order.
    const x = a.className === k.className ? (a.attributes[k.property] ?? '') : undefined;
    const y = b.className === k.className ? (b.attributes[k.property] ?? '') : undefined;
    if (x === y) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return (x < y ? -1 : 1) * (k.desc ? -1 : 1);
  }
  return 0;
}

/** The classes this APIC knows (an unknown class is a 400, as on a real APIC). */
export const KNOWN_CLASSES = new Set([
  'polUni',
  'fvTenant',
  'fvCtx',
  'fvBD',
  'fvSubnet',
  'fvAp',
  'fvAEPg',
  'fvRsBd',
  'fvRsCtx',
  'fvCEp',
  'faultInst',
  'faultRecord',
  'eventRecord',
  'aaaModLR',
  'aaaActiveUserSession',
  'aaaUser',
  'fabricNode',
  'topSystem',
  'firmwareCtrlrRunning',
  'l3extOut',
  'vzBrCP',
  'infraWiNode',
  'healthInst',
  'l1PhysIf',
  'ethpmPhysIf',
  'tagInst',
]);

/**
 * Classes whose `modTs` APIC writes as "never" (public captures show it on
 * each): their times are `lastTransition`/`created` (faults), `created`
 * (records) and `updTs` (health scores).
 */
export const MODTS_NEVER = new Set([
  'faultInst',
  'faultDelegate',
  'faultRecord',
  'healthInst',
  'aaaModLR',
  'eventRecord',
]);

/** The times an object of the class carries from its creation, besides modTs. */
function creationTimes(className: string, ts: string): Record<string, string> {
  if (className.startsWith('fault') && className !== 'faultRecord')
    return { created: ts, lastTransition: ts };
  if (className === 'aaaModLR' || className === 'eventRecord' || className === 'faultRecord')
    return { created: ts };
  if (className === 'healthInst') return { updTs: ts };
  return {};
}

/**
 * Classes whose modifications are pushed whole: a public capture of a fault
 * push shows status "modified" with every attribute, not only the changed ones.
 */
const PUSHED_WHOLE = new Set(['faultInst']);

/** Splits a DN into RNs; brackets may hold slashes (rsdomAtt-[uni/vmmp-VMware/dom-dvs]). */
export function splitDn(dn: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of dn) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === '/' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

export function parentDn(dn: string): string {
  return splitDn(dn).slice(0, -1).join('/');
}

/** RFC 3339 with milliseconds and an offset, the way APIC writes modTs. */
export function apicTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

// --- query-target-filter -------------------------------------------------------------

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
  const num = (x: string) => (/^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x);
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

// --- the tree ----------------------------------------------------------------------------

export class MoTree {
  private readonly mos = new Map<string, Mo>();
  private lastTs = 0;
  private uid = 15374;

  get size(): number {
    return this.mos.size;
  }

  get(dn: string): Mo | undefined {
    return this.mos.get(dn);
  }

  all(): Mo[] {
    return [...this.mos.values()];
  }

  /** A strictly increasing time: two changes never share one. */
  now(): string {
    this.lastTs = Math.max(Date.now(), this.lastTs + 1);
    return apicTimestamp(this.lastTs);
  }

  create(className: string, dn: string, attributes: Record<string, string> = {}): Change {
    if (this.mos.has(dn)) return this.modify(dn, attributes);
    const rn = splitDn(dn).pop() as string;
    const ts = this.now();
    const full: Record<string, string> = {
      annotation: '',
      childAction: '',
      descr: '',
      dn,
      extMngdBy: '',
      lcOwn: 'local',
      modTs: MODTS_NEVER.has(className) ? 'never' : ts,
      monPolDn: 'uni/tn-common/monepg-default',
      name: rn.includes('-') ? rn.slice(rn.indexOf('-') + 1) : rn,
      nameAlias: '',
      rn,
      status: '',
      uid: String(this.uid++),
      userdom: ':all:',
      ...creationTimes(className, ts),
      ...attributes,
    };
    this.mos.set(dn, { className, dn, attributes: full });
    return {
      className,
      dn,
      status: 'created',
      attributes: { ...full, status: 'created' },
      full: { ...full },
    };
  }

  modify(dn: string, changes: Record<string, string>): Change {
    const mo = this.mos.get(dn);
    if (!mo) throw new Error(`no object ${dn}`);
    const modTs = MODTS_NEVER.has(mo.className) ? 'never' : this.now();
    Object.assign(mo.attributes, changes, { modTs });
    // Storage order: a changed object moves to the end (what an unsorted query answers in).
    this.mos.delete(dn);
    this.mos.set(dn, mo);
    return {
      className: mo.className,
      dn,
      status: 'modified',
      attributes: {
        ...(PUSHED_WHOLE.has(mo.className) ? mo.attributes : changes),
        dn,
        modTs,
        rn: mo.attributes.rn as string,
        status: 'modified',
        childAction: '',
      },
      full: { ...mo.attributes },
    };
  }

  /** Deletes an object and everything below it; one change each, children first. */
  delete(dn: string): Change[] {
    const doomed = [...this.mos.values()]
      .filter((m) => m.dn === dn || m.dn.startsWith(`${dn}/`))
      .sort((a, b) => b.dn.length - a.dn.length);
    return doomed.map((mo) => {
      this.mos.delete(mo.dn);
      const modTs = MODTS_NEVER.has(mo.className) ? 'never' : this.now();
      return {
        className: mo.className,
        dn: mo.dn,
        status: 'deleted' as const,
        attributes: { dn: mo.dn, modTs, rn: mo.attributes.rn as string, status: 'deleted', childAction: '' },
        full: { ...mo.attributes, modTs },
      };
    });
  }

  /** Drops the oldest objects of a class beyond `keep`, without changes (records ageing out). */
  prune(className: string, keep: number): void {
    const of = [...this.mos.values()].filter((m) => m.className === className);
    if (of.length <= keep) return;
    const age = (m: Mo) => m.attributes.created ?? m.attributes.modTs ?? '';
    of.sort((a, b) => (age(a) < age(b) ? -1 : 1));
    for (const mo of of.slice(0, of.length - keep)) this.mos.delete(mo.dn);
  }

  /** Is `mo` in the result of a class (or DN) query with these options? */
  selects(kind: 'class' | 'dn', target: string, options: QueryOptions, mo: Mo): boolean {
    const qt = options.queryTarget ?? 'self';
    let inScope: boolean;
    if (kind === 'dn') {
      if (qt === 'self') inScope = mo.dn === target;
      else if (qt === 'children') inScope = parentDn(mo.dn) === target;
      else inScope = mo.dn === target || mo.dn.startsWith(`${target}/`);
    } else if (qt === 'self') {
      inScope = mo.className === target;
    } else {
      // Below (or, for subtree, at) an instance of the class.
      const ancestors = qt === 'children' ? [parentDn(mo.dn)] : ancestorDns(mo.dn);
      inScope =
        (qt === 'subtree' && mo.className === target) ||
        ancestors.some((dn) => this.mos.get(dn)?.className === target);
    }
    if (!inScope) return false;
    if (qt !== 'self' && options.targetSubtreeClass && !options.targetSubtreeClass.includes(mo.className)) {
      return false;
    }
    return !options.filter || matchFilter(options.filter, mo);
  }

  /**
   * A query's result: sorted with order-by, else in storage order, where a
   * changed object moves to the end. APIC promises no order without order-by,
   * and this one makes unsorted paging visibly unstable when objects change.
   */
  query(kind: 'class' | 'dn', target: string, options: QueryOptions): Mo[] {
    const found = [...this.mos.values()].filter((mo) => this.selects(kind, target, options, mo));
    const keys = options.orderBy;
    return keys ? found.sort((a, b) => compareBy(keys, a, b)) : found;
  }
}

function ancestorDns(dn: string): string[] {
  const parts = splitDn(dn);
  return parts.slice(1).map((_, i) => parts.slice(0, parts.length - 1 - i).join('/'));
}

export const SIM_APIC_VERSION = '5.2(7f)';
