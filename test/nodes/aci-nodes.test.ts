import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import aciController from '../../nodes/aci/aci-controller';
import aciSubscribe from '../../nodes/aci/aci-subscribe';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { SinkSimulator } from '../../sim/sink';
import { helper, loggedText, record } from '../support/red';
import { delay, waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;
const BD = 'uni/tn-prod/BD-bd-web';

describe('aci controller + aci subscribe nodes', function () {
  let sim: ApicSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await ApicSimulator.start({ ratePerSec: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  function flow(sub: Msg = {}, controller: Msg = {}): Msg[] {
    return [
      { id: 'tab', type: 'tab' },
      {
        id: 'ctrl',
        type: 'aci-controller',
        hosts: sim.hosts,
        authType: 'password',
        ca: sim.cert,
        ...controller,
      },
      {
        id: 'sub',
        type: 'aci-subscribe',
        z: 'tab',
        controller: 'ctrl',
        subscriptions: 'fvBD\nfaultInst',
        refreshTimeout: 60,
        initial: 'skip',
        output: 'object',
        wires: [['out']],
        ...sub,
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  const admin = { ctrl: { username: 'admin', password: DEFAULT_APIC_PASSWORD } };

  async function load(f: Msg[], creds: Record<string, Record<string, string>> = admin) {
    await helper.load([aciController, aciSubscribe, catchNode, cloudeventEmit], f, creds);
    const rec = record(helper.getNode('sub'), helper.getNode('out'));
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    return { rec, caught };
  }

  const subscribed = (n: number) => waitFor(() => sim.liveSubscriptions.length === n, `${n} subscriptions`);

  it('shows a paged first read in its status ("reading 1.0k/2.1k"), then the APIC it is connected to', async () => {
    for (let i = 0; i < 2100; i++) sim.create('fvBD', `uni/tn-prod/BD-bulk-${i}`, { name: `bulk-${i}` });
    const { rec } = await load(flow({ subscriptions: 'fvBD' }));
    await waitFor(
      () => rec.statuses.some((s) => /^reading \d\.\dk\/2\.\dk$/.test(s.text ?? '')),
      'the progress of the read',
      15_000,
    );
    await waitFor(() => rec.statuses.at(-1)?.fill === 'green', 'connected after the read', 15_000);
  });

  it('sends one message per changed object, with the APIC in the status', async () => {
    const { rec } = await load(flow());
    await subscribed(2);
    sim.modify(BD, { descr: 'web tier' });
    const msg = await waitFor(() => rec.messages[0], 'a change');
    assert.equal(msg.topic, 'fvBD');
    const p = msg.payload as {
      dn: string;
      status: string;
      attributes: Record<string, string>;
      reason: string;
    };
    assert.deepEqual([p.dn, p.status, p.attributes.descr, p.reason], [BD, 'modified', 'web tier', 'push']);
    await waitFor(
      () => rec.statuses.some((s) => s.fill === 'green' && s.text === '127.0.0.1 · 1'),
      'status with APIC and count',
    );
  });

  it('outputs InfraEvents with output: event', async () => {
    const { rec } = await load(flow({ output: 'event' }));
    await subscribed(2);
    sim.modify(BD, { descr: 'as event' });
    const msg = await waitFor(() => rec.messages[0], 'an event');
    const e = msg.payload as {
      type: string;
      subject: string;
      source: string;
      summary: string;
      id: string;
      origin: string;
    };
    assert.equal(e.type, 'com.cisco.aci.fvBD.modified');
    assert.equal(msg.topic, e.type);
    assert.equal(e.subject, BD);
    assert.equal(e.source, sim.urls[0], 'the cluster, whichever APIC answered');
    assert.equal(e.origin, 'aci');
    assert.match(e.summary, /fvBD uni\/tn-prod\/BD-bd-web modified \(descr as event\)/);
    assert.match(e.id, /^modified:uni\/tn-prod\/BD-bd-web@/);
  });

  it('sends the current objects first with initial: emit', async () => {
    const { rec } = await load(flow({ subscriptions: 'fvTenant', initial: 'emit' }));
    const tenants = sim.tree.query('class', 'fvTenant', {}).length;
    await waitFor(() => rec.messages.length === tenants, `${tenants} snapshots`);
    assert.ok(rec.messages.every((m) => (m.payload as { status: string }).status === 'snapshot'));
  });

  it('changes the watch list with msg.subscribe and msg.unsubscribe', async () => {
    const { rec, caught } = await load(flow({ subscriptions: 'fvBD' }));
    await subscribed(1);
    helper.getNode('sub').receive({ subscribe: ['fvCtx'], unsubscribe: 'fvBD' });
    await waitFor(() => sim.liveSubscriptions.some((s) => s.target === 'fvCtx'), 'the new subscription');
    sim.modify(BD, { descr: 'ignored now' });
    sim.modify('uni/tn-prod/ctx-prod-vrf', { descr: 'watched' });
    await waitFor(() => rec.messages.length >= 1, 'the fvCtx change');
    assert.deepEqual(
      rec.messages.map((m) => m.topic),
      ['fvCtx'],
    );
    assert.equal(caught.length, 0);
  });

  it('watches at most 1000 entries, however many a flow asks for', async () => {
    const { caught } = await load(flow({ subscriptions: 'fvBD' }));
    await subscribed(1);
    const many = Array.from({ length: 1000 }, (_, i) => `uni/tn-t${i}`);
    helper.getNode('sub').receive({ subscribe: many });
    const msg = await waitFor(() => caught[0], 'the refusal at Catch');
    assert.equal((msg.error as { code: string }).code, 'APIC_INPUT_INVALID');
    assert.match((msg.error as { message: string }).message, /1001 entries.*at most 1000/);
    assert.deepEqual(
      sim.liveSubscriptions.map((s) => s.target),
      ['fvBD'],
    );
  });

  it('refuses bad input messages with a code, changing nothing', async () => {
    const { caught } = await load(flow({ subscriptions: 'fvBD' }));
    await subscribed(1);
    helper.getNode('sub').receive({ subscribe: ['fvCtx', '/api/aaaLogout.json'] });
    helper.getNode('sub').receive({ unsubscribe: 'fvTenant' });
    helper.getNode('sub').receive({ payload: 'hello' });
    helper.getNode('sub').receive({ subscribe: 'fvNoSuchClass' });
    await waitFor(() => caught.length === 4, 'four errors at Catch');
    const codes = caught.map((m) => (m.error as { code: string }).code).sort();
    assert.deepEqual(codes, [
      'APIC_ENTRY_INVALID',
      'APIC_INPUT_INVALID',
      'APIC_NOT_SUBSCRIBED',
      'APIC_SUBSCRIBE_REFUSED',
    ]);
    assert.deepEqual(
      sim.liveSubscriptions.map((s) => s.target),
      ['fvBD'],
    );
  });

  it('keeps the refresh timeout to whole seconds from 5 to 3600', async () => {
    await load(flow({ subscriptions: 'fvBD', refreshTimeout: 1 }));
    await subscribed(1);
    assert.equal(sim.liveSubscriptions[0]!.timeoutSec, 5);
    await helper.unload();
    await load(flow({ subscriptions: 'fvBD', refreshTimeout: '90.6' }));
    await waitFor(() => sim.liveSubscriptions.some((s) => s.timeoutSec === 91), 'a 91 s subscription');
  });

  it('refuses bad entries at deploy, without connecting', async () => {
    const { rec } = await load(flow({ subscriptions: 'fvBD\nuni/tn-prod?evil=1' }));
    await waitFor(() => rec.statuses.some((s) => s.text === 'bad entries'), 'bad entries status');
    assert.equal(sim.stats.logins, 0);
  });

  it('reports a wrong password once at Catch, never showing it', async () => {
    const { rec, caught } = await load(flow(), { ctrl: { username: 'admin', password: 'Wr0ng-Apic-Pass' } });
    await waitFor(() => caught.length === 1, 'the error at Catch');
    assert.equal((caught[0]!.error as { code: string }).code, 'APIC_AUTH_FAILED');
    assert.ok(rec.statuses.some((s) => s.text === 'auth failed'));
    assert.doesNotMatch(loggedText() + JSON.stringify(caught), /Wr0ng-Apic-Pass/);
  });

  it('keeps delivering through token expiry, a dropped socket and a failover', async () => {
    const { rec } = await load(flow({ subscriptions: 'fvBD' }));
    await subscribed(1);
    const marks: string[] = [];
    const mark = async (descr: string) => {
      marks.push(descr);
      sim.modify(BD, { descr });
      await waitFor(
        () =>
          rec.messages.some(
            (m) => (m.payload as { attributes: { descr?: string } }).attributes.descr === descr,
          ),
        `the change "${descr}"`,
        15_000,
      );
    };
    await mark('before');
    sim.expireTokens();
    await waitFor(() => sim.stats.logins === 2 && sim.liveSubscriptions.length === 1, 'relogin');
    await mark('after expiry');
    sim.dropSockets();
    await waitFor(() => sim.stats.socketsOpened === 3 && sim.liveSubscriptions.length === 1, 'new socket');
    await mark('after drop');
    await sim.stopApic(0);
    await waitFor(
      () => sim.liveSubscriptions.length === 1 && sim.sessions.every((s) => s.apic !== 0),
      'failover',
      15_000,
    );
    await mark('after failover');
    assert.equal(marks.length, 4);
  });

  describe('test connection (admin route)', () => {
    const post = (body: Msg) =>
      helper.request().post('/aci-controller/test').send(body) as unknown as Promise<{ body: Msg }>;

    it('reports each APIC: version, or what failed', async () => {
      await load(flow());
      await sim.stopApic(2);
      const res = await post({
        hosts: sim.hosts,
        authType: 'password',
        ca: sim.cert,
        username: 'admin',
        password: DEFAULT_APIC_PASSWORD,
      });
      assert.equal(res.body.ok, true);
      assert.equal(res.body.user, 'admin');
      const hosts = res.body.hosts as { host: string; ok: boolean; version?: string; category?: string }[];
      assert.deepEqual(
        hosts.map((h) => h.ok),
        [true, true, false],
      );
      assert.match(hosts[0]!.version ?? '', /^\d+\.\d+\(/);
      assert.equal(hosts[2]!.category, 'connection');
    });

    it('uses the stored password, and names refused credentials and TLS', async () => {
      await load(flow());
      const base = { id: 'ctrl', hosts: sim.hosts, ca: sim.cert, username: 'admin' };
      assert.equal((await post({ ...base, password: '__PWRD__' })).body.ok, true);
      const wrong = await post({ ...base, password: 'nope-nope' });
      assert.equal(wrong.body.category, 'credentials');
      assert.doesNotMatch(JSON.stringify(wrong.body), /nope-nope/);
      const typed = { ...base, password: DEFAULT_APIC_PASSWORD };
      assert.equal((await post({ ...typed, ca: '' })).body.category, 'tls');
      assert.equal((await post({ ...base, hosts: 'apic1/x' })).body.category, 'settings');
    });
  });

  describe('initial: changes (what changed while Node-RED was stopped)', () => {
    let userDir: string;
    beforeEach(() => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aci-state-'));
      helper.settings({ userDir });
    });
    afterEach(() => {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    });
    const state = () => path.join(userDir, 'dcevents', 'aci-state');
    const summary = (m: Msg) => {
      const p = m.payload as { dn: string; status: string; reason: string };
      return `${p.reason} ${p.status} ${p.dn}`;
    };

    /** A first run: subscribed, and its baseline saved. */
    async function firstRun(f: Msg[]) {
      const run = await load(f);
      await subscribed(1);
      await waitFor(
        () => fs.existsSync(state()) && fs.readdirSync(state()).length === 1,
        'the baseline saved',
      );
      return run;
    }

    it('sends nothing on the first run, then what was created, modified and deleted while stopped, then pushes', async () => {
      const f = flow({ subscriptions: 'fvBD', initial: 'changes' });
      const first = await firstRun(f);
      await helper.unload();
      assert.deepEqual(first.rec.messages, [], 'the first run sends nothing');

      // While Node-RED is stopped.
      sim.modify(BD, { descr: 'changed while stopped' });
      sim.create('fvBD', 'uni/tn-prod/BD-bd-new', { name: 'bd-new' });
      sim.remove('uni/tn-prod/BD-bd-app');

      const { rec, caught } = await load(f);
      await waitFor(() => rec.messages.length >= 3, 'the changes since the last run');
      assert.deepEqual(rec.messages.map(summary).sort(), [
        'resync created uni/tn-prod/BD-bd-new',
        'resync deleted uni/tn-prod/BD-bd-app',
        `resync modified ${BD}`,
      ]);
      sim.modify(BD, { descr: 'live again' });
      await waitFor(() => rec.messages.length === 4, 'a push');
      assert.equal(summary(rec.messages[3]!), `push modified ${BD}`);
      assert.deepEqual(caught, []);

      // Deleting the node deletes its state.
      await helper.setFlows(
        f.filter((n) => n.id !== 'sub'),
        'full',
        admin,
      );
      assert.deepEqual(fs.readdirSync(state()), []);
    });

    it('an object created just before a stop and deleted while stopped is reported deleted', async () => {
      const f = flow({ subscriptions: 'fvBD', initial: 'changes' });
      const first = await firstRun(f);
      sim.create('fvBD', 'uni/tn-prod/BD-bd-brief', { name: 'bd-brief' });
      await waitFor(() => first.rec.messages.length === 1, 'its creation sent');
      await helper.unload();
      sim.remove('uni/tn-prod/BD-bd-brief');
      const { rec } = await load(f);
      await waitFor(() => rec.messages.length === 1, 'the deletion');
      assert.equal(summary(rec.messages[0]!), 'resync deleted uni/tn-prod/BD-bd-brief');
    });

    it('a kill just after a creation was sent loses not its deletion (what is on disk when it leaves)', async () => {
      const f = flow({ subscriptions: 'fvBD', initial: 'changes' });
      const first = await firstRun(f);
      // What a SIGKILL would leave: the files as they are when the creation reaches the next node.
      const killed = path.join(userDir, 'killed');
      helper.getNode('out').on('input', () => fs.cpSync(state(), killed, { recursive: true }));
      sim.create('fvBD', 'uni/tn-prod/BD-bd-brief', { name: 'bd-brief' });
      await waitFor(() => first.rec.messages.length === 1, 'its creation sent');
      await helper.unload();
      fs.rmSync(state(), { recursive: true });
      fs.renameSync(killed, state());
      sim.remove('uni/tn-prod/BD-bd-brief');
      const { rec } = await load(f);
      await waitFor(() => rec.messages.length === 1, 'the deletion');
      assert.equal(summary(rec.messages[0]!), 'resync deleted uni/tn-prod/BD-bd-brief');
    });

    it('a change sent just before a stop is reported again at the next start, never lost', async () => {
      const f = flow({ subscriptions: 'fvBD', initial: 'changes' });
      await firstRun(f);
      sim.modify(BD, { descr: 'sent, maybe not yet taken by the next node' });
      await delay(300);
      await helper.unload();
      const { rec } = await load(f);
      await waitFor(() => rec.messages.length === 1, 'the change again');
      assert.equal(summary(rec.messages[0]!), `resync modified ${BD}`);
    });
  });

  it('pipeline: ACI changes arrive at a CloudEvents sink as valid events', async () => {
    const sink = await SinkSimulator.start();
    try {
      const f = flow({ subscriptions: 'fvBD', output: 'event', wires: [['emit']] });
      f.push({
        id: 'emit',
        type: 'cloudevent-emit',
        z: 'tab',
        url: `${sink.url}/events`,
        ca: sink.cert,
        wires: [['out'], []],
      });
      await load(f);
      await subscribed(1);
      sim.modify(BD, { descr: 'to the sink' });
      sim.remove('uni/tn-dev/BD-bd-dev');
      await waitFor(() => sink.received.length >= 2, 'two events at the sink');
      assert.deepEqual(sink.rejected, []);
      const types = sink.received.map((r) => r.event.type);
      assert.ok(
        types.includes('com.cisco.aci.fvBD.modified') && types.includes('com.cisco.aci.fvBD.deleted'),
        types.join(),
      );
      assert.ok(sink.received.every((r) => r.event.aciclass === 'fvBD'));
    } finally {
      await helper.unload();
      await sink.stop();
    }
  });
});
