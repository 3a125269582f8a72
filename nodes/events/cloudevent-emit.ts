/**
 * cloudevent-emit: builds a CloudEvent from an InfraEvent or any message and,
 * with a URL, delivers it (binary, structured or batch) with retries and a
 * bounded queue. Output 1: the result (or, without a URL, the event itself).
 * Output 2: every event that finally could not be delivered, with the error.
 */
import { CodedError, errorMessage } from '../common/errors';
import {
  createNode,
  StatusThrottle,
  numberSetting,
  onClose,
  onInput,
  reportSetupError,
  statusTexts,
  type StatusTexts,
} from '../common/glue';
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
} from './cloudevent';
import {
  Delivery,
  DeliveryCodes,
  type DeliveryMode,
  type DeliveryOptions,
  type DeliveryStats,
  type FullPolicy,
} from './delivery';
import { parseExtensionLines, parseHeaderLines } from './emit-settings';
import { type EmitSpool, openEmitSpool } from './emit-spool';
import type { SpoolStats } from './spool/spooled-delivery';
import { extended } from '../common/objects';

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
  /** Where taken events wait: `memory` (what flows saved before the spool get from migrate) or `disk`. */
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

type EmitNode = Node<EmitCredentials>;

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

function deliveryOptions(node: EmitNode, def: EmitDef, mode: DeliveryMode): DeliveryOptions {
  return {
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
    onFull: onFullOf(def),
    handshake: def.handshake === true,
    origin: `node-red-${node.id}`,
    // Events in a spool on disk outlive the flow: at close, only requests in flight are worth waiting for.
    ...(def.spool === 'disk' ? { closeGraceMs: 1000 } : {}),
    onDelivered: observeLatency(metricsFor(node)),
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
  /** Settings the node cannot work with: every message fails with this. */
  setup?: CodedError;
  closing: boolean;
}

/** With a URL: the delivery (and spool) to the sink, its counts and failures in the status. */
function openDelivery(RED: NodeAPI, e: Emitter, def: EmitDef): void {
  const { node, metrics, view, texts } = e;
  metrics
    .uses('delivered', 'retried', 'deadLettered', 'dropped', 'queue', 'latency')
    .canBe('idle', 'sink gone');
  const sendsSecret = (def.authType ?? 'none') !== 'none' || Boolean(node.credentials.secretHeader?.trim());
  const cleartext = sendsSecret ? cleartextWarning([def.url]) : undefined;
  if (cleartext) node.warn(cleartext);
  const delivery = (e.delivery = new Delivery(deliveryOptions(node, def, e.mode)));
  const showCounts = (s: DeliveryStats & Partial<SpoolStats>) => {
    metrics.fromDelivery(s);
    view.update(() => statusOf(s, texts));
  };
  // With a spool, its own counts (which include the delivery's) are shown instead.
  delivery.on('change', (s: DeliveryStats) => e.spool || showCounts(s));
  delivery.on('gone', (err: CodedError) => {
    metrics.setState('sink gone');
    metrics.error(err.code);
    view.show(texts.error('sinkGone'));
    node.error(err, { payload: undefined });
  });
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
  if (!e.delivery) return;
  await e.spool?.close(removed);
  const { lost, ids } = await e.delivery.close();
  if (lost > 0) {
    e.node.warn(
      `${lost} event${lost === 1 ? '' : 's'} not delivered when the flow stopped (${ids.join(', ')}${lost > ids.length ? ', …' : ''}).`,
    );
  }
}

export = function register(RED: NodeAPI): void {
  const texts = statusTexts(RED, 'cloudevent-emit', __dirname);

  function CloudEventEmit(this: EmitNode, saved: EmitDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const e: Emitter = {
      node,
      texts,
      view: new StatusThrottle(node),
      metrics: metricsFor(node),
      mode: ['binary', 'structured', 'batch'].includes(def.mode) ? def.mode : 'binary',
      failuresWired: (node.wires?.[1]?.length ?? 0) > 0,
      closing: false,
    };
    let eventFor: EventMaker | undefined;
    try {
      eventFor = eventMaker(def);
      if (def.url?.trim()) openDelivery(RED, e, def);
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

  RED.nodes.registerType('cloudevent-emit', CloudEventEmit, {
    credentials: {
      token: { type: 'password' },
      username: { type: 'text' },
      password: { type: 'password' },
      secretHeader: { type: 'password' },
    },
  });
};
