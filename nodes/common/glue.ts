/**
 * The few patterns every node shares: registration, the async input wrapper,
 * the users map of config nodes, setup errors and the close handler (what a
 * node shows is common/node-status). Node-RED specifics live here and in the
 * node files only; protocol code never sees them.
 */
import { errorMessage, toError, type CodedError } from './errors';
import { metricsFor } from './metrics';
import { migrate } from './migrate';
import { NodeFiles } from './node-files';
import { statusTexts, type StatusTexts } from './node-status';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from './red';

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

/**
 * A flow node's settings as `read` makes them. When it throws, the error is reported as a setup error, shown
 * with the status key `keyOf` gives for its code, every input is answered with it, and there are none.
 */
export function settingsOrRefusal<S>(
  RED: NodeAPI,
  node: Node,
  texts: StatusTexts,
  read: () => S,
  keyOf: (code: string | undefined) => string,
): S | undefined {
  try {
    return read();
  } catch (err) {
    const error = toError(err);
    reportSetupError(RED, node, error, texts.error(keyOf((error as CodedError).code)));
    refuseInputs(node, error);
    return undefined;
  }
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
export class Users<U extends Node = Node, Listener extends (...args: never[]) => void = () => void> {
  private readonly map: Record<string, U>;
  /** What each user wants told of the connection (its state): a user removed hears no more. */
  private readonly listeners = new Map<string, Listener>();

  constructor(owner: Node) {
    this.map = {};
    (owner as unknown as { users: Record<string, U> }).users = this.map;
  }

  /** Adds a node, and what it wants told (`tell`); true when it is the first. */
  add(user: U, listener?: Listener): boolean {
    this.map[user.id] = user;
    if (listener) this.listeners.set(user.id, listener);
    return Object.keys(this.map).length === 1;
  }

  /** Removes a node and its listener; true when it was the last. */
  remove(user: U): boolean {
    this.listeners.delete(user.id);
    if (!(user.id in this.map)) return false;
    delete this.map[user.id];
    return Object.keys(this.map).length === 0;
  }

  /** Tells every user's listener. */
  tell(...args: Parameters<Listener>): void {
    for (const listener of this.listeners.values()) listener(...args);
  }

  /** Tells no one any more (the owner closes: what its connection says while closing is its own). */
  hush(): void {
    this.listeners.clear();
  }

  get size(): number {
    return Object.keys(this.map).length;
  }

  forEach(fn: (user: U) => void): void {
    for (const user of Object.values(this.map)) fn(user);
  }
}

/**
 * The files a node keeps for `purpose` under Node-RED's user directory, when it keeps them (`kept`); a node
 * that no longer does has its file removed (none are kept without a user directory).
 */
export function keptFiles(RED: NodeAPI, node: Node, purpose: string, kept: boolean): NodeFiles | undefined {
  const userDir = RED.settings.userDir;
  if (!userDir) return undefined;
  const files = new NodeFiles(userDir, purpose);
  if (kept) return files;
  files.remove(node.id);
  return undefined;
}

/** Reads a number from a node property, with bounds and a default. */
export function numberSetting(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}
