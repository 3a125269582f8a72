/**
 * Operating the nodes in a real Node-RED: a flow configured only from the
 * environment (as in a container) receives events, and GET /dcevents/metrics
 * serves the counters to a Prometheus that holds a token with the metrics
 * permission, and to no one else.
 */
import assert from 'node:assert/strict';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { exampleFlow } from '../../sim/nodered';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { SinkSimulator } from '../../sim/sink';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

const PROMETHEUS_TOKEN = 'scrape-token-for-tests';
const VIEWER_TOKEN = 'flows-read-only-token';
const ADMIN_TOKEN = 'admin-token-for-tests';

/** bcrypt of "admin-password": settings.js holds hashes, never passwords. */
const PASSWORD_HASH = '$2b$08$7hPQ6P47w2lbj0o0enQWCeUnPZjj5qcnEgKp0P1xlLCSrR8awaXhq';

/** adminAuth as an operator would write it: people log in; Prometheus uses a static bearer token. */
const ADMIN_AUTH = {
  type: 'credentials',
  users: [
    { username: 'admin', password: PASSWORD_HASH, permissions: '*' },
    { username: 'prometheus', password: PASSWORD_HASH, permissions: 'dcevents.metrics.read' },
    { username: 'viewer', password: PASSWORD_HASH, permissions: 'flows.read' },
  ],
  tokens: [
    { token: PROMETHEUS_TOKEN, user: 'prometheus', scope: ['dcevents.metrics.read'] },
    { token: VIEWER_TOKEN, user: 'viewer', scope: ['flows.read'] },
    { token: ADMIN_TOKEN, user: 'admin', scope: ['*'] },
  ],
};

