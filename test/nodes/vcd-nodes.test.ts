import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { CatchUpStore, FILE_PURPOSE } from '../../nodes/vcd/catch-up-store';
import type { VcdLoginNode } from '../../nodes/vcd/login-api';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import { helper, loggedText, record, type Recorded } from '../support/red';
import { delay, waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Flow = Record<string, unknown>[];

interface LoginSettings {
  org?: string;
  authType?: 'password' | 'apiToken';
  tlsInsecure?: boolean;
  ca?: string;
}

describe('vcd login + vcd subscribe nodes', function () {
  let sim: VcdSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    await sim?.stop();
  });

  function loginNode(settings: LoginSettings = {}): Record<string, unknown> {
    return {
      id: 'login',
      type: 'vcd-login',
      url: sim.url,
      org: settings.org ?? 'acme',
      authType: settings.authType ?? 'password',
      tlsInsecure: settings.tlsInsecure ?? false,
      ca: 'ca' in settings ? settings.ca : sim.cert,
    };
  }

  /** login → subscribe → out, plus a Catch for errors. */
  function flow(settings: LoginSettings = {}, topic = 'publish/{org}/+'): Flow {
    return [
      { id: 'tab', type: 'tab' },
      loginNode(settings),
      { id: 'sub', type: 'vcd-subscribe', z: 'tab', login: 'login', topic, qos: '1', wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  const password = { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } };

  async function start(
    options: VcdSimOptions = {},
    f?: Flow,
    creds: Record<string, Record<string, string>> = password,
  ): Promise<{ rec: Recorded; caught: Record<string, unknown>[] }> {
    sim ??= await VcdSimulator.start(options);
    const nodes = f ?? flow();
    const recorders: Recorded[] = [];
    const caught: Record<string, unknown>[] = [];
    // Listeners are attached right after load, before the first connection can complete.
    await helper.load([vcdLogin, vcdSubscribe, catchNode], nodes, creds);
    const rec = record(helper.getNode('sub'), helper.getNode('out'));
    recorders.push(rec);
    helper.getNode('caught')?.on('input', (m: Record<string, unknown>) => caught.push(m));
    return { rec, caught };
  }

  const connected = (rec: Recorded) => rec.statuses.some((s) => s.fill === 'green');

  beforeEach(() => {
    sim = undefined as unknown as VcdSimulator;
  });

  it('delivers VCD events through a flow, with the envelope and inner payload parsed', async () => {
    const { rec } = await start();
    await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
    const published = sim.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' });
    const msg = await waitFor(() => rec.messages[0], 'an event at the output');
    assert.equal(msg.topic, published.topic);
    const payload = msg.payload as {
      type: string;
      headers: object;
      payload: { eventId: string; entityName: string };
    };
    assert.equal(payload.type, 'EVENT');
    assert.deepEqual(payload.headers, published.envelope.headers);
    assert.equal(payload.payload.eventId, published.event.eventId);
    assert.equal(payload.payload.entityName, published.event.entityName);
    await waitFor(
      () => rec.statuses.some((s) => s.fill === 'green' && s.text === 'connected · 1'),
      'the count',
    );
  });

  it('does not deliver events of another organization', async () => {
    const { rec } = await start();
    await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
    sim.publishEvent({ actor: 'globexadmin@globex' });
    const mine = publishAcme();
    await waitFor(() => rec.messages.some((m) => eventId(m) === mine), 'the acme event');
    assert.equal(rec.messages.length, 1);
  });

  it('keeps receiving across token expiry: reconnects with a fresh token', async () => {
    const { rec } = await start({ tokenLifetimeSec: 2 });
    await waitFor(() => connected(rec), 'connected');
    const ids: string[] = [];
    // Publish through three token lifetimes; the simulator drops the connection at each expiry.
    const deadline = Date.now() + 6500;
    while (Date.now() < deadline) {
      if (sim.subscriptions.length > 0) ids.push(publishAcme());
      await delay(100);
    }
    await waitFor(() => sim.subscriptions.length > 0, 'resubscribed');
    const last = publishAcme();
    await waitFor(() => rec.messages.some((m) => eventId(m) === last), 'the event after the last reconnect');
    assert.ok(sim.stats.upgrades >= 3, `reconnected at each expiry (${sim.stats.upgrades} connections)`);
    assert.ok(sim.stats.passwordLogins >= 3, 'renewed the token');
    // A 2 s token leaves a 200 ms margin; on a loaded machine one upgrade may outlast it, never more.
    assert.ok((sim.stats.rejectedUpgrades[401] ?? 0) <= 1, 'offered a current token at each reconnect');
    // Nearly everything published while subscribed arrives (a message in flight at a drop may be lost, as on VCD).
    const got = new Set(rec.messages.map(eventId));
    assert.ok(
      ids.filter((id) => got.has(id)).length >= ids.length * 0.8,
      `${got.size} of ${ids.length} arrived`,
    );
  });

  it('reconnects and subscribes again after a broker restart', async () => {
    const { rec } = await start();
    await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
    sim.restartBroker(800);
    await waitFor(() => rec.statuses.some((s) => s.text === 'reconnecting'), 'reconnecting status');
    await waitFor(() => sim.subscriptions.length === 1 && sim.stats.upgrades === 2, 'resubscribed', 15_000);
    const id = publishAcme();
    await waitFor(() => rec.messages.some((m) => eventId(m) === id), 'an event after the restart');
    assert.equal(sim.stats.passwordLogins, 1, 'the token was still valid: no new login');
  });

  it('shares one connection between subscribe nodes of one login', async () => {
    sim = await VcdSimulator.start();
    const f = flow();
    f.push(
      {
        id: 'sub2',
        type: 'vcd-subscribe',
        z: 'tab',
        login: 'login',
        topic: 'publish/{org}/{user}',
        wires: [['out2']],
      },
      { id: 'out2', type: 'helper', z: 'tab' },
    );
    const { rec } = await start({}, f);
    const rec2 = record(helper.getNode('sub2'), helper.getNode('out2'));
    await waitFor(() => sim.subscriptions.length === 2, 'both subscriptions');
    assert.equal(sim.stats.upgrades, 1);
    const others = sim.publishEvent({ actor: 'acmeuser@acme' }).event.eventId;
    const mine = sim.publishEvent({ actor: 'acmeadmin@acme' }).event.eventId;
    await waitFor(() => rec.messages.length === 2, 'the org-wide node got both events');
    await waitFor(() => rec2.messages.length === 1, 'the my-events node got one');
    assert.deepEqual(rec.messages.map(eventId), [others, mine]);
    assert.equal(eventId(rec2.messages[0]!), mine);
  });

  it('reports a wrong password once, shows auth failed, and does not retry in a loop', async () => {
    const { rec, caught } = await start({}, undefined, {
      login: { username: 'acmeadmin', password: 'Wr0ng-Secret!' },
    });
    await waitFor(() => caught.length > 0, 'an error at the Catch node');
    const error = caught[0]!.error as { code: string; message: string };
    assert.equal(error.code, 'VCD_AUTH_FAILED');
    assert.match(error.message, /acmeadmin@acme/);
    assert.ok(rec.statuses.some((s) => s.fill === 'red' && s.text === 'auth failed'));
    await delay(2500);
    assert.ok(sim.stats.failedLogins <= 2, `${sim.stats.failedLogins} login attempts in 2.5 s`);
    assert.equal(caught.length, 1, 'the same failure is reported once');
    assert.doesNotMatch(loggedText() + JSON.stringify(caught), /Wr0ng-Secret!/);
  });

  describe('TLS', () => {
    it('refuses the self-signed simulator by default', async () => {
      sim = await VcdSimulator.start();
      const { rec, caught } = await start({}, flow({ ca: '' }));
      await waitFor(() => caught.length > 0, 'a TLS error at Catch');
      assert.equal((caught[0]!.error as { code: string }).code, 'TLS_UNTRUSTED');
      assert.ok(rec.statuses.some((s) => s.text === 'TLS untrusted'));
      assert.equal(sim.stats.passwordLogins, 0);
    });

    it('accepts it with its certificate as CA', async () => {
      const { rec } = await start();
      await waitFor(() => connected(rec), 'connected');
    });

    it('accepts it with verification skipped', async () => {
      sim = await VcdSimulator.start();
      const { rec } = await start({}, flow({ ca: '', tlsInsecure: true }));
      await waitFor(() => connected(rec), 'connected');
    });
  });

  it('keeps an envelope type it does not know, with its payload (VCD adds types over releases)', async () => {
    const { rec, caught } = await start();
    await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
    const org = sim.directory.org('acme').id;
    sim.publishRaw(
      `publish/${org}/someone`,
      '{"type":"FUTURE_KIND","headers":{"a":"b"},"payload":"{\\"x\\":1}"}',
    );
    await waitFor(() => rec.messages.length === 1, 'the message');
    assert.deepEqual(rec.messages[0]!.payload, {
      type: 'FUTURE_KIND',
      headers: { a: 'b' },
      payload: { x: 1 },
    });
    assert.deepEqual(caught, []);
  });

  describe('bad messages go to Catch with the raw text; the stream goes on', () => {
    const cases: [string, string, string][] = [
      ['not JSON', '{"type": "EVENT", "payload": ', 'DECODE_INVALID_JSON'],
      ['no envelope type', '{"headers":{},"payload":"{}"}', 'DECODE_UNKNOWN_TYPE'],
      [
        'a broken inner payload',
        '{"type":"EVENT","headers":{},"payload":"{\\"eventId\\": 1,"}',
        'DECODE_BAD_PAYLOAD',
      ],
    ];
    for (const [what, text, code] of cases) {
      it(`${what} → ${code}`, async () => {
        const { rec, caught } = await start();
        await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
        const org = sim.directory.org('acme').id;
        sim.publishRaw(`publish/${org}/someone`, text);
        const good = publishAcme();
        await waitFor(
          () => rec.messages.some((m) => eventId(m) === good),
          'the good event after the bad one',
        );
        assert.equal(caught.length, 1);
        assert.equal((caught[0]!.error as { code: string }).code, code);
        assert.equal(caught[0]!.payload, text, 'the raw text is kept');
        assert.equal(caught[0]!.topic, `publish/${org}/someone`);
      });
    }
  });

  it('shows "topic refused" when the role may not read the topic', async () => {
    sim = await VcdSimulator.start();
    const { rec, caught } = await start({}, flow({}, 'publish/#'));
    await waitFor(() => caught.length > 0, 'the refusal at Catch');
    assert.equal((caught[0]!.error as { code: string }).code, 'VCD_SUBSCRIBE_REFUSED');
    assert.ok(rec.statuses.some((s) => s.fill === 'red' && s.text === 'topic refused'));
  });

  it('refuses an invalid topic at deploy, and says so to Catch', async () => {
    sim = await VcdSimulator.start();
    const { rec, caught } = await start({}, flow({}, 'publish/{org}/*'));
    await waitFor(() => rec.statuses.some((s) => s.text === 'bad topic'), 'bad topic status');
    await waitFor(() => caught.length === 1, 'the error at Catch');
    assert.equal((caught[0]!.error as { code: string }).code, 'VCD_TOPIC_INVALID');
    assert.equal(sim.stats.upgrades, 0);
  });

  it('sends settings the login cannot work with to Catch, once', async () => {
    sim = await VcdSimulator.start();
    const f = flow();
    f.find((n) => n.id === 'login')!.url = 'vcd.example.com';
    const { caught } = await start({}, f);
    await waitFor(() => caught.length > 0, 'the error at Catch');
    await delay(200);
    assert.deepEqual(
      caught.map((m) => (m.error as { code: string }).code),
      ['VCD_CONFIG_INVALID'],
    );
  });

  it('names the environment variable a login setting reads when it is not set', async () => {
    sim = await VcdSimulator.start();
    const f = flow();
    f.find((n) => n.id === 'login')!.url = '${DCEVENTS_TEST_UNSET_VCD_URL}';
    const { caught } = await start({}, f);
    await waitFor(() => caught.length > 0, 'the error at Catch');
    const error = caught[0]!.error as { code: string; message: string };
    assert.equal(error.code, 'VCD_CONFIG_INVALID');
    assert.match(error.message, /The environment variable DCEVENTS_TEST_UNSET_VCD_URL is not set/);
  });

  it('logs out when the flow stops', async () => {
    const { rec } = await start();
    await waitFor(() => connected(rec), 'connected');
    await helper.unload();
    assert.equal(sim.stats.logouts, 1);
    assert.equal(sim.connectionCount, 0);
  });

  it('keeps a rotated service-account token across a redeploy', async () => {
    sim = await VcdSimulator.start();
    const f = flow({ authType: 'apiToken' });
    const { rec } = await start({}, f, { login: { apiToken: 'sim-service-account-token' } });
    await waitFor(() => connected(rec), 'connected');
    const rotated = helper.credentials.get('login')?.apiToken;
    assert.ok(rotated && rotated !== 'sim-service-account-token', 'the credential store holds the new token');
    // A full redeploy restarts the login node from the credential store.
    await helper.setFlows(f, 'full', {});
    const rec2 = record(helper.getNode('sub'), helper.getNode('out'));
    await waitFor(() => connected(rec2), 'connected again after the redeploy');
    assert.equal(sim.stats.failedLogins, 0);
    assert.equal(sim.stats.tokenLogins, 2);
  });

  describe('missed events: recovered from the audit trail after a reconnect', () => {
    /** A subscribe node with "Missed events" on (or off), against a fresh simulator. */
    async function startCatchUp(output: 'envelope' | 'event', catchUp = true) {
      sim = await VcdSimulator.start();
      const f = flow();
      Object.assign(
        f.find((n) => n.id === 'sub')!,
        { catchUp, output },
      );
      return start({}, f);
    }
    const idOf = (m: Record<string, unknown>) => (m.payload as { id?: string }).id ?? eventId(m);

    /**
     * The ids of every message so far and of any still on its way: a live event published now comes behind them
     * (one connection, in order), so once it is out nothing sent before can follow. The marker is left out.
     */
    async function allUntil(messages: Record<string, unknown>[]): Promise<(string | undefined)[]> {
      const marker = publishAcme();
      await waitFor(() => messages.some((m) => idOf(m) === marker), 'a live event sent behind them');
      const ids = messages.map(idOf);
      assert.equal(ids.pop(), marker, 'nothing after the marker');
      return ids;
    }

    /** Publishes while the broker is down; resolves once the node has subscribed again. */
    async function away(publish: () => string[]): Promise<string[]> {
      const upgrades = sim.stats.upgrades;
      sim.restartBroker(1500);
      await waitFor(() => sim.subscriptions.length === 0, 'the connection dropped');
      const ids = publish();
      await waitFor(
        () => sim.stats.upgrades > upgrades && sim.subscriptions.length === 1,
        'subscribed again',
        15_000,
      );
      return ids;
    }

    it('sends what was published while away, once, only under its topic, marked recovered', async () => {
      const { rec, caught } = await startCatchUp('event');
      await waitFor(() => sim.subscriptions.length === 1 && sim.stats.auditReads === 1, 'the first mark');
      const before = publishAcme();
      await waitFor(() => rec.messages.some((m) => idOf(m) === before), 'a live event');
      const missed = await away(() => {
        sim.publishEvent({ actor: 'globexadmin@globex' }); // another organization: not ours
        return [publishAcme(), publishAcme(), publishAcme()];
      });
      await waitFor(
        () => rec.messages.filter((m) => m.recovered === true).length >= missed.length,
        'the missed events',
      );
      const recovered = rec.messages.filter((m) => m.recovered === true);
      assert.deepEqual(recovered.map(idOf), missed, 'in order');
      const first = recovered[0]!.payload as { type: string; summary: string; source: string };
      assert.match(first.type, /^com\.vmware\.vcloud\.event\./);
      // "vm web-01 created by acmeuser in acme: succeeded", or "acmeuser logged in to acme: succeeded"
      assert.match(first.summary, /\bacmeuser\b.* acme: (succeeded|failed)$/);
      assert.equal(first.source, sim.url);
      const after = publishAcme();
      await waitFor(() => rec.messages.some((m) => idOf(m) === after), 'live events again');
      const ids = await allUntil(rec.messages);
      assert.equal(new Set(ids).size, ids.length, 'nothing twice');
      assert.deepEqual(ids, [before, ...missed, after]);
      assert.deepEqual(caught, [], 'a broker restart is passing: nothing for Catch');
    });

    it('gives recovered events the envelope shape of live ones', async () => {
      const { rec } = await startCatchUp('envelope');
      await waitFor(() => sim.subscriptions.length === 1 && sim.stats.auditReads === 1, 'the first mark');
      const [missed] = await away(() => [
        sim.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' }).event.eventId,
      ]);
      const msg = await waitFor(() => rec.messages.find((m) => m.recovered === true), 'the missed event');
      const env = msg.payload as {
        type: string;
        headers: { source: string };
        payload: Record<string, unknown>;
      };
      assert.equal(env.type, 'EVENT');
      assert.equal(env.headers.source, 'auditTrail');
      assert.equal(env.payload.eventId, missed);
      assert.equal(env.payload.userName, 'acmeuser');
      assert.match(String(msg.topic), /^publish\/[0-9a-f-]+\/[0-9a-f-]+$/);
      // The recovery showed its progress, then the live count again.
      const progress = rec.statuses.findIndex((s) => /^recovering \d+\/\d+$/.test(s.text ?? ''));
      assert.ok(progress >= 0, JSON.stringify(rec.statuses));
      await waitFor(() => rec.statuses.slice(progress).some((s) => s.fill === 'green'), 'connected again');
    });

    it('without "Missed events", what was published while away is gone (as on VCD)', async () => {
      const { rec } = await startCatchUp('event', false);
      await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
      await away(() => [publishAcme()]);
      const after = publishAcme();
      await waitFor(() => rec.messages.some((m) => idOf(m) === after), 'live events again');
      assert.deepEqual(rec.messages.map(idOf), [after]);
      assert.equal(sim.stats.auditReads, 0);
    });

    describe('across a restart', () => {
      let userDir: string;
      beforeEach(() => {
        userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-marks-'));
        helper.settings({ userDir });
      });
      afterEach(() => {
        helper.settings({});
        fs.rmSync(userDir, { recursive: true, force: true });
      });
      const marks = () => path.join(userDir, 'dcevents', 'vcd-marks');

      it('sends what VCD published while Node-RED was stopped; a deleted node deletes its mark', async () => {
        const { rec } = await startCatchUp('event');
        await waitFor(() => sim.subscriptions.length === 1 && sim.stats.auditReads === 1, 'the first mark');
        const before = publishAcme();
        await waitFor(() => rec.messages.some((m) => idOf(m) === before), 'a live event');
        await helper.unload();
        const down = [publishAcme(), publishAcme()];
        const f = flow();
        Object.assign(
          f.find((n) => n.id === 'sub')!,
          { catchUp: true, output: 'event' },
        );
        await helper.load([vcdLogin, vcdSubscribe, catchNode], f, password);
        const rec2 = record(helper.getNode('sub'), helper.getNode('out'));
        await waitFor(
          () => down.every((id) => rec2.messages.some((m) => idOf(m) === id)),
          'the events sent while down',
        );
        const ids = rec2.messages.map(idOf);
        // The event sent just before the stop lies in the overlap: it may come again, with its id.
        assert.deepEqual(
          ids.filter((id) => id !== before),
          down,
          'in order, once',
        );
        assert.ok(rec2.messages.every((m) => m.recovered === true));
        assert.equal(fs.readdirSync(marks()).length, 1, 'one mark file');
        // Deleting the node deletes its mark.
        await helper.setFlows(
          f.filter((n) => n.id !== 'sub'),
          'full',
          password,
        );
        assert.deepEqual(fs.readdirSync(marks()), []);
      });

      it('reads back at most "Reach back" hours, and tells Catch what it could not recover', async () => {
        // A mark saved two days ago by this node.
        const store = new CatchUpStore(new NodeFiles(userDir, FILE_PURPOSE), 'sub', 'publish/{org}/+', {
          settleMs: 0,
        });
        const twoDaysAgo = Date.now() - 48 * 3600_000;
        store.delivered('old', new Date(twoDaysAgo).toISOString(), 0, twoDaysAgo);
        store.save(twoDaysAgo, 0);
        const { caught } = await startCatchUp('event');
        const err = await waitFor(() => caught[0], 'the report at Catch');
        const error = err.error as { code: string; message: string };
        assert.equal(error.code, 'VCD_CATCHUP_TOO_OLD');
        assert.match(error.message, new RegExp(`from ${new Date(twoDaysAgo).toISOString()} to `));
        assert.match(error.message, /24 h/);
        await waitFor(() => sim.stats.auditReads >= 1, 'the recovery of the last 24 hours');
      });

      it('without a saved mark, or with "Missed events" off, starts from now', async () => {
        const { rec } = await startCatchUp('event', false);
        await waitFor(() => sim.subscriptions.length === 1, 'the subscription');
        await helper.unload();
        publishAcme();
        const f = flow();
        Object.assign(
          f.find((n) => n.id === 'sub')!,
          { catchUp: true, output: 'event' },
        );
        await helper.load([vcdLogin, vcdSubscribe, catchNode], f, password);
        const rec2 = record(helper.getNode('sub'), helper.getNode('out'));
        await waitFor(() => sim.stats.auditReads === 1 && sim.subscriptions.length === 1, 'the first mark');
        const after = publishAcme();
        await waitFor(() => rec2.messages.some((m) => idOf(m) === after), 'a live event');
        assert.deepEqual(rec2.messages.map(idOf), [after]);
        assert.deepEqual(rec.messages, []);
      });
    });

    it('reports a failed read to Catch and recovers from the same mark at the next reconnect', async () => {
      const { rec, caught } = await startCatchUp('event');
      await waitFor(() => sim.subscriptions.length === 1 && sim.stats.auditReads === 1, 'the first mark');
      sim.faults.auditDown = true;
      const missed = await away(() => [publishAcme(), publishAcme()]);
      const err = await waitFor(() => caught[0], 'the error at Catch');
      assert.equal((err.error as { code: string }).code, 'VCD_CATCHUP_FAILED');
      assert.match((err.error as { message: string }).message, /503/);
      sim.faults.auditDown = false;
      const more = await away(() => [publishAcme()]);
      await waitFor(() => rec.messages.length >= 3, 'every missed event');
      assert.deepEqual(await allUntil(rec.messages), [...missed, ...more]);
    });
  });

  describe('service-account tokens across a Node-RED restart', () => {
    let userDir: string;
    beforeEach(() => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-login-'));
      helper.settings({ userDir, credentialSecret: 'a-credential-secret' });
    });
    afterEach(() => {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    });
    // A new object at every load: the runtime keeps (and updates) the one it is given.
    const serviceAccount = () => ({ login: { apiToken: 'sim-service-account-token' } });

    it('goes on with the newest token after a restart from the deployed (spent) one', async () => {
      sim = await VcdSimulator.start();
      const f = flow({ authType: 'apiToken' });
      const { rec } = await start({}, f, serviceAccount());
      await waitFor(() => connected(rec), 'connected');
      // A renewal spends the token again: the credentials file on disk is two tokens behind now.
      await (helper.getNode('login') as unknown as VcdLoginNode).session!.login();
      assert.equal(sim.stats.tokenLogins, 2);
      const file = fs.readFileSync(new NodeFiles(userDir, 'vcd-login-tokens').pathOf('login'), 'utf8');
      const newest = (helper.getNode('login') as unknown as VcdLoginNode).session!.currentApiToken!;
      assert.ok(!file.includes(newest), 'the token is stored encrypted');
      assert.equal(fs.statSync(new NodeFiles(userDir, 'vcd-login-tokens').pathOf('login')).mode & 0o077, 0);

      // A restart: the runtime starts from the token deployed first, long spent on VCD.
      await helper.unload();
      const { rec: again } = await start({}, f, serviceAccount());
      await waitFor(() => connected(again), 'connected after the restart');
      assert.equal(sim.stats.failedLogins, 0, 'no login with a spent token');
    });

    it('starts a new chain with a token pasted anew, and forgets the chain when the node is deleted', async () => {
      sim = await VcdSimulator.start();
      const f = flow({ authType: 'apiToken' });
      const { rec } = await start({}, f, serviceAccount());
      await waitFor(() => connected(rec), 'connected');
      await helper.unload();
      // The user pastes a user API token instead: it is used as given.
      const { rec: again } = await start({}, f, { login: { apiToken: 'sim-api-token-acmeadmin' } });
      await waitFor(() => connected(again), 'connected with the new token');
      const session = (helper.getNode('login') as unknown as VcdLoginNode).session!;
      assert.equal(session.currentApiToken, 'sim-api-token-acmeadmin');
      await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full', {});
      assert.equal(fs.existsSync(new NodeFiles(userDir, 'vcd-login-tokens').pathOf('login')), false);
    });

    it('a connection test with the stored token hands the new one to the deployed node', async () => {
      sim = await VcdSimulator.start();
      const { rec } = await start({}, flow({ authType: 'apiToken' }), serviceAccount());
      await waitFor(() => connected(rec), 'connected');
      const res = (await helper.request().post('/vcd-login/test').send({
        id: 'login',
        url: sim.url,
        org: 'acme',
        authType: 'apiToken',
        ca: sim.cert,
        apiToken: '__PWRD__',
      })) as {
        body: Record<string, unknown>;
      };
      assert.equal(res.body.ok, true);
      assert.equal(res.body.rotatedToken, undefined, 'the deployed token never goes to the browser');
      // The deployed node renews with the token the test left it.
      await (helper.getNode('login') as unknown as VcdLoginNode).session!.login();
      assert.equal(sim.stats.failedLogins, 0);
    });
  });

  describe('test connection (admin route)', () => {
    const post = (body: Record<string, unknown>) =>
      helper.request().post('/vcd-login/test').send(body) as unknown as Promise<{
        body: Record<string, unknown>;
      }>;

    it('reports version, org, user and roles', async () => {
      await start();
      const res = await post({
        url: sim.url,
        org: 'acme',
        authType: 'password',
        ca: sim.cert,
        username: 'acmeadmin',
        password: DEFAULT_PASSWORD,
      });
      assert.equal(res.body.ok, true);
      assert.equal(res.body.apiVersion, '39.1');
      assert.equal(res.body.user, 'acmeadmin');
      assert.equal(res.body.org, 'acme');
      assert.deepEqual(res.body.roles, ['Organization Administrator']);
    });

    it('uses the stored password when the dialog did not change it', async () => {
      await start();
      const res = await post({
        id: 'login',
        url: sim.url,
        org: 'acme',
        ca: sim.cert,
        username: 'acmeadmin',
        password: '__PWRD__',
      });
      assert.equal(res.body.ok, true);
    });

    it('says exactly what failed', async () => {
      await start();
      const base = {
        url: sim.url,
        org: 'acme',
        username: 'acmeadmin',
        password: DEFAULT_PASSWORD,
        ca: sim.cert,
      };
      const wrong = await post({ ...base, password: 'nope-nope' });
      assert.equal(wrong.body.category, 'credentials');
      assert.doesNotMatch(JSON.stringify(wrong.body), /nope-nope/);
      assert.equal((await post({ ...base, ca: '' })).body.category, 'tls');
      assert.equal((await post({ ...base, url: 'https://no-such-host.invalid' })).body.category, 'dns');
      assert.equal((await post({ ...base, url: 'https://127.0.0.1:9' })).body.category, 'connection');
      assert.equal((await post({ ...base, url: 'vcd' })).body.category, 'settings');
    });
  });

  function publishAcme(): string {
    return sim.publishEvent({ actor: 'acmeuser@acme' }).event.eventId;
  }
});

function eventId(msg: Record<string, unknown>): string | undefined {
  return ((msg.payload as { payload?: { eventId?: string } })?.payload ?? {}).eventId;
}
