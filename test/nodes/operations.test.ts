/**
 * Operating the nodes in a real Node-RED: a flow configured only from the
 * environment (as in a container) receives events, and GET /dcevents/metrics
 * serves the counters to a Prometheus that holds a token with the metrics
 * permission, and to no one else.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { exampleFlow } from '../../sim/nodered';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { SinkSimulator } from '../../sim/sink';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { lintScrape, needPromtool, parseExposition, valueOf, type Sample } from '../support/prometheus';
import { waitFor } from '../support/wait';

/** The Node-RED the tests run (4.1, or 5 where CI installs it). */
const NODE_RED_VERSION = (
  JSON.parse(fs.readFileSync(require.resolve('node-red/package.json'), 'utf8')) as { version: string }
).version;

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
    sink = await SinkSimulator.start({ tls: false });
    // Every address, organization, certificate and secret comes from the environment (the example reads its
    // addresses from there already; the certificates are added here).
    const configured = flow.map((n) => {
      if (n.type === 'vcd-login') return { ...n, ca: '${VCD_CA}' };
      if (n.type === 'aci-controller') return { ...n, ca: '${APIC_CA}' };
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
        VCD_ORG: 'System',
        VCD_CA: vcd.cert ?? '',
        VCD_USER: 'administrator',
        VCD_PASSWORD: DEFAULT_PASSWORD,
        APIC_HOSTS: apic.hosts,
        APIC_CA: apic.cert ?? '',
        APIC_USER: 'admin',
        APIC_PASSWORD: DEFAULT_APIC_PASSWORD,
        SINK_URL: `${sink.url}/events`,
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
    const text = await res.text();
    const samples = parseExposition(text);
    const of = (metric: string, type: string, name?: string, extra: Record<string, string> = {}) =>
      valueOf(samples, metric, { node_id: node(type, name).id, type, ...extra });
    // What happened in the first test, counted once by the node it passed.
    assert.equal(of('dcevents_received_events_total', 'vcd-subscribe'), 1);
    assert.equal(of('dcevents_output_messages_total', 'vcd-subscribe'), 1);
    assert.equal(of('dcevents_received_events_total', 'aci-subscribe'), 1);
    assert.equal(of('dcevents_decoded_events_total', 'event-decode', 'decode VCD'), 1);
    assert.equal(of('dcevents_output_messages_total', 'aci-subscribe'), 1);
    assert.equal(of('dcevents_input_messages_total', 'cloudevent-emit'), 2);
    assert.equal(of('dcevents_delivered_events_total', 'cloudevent-emit'), 2);
    assert.equal(of('dcevents_dead_letters_total', 'cloudevent-emit'), 0);
    assert.equal(of('dcevents_queued_events', 'cloudevent-emit'), 0);
    assert.equal(of('dcevents_delivery_latency_seconds_count', 'cloudevent-emit'), 2);
    assert.equal(
      of('dcevents_delivery_latency_seconds_bucket', 'cloudevent-emit', undefined, { le: '10' }),
      2,
    );
    // One meaning per name: the sum over nodes counts each event from VCD or the APIC once.
    const sum = (name: string) => samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
    assert.equal(sum('dcevents_received_events_total'), 2);
    assert.equal(of('dcevents_state', 'vcd-login', undefined, { state: 'connected' }), 1);
    assert.equal(of('dcevents_state', 'vcd-login', undefined, { state: 'reconnecting' }), 0);
    assert.equal(of('dcevents_state', 'aci-controller', undefined, { state: 'connected' }), 1);
    assert.ok((of('dcevents_logins_total', 'vcd-login') ?? 0) >= 1);
    assert.ok((of('dcevents_logins_total', 'aci-controller') ?? 0) >= 1);
    // A series only where it applies.
    const series = (type: string) =>
      new Set(samples.filter((s) => s.labels.type === type).map((s) => s.name));
    assert.ok(!series('vcd-subscribe').has('dcevents_delivered_events_total'));
    assert.ok(!series('event-decode').has('dcevents_state'));
    assert.ok(!series('vcd-login').has('dcevents_input_messages_total'));
    // Names and flows in the info metric alone; nodes of other packages (debug, catch) are not ours to count.
    const tab = flow.find((n) => n.type === 'tab')!;
    assert.deepEqual(
      samples.find((s) => s.name === 'dcevents_node_info' && s.labels.type === 'vcd-subscribe')?.labels,
      {
        node_id: node('vcd-subscribe').id,
        type: 'vcd-subscribe',
        name: 'VCD events',
        flow: String(tab.label),
      },
    );
    const withName = samples.filter((s) => 'name' in s.labels).map((s: Sample) => s.name);
    assert.deepEqual([...new Set(withName)], ['dcevents_node_info']);
    assert.ok(!samples.some((s) => ['debug', 'catch'].includes(String(s.labels.type))));
    const build = samples.find((s) => s.name === 'dcevents_build_info')?.labels;
    // As the runtime says it (Node-RED adds -git when it finds a .git above its folder, as in this repository).
    assert.ok([NODE_RED_VERSION, `${NODE_RED_VERSION}-git`].includes(build?.nodered ?? ''), build?.nodered);
    assert.match(build?.version ?? '', /^\d+\.\d+\.\d+/);
  });

  it('a real scrape passes promtool\u2019s lint of names, types and help', async function () {
    needPromtool(this);
    assert.equal(await lintScrape(await (await scrape(PROMETHEUS_TOKEN)).text()), '');
  });

  it('keeps the counters of redeployed nodes and forgets deleted ones', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const deployed = (await (await fetch(`${red!.base}/flows`, { headers: admin })).json()) as {
      id: string;
    }[];
    const gone = node('aci-subscribe').id;
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
      valueOf(
        parseExposition(await (await scrape(PROMETHEUS_TOKEN)).text()),
        'dcevents_received_events_total',
        {
          node_id: sub.id,
        },
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
