/**
 * cloudevent-emit: builds a CloudEvent from an InfraEvent or any message and,
 * with a sink (a cloudevent-sink config node, or the URL of a node saved by
 * an older version), delivers it (binary, structured or batch) with retries
 * and a bounded queue. Output 1: the result (or, without a sink, the event
 * itself). Output 2: every event that finally could not be delivered, with
 * the error. While attempts fail and are retried, the status says so.
 */
import { CoreConfigCodes } from '../common/core-config';
import { CodedError, NetCodes, errorMessage } from '../common/errors';
import { numberSetting, onClose, onInput, registerNode, reportSetupError } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import { metricsFor, type NodeMetrics } from '../common/metrics';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from '../common/red';
import { TlsCodes, cleartextWarning } from '../common/tls';
import {
  BATCH_TYPE,
  CeCodes,
  type CloudEvent,
  checkExtensions,
  type MessageAttributes,
  STRUCTURED_TYPE,
  fromInfraEvent,
  fromPayload,
  isInfraEvent,
  toBinary,
  toJsonObject,
  toStructured,
  withOverrides,
} from './cloudevent-model';
import {
  Delivery,
  DeliveryCodes,
  type DeliveryMode,
  type DeliveryOptions,
  type DeliveryStats,
  type FullPolicy,
} from './delivery';
import { Sink } from './delivery/sink';
import {
  parseExtensionLines,
  sendsSecret,
  sinkOptions,
  type SinkCredentials,
  type SinkDef,
} from './emit-settings';
import { SINK_CREDENTIALS, type SinkNode } from './sink-api';
import { type EmitSpool, openEmitSpool } from './emit-spool';
import type { SpoolStats } from './spool/spooled-delivery';
import { extended } from '../common/objects';

/**
 * The node's settings; those of SinkDef (url, authType, headers, TLS,
 * timeout, handshake) are read only from nodes saved before the sink config
 * node, which have no `sink` and kept them (and their credentials) themselves.
 */
interface EmitDef extends NodeDef, SinkDef {
  /** The cloudevent-sink config node. */
  sink?: string;
  mode: DeliveryMode;
  batchSize: number | string;
  lingerMs: number | string;
  ceType: string;
  ceSource: string;
  ceSubject: string;
  extensions: string;
  retryBudget: number | string;
  queueLimit: number | string;
  concurrency: number | string;
  onFull: FullPolicy;
  /** Where taken events wait: `memory` (what flows saved before the spool get from migrate) or `disk`. */
  spool?: 'memory' | 'disk';
  /** MB on disk. */
  spoolLimit?: number | string;
}

/** Only nodes saved before the sink config node have credentials (their sink's). */
type EmitNode = Node<SinkCredentials>;

/**
 * Queue depth (or events in the spool) and counts, in under 20 characters;
 * anything lost or failed is never green.
 */
function statusOf(s: DeliveryStats & Partial<SpoolStats>, texts: StatusTexts): NodeStatus {
  const queue =
    s.spooled === undefined
      ? texts.text('queued', { count: s.queued + s.inFlight + s.waiting })
      : texts.text('spooled', { count: s.spooled + s.waiting });
  if (s.gone) return texts.error('sinkGone');
  if (s.failed > 0 && s.delivered === 0) return texts.error('failed', { queue, count: s.failed });
  if (s.dropped > 0) return texts.degraded('lost', { queue, count: s.dropped });
  if (s.failed > 0) return texts.degraded('failed', { queue, count: s.failed });
  return texts.connected('sent', { queue, count: s.delivered });
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
    return extended(msg, { payload: body ?? '', headers, cloudevent });
  }
  // Written once here so an event that cannot be JSON fails now, with its code, not in the next node.
  toStructured(ce);
  return mode === 'batch'
    ? extended(msg, { payload: [toJsonObject(ce)], headers: { 'content-type': BATCH_TYPE }, cloudevent })
    : extended(msg, { payload: toJsonObject(ce), headers: { 'content-type': STRUCTURED_TYPE }, cloudevent });
}

