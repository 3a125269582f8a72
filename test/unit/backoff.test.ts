/**
 * Backoff with equal jitter: every delay lies between half its step and the whole step, both bounds held,
 * so a retry is never a tight loop and never longer than promised.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Backoff, retryAfterMs, sleep, unlessAborted } from '../../nodes/common/backoff';

/** The highest draw Math.random can give. */
const HIGHEST = 1 - 2 ** -53;
const delays = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());

describe('backoff with equal jitter', () => {
  it('gives half the step with the lowest random draw and the whole step with the highest, up to the cap', () => {
    const options = { initialMs: 100, maxMs: 1000 };
    assert.deepEqual(delays(new Backoff({ ...options, random: () => 0 }), 6), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual(
      delays(new Backoff({ ...options, random: () => HIGHEST }), 6),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.deepEqual(delays(new Backoff({ ...options, random: () => 0.5 }), 5), [75, 150, 300, 600, 750]);
  });

  it('keeps every delay of a real random source within [step / 2, step]', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 8000 });
    for (let round = 0; round < 200; round++) {
      b.reset();
      delays(b, 5).forEach((delay, i) => {
        const step = Math.min(8000, 1000 * 2 ** i);
        assert.ok(
          delay >= step / 2 && delay <= step,
          `delay ${i}: ${delay} ms outside [${step / 2}, ${step}]`,
        );
      });
    }
  });

  it('starts at one second, doubles, stops at a minute unless told otherwise', () => {
    const b = new Backoff({ random: () => HIGHEST });
    assert.deepEqual(delays(b, 8), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    const slow = new Backoff({ initialMs: 10, factor: 3, random: () => HIGHEST });
    assert.deepEqual(delays(slow, 3), [10, 30, 90]);
  });

  it('counts the delays handed out, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, random: () => 0 });
    assert.equal(b.attempts, 0);
    delays(b, 3);
    assert.equal(b.attempts, 3);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 50);
  });
});

describe('Retry-After', () => {
  it('reads whole seconds, with the blanks around them', () => {
    assert.equal(retryAfterMs('12'), 12_000);
    assert.equal(retryAfterMs(' 7 '), 7000);
    assert.equal(retryAfterMs(['2', '5']), 2000, 'the first of repeated headers');
  });

  it('reads an HTTP date as the time left until it, never less than zero', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    assert.equal(retryAfterMs('Wed, 21 Oct 2026 07:28:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT', now), 0);
  });

  it('ignores what is neither', () => {
    for (const value of [undefined, '', 'soon', '7s', 'a7', '7a'])
      assert.equal(retryAfterMs(value), undefined, value);
  });
});

describe('sleep and unlessAborted', () => {
  it('leave no listener on a long-lived signal once they are over (thousands of retries share one)', async () => {
    const stop = new AbortController();
    await sleep(1, stop.signal);
    await unlessAborted(Promise.resolve(1), stop.signal);
    await unlessAborted(Promise.reject(new Error('failed')), stop.signal).catch(() => undefined);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  });

  it('sleep resolves once its time has passed, and rejects at once with the reason when aborted', async () => {
    const started = Date.now();
    await sleep(150);
    assert.ok(Date.now() - started >= 140, `woke after ${Date.now() - started} ms`);
    const stop = new AbortController();
    const reason = new Error('stopped');
    const waiting = sleep(60_000, stop.signal);
    stop.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    await assert.rejects(sleep(10, stop.signal), (err) => err === reason, 'already aborted');
  });

  it('unlessAborted gives the work its outcome, or the abort reason as soon as it comes', async () => {
    const stop = new AbortController();
    assert.equal(await unlessAborted(Promise.resolve(7), stop.signal), 7);
    const reason = new Error('stopped');
    const never = new Promise<number>(() => undefined);
    const waiting = unlessAborted(never, stop.signal);
    stop.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    await assert.rejects(unlessAborted(Promise.resolve(1), stop.signal), (err) => err === reason);
  });
});
