/**
 * Node-RED test runtime (node-red-node-test-helper) set up once for all node
 * tests, plus helpers to watch what nodes do.
 */
import helper from 'node-red-node-test-helper';
import type { EventEmitter } from 'node:events';

helper.init(require.resolve('node-red'));

export { helper };

export interface Recorded {
  messages: Record<string, unknown>[];
  statuses: { fill?: string; shape?: string; text?: string }[];
  errors: { error: unknown; msg?: Record<string, unknown> }[];
}

/**
 * Records what a node sends (through a helper node wired to it), its status
 * calls and its error calls.
 */
export function record(node: EventEmitter, sink?: EventEmitter): Recorded {
  const rec: Recorded = { messages: [], statuses: [], errors: [] };
  sink?.on('input', (msg: Record<string, unknown>) => rec.messages.push(msg));
  node.on('call:status', (call: { args: unknown[] }) =>
    rec.statuses.push(call.args[0] as Recorded['statuses'][0]),
  );
  node.on('call:error', (call: { args: unknown[] }) =>
    rec.errors.push({ error: call.args[0], msg: call.args[1] as Record<string, unknown> | undefined }),
  );
  return rec;
}

/** Every line Node-RED logged during the test, as text (to check secrets never appear). */
export function loggedText(): string {
  return helper
    .log()
    .getCalls()
    .map((c) =>
      JSON.stringify(c.args, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v)),
    )
    .join('\n');
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const tlsConfig = require('@node-red/nodes/core/network/05-tls.js') as (RED: unknown) => void;

/** A core TLS configuration node (load `tlsConfig` with the flow): verifies, no CA or certificate of its own. */
export function tlsConfigNode(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, ...extra };
}

/** A Catch node for the whole tab and a helper after it (load `catchNode` with the flow). */
export function catchAll(tab: string): Record<string, unknown>[] {
  return [
    { id: 'catcher', type: 'catch', z: tab, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: tab },
  ];
}

/** What reaches the Catch node of `catchAll`, collected from now on. */
export function collectCaught(): Record<string, unknown>[] {
  const caught: Record<string, unknown>[] = [];
  helper.getNode('caught').on('input', (m: Record<string, unknown>) => caught.push(m));
  return caught;
}
