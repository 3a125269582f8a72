/**
 * vcd-subscribe: one message per VCD notification on a topic filter, through
 * the message-bus connection of a vcd-login node.
 */
import { CodedError } from '../common/errors';
import {
  createNode,
  ConnectionStatus,
  StatusThrottle,
  numberSetting,
  onClose,
  status,
  reportSetupError,
  shortCount,
  toError,
} from '../common/glue';
import { metricsFor } from '../common/metrics';
import { NodeFiles } from '../common/node-files';
import type { ConnectionState } from '../common/reconnect-loop';
import type { Node, NodeAPI, NodeDef } from '../common/red';
import { vcdEnvelopeEvent } from '../events/decode/vcd';
import { parseVcdEnvelope, type VcdEnvelope } from '../events/decode/vcd-envelope';
import { MissedEvents, catchUpApplies } from './catch-up';
import { CatchUpStore, FILE_PURPOSE, MarkKeeper } from './catch-up-store';
import type { QoS } from './messaging';
import { validateTopic } from './topics';
import type { VcdLoginNode } from './login-api';

interface VcdSubscribeDef extends NodeDef {
  login: string;
  topic: string;
  qos: string | number;
  output: 'envelope' | 'event';
  /** After a reconnect, read what was missed from the audit trail. */
  catchUp?: boolean;
  /** Hours: after a restart, missed events are read back this far at most. */
  catchUpMaxAge?: string | number;
}

/** Short status words for the errors an operator must act on. */
const ERROR_LABELS: Record<string, string> = {
  VCD_AUTH_FAILED: 'auth failed',
  VCD_MQTT_UNAUTHORIZED: 'auth failed',
  VCD_SUBSCRIBE_REFUSED: 'topic refused',
  VCD_CONFIG_INVALID: 'bad settings',
  CONFIG_CA_INVALID: 'bad CA',
  TLS_UNTRUSTED: 'TLS untrusted',
  TLS_HOSTNAME_MISMATCH: 'TLS name mismatch',
  DNS_FAILED: 'DNS failed',
  VCD_NOT_VCD: 'not a VCD',
  VCD_VERSION_TOO_OLD: 'VCD too old',
  VCD_MQTT_UPGRADE_FAILED: 'upgrade failed',
};

/**
 * With a user directory, the missed-events mark outlives the process: the node
 * resumes from it after a restart. Without "Missed events", a stale mark goes.
 */
function keepMark(
  RED: NodeAPI,
  node: Node,
  missed: MissedEvents | undefined,
  template: string,
  maxAgeHours: unknown,
): MarkKeeper | undefined {
  const userDir = RED.settings.userDir;
  if (!userDir) return undefined;
  const files = new NodeFiles(userDir, FILE_PURPOSE);
  if (!missed) {
    files.remove(node.id);
    return undefined;
  }
  const maxAgeMs = numberSetting(maxAgeHours, 24, 0.1, 8760) * 3600_000;
  const store = new CatchUpStore(files, node.id, template, { maxAgeMs });
  const keeper = new MarkKeeper(missed, store, (m) => node.warn(m));
  const skipped = keeper.resumed?.skipped;
  if (skipped) {
    const error = new CodedError(
      'VCD_CATCHUP_TOO_OLD',
      `Not recovered: VCD events from ${skipped.from} to ${skipped.to}, older than the ` +
        `${maxAgeMs / 3600_000} h "Missed events" reaches back after a restart.`,
      skipped,
    );
    const report = () => node.error(error, { topic: template });
    RED.events.once('flows:started', report);
    node.on('close', (_removed: boolean, done: () => void) => {
      RED.events.removeListener('flows:started', report);
      done();
    });
  }
  return keeper;
}

