/**
 * The time reader at the edges the mutation run found untested: each separator, the century leap rule, the
 * lengths it reads from both sides, the zone forms and the year 100 boundary of the early-year count.
 */
import assert from 'node:assert/strict';
import { isRfc3339, readTime, timeMillis } from '../../nodes/common/times';

describe('times at their edges', () => {
  it('refuses a time with any one separator wrong', () => {
    const good = '2024-05-06T07:08:09Z';
    assert.equal(readTime(good), good);
    for (const at of [4, 7, 13, 16]) {
      const bad = `${good.slice(0, at)}x${good.slice(at + 1)}`;
      assert.equal(readTime(bad), undefined, bad);
      assert.equal(isRfc3339(bad), false, bad);
    }
    for (const bad of [
      '2024-05-06T07:0a:09Z',
      '2024-05-06Tx7:08:09Z',
      '2024-05-06T07:08:x9Z',
      '20/4-05-06T07:08:09Z',
    ]) {
      assert.equal(readTime(bad), undefined, `${bad}: a character that is no digit among the digits`);
    }
  });

  it('has 29 February in years divisible by 4, not by 100, and again by 400', () => {
    assert.equal(isRfc3339('2024-02-29T00:00:00Z'), true);
    assert.equal(isRfc3339('2023-02-29T00:00:00Z'), false);
    assert.equal(isRfc3339('1900-02-29T00:00:00Z'), false);
    assert.equal(isRfc3339('2000-02-29T00:00:00Z'), true);
  });

  it('refuses a month, day, hour, minute or second out of range, each alone', () => {
    for (const bad of [
      '2024-00-06T07:08:09Z',
      '2024-13-06T07:08:09Z',
      '2024-05-00T07:08:09Z',
      '2024-05-06T24:08:09Z',
      '2024-05-06T07:60:09Z',
      '2024-05-06T07:08:60Z',
    ]) {
      assert.equal(readTime(bad), undefined, bad);
      assert.equal(isRfc3339(bad), false, bad);
    }
    assert.equal(isRfc3339('2024-12-31T23:59:59Z'), true);
  });

  it('reads from 20 characters up to 64, not 19 or 65', () => {
    assert.equal(isRfc3339('2024-05-06T07:08:09Z'), true);
    assert.equal(isRfc3339('2024-05-06T07:08:09'), false);
    const fraction = (n: number) => `2024-05-06T07:08:09.${'1'.repeat(n)}Z`;
    assert.equal(fraction(43).length, 64);
    assert.equal(isRfc3339(fraction(43)), true);
    assert.equal(readTime(fraction(43)), fraction(43));
    assert.equal(isRfc3339(fraction(44)), false);
    assert.equal(readTime(fraction(44)), undefined);
    assert.equal(readTime('2024-05-06T07:08:09.Z'), undefined, 'a dot without digits');
    assert.equal(isRfc3339('2024-05-06T07:08:09.Z'), false);
  });

  it('reads the offsets +hh, +hhmm and +hh:mm, and no other', () => {
    assert.equal(readTime('2024-05-06T07:08:09+02'), '2024-05-06T07:08:09+02:00');
    assert.equal(readTime('2024-05-06T07:08:09-0230'), '2024-05-06T07:08:09-02:30');
    assert.equal(readTime('2024-05-06T07:08:09+02:30'), '2024-05-06T07:08:09+02:30');
    assert.equal(readTime('2024-05-06t07:08:09+02:30'), '2024-05-06T07:08:09+02:30', 'a lower-case t');
    for (const bad of ['*02:00', '+2:300', '+02:3', '+0230x', '+24:00', '+02:60']) {
      assert.equal(readTime(`2024-05-06T07:08:09${bad}`), undefined, bad);
    }
    assert.equal(isRfc3339('2024-05-06T07:08:09+0230'), false, 'strict: only +hh:mm');
    assert.equal(isRfc3339('2024-05-06T07:08:09+02:30'), true);
    assert.equal(isRfc3339('2024-05-06T07:08:09+02;30'), false);
  });

  it('counts the year 99 as written and 100 as Date.UTC does, and a fraction of one digit as tenths', () => {
    assert.equal(timeMillis('0099-01-01T00:00:00Z'), Date.parse('0099-01-01T00:00:00Z'));
    assert.equal(timeMillis('0100-01-01T00:00:00Z'), Date.parse('0100-01-01T00:00:00Z'));
    assert.equal(timeMillis('2024-05-06T07:08:09.5Z'), Date.parse('2024-05-06T07:08:09.500Z'));
    assert.equal(timeMillis('2024-05-06T07:08:09Z'), Date.parse('2024-05-06T07:08:09Z'));
  });
});