/** Extensions from msg.cloudevent over those of the settings; a non-object is refused when checked. */
function mergeExtensions(base: Record<string, string>, extra: unknown): unknown {
  return extra && typeof extra === 'object' && !Array.isArray(extra) ? extended(base, extra) : extra;
}

type EventMaker = (msg: NodeMessage) => CloudEvent;

/**
 * The CloudEvent for a message: an InfraEvent maps 1:1 and takes only what
 * msg.cloudevent names; anything else is described by the settings and
 * msg.cloudevent. Extension settings a strict receiver would refuse are
 * refused at deploy.
 */
function eventMaker(def: EmitDef): EventMaker {
  const defaults: MessageAttributes = {
    type: def.ceType?.trim() || undefined,
    source: def.ceSource?.trim() || undefined,
    subject: def.ceSubject?.trim() || undefined,
  };
  const extensions = parseExtensionLines(def.extensions);
  checkExtensions(extensions, 'Extensions');
  return (msg: NodeMessage): CloudEvent => {
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
}

/** Delivery latency into the node's histogram, in seconds. */
const observeLatency = (metrics: NodeMetrics) => (ms: number) => metrics.deliveryLatency.observe(ms / 1000);

const onFullOf = (def: EmitDef): FullPolicy =>
  ['wait', 'drop-oldest', 'reject-new'].includes(def.onFull) ? def.onFull : 'wait';

function deliveryOptions(def: EmitDef, mode: DeliveryMode, metrics: NodeMetrics): DeliveryOptions {
  return {
    mode,
    batchSize: numberSetting(def.batchSize, 10, 1, 1000),
    lingerMs: numberSetting(def.lingerMs, 50, 0, 60_000),
    retry: { budgetMs: numberSetting(def.retryBudget, 300, 0, 86_400) * 1000 },
    queueLimit: numberSetting(def.queueLimit, 1000, 1, 1_000_000),
    concurrency: numberSetting(def.concurrency, 4, 1, 64),
    onFull: onFullOf(def),
    // Events in a spool on disk outlive the flow: at close, only requests in flight are worth waiting for.
    ...(def.spool === 'disk' ? { closeGraceMs: 1000 } : {}),
    onDelivered: observeLatency(metrics),
  };
}

/** What the parts of a working node share. */
interface Emitter {
  node: EmitNode;
  texts: StatusTexts;
  view: StatusThrottle;
  metrics: NodeMetrics;
  mode: DeliveryMode;
  /** Output 2 is wired: failed events leave there, else they go to Catch. */
  failuresWired: boolean;
  delivery?: Delivery;
  spool?: EmitSpool;
  /** The failure of the last attempt while attempts fail and are retried. */
  failing?: CodedError;
  /** The failures reported to Catch since the last success (each distinct one once). */
  reported: Set<string>;
  /** At close: lets go of the config node's sink, or closes the node's own. */
  release?: () => Promise<void> | void;
  /** Settings the node cannot work with: every message fails with this. */
  setup?: CodedError;
  closing: boolean;
}

/** Does the node deliver (a sink config node, or the URL of an older version), or only output events? */
const delivers = (def: EmitDef) => Boolean(def.sink?.trim() || def.url?.trim());

/**
 * The sink to deliver to: the config node's (shared, let go at close), or one
 * of the node's own from the settings and credentials of an older version.
 */
function sinkOf(RED: NodeAPI, e: Emitter, def: EmitDef): Sink {
  const { node } = e;
  const id = def.sink?.trim();
  if (!id) {
    const options = sinkOptions(RED, def, node.credentials, `node-red-${node.id}`);
    const sink = new Sink({ ...options, connections: numberSetting(def.concurrency, 4, 1, 64) });
    const cleartext = sendsSecret(def, node.credentials) ? cleartextWarning([sink.url.href]) : undefined;
    if (cleartext) node.warn(cleartext);
    e.release = () => sink.close();
    return sink;
  }
  const config = RED.nodes.getNode(id) as SinkNode | null;
  if (!config || config.type !== 'cloudevent-sink') {
    throw new CodedError(
      CoreConfigCodes.MISSING,
      `The sink this node sends to (${id}) is not deployed: choose another or deploy it.`,
    );
  }
  const sink = config.take(node);
  e.release = () => config.release(node);
  return sink;
}

/** A network failure's reason in the status ("retrying · offline"), or the sink's answer. */
const REASONS: Record<string, string> = {
  [NetCodes.CONNECT_FAILED]: 'offline',
  [NetCodes.TIMEOUT]: 'timeout',
  [NetCodes.DNS_FAILED]: 'dns',
  [NetCodes.PROXY_FAILED]: 'proxy',
};

function retryingStatus(err: CodedError, texts: StatusTexts): NodeStatus {
  const status = Number(err.details?.status ?? 0);
  const reason =
    status > 0 ? String(status) : REASONS[err.code] ? texts.text(REASONS[err.code] as string) : err.code;
  return texts.connecting('retrying', { reason });
}

/**
 * What the node shows of its delivery: counts, a failing sink within the
 * attempt that failed ("retrying · 503", state `retrying`, each distinct
 * failure to Catch once), green again when a request succeeds.
 */
function watchDelivery(e: Emitter, delivery: Delivery): (s: DeliveryStats & Partial<SpoolStats>) => void {
  const { node, metrics, view, texts } = e;
  const showCounts = (s: DeliveryStats & Partial<SpoolStats>) => {
    metrics.fromDelivery(s);
    if (!e.failing || s.gone) view.update(() => statusOf(s, texts));
  };
  // With a spool, its own counts (which include the delivery's) are shown instead.
  delivery.on('change', (s: DeliveryStats) => e.spool || showCounts(s));
  delivery.on('retrying', (err: CodedError) => {
    if (!e.failing) view.show(retryingStatus(err, texts));
    else view.update(() => retryingStatus(err, texts));
    e.failing = err;
    metrics.setState('retrying');
    const key = `${err.code}:${String(err.details?.status ?? '')}`;
    if (e.reported.has(key)) return;
    e.reported.add(key);
    metrics.error(err.code);
    // As the request nodes do: the sink's answer, for a switch after the Catch node.
    const status = Number(err.details?.status ?? 0);
    node.error(err, status > 0 ? { statusCode: status } : {});
  });
  delivery.on('recovered', () => {
    e.failing = undefined;
    e.reported.clear();
    metrics.setState('idle');
    view.show(statusOf(delivery.stats, texts));
  });
  delivery.on('gone', (err: CodedError) => {
    metrics.setState('sink gone');
    metrics.error(err.code);
    view.show(texts.error('sinkGone'));
    node.error(err, { payload: undefined });
  });
  return showCounts;
}

/** With a sink: the delivery (and spool) to it, its counts and failures in the status. */
function openDelivery(RED: NodeAPI, e: Emitter, def: EmitDef): void {
  const { node, view, texts, metrics } = e;
  metrics
    .uses('delivered', 'retried', 'deadLettered', 'dropped', 'queue', 'latency')
    .canBe('idle', 'retrying', 'sink gone');
  const delivery = (e.delivery = new Delivery(deliveryOptions(def, e.mode, metrics), sinkOf(RED, e, def)));
  const showCounts = watchDelivery(e, delivery);
  view.show(texts.connected('ready'));
  if (def.spool !== 'disk') return;
  const limitMb = numberSetting(def.spoolLimit, 100, 1, 1_000_000);
  metrics.uses('spool').spoolLimitBytes = limitMb * 1024 * 1024;
  e.spool = openEmitSpool(RED, node, delivery, {
    limitMb,
    window: numberSetting(def.queueLimit, 1000, 1, 1_000_000),
    onFull: onFullOf(def),
    failuresWired: e.failuresWired,
    onChange: showCounts,
    show: (status) => view.show(status),
    failedStatus: texts.error('spoolFailed'),
    lockedStatus: texts.error('spoolLocked'),
  });
}

/**
 * A message whose event cannot be built or written (an attribute a strict
 * receiver refuses, data that is not JSON) leaves by output 2 with the code,
 * the message as it came (nothing lost); with nothing wired there, it goes to
 * Catch.
 */
function refuse(e: Emitter, msg: NodeMessage, err: unknown, send: SendFn): void {
  if (!e.failuresWired) throw err;
  const error = err as CodedError;
  e.metrics.error(error.code);
  send([null, extended(msg, { error: { code: error.code ?? CeCodes.INVALID, message: errorMessage(err) } })]);
}

/**
 * Sends one event: to the sink (or spool), or without a URL as the message an
 * http request node sends. Every event is checked as it is built: none a
 * strict receiver refuses goes out.
 */
async function emit(e: Emitter, msg: NodeMessage, eventFor: EventMaker, send: SendFn): Promise<void> {
  let ce: CloudEvent;
  try {
    ce = eventFor(msg);
    if (!e.delivery) return send([unsent(msg, ce, e.mode), null]);
  } catch (err) {
    return refuse(e, msg, err, send);
  }
  try {
    // With the spool on disk, the event is taken once written; its result comes later.
    if (e.spool) return await e.spool.take(ce, msg);
    const result = await e.delivery.send(ce);
    send([
      extended(msg, { payload: result, cloudevent: { id: ce.id, source: ce.source, type: ce.type } }),
      null,
    ]);
  } catch (err) {
    const error = err as CodedError;
    // Events the flow's stop cut off are counted and named in one warning at close.
    if (e.closing && error.code === DeliveryCodes.CLOSED) return;
    // A failed event leaves by output 2; with nothing wired there, it goes to Catch instead.
    if (!e.failuresWired) throw err;
    e.metrics.error(error.code);
    const details = {
      code: error.code ?? DeliveryCodes.FAILED,
      message: errorMessage(err),
      ...error.details,
    };
    send([null, { ...msg, payload: toJsonObject(ce), error: details }]);
  }
}

/** Node-RED waits 15 s for a node to close: the delivery drains what it can in less, then lets go. */
async function close(e: Emitter, removed: boolean): Promise<void> {
  e.closing = true;
  e.view.stop();
  if (e.delivery) {
    await e.spool?.close(removed);
    const { lost, ids } = await e.delivery.close();
    if (lost > 0) {
      e.node.warn(
        `${lost} event${lost === 1 ? '' : 's'} not delivered when the flow stopped (${ids.join(', ')}${lost > ids.length ? ', …' : ''}).`,
      );
    }
  }
  await e.release?.();
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'cloudevent-emit', __dirname, CloudEventEmit, {
    credentials: SINK_CREDENTIALS,
  });

  function CloudEventEmit(node: EmitNode, def: EmitDef, texts: StatusTexts): void {
    const e: Emitter = {
      node,
      texts,
      view: new StatusThrottle(node),
      metrics: metricsFor(node),
      mode: ['binary', 'structured', 'batch'].includes(def.mode) ? def.mode : 'binary',
      failuresWired: (node.wires?.[1]?.length ?? 0) > 0,
      reported: new Set(),
      closing: false,
    };
    let eventFor: EventMaker | undefined;
    try {
      eventFor = eventMaker(def);
      if (delivers(def)) openDelivery(RED, e, def);
    } catch (err) {
      e.setup = err as CodedError;
      const key = e.setup.code === TlsCodes.CA_INVALID ? 'badCa' : 'badSettings';
      reportSetupError(RED, node, e.setup, texts.error(key));
    }

    onInput(node, async (msg, send) => {
      if (e.setup || !eventFor) throw e.setup;
      await emit(e, msg, eventFor, send);
    });
    onClose(node, (removed) => close(e, removed));
  }
};
