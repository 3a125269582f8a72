/**
 * cloudevent-emit: builds a CloudEvent from an InfraEvent or any message and,
 * with a URL, delivers it (binary, structured or batch) with retries and a
 * bounded queue. Output 1: the result (or, without a URL, the event itself).
 * Output 2: every event that finally could not be delivered, with the error.
 */
import { type CodedError, errorMessage } from '../common/errors';
import { StatusThrottle, numberSetting, onClose, onInput, shortCount, status } from '../common/glue';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/red';
import {
  type CloudEvent,
  type MessageAttributes,
  fromInfraEvent,
  fromPayload,
  isInfraEvent,
  toBinary,
  toJsonObject,
} from './cloudevent';
import { Delivery, type DeliveryMode, type DeliveryStats, type FullPolicy } from './delivery';
import { parseExtensionLines, parseHeaderLines } from './emit-settings';

interface EmitDef extends NodeDef {
  url: string;
  mode: DeliveryMode;
  batchSize: number | string;
  lingerMs: number | string;
  ceType: string;
  ceSource: string;
  ceSubject: string;
  extensions: string;
  headers: string;
  authType: 'none' | 'bearer' | 'basic';
  tlsInsecure: boolean;
  ca: string;
  timeout: number | string;
  retryBudget: number | string;
  queueLimit: number | string;
  concurrency: number | string;
  onFull: FullPolicy;
  handshake: boolean;
}

interface EmitCredentials {
  token: string;
  username: string;
  password: string;
}

function statusOf(s: DeliveryStats): ReturnType<typeof status.connected> {
  const queued = s.queued + s.inFlight + s.waiting;
  if (s.dropped > 0)
    return { fill: 'yellow', shape: 'dot', text: `q ${queued} · lost ${shortCount(s.dropped)}` };
  if (s.failed > 0 && s.delivered === 0)
    return { fill: 'red', shape: 'ring', text: `q ${queued} · failed ${shortCount(s.failed)}` };
  return { fill: 'green', shape: 'dot', text: `q ${queued} · sent ${shortCount(s.delivered)}` };
}

export = function register(RED: NodeAPI): void {
  function CloudEventEmit(this: Node<EmitCredentials>, def: EmitDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const view = new StatusThrottle(node);
    let delivery: Delivery | undefined;
    let setup: CodedError | undefined;
    const defaults: MessageAttributes = {
      type: def.ceType?.trim() || undefined,
      source: def.ceSource?.trim() || undefined,
      subject: def.ceSubject?.trim() || undefined,
    };
    let extensions: Record<string, string> = {};

    try {
      extensions = parseExtensionLines(def.extensions);
      if (def.url?.trim()) {
        delivery = new Delivery({
          url: def.url.trim(),
          mode: ['binary', 'structured', 'batch'].includes(def.mode) ? def.mode : 'binary',
          batchSize: numberSetting(def.batchSize, 10, 1, 1000),
          lingerMs: numberSetting(def.lingerMs, 50, 0, 60_000),
          headers: parseHeaderLines(def.headers),
          auth: {
            type: def.authType ?? 'none',
            token: node.credentials.token,
            username: node.credentials.username,
            password: node.credentials.password,
          },
          tls: { insecure: def.tlsInsecure === true, ca: def.ca },
          timeoutMs: numberSetting(def.timeout, 10, 1, 600) * 1000,
          retry: { budgetMs: numberSetting(def.retryBudget, 300, 0, 86_400) * 1000 },
          queueLimit: numberSetting(def.queueLimit, 1000, 1, 1_000_000),
          concurrency: numberSetting(def.concurrency, 4, 1, 64),
          onFull: ['wait', 'drop-oldest', 'reject-new'].includes(def.onFull) ? def.onFull : 'wait',
          handshake: def.handshake === true,
          origin: `node-red-${node.id}`,
        });
        delivery.on('change', (s: DeliveryStats) => view.update(statusOf(s)));
        delivery.on('gone', (err: CodedError) => {
          view.show(status.error('sink gone (410)'));
          node.error(err, { payload: undefined });
        });
        view.show(status.connected(undefined, 'ready'));
      }
    } catch (err) {
      setup = err as CodedError;
      view.show(status.error(setup.code === 'CONFIG_CA_INVALID' ? 'bad CA' : 'bad settings'));
      node.error(setup);
    }
    const failuresWired = (node.wires?.[1]?.length ?? 0) > 0;

    /** The CloudEvent for a message: an InfraEvent maps 1:1; anything else takes msg.cloudevent and the settings. */
    const eventFor = (msg: NodeMessage): CloudEvent => {
      const override = (
        msg.cloudevent && typeof msg.cloudevent === 'object' ? msg.cloudevent : {}
      ) as MessageAttributes;
      if (isInfraEvent(msg.payload) && !override.type) return fromInfraEvent(msg.payload);
      return fromPayload(msg.payload, {
        ...defaults,
        ...override,
        extensions: { ...extensions, ...override.extensions },
      });
    };

    onInput(
      node,
      async (msg, send) => {
        if (setup) throw setup;
        const ce = eventFor(msg);
        if (!delivery) {
          send([{ ...msg, payload: toJsonObject(ce), headers: toBinary(ce).headers }, null]);
          return;
        }
        try {
          const result = await delivery.send(ce);
          send([
            { ...msg, payload: result, cloudevent: { id: ce.id, source: ce.source, type: ce.type } },
            null,
          ]);
        } catch (err) {
          const e = err as CodedError;
          // A failed event leaves by output 2; with nothing wired there, it goes to Catch instead.
          if (!failuresWired) throw err;
          send([
            null,
            {
              ...msg,
              payload: toJsonObject(ce),
              error: { code: e.code ?? 'CE_DELIVERY_FAILED', message: errorMessage(err), ...e.details },
            },
          ]);
        }
      },
      { statusOnError: false },
    );

    onClose(node, async () => {
      view.stop();
      await delivery?.close();
    });
  }

  RED.nodes.registerType('cloudevent-emit', CloudEventEmit, {
    credentials: { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });
};
