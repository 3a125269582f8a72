/**
 * The few patterns every node shares: the async input wrapper, status texts,
 * the users map of config nodes and the close handler. Node-RED specifics live
 * here and in the node files only; protocol code never sees them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CodedError, errorMessage } from './errors';
import { metricsFor, type NodeMetrics } from './metrics';
import { migrate } from './migrate';
import type { ConnectionState } from './reconnect-loop';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from './red';

/** Node-RED shows status text in a small label: keep it short. */
const STATUS_MAX = 20;

function clip(text: string): string {
  return text.length > STATUS_MAX ? `${text.slice(0, STATUS_MAX - 1)}…` : text;
}

/** 1234 → "1.2k": counts stay readable in a status label. */
export function shortCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

const paint =
  (fill: NodeStatus['fill'], shape: NodeStatus['shape']) =>
  (text: string): NodeStatus => ({ fill, shape, text: clip(text) });

/** A status of each kind from words already found (`statusTexts` finds them in the locales). */
export const status = {
  connecting: paint('yellow', 'ring'),
  connected: paint('green', 'dot'),
  /** Working, but something was lost or failed on the way. */
  degraded: paint('yellow', 'dot'),
  error: paint('red', 'ring'),
  closed: paint('grey', 'ring'),
};

/** Values put into a status text: numbers are shown short (1.2k). */
export type StatusValues = Record<string, string | number>;

/** Turns a status key and its values into words. */
export type Translate = (key: string, values: Record<string, string>) => string;

/**
 * The statuses a node shows, each kind with its colour and shape, in the words
 * `translate` finds for a key (see `statusTexts`).
 */
export function textsFrom(translate: Translate) {
  const text = (key: string, values: StatusValues = {}): string =>
    translate(
      key,
      Object.fromEntries(
        Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? shortCount(v) : v]),
      ),
    );
  const kind =
    (look: (text: string) => NodeStatus) =>
    (key: string, values?: StatusValues): NodeStatus =>
      look(text(key, values));
  return {
    text,
    connecting: kind(status.connecting),
    connected: kind(status.connected),
    degraded: kind(status.degraded),
    error: kind(status.error),
    closed: kind(status.closed),
  };
}

export type StatusTexts = ReturnType<typeof textsFrom>;

/**
 * A node type's status texts, from its locales like the rest of its UI:
 * `key` names `<type>.status.<key>` in `locales/<lang>/<type>.json`. Node-RED
 * binds `RED._` to the node file's catalogue and the runtime's language
 * (settings `lang`), so texts with counts read in it too. A key the runtime
 * cannot translate (no catalogue loaded, as under node-red-node-test-helper)
 * falls back to the English file; an unknown key, such as an error code
 * without a label, is shown as it is.
 */
export function statusTexts(RED: NodeAPI, type: string, nodeDir: string): StatusTexts {
  const english = englishStatus(type, nodeDir);
  return textsFrom((key, values) => {
    const id = `${type}.status.${key}`;
    const translated = RED._(id, values);
    if (typeof translated === 'string' && translated !== id) return translated;
    return (english[key] ?? key).replace(/__(\w+)__/g, (all, name: string) => values[name] ?? all);
  });
}

function englishStatus(type: string, nodeDir: string): Record<string, string> {
  try {
    const file = path.join(nodeDir, 'locales', 'en-US', `${type}.json`);
    return JSON.parse(fs.readFileSync(file, 'utf8'))[type]?.status ?? {};
  } catch {
    return {};
  }
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new CodedError('UNEXPECTED', errorMessage(err));
}

/** Messages in what a node sends: one, or one per output (each null, one or a list). */
export function messageCount(out: Parameters<SendFn>[0]): number {
  if (!Array.isArray(out)) return 1;
  let n = 0;
  for (const o of out) n += o === null || o === undefined ? 0 : Array.isArray(o) ? o.length : 1;
  return n;
}

/**
 * The one input wrapper: runs an async handler and reports its failure through
 * `done(err)`, which reaches Catch nodes. A rejected promise never escapes into
 * the runtime.
 */
