/**
 * A delivery at the edges of what a sink answers, which the mutation run found untested: any 2xx is a delivery
 * and a 3xx is not (both ends of the range), and the Webhook handshake's own answers: 410 stops delivery, a
 * redirect is a refusal, an origin the sink allows with "*" is allowed.
 */
import assert from 'node:assert/strict';
import type { CodedError } from '../../nodes/common/errors';
import { fromPayload } from '../../nodes/events/cloudevent-model';
import { Delivery, type DeliveryOptions } from '../../nodes/events/delivery';
import { SinkSimulator } from '../../sim/sink';

const event = (n: number) => fromPayload({ n }, { type: 'com.example.test', source: '/tests' });

describe('CloudEvents delivery: the edges of what a sink answers', () => {
  let sink: SinkSimulator;
  const deliveries: Delivery[] = [];

  beforeEach(async () => {
    sink = await SinkSimulator.start();
  });
  afterEach(async () => {
    await Promise.all(deliveries.splice(0).map((d) => d.close()));
    await sink.stop();
  });

  function open(options: Partial<DeliveryOptions> = {}): Delivery {
    const d = new Delivery({
      url: `${sink.url}/events`,
      tls: { ca: sink.cert },
      retry: { initialMs: 20, maxMs: 50, budgetMs: 10_000 },
      ...options,
    });
    deliveries.push(d);
    return d;
  }

  it('counts 200 and 299 as delivered at once, and refuses after 300 without another try', async () => {
    for (const status of [200, 299]) {
      sink.failNext(1, status);
      const result = await open().send(event(status));
      assert.deepEqual([result.status, result.attempts], [status, 1], `after ${status}`);
    }
    sink.log.length = 0;
    sink.failNext(1, 300);
    await assert.rejects(open().send(event(300)), (err: CodedError) => {
      assert.deepEqual([err.code, err.details?.status], ['CE_DELIVERY_REJECTED', 300]);
      return true;
    });
    assert.equal(sink.log.length, 1);
  });

  it('stops when the handshake answers 410 Gone, and sends nothing', async () => {
    sink.faults.failOptions = 1;
    sink.faults.failStatus = 410;
    await assert.rejects(open({ handshake: true }).send(event(1)), (err: CodedError) => {
      assert.equal(err.code, 'CE_SINK_GONE');
      assert.match(err.message, /410 Gone to the webhook handshake/);
      return true;
    });
    assert.equal(sink.received.length, 0);
  });

  it('takes a redirect from the handshake as a refusal, naming the status', async () => {
    sink.faults.failOptions = 1;
    sink.faults.failStatus = 302;
    await assert.rejects(open({ handshake: true }).send(event(1)), (err: CodedError) => {
      assert.equal(err.code, 'CE_HANDSHAKE_FAILED');
      assert.match(err.message, /OPTIONS answered 302: .*failure requested/);
      return true;
    });
    assert.equal(sink.received.length, 0);
  });
});
