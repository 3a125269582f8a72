/**
 * alert-gate: placed before whatever notifies people. Drops doubles (an event
 * whose source + id passed within the window), calms storms (per key the
 * first passes; the rest are held and summed up in one message when the
 * window ends) and, with a shared store, lets an HA pair send each event once.
 * What it remembers outlives restarts and redeploys (<userDir>/dcevents/alert-gate/).
 */
import { CodedError } from '../common/errors';
import { numberSetting, onClose, onInput, registerNode, reportSetupError } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import { isRecord } from '../common/guards';
import type { InfraEvent } from '../common/infra-event';
import { metricsFor, type NodeMetrics } from '../common/metrics';
import { NodeFiles } from '../common/node-files';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/red';
import type { AlertStoreNode } from './store-api';
import { GateCodes } from './codes';
import { AlertGate, type GateOptions } from './gate';
import { Journal } from './journal';
import type { RedisStore } from './redis-store';
import { stormKeyOf, type StormBy } from './storm-key';
import { STORM_TYPE } from './storms';

interface AlertGateDef extends NodeDef {
  doubles?: boolean;
  /** Minutes. */
  doublesWindow?: number | string;
  remember?: number | string;
  storms?: boolean;
  /** Minutes. */
  stormWindow?: number | string;
  stormBy?: StormBy;
  stormProperty?: string;
  passClears?: boolean;
  /** An alert-store config node, or '' (this Node-RED only). */
  store?: string;
}

/** Where the files live: <userDir>/dcevents/alert-gate/. */
const ALERT_GATE_PURPOSE = 'alert-gate';
/** Storms open at once at most (more end the oldest early, with its summary). */
const MAX_STORMS = 10_000;
/** Longest source or id looked at (InfraEvents from event decode are far shorter). */
const MAX_ID_LENGTH = 8192;
const MINUTE = 60_000;

function readSettings(def: AlertGateDef) {
  const by: StormBy = def.stormBy === 'type' || def.stormBy === 'property' ? def.stormBy : 'subject';
  const options: GateOptions = {};
  if (def.doubles !== false) {
    options.doubles = {
      windowMs: numberSetting(def.doublesWindow, 60, 0.05, 10_080) * MINUTE,
      maxEntries: Math.round(numberSetting(def.remember, 100_000, 100, 10_000_000)),
    };
  }
  if (def.storms !== false) {
    options.storms = {
      windowMs: numberSetting(def.stormWindow, 5, 0.05, 1440) * MINUTE,
      maxStorms: MAX_STORMS,
      passClears: def.passClears === true,
    };
  }
  const property = String(def.stormProperty ?? '').trim() || 'topic';
  return { options, by, property, store: String(def.store ?? '').trim() };
}

type Settings = ReturnType<typeof readSettings>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The event in a message: an InfraEvent (or a CloudEvent), at least a source and an id. */
function eventOf(payload: unknown): InfraEvent {
  const id = isRecord(payload) ? payload.id : undefined;
  const source = isRecord(payload) ? payload.source : undefined;
  if (!isRecord(payload) || typeof id !== 'string' || typeof source !== 'string' || !id || !source) {
    throw new CodedError(
      GateCodes.NOT_AN_EVENT,
      'An alert gate takes events: msg.payload must have a source and an id (an InfraEvent from event decode or a subscribe node, or a CloudEvent).',
    );
  }
  if (id.length > MAX_ID_LENGTH || source.length > MAX_ID_LENGTH) {
    throw new CodedError(
      GateCodes.NOT_AN_EVENT,
      `The event's source or id is longer than ${MAX_ID_LENGTH} characters.`,
    );
  }
  const aci = payload.aci;
  return {
    ...(payload as unknown as InfraEvent),
    type: text(payload.type) ?? '',
    subject: text(payload.subject),
    summary: text(payload.summary) ?? '',
    time: text(payload.time) ?? '',
    aci:
      isRecord(aci) &&
      typeof aci.className === 'string' &&
      typeof aci.dn === 'string' &&
      isRecord(aci.attributes)
        ? (aci as unknown as InfraEvent['aci'])
        : undefined,
  };
}

/** How the node shows its counts and the shared store's trouble, each failure sent to Catch once. */
class GateView {
  private reported: string | undefined;
  private storeDown = false;

  constructor(
    private readonly node: Node,
    private readonly texts: StatusTexts,
    private readonly metrics: NodeMetrics,
    private readonly view = new StatusThrottle(node),
  ) {}

  counts(): void {
    if (this.storeDown) return;
    const m = this.metrics;
    this.view.update(() =>
      this.texts.connected('counts', { passed: m.passed, dropped: m.doubles, held: m.held }),
    );
  }

  /** A failure worth a person's attention: yellow, and to Catch once until things work again. */
  trouble(error: CodedError, key: string): void {
    this.view.show(this.texts.degraded(key));
    if (this.reported === error.code) return;
    this.reported = error.code;
    this.metrics.error(error.code);
    this.node.error(error, {});
  }

