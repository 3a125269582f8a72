import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRfc3339, readTime, timeMillis } from '../../nodes/common/times';

const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));

/** The day exists when the calendar gives it back unchanged (02-30 rolls over into March). */
function realDay(v: string): boolean {
  const [y, m, d] = [v.slice(0, 4), v.slice(5, 7), v.slice(8, 10)].map(Number) as [number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

describe('the time reader', () => {
  it('reads the forms real systems write into RFC 3339, keeping fraction and offset', () => {
    const cases: [string, string][] = [
      // VCD's audit trail (go-vcloud-director samples/openapi, a VCD 10 lab)
      ['2020-07-19T18:57:34.398+0000', '2020-07-19T18:57:34.398+00:00'],
      ['2020-07-19T18:57:34.398-0530', '2020-07-19T18:57:34.398-05:30'],
      ['2020-07-19T18:57:34.398+00', '2020-07-19T18:57:34.398+00:00'],
      ['2020-07-19T18:57:34-07', '2020-07-19T18:57:34-07:00'],
      ['2020-07-19t18:57:34.398z', '2020-07-19T18:57:34.398Z'],
      ['2020-07-19t18:57:34+02:00', '2020-07-19T18:57:34+02:00'],
      // a VEBA CloudEvent: 9 digits; a .NET one: 7; an APIC object: 3 and an offset
      ['2021-02-03T09:11:49.123456789Z', '2021-02-03T09:11:49.123456789Z'],
      ['2020-02-11T21:29:54.9052539Z', '2020-02-11T21:29:54.9052539Z'],
      ['2016-04-28T14:04:57.934-07:00', '2016-04-28T14:04:57.934-07:00'],
      ['2011-06-18T14:33:27.787+03:00', '2011-06-18T14:33:27.787+03:00'],
    ];
    for (const [written, read] of cases) assert.equal(readTime(written), read, written);
  });

  it('gives an RFC 3339 time back as the same string', () => {
    const time = '2026-11-22T13:45:12.345678+01:00';
    assert.equal(readTime(time), time);
    assert.ok(Object.is(readTime(time), time));
  });

  it('refuses what no reading makes a time', () => {
    for (const value of [
      'never',
      '',
      '2020-07-19T18:57:34.398', // no offset: whose local time?
      '2020-07-19 18:57:34Z', // not ISO 8601
      '2020-07-19T18:57Z', // no seconds
      '2020-07-19T18:57:34.Z', // a dot without digits
      '2025-02-29T10:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-13-01T10:00:00Z',
      '2026-06-30T24:00:00Z',
      '2026-06-30T23:59:60Z', // a leap second: Date.parse and most consumers refuse it
      '2026-06-30T23:59:59+24:00',
      '2026-06-30T23:59:59+0160',
      '2026-06-30T23:59:59+1',
      '2026-06-30T23:59:59+01:0',
      '2026-06-30T23:59:59+01:00:00',
      '2026-06-30T23:59:59ZZ',
      '2026-06-30T23:59:59X',
      '２０２６-06-30T23:59:59Z', // full-width digits
      `2026-06-30T23:59:59.${'1'.repeat(50)}Z`,
      undefined,
      null,
      1_595_185_054_398,
      new Date(0),
    ]) {
      assert.equal(readTime(value), undefined, String(value));
      assert.equal(timeMillis(value), undefined, String(value));
    }
  });

  it('reads a megabyte of digits without working through it', () => {
    assert.equal(readTime(`2026-06-30T23:59:59.${'9'.repeat(1_000_000)}Z`), undefined);
    assert.equal(readTime('2'.repeat(1_000_000)), undefined);
  });

  it('tells RFC 3339 times by pattern and calendar: 2025-02-29 and 2026-04-31 are not times', () => {
    const time = fc
      .tuple(
        fc.constantFrom('2024', '2025', '2026', '0000', '9999'),
        two(0, 13),
        two(0, 32),
        two(0, 24),
        two(0, 60),
        fc.constantFrom('', '.5', '.123', '.123456789'),
        fc.constantFrom('Z', 'z', '+01:00', '-23:59', '+24:00', ''),
      )
      .map(([y, mo, d, h, s, f, z]) => `${y}-${mo}-${d}T${h}:30:${s}${f}${z}`);
    const reference = (v: string) =>
      /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/.test(
        v,
      ) && realDay(v);
    fc.assert(
      fc.property(time, (v) => isRfc3339(v) === reference(v)),
      { numRuns: 3000, seed: 20261202 },
    );
    assert.equal(isRfc3339('2024-02-29T10:00:00Z'), true);
    assert.equal(isRfc3339('2025-02-29T10:00:00Z'), false);
    assert.equal(isRfc3339('2026-04-31T10:00:00+02:00'), false);
    assert.equal(isRfc3339('2026-06-30T23:59:60Z'), false, 'no leap second');
    assert.equal(isRfc3339('never'), false);
  });

  it('strict RFC 3339 (a CloudEvent time) refuses the offsets the reader accepts', () => {
    assert.equal(isRfc3339('2018-04-05T18:31:00+05'), false);
    assert.equal(isRfc3339('2020-07-19T18:57:34.398+0000'), false);
    assert.equal(isRfc3339('2018-04-05T18:31:00+05:00'), true);
    assert.equal(isRfc3339('2018-04-05t18:31:00z'), true, 'RFC 3339 allows lower-case t and z');
    assert.equal(isRfc3339('2018-04-05T18:31:00.000000000Z'), true);
  });

  it('names the instant: the offset applied, a long fraction cut to the millisecond, early years as written', () => {
    assert.equal(timeMillis('2020-07-19T18:57:34.398+0000'), Date.UTC(2020, 6, 19, 18, 57, 34, 398));
    assert.equal(timeMillis('2020-07-19T20:57:34.398+02'), Date.UTC(2020, 6, 19, 18, 57, 34, 398));
    assert.equal(timeMillis('2020-07-19T13:27:34.3989-0530'), Date.UTC(2020, 6, 19, 18, 57, 34, 398));
    assert.equal(timeMillis('2018-04-05T17:31:00.5Z'), Date.UTC(2018, 3, 5, 17, 31, 0, 500));
    assert.equal(timeMillis('2018-04-05T17:31:00.05Z'), Date.UTC(2018, 3, 5, 17, 31, 0, 50));
    assert.equal(timeMillis('1970-01-01T00:00:00Z'), 0);
    assert.equal(timeMillis('0001-01-01T00:00:00Z'), -62_135_596_800_000);
    assert.equal(timeMillis('0099-12-31T23:59:59.999Z'), new Date('0099-12-31T23:59:59.999Z').getTime());
    assert.equal(timeMillis('9999-12-31T23:59:59.999+00:00'), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  });

  it('agrees with the calendar and Date.parse on any time it reads', () => {
    const time = fc
      .tuple(
        fc.integer({ min: 1000, max: 9999 }).map(String),
        two(0, 13),
        two(0, 32),
        two(0, 24),
        two(0, 60),
        fc.constantFrom('', '.5', '.123', '.1234567', '.123456789'),
        fc.constantFrom('Z', 'z', '+01:00', '-0930', '+05', '-23:59', '+24:00', ''),
        fc.constantFrom('T', 't'),
      )
      .map(([y, mo, d, h, s, f, z, t]) => `${y}-${mo}-${d}${t}${h}:30:${s}${f}${z}`);
    const inRange = (v: string) =>
      /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$/.test(
        v,
      ) && realDay(v);
    fc.assert(
      fc.property(time, (v) => {
        const read = readTime(v);
        if (!inRange(v)) return read === undefined;
        // Date.parse reads RFC 3339 with a colon offset and at most 3 fraction digits exactly.
        const asDateParses = read!.replace(/(\.\d{3})\d+/, '$1');
        return isRfc3339(read) && timeMillis(v) === Date.parse(asDateParses);
      }),
      { numRuns: 4000, seed: 20261206 },
    );
  });
});
