/**
 * cloudevent-emit: builds a CloudEvent from an InfraEvent or any message and,
 * with a URL, delivers it (binary, structured or batch) with retries and a
 * bounded queue. Output 1: the result (or, without a URL, the event itself).
 * Output 2: every event that finally could not be delivered, with the error.
 */
import { CodedError, errorMessage } from '../common/errors';
import {
  StatusThrottle,
  numberSetting,
  onClose,
  onInput,
  shortCount,
  status,
  reportSetupError,
} from '../common/glue';
import { metricsFor } from '../common/metrics';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/red';
import { cleartextWarning } from '../common/tls';
import {
  BATCH_TYPE,
  CeCodes,
  type CloudEvent,
  type MessageAttributes,
  STRUCTURED_TYPE,
  fromInfraEvent,
  fromPayload,
  isInfraEvent,
  toBinary,
  toJsonObject,
  toStructured,
  withOverrides,
} from './cloudevent';
import { Delivery, DeliveryCodes, type DeliveryMode, type DeliveryStats, type FullPolicy } from './delivery';
import { parseExtensionLines, parseHeaderLines } from './emit-settings';
import { type EmitSpool, openEmitSpool } from './emit-spool';
import type { SpoolStats } from './spool/spooled-delivery';

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
  /** Where taken events wait: `memory` (also for flows saved before the spool existed) or `disk`. */
  spool?: 'memory' | 'disk';
  /** MB on disk. */
  spoolLimit?: number | string;
}

interface EmitCredentials {
  token: string;
  username: string;
  password: string;
  /** One "Name: value" header the sink wants, e.g. an API key. */
  secretHeader: string;
}

/** Queue depth (or events in the spool) and counts, in under 20 characters; anything lost or failed is never green. */
function statusOf(s: DeliveryStats & Partial<SpoolStats>): ReturnType<typeof status.connected> {
  const q =
    s.spooled === undefined
      ? `q ${shortCount(s.queued + s.inFlight + s.waiting)}`
      : `spool ${shortCount(s.spooled + s.waiting)}`;
  if (s.gone) return status.error('sink gone (410)');
  if (s.failed > 0 && s.delivered === 0) return status.error(`${q} · failed ${shortCount(s.failed)}`);
  if (s.dropped > 0)
    return { ...status.connected(undefined, `${q} · lost ${shortCount(s.dropped)}`), fill: 'yellow' };
  if (s.failed > 0)
    return { ...status.connected(undefined, `${q} · failed ${shortCount(s.failed)}`), fill: 'yellow' };
  return status.connected(undefined, `${q} · sent ${shortCount(s.delivered)}`);
}

/**
 * Without a URL, the message an http request node sends as the event: binary
 * mode puts the data in the payload and the attributes in ce-* headers;
 * structured and batch put the whole event in the payload.
 */
function unsent(msg: NodeMessage, ce: CloudEvent, mode: DeliveryMode): NodeMessage {
  const cloudevent = { id: ce.id, source: ce.source, type: ce.type };
  if (mode === 'binary') {
    const { headers, body } = toBinary(ce);
    return { ...msg, payload: body ?? '', headers, cloudevent };
  }
  // Written once here so an event that cannot be JSON fails now, with its code, not in the next node.
  toStructured(ce);
  return mode === 'batch'
    ? { ...msg, payload: [toJsonObject(ce)], headers: { 'content-type': BATCH_TYPE }, cloudevent }
    : { ...msg, payload: toJsonObject(ce), headers: { 'content-type': STRUCTURED_TYPE }, cloudevent };
}

/** Extensions from msg.cloudevent over those of the settings; a non-object is refused when checked. */
function mergeExtensions(base: Record<string, string>, extra: unknown): unknown {
  return extra && typeof extra === 'object' && !Array.isArray(extra) ? { ...base, ...extra } : extra;
}