export function onInput(node: Node, handler: (msg: NodeMessage, send: SendFn) => Promise<void> | void): void {
  const metrics = metricsFor(node).uses('inputs', 'sent', 'errors');
  node.on('input', (msg, send, done) => {
    metrics.inputs++;
    const fail = (err: unknown) => {
      const error = toError(err);
      metrics.error((error as CodedError).code);
      done(error);
    };
    const counted: SendFn = (out) => {
      metrics.sent += messageCount(out);
      send(out);
    };
    try {
      Promise.resolve(handler(msg, counted)).then(() => done(), fail);
    } catch (err) {
      fail(err);
    }
  });
}

/** A node whose settings it cannot work with answers every input with their error (it reaches Catch nodes). */
export function refuseInputs(node: Node, error: Error): void {
  onInput(node, () => {
    throw error;
  });
}

/**
 * Reports settings a node cannot work with: a red status now, and the error
 * once the flows have started (`reportOnStart`).
 */
export function reportSetupError(RED: NodeAPI, node: Node, error: Error, shown: NodeStatus): void {
  const metrics = metricsFor(node).canBe('bad settings').uses('errors');
  metrics.setState('bad settings');
  metrics.error((error as CodedError).code);
  metrics.status = shown;
  node.status(shown);
  reportOnStart(RED, node, error);
}

/**
 * Sends an error found while constructing to Catch once the flows have
 * started: Node-RED wires up Catch nodes only after every node of the flow
 * exists, so an error raised earlier never reaches them.
 */
export function reportOnStart(RED: NodeAPI, node: Node, error: Error, msg: NodeMessage = {}): void {
  afterFlowsStart(RED, node)(() => node.error(error, msg));
}

/**
 * For reports that may come before the flows have started (the end of work a
 * constructor began): made while constructing, the gate runs a report at once
 * once the flows have started, and holds it until then before.
 */
export function afterFlowsStart(RED: NodeAPI, node: Node): (report: () => void) => void {
  let started = false;
  const held: (() => void)[] = [];
  const start = () => {
    started = true;
    for (const report of held.splice(0)) report();
  };
  RED.events.once('flows:started', start);
  node.on('close', (_removed: boolean, done: () => void) => {
    RED.events.removeListener('flows:started', start);
    done();
  });
  return (report) => {
    if (started) report();
    else held.push(report);
  };
}

/**
 * A close handler that waits for async cleanup. Node-RED counts the listener's
 * parameters, so this one declares exactly two; cleanup errors are logged, never
 * thrown, so a redeploy always completes.
 */
export function onClose(node: Node, cleanup: (removed: boolean) => Promise<void> | void): void {
  node.on('close', (removed: boolean, done: () => void) => {
    Promise.resolve()
      .then(() => cleanup(removed))
      .catch((err) => node.warn(`close: ${errorMessage(err)}`))
      .finally(done);
  });
}

/**
 * Node-RED's createNode, and the node's saved settings in the shape this
 * version reads (`migrate`): every node constructor starts here.
 */
export function createNode<D extends NodeDef>(RED: NodeAPI, node: Node, saved: D): D {
  RED.nodes.createNode(node, saved);
  // A redeployed node keeps its counters; what applies to it, it says again.
  metricsFor(node).restart();
  return migrate(saved);
}

/**
 * Registers a node type: each node of it is set up with its settings as this
 * version reads them (createNode) and the status texts of its type.
 */
export function registerNode<N extends Node, D extends NodeDef>(
  RED: NodeAPI,
  type: string,
  nodeDir: string,
  setup: (node: N, def: D, texts: StatusTexts) => void,
  options?: Parameters<NodeAPI['nodes']['registerType']>[2],
): void {
  const texts = statusTexts(RED, type, nodeDir);
  // Node-RED calls it with `new`: a function, not an arrow.
  function NodeConstructor(this: N, saved: D): void {
    setup(this, createNode(RED, this, saved), texts);
  }
  RED.nodes.registerType(type, NodeConstructor, options);
}

/**
 * Config nodes keep their dependent nodes in `users`: Node-RED then forwards the
 * config node's status() and error() to those nodes' Status and Catch nodes.
 * The connection opens with the first user and closes with the last.
 */
export class Users<U extends Node = Node> {
  private readonly map: Record<string, U>;

  constructor(owner: Node) {
    this.map = {};
    (owner as unknown as { users: Record<string, U> }).users = this.map;
  }

  /** Adds a node; true when it is the first. */
  add(user: U): boolean {
    this.map[user.id] = user;
    return Object.keys(this.map).length === 1;
  }

