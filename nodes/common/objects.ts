/**
 * `{ ...base, ...extra }` for objects made once per event or message. On
 * Node 20 (V8 11) an object made with spread syntax turns slow as soon as a
 * property is added to it: 1–2 µs per property, more than decoding the event.
 * Object.assign makes the same object in a tenth of the time; Node 22 and 24
 * do not care. Use it on the paths every event takes (see docs/benchmarks.md).
 */
export function extended<T extends object, U extends object>(base: T, extra: U): Omit<T, keyof U> & U {
  return Object.assign({}, base, extra) as Omit<T, keyof U> & U;
}

/**
 * The object without its undefined properties (what JSON would keep), made
 * with one loop: `Object.fromEntries(Object.entries(o).filter(...))` builds an
 * array per property on every event.
 */
export function definedOnly<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/**
 * The one own property name of an object that has exactly one (an APIC object:
 * `{"fvBD": {...}}`), else undefined. A loop, not `Object.entries(o)`, which
 * builds an array per property on every object.
 */
export function soleKey(o: object): string | undefined {
  let found: string | undefined;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    if (found !== undefined) return undefined;
    found = key;
  }
  return found;
}
