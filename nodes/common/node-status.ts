/**
 * What a node shows: its status texts from its locales, each kind with its
 * colour and shape, shown at a pace the editor can follow, and how a node that
 * holds a connection shows it (and reports each distinct failure once).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CodedError } from './errors';
import { metricsFor, type NodeMetrics } from './metrics';
import type { ConnectionState } from './reconnect-loop';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from './red';

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
