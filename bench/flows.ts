/**
 * The flows of the pipeline benchmarks, all in one Node-RED: each contender
 * reads a topic of its own (a VCD user of its own; an APIC of its own), so
 * the others stay idle while one runs.
 */
import type { FlowNode } from '../sim/nodered';
import { DEFAULT_APIC_PASSWORD } from '../sim/apic';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';

/** Connections to the sink, the same for our emit node and the ceiling's undici Pool. */
export const CONNECTIONS = 8;

/** The sink path each contender posts to (the sink counts per path). */
export const PATHS = {
  ceilingVcd: '/events/ceiling-vcd',
  ours: '/events/ours',
  oursEvent: '/events/ours-event',
  core: '/events/core',
  seedVcd: '/events/seed-vcd',
  spoolMemory: '/events/spool-memory',
  spoolDisk: '/events/spool-disk',
  ceilingAci: '/events/ceiling-aci',
  oursAci: '/events/ours-aci',
  seedAci: '/events/seed-aci',
  deliveryCore: '/events/delivery-core',
} as const;

/** The VCD user each VCD contender logs in as (its topic is publish/{org}/{user}). */
export const VCD_USERS = {
  ceiling: 'bench-ceiling',
  ours: 'bench-ours',
  oursEvent: 'bench-event',
  core: 'bench-core',
  seed: 'bench-seed',
  spoolMemory: 'bench-spool-memory',
  spoolDisk: 'bench-spool-disk',
} as const;

export interface FlowSetup {
  vcdUrl: string;
  /** The counting sink's origin (each contender posts to a path of PATHS). */
  sinkUrl: string;
  /** The literal topic of the core mqtt in node (the core node expands no {org}/{user}). */
  coreTopic: string;
  apicHost: string;
  apicCa: string;
  /** Does cloudevent emit have a spool property in this build? */
  spool: boolean;
}

function emit(id: string, tab: string, sinkUrl: string, extra: Record<string, unknown> = {}): FlowNode {
  return {
    id,
    type: 'cloudevent-emit',
    z: tab,
    url: sinkUrl,
    mode: 'binary',
    batchSize: 10,
    lingerMs: 50,
    authType: 'none',
    timeout: 10,
    retryBudget: 300,
    // The whole burst fits (with as many waiting): the other contenders have no bound at all. At the default
    // (1000, and 1000 waiting) a burst beyond that is refused with CE_QUEUE_FULL, as designed.
    queueLimit: 1_000_000,
    concurrency: CONNECTIONS,
    onFull: 'wait',
    handshake: false,
    version: 1,
    wires: [[], []],
    ...extra,
  };
}

/** vcd login → vcd subscribe (→ event decode) → cloudevent emit, for one user. */
function ourVcdFlow(
  tab: string,
  key: string,
  user: string,
  path: string,
  s: FlowSetup,
  viaDecode: boolean,
  emitExtra = {},
) {
  const nodes: FlowNode[] = [
    { id: `${key}-login`, type: 'vcd-login', url: s.vcdUrl, org: 'acme', authType: 'password', version: 1 },
    {
      id: `${key}-sub`,
      type: 'vcd-subscribe',
      z: tab,
      login: `${key}-login`,
      topic: 'publish/{org}/{user}',
      qos: '1',
      output: viaDecode ? 'envelope' : 'event',
      catchUp: false,
      version: 1,
      wires: [[viaDecode ? `${key}-decode` : `${key}-emit`]],
    },
    emit(`${key}-emit`, tab, `${s.sinkUrl}${path}`, emitExtra),
  ];
  if (viaDecode) {
    nodes.push({
      id: `${key}-decode`,
      type: 'event-decode',
      z: tab,
      format: 'auto',
      source: s.vcdUrl,
      keepOriginal: false,
      errors: 'catch',
      maxSize: 16,
      outputs: 1,
      version: 1,
      wires: [[`${key}-emit`]],
    });
  }
  return { nodes, credentials: { [`${key}-login`]: { username: user, password: DEFAULT_PASSWORD } } };
}

/** What a user writes in a function node to turn a VCD envelope into a binary CloudEvent. */
const coreDecode = (source: string) => `const e = JSON.parse(msg.payload.payload);
msg.headers = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': e.eventId,
  'ce-type': 'com.vmware.vcd.' + e.type.split('/').slice(-2).join('.'),
  'ce-source': ${JSON.stringify(source)},
  'ce-time': encodeURIComponent(e.timestamp),
  'ce-subject': e.entity,
};
msg.payload = e;
return msg;`;

