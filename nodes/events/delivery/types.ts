/** What a delivery is told (options) and what it tells (codes, results, counts). */
import type { BackoffOptions } from '../../common/backoff';
import type { DeliveryCounts } from '../../common/metrics';
import type { ProxySettings } from '../../common/proxy';
import type { TlsSettings } from '../../common/tls';

export const DeliveryCodes = {
  CONFIG_INVALID: 'CE_CONFIG_INVALID',
  REJECTED: 'CE_DELIVERY_REJECTED',
  FAILED: 'CE_DELIVERY_FAILED',
  GONE: 'CE_SINK_GONE',
  QUEUE_FULL: 'CE_QUEUE_FULL',
  DROPPED: 'CE_DROPPED',
  CLOSED: 'CE_DELIVERY_CLOSED',
  HANDSHAKE_FAILED: 'CE_HANDSHAKE_FAILED',
} as const;

export type DeliveryMode = 'binary' | 'structured' | 'batch';
export type FullPolicy = 'wait' | 'drop-oldest' | 'reject-new';

export interface DeliveryAuth {
  type: 'none' | 'bearer' | 'basic';
  token?: string;
  username?: string;
  password?: string;
}

/** The sink and how to reach it: what every delivery to it shares (a cloudevent-sink config node's settings). */
export interface SinkOptions {
  url: string;
  headers?: Record<string, string>;
  auth?: DeliveryAuth;
  tls?: TlsSettings;
  /** The sink's own proxy; without it, the environment's (HTTPS_PROXY, NO_PROXY). */
  proxy?: ProxySettings;
  /** Per request (headers and body). */
  timeoutMs?: number;
  /** Do the Webhook OPTIONS handshake before the first delivery. */
  handshake?: boolean;
  /** WebHook-Request-Origin for the handshake. */
  origin?: string;
  /** Connections at most; unlimited without (each delivery bounds its own requests by its concurrency). */
  connections?: number;
}

/** A delivery's own settings; those of its sink, when it makes its own sink. */
export interface DeliveryOptions extends Partial<SinkOptions> {
  mode?: DeliveryMode;
  /** Batch mode: events per request, and how long a partial batch waits for more. */
  batchSize?: number;
  lingerMs?: number;
  /** Backoff between attempts, and how long one event may keep retrying in all. */
  retry?: BackoffOptions & { budgetMs?: number };
  /** Events waiting to be sent (not counting those in requests). */
  queueLimit?: number;
  /** Policy "wait": events waiting for room in the queue, at most (default: queueLimit); beyond, CE_QUEUE_FULL. */
  waitLimit?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  onFull?: FullPolicy;
  /** On close, how long queued and in-flight events may still be delivered (default 5 s). */
  closeGraceMs?: number;
  /** Called for each event the sink accepted, with the ms from send() to the sink's answer. */
  onDelivered?(latencyMs: number): void;
}

/** What close() could not deliver. */
export interface CloseReport {
  lost: number;
  /** The first few of their ids. */
  ids: string[];
}

export interface DeliveryResult {
  status: number;
  attempts: number;
  latencyMs: number;
  /** Events in the request (1, or the batch size). */
  events: number;
}

/** The counters of the metrics, and whether the sink has said it wants no more. */
export interface DeliveryStats extends DeliveryCounts {
  /** The sink answered 410: nothing more is sent. */
  gone: boolean;
}
