/**
 * vcd-subscribe: one message per VCD notification on its topic filters,
 * through the message-bus connection of a vcd-login node. Its own topic is in
 * its settings (or, with "topics set by messages", none); `msg.action` changes
 * the filters at run time (subscribe-input.ts).
 */
import { CodedError, NetCodes, toError } from '../common/errors';
import {
  keptFiles,
  numberSetting,
  onClose,
  onInput,
  registerNode,
  reportOnStart,
  settingsOrRefusal,
} from '../common/glue';
import { ConnectionStatus, StatusThrottle, type NodeStream, type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import type { ConnectionState } from '../common/reconnect-loop';
import type { Node, NodeAPI, NodeDef } from '../common/red';
import { SETUP_KEYS, statusKeys } from '../common/status-keys';
import { parseVcdEnvelope, type VcdEnvelope, vcdEnvelopeEvent } from '../events/decode/vcd-envelope';
import { CatchUpCodes, MissedEvents, catchUpApplies } from './catch-up';
import { CatchUpStore, FILE_PURPOSE, MarkKeeper } from './catch-up-store';
import type { VcdLoginNode } from './login-api';
import { MessagingCodes, type QoS } from './messaging';
import { VCD_KEYS, VcdCodes } from './session';
import { takeAction, type Subscriptions } from './subscribe-input';
import { TOPIC_INVALID, validateTopic } from './topics';

interface VcdSubscribeDef extends NodeDef {
  login: string;
  topic: string;
  qos: string | number;
  output: 'envelope' | 'event';
  /** After a reconnect, read what was missed from the audit trail. */
  catchUp?: boolean;
  /** Hours: after a restart, missed events are read back this far at most. */
  catchUpMaxAge?: string | number;
  /** No topic of its own: its topic filters come by messages (msg.action) only. */
  dynamic?: boolean;
}

/** The status keys (locales: vcd-subscribe.status) of the errors an operator must act on. */
const ERROR_KEYS = statusKeys(SETUP_KEYS, VCD_KEYS, {
  authFailed: [MessagingCodes.UNAUTHORIZED],
  topicRefused: [MessagingCodes.SUBSCRIBE_REFUSED],
  upgradeFailed: [MessagingCodes.UPGRADE_FAILED],
});

/** Passing failures worth a word (yellow ring). */
const WARNING_KEYS: Record<string, string> = { [NetCodes.PROXY_FAILED]: 'proxyFailed' };

interface Settings {
  login: VcdLoginNode;
  /** The node's own topic filter; '' when its topics come by messages only. */
  template: string;
  qos: QoS;
  asEvent: boolean;
}

/** The node's settings; a CodedError says why it cannot work with them. */
function readSettings(RED: NodeAPI, def: VcdSubscribeDef): Settings {
  const login = RED.nodes.getNode(def.login) as VcdLoginNode | null;
  if (!login) throw new CodedError(VcdCodes.CONFIG_INVALID, 'Select a vcd login.');
  return {
    login,
    template: def.dynamic === true ? '' : validateTopic(String(def.topic ?? '')),
    qos: ([0, 1, 2].includes(Number(def.qos)) ? Number(def.qos) : 1) as QoS,
    asEvent: def.output === 'event',
  };
}

const settingsKey = (code: string | undefined) => (code === TOPIC_INVALID ? 'badTopic' : 'noLogin');

interface Stream extends NodeStream<Settings> {
  /** What a reconnect missed of the node's own topic, read from the audit trail (with "Missed events"). */
  missed?: MissedEvents;
  /** The newest delivered event, kept across restarts (with "Missed events" and a user directory). */
  keeper?: MarkKeeper;
}

function openStream(node: Node, settings: Settings, texts: StatusTexts): Stream {
  const view = new StatusThrottle(node);
  const connection = new ConnectionStatus(
    node,
    view,
    { texts, errors: ERROR_KEYS, warnings: WARNING_KEYS },
    () => ({
      topic: settings.template,
    }),
  );
  const metrics = metricsFor(node).uses('received', 'sent', 'errors');
  if (settings.asEvent) metrics.uses('decoded');
  return { node, settings, texts, metrics, view, connection, count: 0 };
}

const live = (s: Stream) => s.texts.connected('connected', { count: s.count });

/** One way out for live and recovered events. */
function emitter(s: Stream) {
  return (topic: string, envelope: VcdEnvelope, extra: Record<string, unknown> = {}) => {
    s.count++;
    const inner = envelope.payload as { eventId?: unknown; timestamp?: unknown } | undefined;
    s.keeper?.delivered(inner?.eventId, inner?.timestamp);
    s.metrics.sent++;
    if (s.settings.asEvent) {
      s.metrics.decoded++;
      // The same decoder as the event-decode node: one decoding path.
      const event = vcdEnvelopeEvent(envelope, { source: s.settings.login.session?.site, topic });
      s.node.send({ topic: event.type, payload: event, mqttTopic: topic, ...extra });
    } else {
      s.node.send({ topic, payload: envelope, ...extra });
    }
    s.view.update(() => live(s));
  };
}

type Emit = ReturnType<typeof emitter>;

/** With "Missed events" (and a topic the audit trail covers), what a reconnect missed is read back. */
function recoverMissed(s: Stream, catchUp: boolean | undefined, emit: Emit): MissedEvents | undefined {
  const session = s.settings.login.session;
  if (!catchUp || !session || !catchUpApplies(s.settings.template)) return undefined;
  const { node, metrics, view, texts } = s;
  metrics.uses('recovered', 'paused');
  const options = { vcdNow: () => session.clock.now() };
  return new MissedEvents(
    (method, path) => session.request(method, path),
    {
      deliver(topic, notification) {
        const envelope = {
          type: 'EVENT',
          headers: { source: 'auditTrail', eventType: notification.type },
          payload: notification,
        };
        metrics.received++;
        metrics.recovered++;
        try {
          emit(topic, envelope, { recovered: true });
        } catch (err) {
          metrics.error((err as CodedError).code);
          node.error(err as Error, { topic, payload: notification });
        }
      },
      failed: (error) => {
        if (error.code === CatchUpCodes.PAUSED) metrics.paused++;
        metrics.error(error.code);
        node.error(error, { topic: s.settings.template });
      },
      progress(p) {
        metrics.setProgress('recovering', p?.read, p?.total);
        if (p) view.show(texts.connecting('recovering', { read: p.read, total: p.total ?? p.read }));
        else if (metrics.state === 'connected') view.show(live(s));
      },
    },
    options,
  );
}

/**
 * With a user directory, the missed-events mark outlives the process: the node
 * resumes from it after a restart. Without "Missed events", a stale mark goes.
 */
function keepMark(
  RED: NodeAPI,
  node: Node,
  missed: MissedEvents | undefined,
  settings: Settings,
  maxAgeHours: unknown,
): MarkKeeper | undefined {
  const { template, login } = settings;
  const files = keptFiles(RED, node, FILE_PURPOSE, missed !== undefined);
  if (!files || !missed) return undefined;
  const maxAgeMs = numberSetting(maxAgeHours, 24, 0.1, 8760) * 3600_000;
  const store = new CatchUpStore(files, node.id, template, {
    maxAgeMs,
    vcdNow: () => login.session?.clock.now(),
  });
  const keeper = new MarkKeeper(missed, store, (m) => node.warn(m));
  const skipped = keeper.resumed?.skipped;
  if (skipped) {
    const error = new CodedError(
      CatchUpCodes.TOO_OLD,
      `Not recovered: VCD events from ${skipped.from} to ${skipped.to}, older than the ` +
        `${maxAgeMs / 3600_000} h "Missed events" reaches back after a restart.`,
      skipped,
    );
    reportOnStart(RED, node, error, { topic: template });
  }
  return keeper;
}

/**
 * The node on the login's connection: its topic filters (its own, and what
 * messages add), messages out, the connection's state in the status.
 */
function subscriptions(s: Stream, emit: Emit): Subscriptions {
  const { node, metrics, connection, settings } = s;
  settings.login.attach(node, (state: ConnectionState, error?: CodedError) => {
    if (state !== 'connected') s.missed?.disconnected();
    connection.update(state, error, () => live(s));
  });
  const message = (topic: string, payload: Buffer) => {
    metrics.received++;
    const text = payload.toString('utf8');
    try {
      const envelope = parseVcdEnvelope(text);
      const inner = envelope.payload as { eventId?: unknown; timestamp?: unknown } | undefined;
      if (s.missed && inner && !s.missed.seen(inner.eventId, inner.timestamp)) return;
      emit(topic, envelope);
    } catch (err) {
      // The raw text goes with the error: nothing is lost, the stream goes on.
      metrics.error((err as CodedError).code);
      node.error(err as Error, { topic, payload: text });
    }
  };
  const refused = (error: CodedError) => {
    connection.showError(error);
    connection.report(error);
  };
  // "Missed events" follow the node's own topic: its grant starts (or, after a reconnect, runs) a recovery.
  const granted = (filter: string) => {
    s.missed?.granted(filter).catch((err: unknown) => node.error(toError(err), { topic: settings.template }));
  };
  const filters = new Map<string, QoS>();
  return {
    filters,
    add(topic, qos) {
      filters.set(topic, qos);
      const own = topic === settings.template;
      settings.login.subscribe(node, topic, qos, { message, refused, ...(own ? { granted } : {}) });
    },
    remove(topic) {
      filters.delete(topic);
      settings.login.unsubscribe(node, topic);
      if (topic === settings.template) forgetMissed(s);
    },
  };
}

/** The node's own topic unsubscribed: nothing more is recovered for it, and its mark goes. */
function forgetMissed(s: Stream): void {
  s.missed?.close();
  s.keeper?.close(true).catch((err: unknown) => s.node.error(toError(err)));
  s.missed = undefined;
  s.keeper = undefined;
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'vcd-subscribe', __dirname, VcdSubscribe);

  function VcdSubscribe(node: Node, def: VcdSubscribeDef, texts: StatusTexts): void {
    const settings = settingsOrRefusal(RED, node, texts, () => readSettings(RED, def), settingsKey);
    if (!settings) return;
    const stream = openStream(node, settings, texts);
    const emit = emitter(stream);
    stream.missed = recoverMissed(stream, def.catchUp, emit);
    stream.keeper = keepMark(RED, node, stream.missed, settings, def.catchUpMaxAge);
    const subs = subscriptions(stream, emit);
    if (settings.template) subs.add(settings.template, settings.qos);
    onInput(node, (msg, send) => takeAction(msg, send, subs, settings.qos));

    onClose(node, async (removed) => {
      stream.view.stop();
      stream.missed?.close();
      await stream.keeper?.close(removed);
      await settings.login.detach(node);
    });
  }
};