/** mqtt in → json → function → http request: the flow a user builds from core nodes. */
function coreVcdFlow(tab: string, s: FlowSetup): FlowNode[] {
  return [
    {
      id: 'core-broker',
      type: 'mqtt-broker',
      broker: `${s.vcdUrl.replace(/^http/, 'ws')}/messaging/mqtt`,
      port: '',
      clientid: '',
      autoConnect: true,
      usetls: false,
      protocolVersion: 4,
      keepalive: 60,
      cleansession: true,
      autoUnsubscribe: true,
    },
    {
      id: 'core-in',
      type: 'mqtt in',
      z: tab,
      topic: s.coreTopic,
      qos: '1',
      datatype: 'utf8',
      broker: 'core-broker',
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [['core-json']],
    },
    {
      id: 'core-json',
      type: 'json',
      z: tab,
      property: 'payload',
      action: 'obj',
      pretty: false,
      wires: [['core-fn']],
    },
    {
      id: 'core-fn',
      type: 'function',
      z: tab,
      func: coreDecode(s.vcdUrl),
      outputs: 1,
      wires: [['core-http']],
    },
    {
      id: 'core-http',
      type: 'http request',
      z: tab,
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${s.sinkUrl}${PATHS.core}`,
      persist: true,
      wires: [[]],
    },
  ];
}

/**
 * The core http request node in a closed loop: POST /bench/deliver {n, inFlight, headers, body}
 * starts `inFlight` requests; each answer starts the next until n were sent.
 */
function coreDeliveryFlow(tab: string, s: FlowSetup): FlowNode[] {
  const next = `const left = flow.get('left');
if (left <= 0) return null;
flow.set('left', left - 1);
const t = flow.get('template');
return { headers: { ...t.headers, 'ce-id': 'core-' + left }, payload: t.body };`;
  const start = `const { n, inFlight, headers, body } = msg.payload;
flow.set('template', { headers, body });
flow.set('left', n - inFlight);
const out = [];
for (let i = 0; i < inFlight; i++) out.push({ headers: { ...headers, 'ce-id': 'core-start-' + i }, payload: body });
return [out, { ...msg, payload: 'started' }];`;
  return [
    { id: 'dl-in', type: 'http in', z: tab, url: '/bench/deliver', method: 'post', wires: [['dl-start']] },
    { id: 'dl-start', type: 'function', z: tab, func: start, outputs: 2, wires: [['dl-http'], ['dl-res']] },
    { id: 'dl-res', type: 'http response', z: tab, statusCode: '', headers: {}, wires: [] },
    {
      id: 'dl-http',
      type: 'http request',
      z: tab,
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${s.sinkUrl}${PATHS.deliveryCore}`,
      persist: true,
      wires: [['dl-next']],
    },
    { id: 'dl-next', type: 'function', z: tab, func: next, outputs: 1, wires: [['dl-http']] },
  ];
}

/** aci controller → aci subscribe (fvBD, output event) → cloudevent emit. */
function ourAciFlow(tab: string, s: FlowSetup) {
  const nodes: FlowNode[] = [
    {
      id: 'aci-ctl',
      type: 'aci-controller',
      hosts: s.apicHost,
      authType: 'password',
      ca: s.apicCa,
      version: 1,
    },
    {
      id: 'aci-sub',
      type: 'aci-subscribe',
      z: tab,
      controller: 'aci-ctl',
      subscriptions: 'fvBD',
      refreshTimeout: 600,
      initial: 'skip',
      output: 'event',
      version: 1,
      wires: [['aci-emit']],
    },
    emit('aci-emit', tab, `${s.sinkUrl}${PATHS.oursAci}`),
  ];
  return { nodes, credentials: { 'aci-ctl': { username: 'admin', password: DEFAULT_APIC_PASSWORD } } };
}

export function benchFlows(s: FlowSetup): {
  flows: FlowNode[];
  credentials: Record<string, Record<string, string>>;
} {
  const tab = 'bench-tab';
  const parts = [
    ourVcdFlow(tab, 'ours', VCD_USERS.ours, PATHS.ours, s, true),
    ourVcdFlow(tab, 'event', VCD_USERS.oursEvent, PATHS.oursEvent, s, false),
    ourAciFlow(tab, s),
  ];
  if (s.spool) {
    parts.push(
      ourVcdFlow(tab, 'spool-memory', VCD_USERS.spoolMemory, PATHS.spoolMemory, s, true, { spool: 'memory' }),
      ourVcdFlow(tab, 'spool-disk', VCD_USERS.spoolDisk, PATHS.spoolDisk, s, true, { spool: 'disk' }),
    );
  }
  return {
    flows: [
      { id: tab, type: 'tab', label: 'benchmarks' },
      ...parts.flatMap((p) => p.nodes),
      ...coreVcdFlow(tab, s),
      ...coreDeliveryFlow(tab, s),
    ],
    credentials: Object.assign({}, ...parts.map((p) => p.credentials)) as Record<
      string,
      Record<string, string>
    >,
  };
}