export = function register(RED: NodeAPI): void {
  function CloudEventEmit(this: Node<EmitCredentials>, def: EmitDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const view = new StatusThrottle(node);
    let delivery: Delivery | undefined;
    let spool: EmitSpool | undefined;
    let setup: CodedError | undefined;
    const defaults: MessageAttributes = {
      type: def.ceType?.trim() || undefined,
      source: def.ceSource?.trim() || undefined,
      subject: def.ceSubject?.trim() || undefined,
    };
    let extensions: Record<string, string> = {};
    const mode: DeliveryMode = ['binary', 'structured', 'batch'].includes(def.mode) ? def.mode : 'binary';
    let closing = false;
    const metrics = metricsFor(node);
    const showCounts = (s: DeliveryStats & Partial<SpoolStats>) => {
      metrics.fromDelivery(s);
      view.update(statusOf(s));
    };

    try {
      extensions = parseExtensionLines(def.extensions);
      if (def.url?.trim()) {
        const sendsSecret =
          (def.authType ?? 'none') !== 'none' || Boolean(node.credentials.secretHeader?.trim());
        const cleartext = sendsSecret ? cleartextWarning([def.url]) : undefined;
        if (cleartext) node.warn(cleartext);
        delivery = new Delivery({
          url: def.url.trim(),
          mode,
          batchSize: numberSetting(def.batchSize, 10, 1, 1000),
          lingerMs: numberSetting(def.lingerMs, 50, 0, 60_000),
          headers: {
            ...parseHeaderLines(def.headers),
            ...parseHeaderLines(node.credentials.secretHeader ?? '', true),
          },
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
          // Events in a spool on disk outlive the flow: at close, only requests in flight are worth waiting for.
          ...(def.spool === 'disk' ? { closeGraceMs: 1000 } : {}),
        });
        // With a spool, its own counts (which include the delivery's) are shown instead.
        delivery.on('change', (s: DeliveryStats) => spool || showCounts(s));
        delivery.on('gone', (err: CodedError) => {
          metrics.setState('sink gone');
          metrics.error(err.code);
          view.show(status.error('sink gone (410)'));
          node.error(err, { payload: undefined });
        });
        view.show(status.connected(undefined, 'ready'));
        if (def.spool === 'disk') {
          spool = openEmitSpool(RED, node, delivery, {
            limitMb: numberSetting(def.spoolLimit, 100, 1, 1_000_000),
            window: numberSetting(def.queueLimit, 1000, 1, 1_000_000),
            onFull: ['wait', 'drop-oldest', 'reject-new'].includes(def.onFull) ? def.onFull : 'wait',
            failuresWired: (node.wires?.[1]?.length ?? 0) > 0,
            onChange: showCounts,
          });
        }
      }
    } catch (err) {
      setup = err as CodedError;
      reportSetupError(RED, node, setup, setup.code === 'CONFIG_CA_INVALID' ? 'bad CA' : 'bad settings');
    }
    const failuresWired = (node.wires?.[1]?.length ?? 0) > 0;

    /**
     * The CloudEvent for a message: an InfraEvent maps 1:1 and takes only what
     * msg.cloudevent names; anything else is described by the settings and msg.cloudevent.
     */
    const eventFor = (msg: NodeMessage): CloudEvent => {
      if (
        msg.cloudevent !== undefined &&
        (typeof msg.cloudevent !== 'object' || Array.isArray(msg.cloudevent))
      ) {
        throw new CodedError(CeCodes.INVALID, 'msg.cloudevent must be an object of attributes.');
      }
      const override = (msg.cloudevent ?? {}) as MessageAttributes;
      if (isInfraEvent(msg.payload)) return withOverrides(fromInfraEvent(msg.payload), override);
      return fromPayload(msg.payload, {
        ...defaults,
        ...override,
        extensions:
          override.extensions === undefined
            ? extensions
            : (mergeExtensions(extensions, override.extensions) as MessageAttributes['extensions']),
      });
    };

    onInput(
      node,
      async (msg, send) => {
        if (setup) throw setup;
        const ce = eventFor(msg);
        if (!delivery) {
          send([unsent(msg, ce, mode), null]);
          return;
        }
        try {
          // With the spool on disk, the event is taken once written; its result comes later.
          if (spool) return await spool.take(ce, msg);
          const result = await delivery.send(ce);
          send([
            { ...msg, payload: result, cloudevent: { id: ce.id, source: ce.source, type: ce.type } },
            null,
          ]);
        } catch (err) {
          const e = err as CodedError;
          // Events the flow's stop cut off are counted and named in one warning at close.
          if (closing && e.code === DeliveryCodes.CLOSED) return;
          // A failed event leaves by output 2; with nothing wired there, it goes to Catch instead.
          if (!failuresWired) throw err;
          metrics.error(e.code);
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

    onClose(node, async (removed) => {
      closing = true;
      view.stop();
      if (!delivery) return;
      await spool?.close(removed);
      // Node-RED waits 15 s for a node to close: drain what it can in less, then let go.
      const { lost, ids } = await delivery.close();
      if (lost > 0) {
        node.warn(
          `${lost} event${lost === 1 ? '' : 's'} not delivered when the flow stopped (${ids.join(', ')}${lost > ids.length ? ', …' : ''}).`,
        );
      }
    });
  }

  RED.nodes.registerType('cloudevent-emit', CloudEventEmit, {
    credentials: {
      token: { type: 'password' },
      username: { type: 'text' },
      password: { type: 'password' },
      secretHeader: { type: 'password' },
    },
  });
};
