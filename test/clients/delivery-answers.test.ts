/**
 * What each answer of a sink makes of a delivery (Knative's contract): 404, 409, 429 and 5xx are tried again,
 * 400 and the other 4xx refuse the event at once, 410 stops delivery. And how long it waits before trying again:
 * what Retry-After says, else the backoff, within both bounds. Any 2xx is a delivery and a 3xx is not (both ends of
 * the range); the Webhook handshake's own answers: 410 stops delivery, a redirect is a refusal.
 */
import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { fromPayload } from '../../nodes/events/cloudevent-model';
import { withSink } from '../support/sink';

const event = (n: number) => fromPayload({ n }, { type: 'com.example.test', source: '/tests' });

describe('CloudEvents delivery: what the sink answers', () => {
  const rig = withSink({ retry: { initialMs: 20, maxMs: 50, budgetMs: 10_000 } });

  /** The time between the first request the sink saw and the second. */
  const gap = () => rig.sink.log[1]!.at - rig.sink.log[0]!.at;

  it('tries again after 404, 409, 429 and any 5xx, and delivers the event', async () => {
    for (const status of [404, 409, 429, 500, 502, 503, 504, 599]) {
      rig.sink.log.length = 0;
      rig.sink.failNext(1, status);
      const result = await rig.open().send(event(status));
      assert.deepEqual([result.status, result.attempts, rig.sink.log.length], [202, 2, 2], `after ${status}`);
    }
  });

  it('refuses the event at once after 400, 401, 403, 405, 413, 415, 422 and 499, naming the status', async () => {
    for (const status of [400, 401, 403, 405, 413, 415, 422, 499]) {
      rig.sink.log.length = 0;
      rig.sink.failNext(1, status);
      await assert.rejects(rig.open().send(event(status)), (err: CodedError) => {
        assert.equal(err.code, 'CE_DELIVERY_REJECTED', `after ${status}`);
        assert.deepEqual(err.details, { status, attempts: 1 });
        assert.match(err.message, new RegExp(`answered ${status}`));
        return true;
      });
      assert.equal(rig.sink.log.length, 1, `no second request after ${status}`);
    }
  });

  it('waits what Retry-After says (seconds), not much more', async () => {
    rig.sink.failNext(1, 503, '1');
    await rig.open().send(event(1));
    assert.ok(gap() >= 950 && gap() < 2500, `waited ${gap()} ms for Retry-After: 1`);
  });

  it('waits until the date Retry-After names', async () => {
    rig.sink.failNext(1, 429, new Date(Date.now() + 2000).toUTCString());
    await rig.open().send(event(1));
    // An HTTP date has whole seconds: the wait is between one and two seconds, plus the way there.
    assert.ok(gap() >= 900 && gap() < 3500, `waited ${gap()} ms for a date about 2 s ahead`);
  });

  it('without Retry-After, waits the backoff: half a second at first with the highest draw, not a whole one', async () => {
    rig.sink.failNext(1, 503);
    await rig.open({ retry: { budgetMs: 10_000, random: () => 1 - 2 ** -53 } }).send(event(1));
    assert.ok(gap() >= 490 && gap() < 900, `waited ${gap()} ms`);
  });

  it('counts 200 and 299 as delivered at once, and refuses after 300 without another try', async () => {
    for (const status of [200, 299]) {
      rig.sink.failNext(1, status);
      const result = await rig.open().send(event(status));
      assert.deepEqual([result.status, result.attempts], [status, 1], `after ${status}`);
    }
    rig.sink.log.length = 0;
    rig.sink.failNext(1, 300);
    await assert.rejects(rig.open().send(event(300)), (err: CodedError) => {
      assert.deepEqual([err.code, err.details?.status], ['CE_DELIVERY_REJECTED', 300]);
      return true;
    });
    assert.equal(rig.sink.log.length, 1);
  });

  it('stops when the handshake answers 410 Gone, and sends nothing', async () => {
    rig.sink.faults.failOptions = 1;
    rig.sink.faults.failStatus = 410;
    await assert.rejects(rig.open({ handshake: true }).send(event(1)), (err: CodedError) => {
      assert.equal(err.code, 'CE_SINK_GONE');
      assert.match(err.message, /410 Gone to the webhook handshake/);
      return true;
    });
    assert.equal(rig.sink.received.length, 0);
  });

  it('takes a redirect from the handshake as a refusal, naming the status', async () => {
    rig.sink.faults.failOptions = 1;
    rig.sink.faults.failStatus = 302;
    await assert.rejects(rig.open({ handshake: true }).send(event(1)), (err: CodedError) => {
      assert.equal(err.code, 'CE_HANDSHAKE_FAILED');
      assert.match(err.message, /OPTIONS answered 302: .*failure requested/);
      return true;
    });
    assert.equal(rig.sink.received.length, 0);
  });
});
