/**
 * vcd subscribe's input, as the core mqtt in node's dynamic subscription:
 * `msg.action` subscribe or unsubscribe with `msg.topic` (a topic filter,
 * `{topic, qos}`, or a list of them; unsubscribe takes `true` for all), and
 * getSubscriptions, which sends the node's filters. Every filter is checked
 * (topics.ts) before anything changes; a message that cannot be done fails
 * with a code and changes nothing.
 */
import { CodedError } from '../common/errors';
import { extended } from '../common/objects';
import type { NodeMessage, SendFn } from '../common/red';
import type { QoS } from './messaging';
import { TOPIC_INVALID, validateTopic } from './topics';

export const InputCodes = {
  ACTION_INVALID: 'VCD_ACTION_INVALID',
  TOPIC_INVALID,
  NOT_SUBSCRIBED: 'VCD_NOT_SUBSCRIBED',
} as const;

/** Topic filters one node holds at most: each is a subscription on VCD's broker. */
export const MAX_TOPICS = 100;

export interface TopicFilter {
  topic: string;
  qos: QoS;
}

/** A node's topic filters (template → QoS) and how they change. */
export interface Subscriptions {
  readonly filters: ReadonlyMap<string, QoS>;
  add(topic: string, qos: QoS): void;
  remove(topic: string): void;
}

function qosOf(value: unknown): QoS {
  const n = Number(value);
  if (n === 0 || n === 1 || n === 2) return n;
  throw new CodedError(InputCodes.ACTION_INVALID, `QoS ${JSON.stringify(value)} is not 0, 1 or 2.`);
}

/** msg.topic → the filters it names, each checked: a filter, {topic, qos}, or a list of them. */
export function filtersOf(value: unknown, qos: QoS): TopicFilter[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_TOPICS) {
    throw new CodedError(InputCodes.TOPIC_INVALID, `msg.topic must name 1 to ${MAX_TOPICS} topic filters.`);
  }
  return list.map((item) => {
    if (typeof item === 'string') return { topic: validateTopic(item), qos };
    const { topic, qos: own } = (item ?? {}) as { topic?: unknown; qos?: unknown };
    if (typeof topic !== 'string') {
      throw new CodedError(
        InputCodes.TOPIC_INVALID,
        'msg.topic must be a topic filter, {topic, qos}, or a list of them.',
      );
    }
    return { topic: validateTopic(topic), qos: own === undefined ? qos : qosOf(own) };
  });
}

/** The node's filters as a message carries them. */
export function listOf(subs: Subscriptions): TopicFilter[] {
  return [...subs.filters].map(([topic, qos]) => ({ topic, qos }));
}

function subscribe(msg: NodeMessage, subs: Subscriptions, qos: QoS): void {
  const wanted = filtersOf(msg.topic, qos);
  const after = new Set([...subs.filters.keys(), ...wanted.map((f) => f.topic)]);
  if (after.size > MAX_TOPICS) {
    throw new CodedError(
      InputCodes.TOPIC_INVALID,
      `This node would hold ${after.size} topic filters; it holds at most ${MAX_TOPICS}.`,
    );
  }
  for (const f of wanted) subs.add(f.topic, f.qos);
}

function unsubscribe(msg: NodeMessage, subs: Subscriptions): void {
  // As in mqtt in, msg.topic true means every filter (a message's topic is not always a string).
  const all = (msg.topic as unknown) === true;
  const topics = all ? [...subs.filters.keys()] : filtersOf(msg.topic, 0).map((f) => f.topic);
  const unknown = topics.filter((t) => !subs.filters.has(t));
  if (unknown.length > 0) {
    throw new CodedError(
      InputCodes.NOT_SUBSCRIBED,
      `Not subscribed, so not removed: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}.`,
      { topics: unknown },
    );
  }
  for (const t of topics) subs.remove(t);
}

/**
 * Does what `msg.action` asks. subscribe and unsubscribe leave the filters in
 * `msg.subscriptions` (for a Complete node); getSubscriptions sends them as
 * `msg.payload` with `msg.topic` "subscriptions".
 */
export function takeAction(msg: NodeMessage, send: SendFn, subs: Subscriptions, qos: QoS): void {
  switch (msg.action) {
    case 'subscribe':
      subscribe(msg, subs, qos);
      break;
    case 'unsubscribe':
      unsubscribe(msg, subs);
      break;
    case 'getSubscriptions':
      send(extended(msg, { topic: 'subscriptions', payload: listOf(subs) }));
      return;
    default:
      throw new CodedError(
        InputCodes.ACTION_INVALID,
        `msg.action ${JSON.stringify(msg.action) ?? 'undefined'} is not subscribe, unsubscribe or getSubscriptions.`,
      );
  }
  msg.subscriptions = listOf(subs);
}