  store(state: string, error: CodedError | undefined): void {
    this.storeDown = state !== 'connected' && !!error;
    this.metrics.setState(state === 'connected' ? 'connected' : this.storeDown ? 'store down' : state);
    if (this.storeDown) this.trouble(error!, 'storeDown');
    else if (state === 'connected') this.recovered();
  }

  recovered(): void {
    this.reported = undefined;
    this.counts();
  }

  stop(): void {
    this.view.stop();
  }
}

/** The shared store an alert-store node gives, if the settings name one. */
function sharedStore(RED: NodeAPI, node: Node, settings: Settings, view: GateView): RedisStore | undefined {
  if (!settings.store || !settings.options.doubles) return undefined;
  const config = RED.nodes.getNode(settings.store) as AlertStoreNode | null;
  // The shared store's connection, as the gate sees it.
  metricsFor(node).showsConnection().canBe('store down');
  const store = config?.use(node, (state, error) => view.store(state, error));
  if (!store) {
    const why = config?.configError?.message ?? 'the alert store this node names is not deployed.';
    throw new CodedError(GateCodes.CONFIG_INVALID, `Shared store: ${why}`);
  }
  return store;
}

/** A deployed gate at work: decisions, storm summaries once a second, and the journal flushed after each turn. */
class RunningGate {
  private flushQueued = false;
  private ticking = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly node: Node,
    private readonly gate: AlertGate,
    private readonly metrics: NodeMetrics,
    private readonly view: GateView,
  ) {
    this.timer = setInterval(() => this.tick(), 1000);
    view.counts();
  }

  async take(msg: NodeMessage, send: (msg: NodeMessage) => void, event: InfraEvent, stormKey?: string) {
    const decision = await this.gate.take(event, stormKey);
    // In the continuation of the decision: before any flush can write it (see gate.ts).
    if (decision.verdict === 'passed') send(msg);
    if (decision.storeError) this.view.trouble(decision.storeError, 'storeDown');
    if (decision.verdict === 'passed') this.metrics.passed++;
    else if (decision.verdict === 'double') this.metrics.doubles++;
    else this.metrics.held++;
    this.queueFlush();
    this.view.counts();
  }

  close(): void {
    clearInterval(this.timer);
    this.view.stop();
    this.flush();
  }

  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    this.summaries()
      .catch((err: unknown) => this.node.warn(`storm summaries: ${String(err)}`))
      .finally(() => (this.ticking = false));
  }

  private async summaries(): Promise<void> {
    const { summaries, partner, storeError } = await this.gate.due();
    for (const summary of summaries) {
      this.node.send({ payload: summary, topic: STORM_TYPE, storm: summary.data } as NodeMessage);
    }
    if (storeError) this.view.trouble(storeError, 'storeDown');
    this.metrics.summaries += summaries.length;
    this.metrics.sent += summaries.length;
    this.metrics.doubles += partner;
    if (summaries.length + partner > 0) this.view.counts();
    this.queueFlush();
  }

  /** In a later turn of the event loop: what the gate decided leaves first (see gate.ts). */
  private queueFlush(): void {
    if (this.flushQueued || !this.gate.dirty) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    const err = this.gate.flush();
    if (!err) return;
    const error = new CodedError(
      GateCodes.NOT_SAVED,
      `What the gate passed could not be saved: ${err.message}`,
    );
    this.view.trouble(error, 'notSaved');
  }
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'alert-gate', __dirname, AlertGateNode);

  function AlertGateNode(node: Node, def: AlertGateDef, texts: StatusTexts): void {
    const settings = readSettings(def);
    const metrics = metricsFor(node).uses('passed', 'doubles', 'held', 'summaries');
    const view = new GateView(node, texts, metrics);
    const userDir = RED.settings.userDir;
    const journal = new Journal(userDir ? new NodeFiles(userDir, ALERT_GATE_PURPOSE) : undefined, node.id);
    let shared: RedisStore | undefined;
    try {
      shared = sharedStore(RED, node, settings, view);
    } catch (err) {
      reportSetupError(RED, node, err as Error, texts.error('badSettings'));
    }
    const gate = new AlertGate(journal, { ...settings.options, ...(shared ? { shared } : {}) });
    const skipped = gate.sizes.skipped;
    if (skipped > 0) node.warn(`${skipped} unreadable lines of the saved state were skipped`);
    const running = new RunningGate(node, gate, metrics, view);

    onInput(node, async (msg, send) => {
      const event = eventOf(msg.payload);
      const property =
        settings.by === 'property' ? RED.util?.getMessageProperty(msg, settings.property) : undefined;
      const stormKey = settings.options.storms ? stormKeyOf(event, settings.by, property) : undefined;
      await running.take(msg, send, event, stormKey);
    });

    onClose(node, (removed) => {
      running.close();
      if (removed) journal.remove();
      if (settings.store) (RED.nodes.getNode(settings.store) as AlertStoreNode | null)?.release(node);
    });
  }
};
