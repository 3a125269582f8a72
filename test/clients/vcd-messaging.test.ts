import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { VcdMessaging } from '../../nodes/vcd/messaging';
import { VcdSession } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator, type VcdSimOptions } from '../../sim/vcd';
import { delay, waitFor } from '../support/wait';

describe('VCD messaging client (against the simulator)', () => {
  let sim: VcdSimulator;
  let session: VcdSession;
  let messaging: VcdMessaging;

  async function open(
    simOptions: VcdSimOptions = {},
    renewAt?: number,
    faults: Partial<VcdSimulator['faults']> = {},
  ): Promise<string[]> {
    sim = await VcdSimulator.start(simOptions);
    Object.assign(sim.faults, faults);
    session = new VcdSession({
      url: sim.url,
      org: 'acme',
      authType: 'password',
      username: 'acmeadmin',
      password: DEFAULT_PASSWORD,
      tls: { ca: sim.cert },
      renewAt,
    });
    // A reconnect that waited for the backoff would not come within any test's time.
    messaging = new VcdMessaging({
      site: session.site,
      tokens: session,
      tls: { ca: sim.cert },
      backoff: { initialMs: 120_000 },
    });
    const received: string[] = [];
    messaging.add('node', 'publish/{org}/+', 1, {
      message: (_topic, payload) =>
        received.push((JSON.parse(payload.toString()) as { payload: string }).payload),
    });
    return received;
  }

  afterEach(async () => {
    await messaging?.stop();
    await session?.close();
    await sim?.stop();
  });

  it('stops while a login is under way: no connection stays open, the new session is logged out', async () => {
    await open({}, undefined, { loginDelayMs: 1000 });
    await delay(200); // the login is on its way
    await Promise.all([messaging.stop(), session.close()]);
    await delay(500); // anything left running would connect now
    assert.equal(sim.stats.passwordLogins, 1, 'the login completed on the server');
    assert.equal(sim.stats.upgrades, 0, 'no connection was opened after the stop');
    assert.equal(sim.connectionCount, 0);
    assert.equal(sim.directory.liveSessions().length, 0, 'the session of that login was logged out');
    assert.equal(sim.stats.logouts, 1);
    assert.equal(messaging.state, 'closed');
  });

  it('reconnects at once when VCD ends a connection whose token was renewed meanwhile', async () => {
    // Tokens live 3 s and are renewed at half their life; VCD drops a connection when its token expires.
    const received = await open({ tokenLifetimeSec: 3 }, 0.5);
    await waitFor(() => sim.subscriptions.length === 1, 'subscribed');
    await waitFor(() => sim.stats.upgrades >= 3, 'two reconnects after token expiries', 15_000);
    await waitFor(() => sim.subscriptions.length === 1, 'subscribed again');
    sim.publishEvent({ actor: 'acmeuser@acme' });
    await waitFor(() => received.length === 1, 'an event after the reconnects');
    assert.equal(sim.stats.rejectedUpgrades[401] ?? 0, 0, 'every reconnect used the renewed token');
    // What leaks is exactly this: one stop listener (and its client) per old connection.
    assert.ok(
      getEventListeners(messaging.signal, 'abort').length <= 1,
      'nothing kept of the old connections',
    );
  });
});
