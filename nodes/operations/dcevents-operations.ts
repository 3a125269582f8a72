/**
 * dcevents-operations (a Node-RED plugin, no node): serves the counters of
 * every node of this package to the editor's "datacenter events" sidebar tab
 * (over Node-RED's comms) and to Prometheus (GET /dcevents/metrics on the
 * admin API).
 */
import { allMetrics, retain } from '../common/metrics';
import type { NodeAPI } from '../common/red';
import { prometheusRegistry } from './prometheus';

/** The comms topic the sidebar tab subscribes to. */
const TOPIC = 'dcevents/nodes';
/** How often the tab is updated (only when something changed). */
const PUBLISH_MS = 2000;

interface OperationsAPI extends NodeAPI {
  comms: { publish(topic: string, data: unknown, retain?: boolean): void };
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  events: NodeAPI['events'] & { on(event: string, listener: () => void): void };
}

interface MetricsResponse {
  set(name: string, value: string): void;
  send(body: string): void;
  status(code: number): MetricsResponse;
  end(): void;
}

/** Flow id → its name: the tab's label (a subflow's name), as deployed. */
function flowNames(RED: OperationsAPI): Map<string, string> {
  const names = new Map<string, string>();
  RED.nodes.eachNode((n) => {
    const { type, label, name } = n as { type?: string; label?: unknown; name?: unknown };
    if (type === 'tab') names.set(n.id, String(label ?? ''));
    else if (type === 'subflow') names.set(n.id, String(name ?? ''));
  });
  return names;
}

export = function register(RED: OperationsAPI): void {
  let flows = new Map<string, string>();
  const registry = prometheusRegistry({
    nodered: RED.version(),
    flowName: (z) => (z === undefined ? '' : (flows.get(z) ?? z)),
  });

  // adminAuth: a user or token needs this permission (or 'read', or '*'); without adminAuth the route is open
  // like the rest of the admin API.
  RED.httpAdmin.get('/dcevents/metrics', RED.auth.needsPermission('dcevents.metrics.read'), (_req, res) => {
    const out = res as unknown as MetricsResponse;
    registry.metrics().then(
      (text) => {
        out.set('Content-Type', registry.contentType);
        out.send(text);
      },
      (err: unknown) => {
        RED.log.warn(`dcevents metrics: ${String(err)}`);
        out.status(500).end();
      },
    );
  });

  // Counters of nodes no longer deployed are forgotten; flows may have been renamed.
  RED.events.on('flows:started', () => {
    retain((id) => RED.nodes.getNode(id) != null);
    flows = flowNames(RED);
  });

  let last = '';
  const publish = () => {
    const nodes = allMetrics().map((m) => m.snapshot());
    const text = JSON.stringify(nodes);
    if (text === last) return;
    last = text;
    // Retained: an editor that connects later gets the latest at once.
    RED.comms.publish(TOPIC, { at: Date.now(), nodes }, true);
  };
  setInterval(publish, PUBLISH_MS).unref();

  RED.plugins.registerPlugin('dcevents-operations', { type: 'dcevents-operations' });
};
