/**
 * What the subscribe nodes do with an input message: vcd subscribe changes its
 * topic filters like the core mqtt in node's dynamic subscription
 * (msg.action subscribe / unsubscribe / getSubscriptions with msg.topic); aci
 * subscribe tells its watch list and reads everything again on msg.action
 * resync. Bad messages fail with a code and change nothing; flows saved before
 * the input run as they did.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import aciController from '../../nodes/aci/aci-controller';
import aciSubscribe from '../../nodes/aci/aci-subscribe';
import { metricsFor, retain } from '../../nodes/common/metrics';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { helper, record, type Recorded } from '../support/red';
import { delay, waitFor } from '../support/wait';

/* eslint-disable @typescript-eslint/no-require-imports */
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;
const completeNode = require('@node-red/nodes/core/common/24-complete.js') as (RED: unknown) => void;
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = Record<string, unknown>;
const code = (m: Msg | undefined) => (m?.error as { code?: string } | undefined)?.code;

/** The node under test wired to `out`, with Catch and Complete nodes scoped to it. */
function around(node: Msg, config: Msg): Msg[] {
  return [
    { id: 'tab', type: 'tab', label: 'inputs' },
    config,
    { ...node, id: 'sub', z: 'tab', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: ['sub'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    { id: 'completer', type: 'complete', z: 'tab', scope: ['sub'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'tab' },
  ];
}

interface Loaded {
  rec: Recorded;
  caught: Msg[];
  completed: Msg[];
  send(msg: Msg): void;
}

/** Node modules as the test helper takes them. */
type NodeModules = Extract<Parameters<typeof helper.load>[0], unknown[]>;

async function load(
  types: NodeModules,
  flow: Msg[],
  creds: Record<string, Record<string, string>>,
): Promise<Loaded> {
  await helper.load([...types, catchNode, completeNode], flow, creds);
  const rec = record(helper.getNode('sub'), helper.getNode('out'));
  const caught: Msg[] = [];
  const completed: Msg[] = [];
  helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
  helper.getNode('completed').on('input', (m: Msg) => completed.push(m));
  return { rec, caught, completed, send: (msg) => helper.getNode('sub').receive(msg) };
}

describe('subscribe nodes take input messages', function () {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    retain(() => false);
  });

  describe('vcd subscribe: msg.action, as the core mqtt in node', () => {
    let sim: VcdSimulator;
    beforeEach(async () => {
      sim = await VcdSimulator.start({ ratePerSec: 0 });
    });
    afterEach(() => sim.stop());

    const start = (sub: Msg) =>
      load(
        [vcdLogin, vcdSubscribe],
        around(
          { type: 'vcd-subscribe', login: 'login', qos: '1', version: 3, ...sub },
          { id: 'login', type: 'vcd-login', url: sim.url, org: 'acme', authType: 'password', ca: sim.cert },
        ),
        { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
      );
    const events = (rec: Recorded) => rec.messages.filter((m) => m.topic !== 'subscriptions');

    it('adds and removes topic filters, each message once however many filters match, and lists them', async () => {
      const { rec, caught, completed, send } = await start({ topic: 'publish/{org}/{user}' });
      await waitFor(() => sim.subscriptions.length === 1, 'its own topic');
      send({ action: 'subscribe', topic: [{ topic: 'publish/{org}/+', qos: 0 }] });
      await waitFor(() => sim.subscriptions.length === 2, 'the second filter');
      await waitFor(() => completed.length === 1, 'the message done');
      assert.deepEqual(completed[0]!.subscriptions, [
        { topic: 'publish/{org}/{user}', qos: 1 },
        { topic: 'publish/{org}/+', qos: 0 },
      ]);
      const own = sim.publishEvent({ actor: 'acmeadmin@acme' }); // both filters match
      const other = sim.publishEvent({ actor: 'acmeuser@acme' }); // the organization's only
      await waitFor(() => events(rec).length >= 2, 'both events');
      await delay(200);
      assert.deepEqual(
        events(rec).map((m) => (m.payload as { payload: { eventId: string } }).payload.eventId),
        [own.event.eventId, other.event.eventId],
      );

      send({ action: 'getSubscriptions', _msgid: 'ask' });
      const list = await waitFor(() => rec.messages.find((m) => m.topic === 'subscriptions'), 'the list');
      assert.deepEqual(list.payload, completed[0]!.subscriptions);
      assert.equal(list._msgid, 'ask');

      send({ action: 'unsubscribe', topic: 'publish/{org}/{user}' });
      await waitFor(() => sim.subscriptions.length === 1, 'one filter left');
      assert.match(sim.subscriptions[0]!, /^publish\/[0-9a-f-]+\/\+$/);
      send({ action: 'unsubscribe', topic: true });
      await waitFor(() => sim.subscriptions.length === 0, 'none left');
      const before = events(rec).length;
      sim.publishEvent({ actor: 'acmeuser@acme' });
      await delay(300);
      assert.equal(events(rec).length, before, 'nothing after the last filter went');
      assert.deepEqual(caught, []);
      // The commands are input messages; what came from VCD is what the node received.
      const m = metricsFor(helper.getNode('sub'));
      assert.deepEqual([m.inputs, m.received], [4, 2]);
    });

    it('refuses a bad message with a code, and changes nothing', async () => {
      const { caught, send } = await start({ topic: 'publish/{org}/+' });
      await waitFor(() => sim.subscriptions.length === 1, 'its own topic');
      send({ action: 'subscribe', topic: ['publish/{org}/{user}', 'publish/{org}/*'] });
      send({ action: 'subscribe', topic: { topic: 'publish/{org}/{user}', qos: 3 } });
      send({ action: 'subscribe', topic: 42 });
      send({ action: 'unsubscribe', topic: 'publish/{org}/{user}' });
      send({ action: 'connect' });
      send({ topic: 'publish/{org}/{user}' });
      send({ action: 'subscribe', topic: Array.from({ length: 100 }, (_, i) => `publish/t${i}/+`) });
      await waitFor(() => caught.length === 7, 'seven errors at Catch');
      assert.deepEqual(caught.map(code), [
        'VCD_TOPIC_INVALID',
        'VCD_ACTION_INVALID',
        'VCD_TOPIC_INVALID',
        'VCD_NOT_SUBSCRIBED',
        'VCD_ACTION_INVALID',
        'VCD_ACTION_INVALID',
        'VCD_TOPIC_INVALID',
      ]);
      assert.match(
        (caught[6]!.error as { message: string }).message,
        /101 topic filters; it holds at most 100/,
      );
      await delay(200);
      assert.equal(sim.subscriptions.length, 1, 'still its own topic only');
    });

    it('with topics set by messages, starts with none and takes what a message subscribes', async () => {
      const { rec, caught, send } = await start({ dynamic: true, topic: '', catchUp: true });
      await waitFor(() => rec.statuses.some((s) => s.fill === 'green'), 'connected');
      assert.deepEqual(sim.subscriptions, []);
      send({ action: 'subscribe', topic: 'publish/{org}/{user}' });
      await waitFor(() => sim.subscriptions.length === 1, 'the filter');
      assert.match(
        sim.subscriptions[0]!,
        /^publish\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/,
        '{org} and {user} filled in',
      );
      const mine = sim.publishEvent({ actor: 'acmeadmin@acme' });
      sim.publishEvent({ actor: 'acmeuser@acme' });
      await waitFor(() => events(rec).length === 1, 'the one event');
      await delay(200);
      assert.equal(events(rec).length, 1);
      assert.equal(
        (events(rec)[0]!.payload as { payload: { eventId: string } }).payload.eventId,
        mine.event.eventId,
      );
      // No topic of its own: nothing to recover, even with "Missed events" saved on.
      assert.equal(sim.stats.auditReads, 0);
      send({ action: 'subscribe', topic: 'publish/#' }); // organization admin: refused by VCD
      await waitFor(() => caught.length === 1, 'the refusal at Catch');
      assert.equal(code(caught[0]), 'VCD_SUBSCRIBE_REFUSED');
    });

    it('unsubscribing its own topic ends "Missed events" for it and forgets the mark', async () => {
      const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-inputs-'));
      helper.settings({ userDir });
      try {
        const folder = path.join(userDir, 'dcevents', 'vcd-marks');
        const marks = () => (fs.existsSync(folder) ? fs.readdirSync(folder) : []);
        const { rec, send } = await start({ topic: 'publish/{org}/+', catchUp: true });
        await waitFor(() => sim.stats.auditReads === 1, 'the first mark');
        send({ action: 'subscribe', topic: 'publish/{org}/{user}' });
        await waitFor(() => sim.subscriptions.length === 2 && marks().length === 1, 'the mark kept');
        send({ action: 'unsubscribe', topic: 'publish/{org}/+' });
        await waitFor(() => marks().length === 0, 'the mark gone');
        // Away and back: nothing is read back for a topic it no longer holds; the other filter goes on live.
        sim.restartBroker(1000);
        await waitFor(() => sim.subscriptions.length === 0, 'the connection dropped');
        sim.publishEvent({ actor: 'acmeuser@acme' });
        await waitFor(() => sim.subscriptions.length === 1, 'subscribed again', 15_000);
        const mine = sim.publishEvent({ actor: 'acmeadmin@acme' });
        await waitFor(() => events(rec).length === 1, 'the live event');
        await delay(500);
        assert.equal(sim.stats.auditReads, 1, 'no recovery');
        assert.equal(
          (events(rec)[0]!.payload as { payload: { eventId: string } }).payload.eventId,
          mine.event.eventId,
        );
        assert.deepEqual(marks(), [], 'and no mark written again');
      } finally {
        helper.settings({});
        fs.rmSync(userDir, { recursive: true, force: true });
      }
    });

    it('a flow saved before the input (version 2) subscribes its topic as it did', async () => {
      const { rec } = await start({ topic: 'publish/{org}/+', version: 2, dynamic: undefined });
      await waitFor(() => sim.subscriptions.length === 1, 'its topic');
      sim.publishEvent({ actor: 'acmeuser@acme' });
      await waitFor(() => events(rec).length === 1, 'the event');
    });
  });

  describe('aci subscribe: msg.action getSubscriptions and resync', () => {
    let sim: ApicSimulator;
    beforeEach(async () => {
      sim = await ApicSimulator.start({ ratePerSec: 0 });
    });
    afterEach(() => sim.stop());

    const BD = 'uni/tn-prod/BD-bd-web';
    const start = (sub: Msg = {}) =>
      load(
        [aciController, aciSubscribe],
        around(
          {
            type: 'aci-subscribe',
            controller: 'ctrl',
            subscriptions: 'fvBD\nfaultInst',
            refreshTimeout: 60,
            initial: 'skip',
            output: 'object',
            ...sub,
          },
          { id: 'ctrl', type: 'aci-controller', hosts: sim.hosts, authType: 'password', ca: sim.cert },
        ),
        { ctrl: { username: 'admin', password: DEFAULT_APIC_PASSWORD } },
      );
    const changes = (rec: Recorded) => rec.messages.filter((m) => m.topic !== 'subscriptions');

    it('tells its watch list with the APIC subscription ids', async () => {
      const { rec, send } = await start();
      await waitFor(() => sim.liveSubscriptions.length === 2, 'both subscribed');
      // The APIC has both subscriptions before the node has read their ids from the answers: ask until it has.
      const lists = () => rec.messages.filter((m) => m.topic === 'subscriptions');
      const list = await waitFor(async () => {
        const asked = lists().length;
        send({ action: 'getSubscriptions' });
        const answer = await waitFor(() => lists()[asked], 'the list');
        const entries = answer.payload as { subscriptionId: string | null }[];
        return entries.every((e) => e.subscriptionId !== null) ? answer : undefined;
      }, 'a list with both ids');
      const byTarget = Object.fromEntries(sim.liveSubscriptions.map((s) => [s.target, s.id]));
      assert.deepEqual(list.payload, [
        { entry: 'fvBD', subscriptionId: byTarget.fvBD },
        { entry: 'faultInst', subscriptionId: byTarget.faultInst },
      ]);
    });

    it('a resync reads everything again and sends what changed unseen, then completes', async () => {
      const { rec, caught, completed, send } = await start({ subscriptions: 'fvBD' });
      await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed');
      // The subscription goes quiet (it still refreshes): changes happen that no push tells of.
      sim.silenceSubscriptions();
      sim.modify(BD, { descr: 'changed unseen' });
      sim.create('fvBD', 'uni/tn-prod/BD-bd-new', { name: 'bd-new' });
      await delay(300);
      assert.deepEqual(changes(rec), []);

      send({ action: 'resync', _msgid: 'again' });
      await waitFor(() => completed.length === 1, 'the resync done');
      const seen = changes(rec).map((m) => {
        const p = m.payload as { dn: string; status: string; reason: string };
        return `${p.reason} ${p.status} ${p.dn}`;
      });
      assert.deepEqual(seen.sort(), [`resync created uni/tn-prod/BD-bd-new`, `resync modified ${BD}`]);
      assert.equal(completed[0]!._msgid, 'again', 'completed after what it found was sent');
      assert.equal(metricsFor(helper.getNode('sub')).recovered, 2);
      // Subscribed anew: pushes come again.
      sim.modify(BD, { descr: 'pushed' });
      await waitFor(() => changes(rec).length === 3, 'the push on the new subscription');
      assert.equal((changes(rec)[2]!.payload as { reason: string }).reason, 'push');
      // Nothing changed since: a resync sends nothing.
      send({ action: 'resync' });
      await waitFor(() => completed.length === 2, 'the second resync done');
      assert.equal(changes(rec).length, 3);
      assert.deepEqual(caught, []);
    });

    it('refuses any other action with a code', async () => {
      const { caught, send } = await start({ subscriptions: 'fvBD' });
      await waitFor(() => sim.liveSubscriptions.length === 1, 'subscribed');
      send({ action: 'subscribe', topic: 'fvCtx' });
      const msg = await waitFor(() => caught[0], 'the refusal');
      assert.equal(code(msg), 'APIC_INPUT_INVALID');
      assert.deepEqual(
        sim.liveSubscriptions.map((s) => s.target),
        ['fvBD'],
      );
    });
  });

  it('a node that cannot work with its settings fails every input message with why', async () => {
    const sim = await VcdSimulator.start({ ratePerSec: 0 });
    try {
      const { caught, send } = await load(
        [vcdLogin, vcdSubscribe],
        around(
          { type: 'vcd-subscribe', login: 'login', topic: 'publish/{org}/*' },
          { id: 'login', type: 'vcd-login', url: sim.url, org: 'acme', authType: 'password', ca: sim.cert },
        ),
        { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
      );
      await waitFor(() => caught.length === 1, 'the settings at Catch');
      send({ action: 'getSubscriptions' });
      await waitFor(() => caught.length === 2, 'the message at Catch');
      assert.deepEqual(caught.map(code), ['VCD_TOPIC_INVALID', 'VCD_TOPIC_INVALID']);
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });
});