/** Prometheus text → "name{labels}" → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('operations in a real Node-RED', function () {
  this.timeout(60_000);
  let vcd: VcdSimulator;
  let apic: ApicSimulator;
  let sink: SinkSimulator;
  let red: RunningNodeRed | undefined;
  const flow = exampleFlow('infra-events-to-cloudevents.json');
  const node = (type: string, name?: string) =>
    flow.find((n) => n.type === type && (name === undefined || n.name === name))!;

  before(async () => {
    vcd = await VcdSimulator.start();
    apic = await ApicSimulator.start({ ratePerSec: 0 });
    sink = await SinkSimulator.start();
    // Every address, organization, certificate and secret comes from the environment.
    const configured = flow.map((n) => {
      if (n.type === 'vcd-login') return { ...n, url: '${VCD_URL}', org: '${VCD_ORG}', ca: '${VCD_CA}' };
      if (n.type === 'aci-controller') return { ...n, hosts: '${APIC_HOSTS}', ca: '${APIC_CA}' };
      if (n.type === 'cloudevent-emit') return { ...n, url: '${SINK_URL}', ca: '${SINK_CA}' };
      if (n.type === 'event-decode')
        return { ...n, source: String(n.source).endsWith(':8443') ? '${VCD_URL}' : '${APIC_SOURCE}' };
      return n;
    });
    red = await runNodeRed({
      flows: configured,
      credentials: {
        [node('vcd-login').id]: { username: '${VCD_USER}', password: '${VCD_PASSWORD}' },
        [node('aci-controller').id]: { username: '${APIC_USER}', password: '${APIC_PASSWORD}' },
      },
      env: {
        VCD_URL: vcd.url,
        VCD_ORG: 'acme',
        VCD_CA: vcd.cert ?? '',
        VCD_USER: 'acmeadmin',
        VCD_PASSWORD: DEFAULT_PASSWORD,
        APIC_HOSTS: apic.hosts,
        APIC_CA: apic.cert ?? '',
        APIC_USER: 'admin',
        APIC_PASSWORD: DEFAULT_APIC_PASSWORD,
        APIC_SOURCE: apic.urls[0]!,
        SINK_URL: `${sink.url}/events`,
        SINK_CA: sink.cert ?? '',
      },
      settings: { adminAuth: ADMIN_AUTH },
    });
  });

  after(async () => {
    await red?.stop();
    await vcd?.stop();
    await apic?.stop();
    await sink?.stop();
  });

  /** The VCD event the first test publishes. */
  let vcdEventId = '';

  const scrape = (token?: string) =>
    fetch(`${red!.base}/dcevents/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('runs a flow configured only from environment variables, credentials included', async () => {
    await waitFor(
      () => vcd.subscriptions.length === 1 && apic.liveSubscriptions.length >= 1,
      'both subscribed',
      20_000,
    );
    await waitFor(() => vcd.stats.auditReads >= 1, 'the missed-events mark');
    const published = vcd.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' });
    vcdEventId = published.event.eventId;
    apic.create('faultInst', 'uni/tn-prod/BD-bd-app/fault-F1527', { code: 'F1527', severity: 'major' });
    await waitFor(() => sink.received.length >= 2, 'both events at the sink', 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${red!.log()}`);
    });
    const fromVcd = sink.received.find((r) => r.event.id === published.event.eventId)?.event;
    assert.equal(fromVcd?.source, vcd.url, 'event decode took its source from ${VCD_URL}');
    assert.doesNotMatch(red!.log(), /\[error\]/);
  });

  it('serves the counters to a bearer token with dcevents.metrics.read, and to no one else', async () => {
    assert.equal((await scrape()).status, 401);
    assert.equal((await scrape(VIEWER_TOKEN)).status, 401, 'flows.read is not enough');
    assert.equal((await scrape('not-a-token')).status, 401);
    const res = await scrape(PROMETHEUS_TOKEN);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
    const values = parse(await res.text());
    const of = (metric: string, type: string, name?: string, extra = '') => {
      const n = node(type, name);
      return values.get(`${metric}{id="${n.id}",name="${String(n.name ?? '')}",type="${type}"${extra}}`);
    };
    // What happened in the first test, counted once by the node it passed.
    assert.equal(of('dcevents_received_total', 'vcd-subscribe'), 1);
    assert.equal(of('dcevents_sent_total', 'vcd-subscribe'), 1);
    assert.equal(of('dcevents_received_total', 'aci-subscribe'), 1);
    assert.equal(of('dcevents_decoded_total', 'event-decode', 'decode VCD'), 1);
    assert.equal(of('dcevents_decoded_total', 'event-decode', 'decode ACI'), 1);
    assert.equal(of('dcevents_received_total', 'cloudevent-emit'), 2);
    assert.equal(of('dcevents_delivered_total', 'cloudevent-emit'), 2);
    assert.equal(of('dcevents_dead_lettered_total', 'cloudevent-emit'), 0);
    assert.equal(of('dcevents_queue_depth', 'cloudevent-emit'), 0);
    assert.equal(of('dcevents_state', 'vcd-login', undefined, ',state="connected"'), 1);
    assert.equal(of('dcevents_state', 'aci-controller', undefined, ',state="connected"'), 1);
    assert.ok((of('dcevents_logins_total', 'vcd-login') ?? 0) >= 1);
    assert.ok((of('dcevents_logins_total', 'aci-controller') ?? 0) >= 1);
    // Nodes of other packages (debug, catch) are not ours to count.
    assert.ok(![...values.keys()].some((k) => k.includes('type="debug"')));
  });

  it('keeps the counters of redeployed nodes and forgets deleted ones', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const deployed = (await (await fetch(`${red!.base}/flows`, { headers: admin })).json()) as {
      id: string;
    }[];
    const gone = node('event-decode', 'decode ACI').id;
    const res = await fetch(`${red!.base}/flows`, {
      method: 'POST',
      headers: { ...admin, 'node-red-deployment-type': 'full' },
      body: JSON.stringify(deployed.filter((n) => n.id !== gone)),
    });
    assert.equal(res.status, 204, await res.text());
    await waitFor(
      async () => !(await (await scrape(PROMETHEUS_TOKEN)).text()).includes(gone),
      'the deleted node gone',
    );
    // The redeployed vcd subscribe may read its last event again from the audit trail (it had not settled:
    // a double, with its id, as designed). Kept, its counter counts every time the event left it, before the
    // redeploy and after, as the sink saw it; reset, it would count only what came after.
    const sub = node('vcd-subscribe');
    const received = async () =>
      parse(await (await scrape(PROMETHEUS_TOKEN)).text()).get(
        `dcevents_received_total{id="${sub.id}",name="${String(sub.name)}",type="vcd-subscribe"}`,
      );
    const atSink = () => sink.received.filter((r) => r.event.id === vcdEventId).length;
    await waitFor(async () => (await received()) === atSink(), 'the counter to count every delivery').catch(
      async (err: Error) => {
        throw new Error(`${err.message}: counter ${await received()}, at the sink ${atSink()}`);
      },
    );
    assert.ok(atSink() >= 1);
  });
});