export = function register(RED: NodeAPI): void {
  function VcdSubscribe(this: Node, saved: VcdSubscribeDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const login = RED.nodes.getNode(def.login) as VcdLoginNode | null;
    let template: string;
    try {
      if (!login) throw new CodedError('VCD_CONFIG_INVALID', 'Select a vcd login.');
      template = validateTopic(String(def.topic ?? ''));
    } catch (err) {
      const label = (err as CodedError).code === 'VCD_TOPIC_INVALID' ? 'bad topic' : 'no login';
      reportSetupError(RED, node, err as Error, label);
      return;
    }
    const qos = ([0, 1, 2].includes(Number(def.qos)) ? Number(def.qos) : 1) as QoS;
    const asEvent = def.output === 'event';

    let count = 0;
    const metrics = metricsFor(node);
    const view = new StatusThrottle(node);
    const connection = new ConnectionStatus(node, view, { errors: ERROR_LABELS }, () => ({
      topic: template,
    }));
    const onState = (state: ConnectionState, error?: CodedError) => {
      if (state !== 'connected') missed?.disconnected();
      connection.update(state, error, () => status.connected(count));
    };

    /** One way out for live and recovered events. */
    const emit = (topic: string, envelope: VcdEnvelope, extra: Record<string, unknown> = {}) => {
      count++;
      const inner = envelope.payload as { eventId?: unknown; timestamp?: unknown } | undefined;
      keeper?.delivered(inner?.eventId, inner?.timestamp);
      metrics.sent++;
      if (asEvent) metrics.decoded++;
      if (asEvent) {
        // The same decoder as the event-decode node: one decoding path.
        const event = vcdEnvelopeEvent(envelope, { source: login!.session?.site, topic });
        node.send({ topic: event.type, payload: event, mqttTopic: topic, ...extra });
      } else {
        node.send({ topic, payload: envelope, ...extra });
      }
      view.update(status.connected(count));
    };

    const session = login!.session;
    const missed =
      def.catchUp && session && catchUpApplies(template)
        ? new MissedEvents((method, path) => session.request(method, path), {
            deliver(topic, notification) {
              const envelope = {
                type: 'EVENT',
                headers: { source: 'auditTrail', eventType: notification.type },
                payload: notification,
              };
              metrics.received++;
              try {
                emit(topic, envelope, { recovered: true });
              } catch (err) {
                metrics.error((err as CodedError).code);
                node.error(err as Error, { topic, payload: notification });
              }
            },
            failed: (error) => {
              metrics.error(error.code);
              node.error(error, { topic: template });
            },
            progress(p) {
              metrics.setProgress('recovering', p?.read, p?.total);
              if (p)
                view.show(
                  status.connecting(`recovering ${shortCount(p.read)}/${shortCount(p.total ?? p.read)}`),
                );
              else if (metrics.state === 'connected') view.show(status.connected(count));
            },
          })
        : undefined;
    const keeper = keepMark(RED, node, missed, template, def.catchUpMaxAge);

    login!.subscribe(
      node,
      template,
      qos,
      {
        message(topic, payload) {
          metrics.received++;
          const text = payload.toString('utf8');
          try {
            const envelope = parseVcdEnvelope(text);
            const inner = envelope.payload as { eventId?: unknown; timestamp?: unknown } | undefined;
            if (missed && inner && !missed.seen(inner.eventId, inner.timestamp)) return;
            emit(topic, envelope);
          } catch (err) {
            // The raw text goes with the error: nothing is lost, the stream goes on.
            metrics.error((err as CodedError).code);
            node.error(err as Error, { topic, payload: text });
          }
        },
        granted(filter) {
          missed?.granted(filter).catch((err: unknown) => node.error(toError(err), { topic: template }));
        },
        refused(error) {
          view.show(status.error(ERROR_LABELS[error.code] ?? error.code));
          connection.report(error);
        },
      },
      onState,
    );

    onClose(node, async (removed) => {
      view.stop();
      missed?.close();
      keeper?.close(removed);
      await login!.unsubscribe(node);
    });
  }

  RED.nodes.registerType('vcd-subscribe', VcdSubscribe);
};