  /** Removes a node; true when it was the last. */
  remove(user: U): boolean {
    if (!(user.id in this.map)) return false;
    delete this.map[user.id];
    return Object.keys(this.map).length === 0;
  }

  get size(): number {
    return Object.keys(this.map).length;
  }

  forEach(fn: (user: U) => void): void {
    for (const user of Object.values(this.map)) fn(user);
  }
}

/**
 * Shows a status at most once per `intervalMs`: a busy stream must not flood
 * the editor. `show` is immediate (state changes); `update` coalesces (counts)
 * and does nothing once `stop` was called (the node closed).
 */
export class StatusThrottle {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  /** The status to show when the timer fires, made only then. */
  private pending: (() => NodeStatus) | undefined;
  private stopped = false;
  private readonly metrics;

  constructor(
    private readonly node: Node,
    private readonly intervalMs = 1000,
  ) {
    this.metrics = metricsFor(node);
  }

  show(s: NodeStatus | Record<string, never>): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.last = Date.now();
    this.metrics.status = s;
    this.node.status(s);
  }

  /**
   * A status that changes with every event (a count): shown at most once per
   * interval. It is made only when shown: its text goes through the runtime's
   * translation, which costs more than the rest of an event's way.
   */
  update(status: () => NodeStatus): void {
    // After close, counts still change (a delivery drains): no timer may outlive the node.
    if (this.stopped) return;
    this.pending = status;
    if (this.timer) return;
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) return this.show(status());
    this.timer = setTimeout(() => this.pending && this.show(this.pending()), wait);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}

/**
 * How a node shows the shared connection it uses: the status, and each
 * distinct failure sent to Catch once (not at every retry; again after a
 * recovery). `errors` map the codes of failures a person must act on to
 * status keys (red ring), `warnings` those of passing ones worth a word
 * (yellow ring); other failures show as "reconnecting" and are only logged at
 * debug level. The node's status texts need the keys connecting, reconnecting,
 * closed and authFailed.
 */
export class ConnectionStatus {
  private reported: string | undefined;

  constructor(
    private readonly node: Node,
    private readonly view: StatusThrottle,
    private readonly shown: {
      texts: StatusTexts;
      errors: Record<string, string>;
      warnings?: Record<string, string>;
    },
    private readonly errorMessage: () => NodeMessage = () => ({}),
  ) {
    metricsFor(node).showsConnection();
  }

  update(state: ConnectionState, error: CodedError | undefined, live: () => NodeStatus): void {
    metricsFor(this.node).setState(state);
    if (state === 'connected') {
      this.reported = undefined;
      this.view.show(live());
      return;
    }
    const { texts, errors, warnings } = this.shown;
    // A first connection that failed says why too (a proxy, a certificate), not only "connecting".
    if (state === 'idle' || (state === 'connecting' && !error))
      return this.view.show(texts.connecting('connecting'));
    if (state === 'closed') return this.view.show(texts.closed('closed'));
    const warning = error && warnings?.[error.code];
    const label = error && errors[error.code];
    if (warning) this.view.show(texts.connecting(warning));
    else if (state === 'auth-failed' || label) this.view.show(texts.error(label ?? 'authFailed'));
    else this.view.show(texts.connecting(state === 'connecting' ? 'connecting' : 'reconnecting'));
    if (error && (warning || label || state === 'auth-failed')) this.report(error);
    else if (error) this.node.debug(error.message);
  }

  /** Shows a failure: its label, or its code where it has none. */
  showError(error: CodedError): void {
    this.view.show(this.shown.texts.error(this.shown.errors[error.code] ?? error.code));
  }

  /** Sends an error to Catch unless the same failure was just reported. */
  report(error: CodedError): void {
    if (this.reported === error.code) return;
    this.reported = error.code;
    metricsFor(this.node).error(error.code);
    this.node.error(error, this.errorMessage());
  }
}

/** Reads a number from a node property, with bounds and a default. */
export function numberSetting(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

/** What the parts of a working subscribe node share: its settings, counters and status. */
export interface NodeStream<Settings> {
  node: Node;
  settings: Settings;
  texts: StatusTexts;
  metrics: NodeMetrics;
  view: StatusThrottle;
  connection: ConnectionStatus;
  /** Messages sent since the start. */
  count: number;
}
