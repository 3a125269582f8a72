/**
 * aci-subscribe: one message per managed-object change in the classes and
 * DNs it watches, through the shared connection of an aci-controller node.
 * `msg.subscribe` / `msg.unsubscribe` change the watch list at run time;
 * `msg.action` asks for it (getSubscriptions) or for a resync.
 */
import { CodedError, NetCodes, toError } from '../common/errors';
import { keptFiles, numberSetting, onClose, onInput, registerNode, settingsOrRefusal } from '../common/glue';
import { ConnectionStatus, StatusThrottle, type NodeStream, type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import type { ConnectionState } from '../common/reconnect-loop';
import { extended } from '../common/objects';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
import { SETUP_KEYS, statusKeys } from '../common/status-keys';
import type { AciControllerNode } from './controller-api';
import { ENTRY_INVALID, EntryCodes, parseEntries, type WatchEntry } from './entries';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore } from './known-store';
import { OUTPUTS, toMessage, type AciOutput } from './output';
import { APIC_KEYS, ApicCodes, hostLabel } from './session';
import { SubscriptionCodes, type StateInfo, type WatchHandlers, type WatchOptions } from './subscriber';

interface AciSubscribeDef extends NodeDef {
  controller: string;
  subscriptions: string;
  refreshTimeout: string | number;
  initial: 'skip' | 'emit' | 'changes';
  output: AciOutput;
}

/** Seconds: few refreshes, and well within what APIC 3.2(3)+ accepts (see the help). */
const DEFAULT_REFRESH_TIMEOUT = 900;

/** The status keys (locales: aci-subscribe.status) of the errors an operator must act on. */
const ERROR_KEYS = statusKeys(SETUP_KEYS, APIC_KEYS, {
  refused: [SubscriptionCodes.SUBSCRIBE_REFUSED],
  notApic: [ApicCodes.NOT_APIC],
  socketFailed: [SubscriptionCodes.SOCKET_FAILED],
});

/** Passing failures worth a word (yellow ring). */
const WARNING_KEYS: Record<string, string> = {
  [ApicCodes.THROTTLED]: 'throttled',
  [NetCodes.PROXY_FAILED]: 'proxyFailed',
};

/** Entries one node watches at most: a flow that subscribes to whatever it sees must not open subscriptions without end. */
const MAX_ENTRIES = 1000;

interface Settings {
  controller: AciControllerNode;
  entries: WatchEntry[];
  output: AciOutput;
}

/** The node's settings; a CodedError says why it cannot work with them. */
function readSettings(RED: NodeAPI, def: AciSubscribeDef): Settings {
  const controller = RED.nodes.getNode(def.controller) as AciControllerNode | null;
  if (!controller) throw new CodedError(ApicCodes.CONFIG_INVALID, 'Select an aci controller.');
  const entries = parseEntries(String(def.subscriptions ?? ''));
  return { controller, entries, output: OUTPUTS.includes(def.output) ? def.output : 'object' };
}

const settingsKey = (code: string | undefined) => (code === ENTRY_INVALID ? 'badEntries' : 'noController');

/**
 * With initial "changes" and a user directory, what the node knows of its
 * objects outlives the process; otherwise a stale state file goes.
 */
function keepKnown(
  RED: NodeAPI,
  node: Node,
  changes: boolean,
  entries: () => string[],
): KnownKeeper | undefined {
  const files = keptFiles(RED, node, ACI_STATE_PURPOSE, changes);
  return files && new KnownKeeper(new KnownStore(files, node.id), entries, (m) => node.warn(m));
}

function watchOptions(def: AciSubscribeDef, keeper: KnownKeeper | undefined): WatchOptions {
  return {
    initial: def.initial === 'emit' || def.initial === 'changes' ? def.initial : ('skip' as const),
    restore: keeper && ((entry: string) => keeper.restored.get(entry)),
    // APIC takes whole seconds; out-of-range values go to the nearest bound (the editor warns of them).
    refreshTimeoutSec: Math.round(numberSetting(def.refreshTimeout, DEFAULT_REFRESH_TIMEOUT, 5, 3600)),
  };
}

interface Stream extends NodeStream<Settings> {
  /** The APIC the connection is on. */
  host?: string;
}

function openStream(node: Node, settings: Settings, texts: StatusTexts): Stream {
  const view = new StatusThrottle(node);
  const connection = new ConnectionStatus(node, view, { texts, errors: ERROR_KEYS, warnings: WARNING_KEYS });
  const metrics = metricsFor(node).uses('received', 'recovered', 'sent', 'errors');
  if (settings.output === 'event') metrics.uses('decoded');
  return { node, settings, texts, metrics, view, connection, count: 0 };
}

const live = (s: Stream) =>
  s.host
    ? s.texts.connected('host', { host: hostLabel(s.host), count: s.count })
    : s.texts.connected('connected', { count: s.count });

