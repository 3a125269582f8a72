import assert from 'node:assert/strict';
import { definedOnly, extended, soleKey } from '../../nodes/common/objects';

describe('per-event object helpers', () => {
  it('extended: the base with the extra properties over it, the base untouched', () => {
    const base = { a: 1, b: 2 };
    assert.deepEqual(extended(base, { b: 3, c: 4 }), { a: 1, b: 3, c: 4 });
    assert.deepEqual(base, { a: 1, b: 2 });
  });

  it('definedOnly: what JSON would keep of the top level, own properties only', () => {
    const proto = { inherited: 'x' };
    const o = Object.assign(Object.create(proto) as Record<string, unknown>, {
      org: 'acme',
      user: undefined,
      ok: false,
      n: 0,
      none: null,
    });
    const out = definedOnly(o);
    assert.deepEqual(Object.keys(out), ['org', 'ok', 'n', 'none']);
    assert.equal(JSON.stringify(out), JSON.stringify(o));
  });

  it('soleKey: the name of an object with exactly one own property, else undefined', () => {
    assert.equal(soleKey({ fvBD: { attributes: {} } }), 'fvBD');
    assert.equal(soleKey({}), undefined);
    assert.equal(soleKey({ fvBD: {}, fvCtx: {} }), undefined);
    assert.equal(soleKey(Object.assign(Object.create({ inherited: 1 }) as object, { fvBD: {} })), 'fvBD');
    assert.equal(soleKey([{ fvBD: {} }]), '0');
  });
});
