/**
 * vcd subscribe's input at its bounds, on a plain filter map: how many topic
 * filters a message may name and a node may hold, and which topics an
 * unsubscribe that cannot be done names.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import type { NodeMessage } from '../../nodes/common/red';
import type { QoS } from '../../nodes/vcd/messaging';
import {
  InputCodes,
  MAX_TOPICS,
  filtersOf,
  takeAction,
  type Subscriptions,
} from '../../nodes/vcd/subscribe-input';

function holding(topics: string[]): Subscriptions & { filters: Map<string, QoS> } {
  const filters = new Map<string, QoS>(topics.map((t) => [t, 0]));
  return { filters, add: (t, q) => filters.set(t, q), remove: (t) => filters.delete(t) };
}
const topics = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `publish/{org}/t${from + i}`);
const act = (msg: Record<string, unknown>, subs: Subscriptions) =>
  takeAction(msg as NodeMessage, () => undefined, subs, 1);

describe('vcd subscribe input: its bounds', () => {
  it(`takes 1 to ${MAX_TOPICS} filters in msg.topic, not an empty list nor more`, () => {
    assert.equal(MAX_TOPICS, 100);
    assert.equal(filtersOf(topics(1), 0).length, 1);
    assert.equal(filtersOf(topics(MAX_TOPICS), 0).length, MAX_TOPICS);
    for (const bad of [[], topics(MAX_TOPICS + 1)]) {
      assert.throws(
        () => filtersOf(bad, 0),
        (err: unknown) =>
          isCoded(err, InputCodes.TOPIC_INVALID) &&
          err.message === 'msg.topic must name 1 to 100 topic filters.',
        `${bad.length} filters`,
      );
    }
  });

  it(`holds exactly ${MAX_TOPICS} filters, counting one asked for again once, and refuses one more`, () => {
    const subs = holding(topics(MAX_TOPICS - 1));
    act({ action: 'subscribe', topic: topics(2, MAX_TOPICS - 2) }, subs); // one held already, one new
    assert.equal(subs.filters.size, MAX_TOPICS);
    act({ action: 'subscribe', topic: 'publish/{org}/t0' }, subs);
    assert.equal(subs.filters.size, MAX_TOPICS);
    assert.throws(
      () => act({ action: 'subscribe', topic: topics(1, 500) }, subs),
      (err: unknown) =>
        isCoded(err, InputCodes.TOPIC_INVALID) &&
        err.message === 'This node would hold 101 topic filters; it holds at most 100.',
    );
    assert.equal(subs.filters.size, MAX_TOPICS, 'nothing added');
  });

  it('names the topics it does not hold when an unsubscribe cannot be done, and removes none', () => {
    const subs = holding(['publish/{org}/a', 'publish/{org}/b']);
    const asked = ['publish/{org}/a', 'publish/{org}/x', 'publish/{org}/y'];
    assert.throws(
      () => act({ action: 'unsubscribe', topic: asked }, subs),
      (err: unknown) => {
        assert.ok(isCoded(err, InputCodes.NOT_SUBSCRIBED), String(err));
        assert.deepEqual(err.details, { topics: ['publish/{org}/x', 'publish/{org}/y'] });
        return true;
      },
    );
    assert.deepEqual([...subs.filters.keys()], ['publish/{org}/a', 'publish/{org}/b']);
  });
});

describe('vcd subscribe input: the QoS of each filter', () => {
  it("takes each filter's own QoS 0, 1 or 2 (as a number or text), else the node's", () => {
    const asked = [
      { topic: 'publish/{org}/a', qos: 0 },
      { topic: 'publish/{org}/b', qos: 1 },
      { topic: 'publish/{org}/c', qos: '2' },
      { topic: 'publish/{org}/d' },
      'publish/{org}/e',
    ];
    assert.deepEqual(
      filtersOf(asked, 1).map((f) => f.qos),
      [0, 1, 2, 1, 1],
    );
    assert.deepEqual(
      filtersOf([{ topic: 'publish/{org}/d' }], 2).map((f) => f.qos),
      [2],
    );
  });

  it('refuses a QoS other than 0, 1 or 2, and an item that names no topic, saying which', () => {
    for (const qos of [3, -1, 1.5, 'two']) {
      assert.throws(
        () => filtersOf([{ topic: 'publish/{org}/a', qos }], 0),
        (err: unknown) =>
          isCoded(err, InputCodes.ACTION_INVALID) &&
          err.message === `QoS ${JSON.stringify(qos)} is not 0, 1 or 2.`,
        String(qos),
      );
    }
    for (const item of [42, { qos: 1 }, null]) {
      assert.throws(
        () => filtersOf([item], 0),
        (err: unknown) =>
          isCoded(err, InputCodes.TOPIC_INVALID) &&
          err.message === 'msg.topic must be a topic filter, {topic, qos}, or a list of them.',
        JSON.stringify(item),
      );
    }
  });
});