/** What the node does with what its watch brings: changes out, failures to Catch, progress in the status. */
function watchHandlers(s: Stream, keeper: KnownKeeper | undefined): WatchHandlers {
  const { node, metrics, view, texts, settings } = s;
  return {
    changes(changes) {
      const send = () => {
        s.count += changes.length;
        metrics.received += changes.length;
        for (const change of changes) if (change.reason === 'resync') metrics.recovered++;
        metrics.sent += changes.length;
        if (settings.output === 'event') metrics.decoded += changes.length;
        for (const change of changes)
          node.send(toMessage(change, settings.output, settings.controller.source ?? 'urn:cisco:aci'));
        view.update(() => live(s));
      };
      // With initial: changes, what a change needs to be reported after a kill is on disk before it leaves.
      if (keeper) keeper.send(send);
      else send();
    },
    refused(error, entry) {
      metrics.error(error.code);
      s.connection.showError(error);
      node.error(error, { topic: entry.key });
    },
    failing(error, entry) {
      // Still retried; Catch hears of it once, the status stays that of the connection.
      metrics.error(error.code);
      node.error(error, { topic: entry.key });
    },
    invalid(error, raw) {
      // The raw text goes with the error: nothing is lost, the stream goes on.
      metrics.error(error.code);
      node.error(error, { payload: raw });
    },
    tracked: keeper && ((entry, dn, state, baseline) => keeper.tracked(entry, dn, state, baseline)),
    baseline: keeper && ((entry, complete) => keeper.baseline(entry, complete)),
    progress(entry, read, total, done) {
      // Shown while pages remain: a one-page read is over before anyone could see it.
      metrics.setProgress('reading', done ? undefined : read, total, entry.key);
      if (!done && read < total) view.show(texts.connecting('reading', { read, total }));
      else if (done && metrics.state === 'connected') view.show(live(s));
    },
  };
}

/** The connection's state in the status; the APIC it is on names it. */
function stateListener(s: Stream) {
  return (state: ConnectionState, info: StateInfo) => {
    if (state === 'connected') s.host = info.host;
    else s.metrics.setProgress('reading');
    s.connection.update(state, info.error, () => live(s));
  };
}

/** The watch list as a message carries it: each entry, with its APIC subscription id once subscribed. */
function watchList(s: Stream): { entry: string; subscriptionId: string | null }[] {
  const { controller } = s.settings;
  const ids = controller.subscriptionIds(s.node);
  return controller.entries(s.node).map((e) => ({ entry: e.key, subscriptionId: ids[e.key] ?? null }));
}

/**
 * `msg.action`: getSubscriptions sends the watch list (`msg.payload`, `msg.topic`
 * "subscriptions"); resync reads every entry again and sends what changed, as
 * after a reconnect, and completes once that is done. Without it, `msg.subscribe`
 * / `msg.unsubscribe` change the watch list.
 */
async function takeInput(s: Stream, msg: NodeMessage, send: SendFn): Promise<void> {
  if (msg.action === undefined) return changeWatchList(s, msg);
  if (msg.action === 'getSubscriptions')
    return send(extended(msg, { topic: 'subscriptions', payload: watchList(s) }));
  if (msg.action === 'resync') return s.settings.controller.resync(s.node);
  throw new CodedError(
    EntryCodes.INPUT_INVALID,
    `msg.action ${JSON.stringify(msg.action)} is not getSubscriptions or resync ` +
      '(msg.subscribe and msg.unsubscribe change the watch list).',
  );
}

/** `msg.subscribe` / `msg.unsubscribe`: everything is checked before anything changes. */
async function changeWatchList(s: Stream, msg: NodeMessage): Promise<void> {
  const { node, settings } = s;
  if (msg.subscribe === undefined && msg.unsubscribe === undefined) {
    throw new CodedError(
      EntryCodes.INPUT_INVALID,
      'Send msg.subscribe or msg.unsubscribe (a class, a DN, or a list of them), or msg.action.',
    );
  }
  const add = msg.subscribe === undefined ? [] : parseEntries(msg.subscribe);
  const remove = msg.unsubscribe === undefined ? [] : parseEntries(msg.unsubscribe);
  const current = new Set(settings.controller.entries(node).map((e) => e.key));
  const unknown = remove.filter((e) => !current.has(e.key)).map((e) => e.key);
  if (unknown.length > 0) {
    throw new CodedError(
      EntryCodes.NOT_SUBSCRIBED,
      `Not subscribed, so not removed: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}.`,
      { entries: unknown },
    );
  }
  const after = new Set(current);
  for (const e of remove) after.delete(e.key);
  for (const e of add) after.add(e.key);
  if (after.size > MAX_ENTRIES) {
    throw new CodedError(
      EntryCodes.INPUT_INVALID,
      `This node would watch ${after.size} entries; it watches at most ${MAX_ENTRIES} (each is an APIC subscription).`,
    );
  }
  await settings.controller.update(node, add, remove);
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'aci-subscribe', __dirname, AciSubscribe);

  function AciSubscribe(node: Node, def: AciSubscribeDef, texts: StatusTexts): void {
    const settings = settingsOrRefusal(RED, node, texts, () => readSettings(RED, def), settingsKey);
    if (!settings) return;
    const { controller } = settings;
    const keeper = keepKnown(RED, node, def.initial === 'changes', () =>
      controller.entries(node).map((e) => e.key),
    );
    const stream = openStream(node, settings, texts);
    let closing = false;
    const watch = () =>
      closing ||
      controller.watch(
        node,
        settings.entries,
        watchHandlers(stream, keeper),
        watchOptions(def, keeper),
        stateListener(stream),
      );
    // What was kept is read a piece at a time (a large state must not stall the runtime); then the watch.
    if (keeper) keeper.ready.then(watch).catch((err: unknown) => node.error(toError(err)));
    else watch();
    onInput(node, (msg, send) => takeInput(stream, msg, send));

    onClose(node, async (removed) => {
      closing = true;
      stream.view.stop();
      // Saved while the entries are still known (unwatch forgets them).
      await keeper?.close(removed);
      await controller.unwatch(node);
    });
  }
};
