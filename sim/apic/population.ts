/**
 * A large set of objects of one class, made on demand from their number: a
 * fabric of hundreds of thousands of endpoints, faults or records without the
 * simulator holding them (or sorting them for every page). Object i's dn sorts
 * before object i+1's, and a record's `created` grows with i, so a page sorted
 * by dn is a range of numbers and a time filter on `created` is a binary
 * search. Changes are kept beside the numbers: attributes changed, numbers
 * deleted; new objects take the next numbers.
 */
import { createdFloor, matchFilter, type Filter } from './filter';
import { splitDn, type Change, type Mo } from './mo';

/** What a population's class looks like: the dn and attributes of object i, made at `time`. */
export interface PopulationKind {
  className: string;
  dnOf(i: number): string;
  attributesOf(i: number, time: string): Record<string, string>;
  /** Attributes a modification changes (the n-th modification of object i). */
  modificationOf(i: number, n: number, time: string): Record<string, string>;
  /** A log class (records): `created` is its time, kept in number order. */
  record?: boolean;
}

const rnOf = (dn: string) => splitDn(dn).pop() as string;

/** What a page of a population is asked for. */
export interface PageQuery {
  filter?: Filter;
  orderBy?: { property: string; desc: boolean }[];
}

export class Population {
  /** Numbers handed out so far (deleted ones included). */
  private count: number;
  /** Deleted numbers, sorted. */
  private readonly deleted: number[] = [];
  private readonly deletedSet = new Set<number>();
  /** Attributes changed after creation, by number. */
  private readonly changed = new Map<number, Record<string, string>>();
  /** How many were made at the start (their times are counted, not kept). */
  private readonly initial: number;
  /** When each number made later was made (ms), from `initial` on. */
  private readonly madeAt: number[] = [];
  private modifications = 0;
  /** Bumped at every change: cached query results are only as good as it. */
  version = 0;

  constructor(
    readonly kind: PopulationKind,
    initial: number,
    /** When the initial objects were made: object i at start + i × spacingMs, so times differ and grow. */
    private readonly start: number,
    private readonly stamp: (ms: number) => string,
    private readonly spacingMs = 1,
  ) {
    this.count = initial;
    this.initial = initial;
  }

  get className(): string {
    return this.kind.className;
  }

  /** Objects alive now. */
  get size(): number {
    return this.count - this.deleted.length;
  }

  private timeOf(i: number): number {
    return i < this.initial ? this.start + i * this.spacingMs : (this.madeAt[i - this.initial] as number);
  }

  /** The number of a dn of this population, if it is one of its live objects. */
  indexOf(dn: string): number | undefined {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const d = this.kind.dnOf(mid);
      if (d === dn) return this.deletedSet.has(mid) ? undefined : mid;
      if (d < dn) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Object i as it is now. */
  object(i: number): Mo {
    const attributes = this.kind.attributesOf(i, this.stamp(this.timeOf(i)));
    const changed = this.changed.get(i);
    if (changed) Object.assign(attributes, changed);
    return { className: this.kind.className, dn: this.kind.dnOf(i), attributes };
  }

  /** Live numbers ≤ i. */
  private liveUpTo(i: number): number {
    let lo = 0;
    let hi = this.deleted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.deleted[mid] as number) <= i) lo = mid + 1;
      else hi = mid;
    }
    return i + 1 - lo;
  }

  /** The number of the live object at position `position` (0-based) in dn order. */
  private select(position: number): number {
    let lo = position;
    let hi = position + this.deleted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.liveUpTo(mid) >= position + 1) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Live objects at positions [from, to) in dn order. */
  range(from: number, to: number): Mo[] {
    const out: Mo[] = [];
    if (from >= this.size) return out;
    for (let i = this.select(from); i < this.count && out.length < to - from; i++) {
      if (!this.deletedSet.has(i)) out.push(this.object(i));
    }
    return out;
  }

  /** Live numbers from the first whose time is at or after `ms` (records: their `created`). */
  firstAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeOf(mid) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Live numbers in [from, count). */
  *numbersFrom(from: number): Generator<number> {
    for (let i = from; i < this.count; i++) if (!this.deletedSet.has(i)) yield i;
  }

  /** A new object (the next number), made now. */
  create(now: number): Change {
    const i = this.count++;
    this.madeAt.push(i === 0 ? now : Math.max(now, this.timeOf(i - 1) + 1));
    this.version++;
    const mo = this.object(i);
    return {
      ...mo,
      status: 'created',
      attributes: { ...mo.attributes, status: 'created' },
      full: mo.attributes,
    };
  }

  /** Object i changed as its class changes (or as given) at `time`; `modTs` is the time or "never". */
  modify(i: number, time: string, modTs: string, attributes?: Record<string, string>): Change {
    const changes = { ...(attributes ?? this.kind.modificationOf(i, ++this.modifications, time)), modTs };
    this.changed.set(i, Object.assign(this.changed.get(i) ?? {}, changes));
    this.version++;
    const mo = this.object(i);
    return {
      className: mo.className,
      dn: mo.dn,
      status: 'modified',
      attributes: {
        ...changes,
        dn: mo.dn,
        modTs,
        rn: rnOf(mo.dn),
        status: 'modified',
        childAction: '',
      },
      full: mo.attributes,
    };
  }

  delete(i: number, modTs: string): Change {
    const mo = this.object(i);
    let at = this.deleted.length;
    while (at > 0 && (this.deleted[at - 1] as number) > i) at--;
    this.deleted.splice(at, 0, i);
    this.deletedSet.add(i);
    this.changed.delete(i);
    this.version++;
    return {
      className: mo.className,
      dn: mo.dn,
      status: 'deleted',
      attributes: { dn: mo.dn, modTs, rn: rnOf(mo.dn), status: 'deleted', childAction: '' },
      full: { ...mo.attributes, modTs },
    };
  }

  /**
   * One page of a class query answered by the population alone (dn order),
   * or undefined when the query asks for another order. A filter's matches
   * are found once per state of the population (from the floor its `created`
   * bound gives, for a log) and paged from there.
   */
  page(query: PageQuery, from: number, count: number): { total: number; mos: Mo[] } | undefined {
    const order = query.orderBy;
    const byDn = !order || (order.length === 1 && order[0]!.property === 'dn' && !order[0]!.desc);
    if (!byDn) return undefined;
    if (!query.filter) return { total: this.size, mos: this.range(from, from + count) };
    const numbers = this.matching(query.filter);
    return { total: numbers.length, mos: numbers.slice(from, from + count).map((i) => this.object(i)) };
  }

  private matched: { key: string; version: number; numbers: number[] } | undefined;

  private matching(filter: Filter): number[] {
    const key = JSON.stringify(filter);
    if (this.matched?.key === key && this.matched.version === this.version) return this.matched.numbers;
    const floor = this.kind.record ? createdFloor(filter, this.className) : undefined;
    const numbers: number[] = [];
    for (const i of this.numbersFrom(floor === undefined ? 0 : this.firstAtOrAfter(floor))) {
      if (matchFilter(filter, this.object(i))) numbers.push(i);
    }
    this.matched = { key, version: this.version, numbers };
    return numbers;
  }

  /** A live number, picked by `random` (for generated changes). */
  pick(random: () => number): number | undefined {
    if (this.size === 0) return undefined;
    return this.select(Math.floor(random() * this.size));
  }
}
