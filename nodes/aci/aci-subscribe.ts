/**
 * aci-subscribe: one message per managed-object change in the classes and
 * DNs it watches, through the shared connection of an aci-controller node.
 * `msg.subscribe` / `msg.unsubscribe` change the watch list at run time.
 */
import { CodedError } from '../common/errors';
import {
  createNode,
  ConnectionStatus,
  StatusThrottle,
  numberSetting,
  onClose,
  onInput,
  shortCount,
  status,
  reportSetupError,
} from '../common/glue';
import { metricsFor } from '../common/metrics';
import { NodeFiles } from '../common/node-files';
import type { ConnectionState } from '../common/reconnect-loop';
import type { Node, NodeAPI, NodeDef } from '../common/red';
import type { AciControllerNode } from './controller-api';
import { ENTRY_INVALID, parseEntries, type WatchEntry } from './entries';
import { ACI_STATE_PURPOSE, KnownKeeper, KnownStore } from './known-store';
import { OUTPUTS, toMessage, type AciOutput } from './output';
import { hostLabel } from './session';
import type { StateInfo } from './subscriber';

interface AciSubscribeDef extends NodeDef {
  controller: string;
  subscriptions: string;
  refreshTimeout: string | number;
  initial: 'skip' | 'emit' | 'changes';
  output: AciOutput;
}

/** Seconds: few refreshes, and well within what APIC 3.2(3)+ accepts (see the help). */
const DEFAULT_REFRESH_TIMEOUT = 900;

/** Short status words for the errors an operator must act on. */
const ERROR_LABELS: Record<string, string> = {
  APIC_AUTH_FAILED: 'auth failed',
  APIC_CONFIG_INVALID: 'bad settings',
  APIC_SUBSCRIBE_REFUSED: 'refused',
  CONFIG_CA_INVALID: 'bad CA',
  TLS_UNTRUSTED: 'TLS untrusted',
  TLS_HOSTNAME_MISMATCH: 'TLS name mismatch',
  DNS_FAILED: 'DNS failed',
  APIC_NOT_APIC: 'not an APIC',
  APIC_SOCKET_FAILED: 'socket failed',
};

/** Entries one node watches at most: a flow that subscribes to whatever it sees must not open subscriptions without end. */
const MAX_ENTRIES = 1000;

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
  const userDir = RED.settings.userDir;
  if (!userDir) return undefined;
  const files = new NodeFiles(userDir, ACI_STATE_PURPOSE);
  if (!changes) {
    files.remove(node.id);
    return undefined;
  }
  return new KnownKeeper(new KnownStore(files, node.id), entries, (m) => node.warn(m));
}

export = function register(RED: NodeAPI): void {
  function AciSubscribe(this: Node, saved: AciSubscribeDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const controller = RED.nodes.getNode(def.controller) as AciControllerNode | null;
    let entries: WatchEntry[];
    try {
      if (!controller) throw new CodedError('APIC_CONFIG_INVALID', 'Select an aci controller.');
      entries = parseEntries(String(def.subscriptions ?? ''));
    } catch (err) {
      const label = (err as CodedError).code === ENTRY_INVALID ? 'bad entries' : 'no controller';
      reportSetupError(RED, node, err as Error, label);
      return;
    }
    const output: AciOutput = OUTPUTS.includes(def.output) ? def.output : 'object';
    const keeper = keepKnown(RED, node, def.initial === 'changes', () =>
      controller!.entries(node).map((e) => e.key),
    );
    const options = {
      initial: def.initial === 'emit' || def.initial === 'changes' ? def.initial : ('skip' as const),
      restore: keeper && ((entry: string) => keeper.restored.get(entry)),
      // APIC takes whole seconds; out-of-range values go to the nearest bound (the editor warns of them).
      refreshTimeoutSec: Math.round(numberSetting(def.refreshTimeout, DEFAULT_REFRESH_TIMEOUT, 5, 3600)),
    };

    let count = 0;
    let host: string | undefined;
    const metrics = metricsFor(node);
    const view = new StatusThrottle(node);
    const connection = new ConnectionStatus(node, view, {
      errors: ERROR_LABELS,
      warnings: { APIC_THROTTLED: 'throttled' },
    });
    const live = () => status.connected(count, host ? hostLabel(host) : 'connected');
    const onState = (state: ConnectionState, info: StateInfo) => {
      if (state === 'connected') host = info.host;
      else metrics.setProgress('reading');
      connection.update(state, info.error, live);
    };

    controller!.watch(
      node,
      entries,
      {
        changes(changes) {
          count += changes.length;
          metrics.received += changes.length;
          metrics.sent += changes.length;
          if (output === 'event') metrics.decoded += changes.length;
          for (const change of changes)
            node.send(toMessage(change, output, controller!.source ?? 'urn:cisco:aci'));
          view.update(live());
        },
        refused(error, entry) {
          metrics.error(error.code);
          view.show(status.error(ERROR_LABELS[error.code] ?? error.code));
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
        read: keeper && ((entry, known, baseline) => keeper.read(entry, known, baseline)),
        tracked: keeper && ((entry, dn, state) => keeper.changed(entry, dn, state)),
        progress(entry, read, total, done) {
          // Shown while pages remain: a one-page read is over before anyone could see it.
          metrics.setProgress(`reading ${entry.key}`, done ? undefined : read, total);
          if (!done && read < total)
            view.show(status.connecting(`reading ${shortCount(read)}/${shortCount(total)}`));
          else if (done && metrics.state === 'connected') view.show(live());
        },
      },
      options,
      onState,
    );

    onInput(
      node,
      async (msg) => {
        if (msg.subscribe === undefined && msg.unsubscribe === undefined) {
          throw new CodedError(
            'APIC_INPUT_INVALID',
            'Send msg.subscribe or msg.unsubscribe: a class, a DN, or a list of them.',
          );
        }
        // Everything is checked before anything changes.
        const add = msg.subscribe === undefined ? [] : parseEntries(msg.subscribe);
        const remove = msg.unsubscribe === undefined ? [] : parseEntries(msg.unsubscribe);
        const current = new Set(controller!.entries(node).map((e) => e.key));
        const unknown = remove.filter((e) => !current.has(e.key)).map((e) => e.key);
        if (unknown.length > 0) {
          throw new CodedError(
            'APIC_NOT_SUBSCRIBED',
            `Not subscribed, so not removed: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}.`,
            {
              entries: unknown,
            },
          );
        }
        const after = new Set(current);
        for (const e of remove) after.delete(e.key);
        for (const e of add) after.add(e.key);
        if (after.size > MAX_ENTRIES) {
          throw new CodedError(
            'APIC_INPUT_INVALID',
            `This node would watch ${after.size} entries; it watches at most ${MAX_ENTRIES} (each is an APIC subscription).`,
          );
        }
        await controller!.update(node, add, remove);
      },
      { statusOnError: false },
    );

    onClose(node, async (removed) => {
      view.stop();
      // Saved while the entries are still known (unwatch forgets them).
      keeper?.close(removed);
      await controller!.unwatch(node);
    });
  }

  RED.nodes.registerType('aci-subscribe', AciSubscribe);
};
