/**
 * The simulated APIC's management information tree: managed objects by DN,
 * queries the way the REST API answers them (class and DN queries with
 * query-target, target-subtree-class, query-target-filter and order-by), and the
 * changes that become pushes. Objects keep their times where APIC keeps them:
 * `modTs` on configuration, "never" there on faults, health scores and records.
 * What happens in the fabric is in fabric.ts.
 */

export type { Change, ChangeStatus, Mo } from './mo';
import type { Change, Mo } from './mo';
import { apicTimestamp, parentDn, splitDn } from './mo';
import { Population, type PopulationKind } from './population';
export { apicTimestamp, parentDn, splitDn } from './mo';
import { matchFilter, type Filter } from './filter';
export { matchFilter, parseFilter, type Filter } from './filter';

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

// --- the tree ----------------------------------------------------------------------------

export class MoTree {
  private readonly mos = new Map<string, Mo>();
  /** Large sets of one class each, made on demand (population.ts): not in `all()`. */
  private readonly populations = new Map<string, Population>();
  private lastTs = 0;
  private uid = 15374;

  get size(): number {
    let n = this.mos.size;
    for (const p of this.populations.values()) n += p.size;
    return n;
  }

  get(dn: string): Mo | undefined {
    const found = this.mos.get(dn);
    if (found) return found;
    const [pop, i] = this.inPopulation(dn);
    return pop?.object(i);
  }

  /** The objects of the tree itself (populations are not listed: they are too many). */
  all(): Mo[] {
    return [...this.mos.values()];
  }

  /**
   * Adds `count` objects of a kind, made on demand: configuration and state
   * dated over the last `count` ms, a log one record a second up to now.
   */
  populate(kind: PopulationKind, count: number): Population {
    if (this.populations.has(kind.className)) throw new Error(`${kind.className} is populated already`);
    const spacing = kind.record ? 1000 : 1;
    const pop = new Population(kind, count, Date.now() - count * spacing - 1, apicTimestamp, spacing);
    this.populations.set(kind.className, pop);
    return pop;
  }

  population(className: string): Population | undefined {
    return this.populations.get(className);
  }

  /** Every population, for changes generated across them. */
  allPopulations(): Population[] {
    return [...this.populations.values()];
  }

  private inPopulation(dn: string): [Population, number] | [undefined, 0] {
    for (const pop of this.populations.values()) {
      const i = pop.indexOf(dn);
      if (i !== undefined) return [pop, i];
    }
    return [undefined, 0];
  }

  /** DNs of a class: the tree's, or the first `max` of its population. */
  dnsOf(className: string, max: number): string[] {
    const own = this.all()
      .filter((mo) => mo.className === className)
      .map((mo) => mo.dn);
    const pop = this.populations.get(className);
    return pop ? [...own, ...pop.range(0, max).map((mo) => mo.dn)] : own;
  }

  /** A new object of a population, made now. */
  grow(className: string): Change {
    const pop = this.populations.get(className);
    if (!pop) throw new Error(`no population of ${className}`);
    return pop.create(Date.parse(this.now()));
  }

  private modTsOf(className: string): string {
    return MODTS_NEVER.has(className) ? 'never' : this.now();
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

  modify(dn: string, changes?: Record<string, string>): Change {
    const mo = this.mos.get(dn);
    if (!mo) {
      const [pop, i] = this.inPopulation(dn);
      if (!pop) throw new Error(`no object ${dn}`);
      const time = this.now();
      return pop.modify(i, time, MODTS_NEVER.has(pop.className) ? 'never' : time, changes);
    }
    changes ??= { descr: `changed at ${this.now()}` };
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
    if (!this.mos.has(dn)) {
      const [pop, i] = this.inPopulation(dn);
      if (pop) return [pop.delete(i, this.modTsOf(pop.className))];
    }
    const doomed = [...this.mos.values()]
      .filter((m) => m.dn === dn || m.dn.startsWith(`${dn}/`))
      .sort((a, b) => b.dn.length - a.dn.length);
    return doomed.map((mo) => {
      this.mos.delete(mo.dn);
      const modTs = this.modTsOf(mo.className);
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
    for (const pop of this.populations.values()) {
      for (const i of pop.numbersFrom(0)) {
        const mo = pop.object(i);
        if (this.selects(kind, target, options, mo)) found.push(mo);
      }
    }
    const keys = options.orderBy;
    return keys ? found.sort((a, b) => compareBy(keys, a, b)) : found;
  }
  /**
   * Objects [from, from + count) of a query's result, and how many it has. A
   * class query of a populated class is answered from the population alone,
   * page by page; anything else reads the whole result.
   */
  page(
    kind: 'class' | 'dn',
    target: string,
    options: QueryOptions,
    from: number,
    count: number,
  ): { total: number; mos: Mo[] } {
    const pop = this.populations.get(target);
    const alone =
      pop !== undefined &&
      kind === 'class' &&
      (options.queryTarget ?? 'self') === 'self' &&
      ![...this.mos.values()].some((mo) => mo.className === target);
    const fast = alone ? pop.page(options, from, count) : undefined;
    if (fast) return fast;
    const all = this.query(kind, target, options);
    return { total: all.length, mos: all.slice(from, from + count) };
  }
}

function ancestorDns(dn: string): string[] {
  const parts = splitDn(dn);
  return parts.slice(1).map((_, i) => parts.slice(0, parts.length - 1 - i).join('/'));
}

export const SIM_APIC_VERSION = '5.2(7f)';
