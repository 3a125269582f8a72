/**
 * The VCD simulator with an external broker (what the benchmarks run on
 * mosquitto): the token is checked at the upgrade, the bytes are relayed, and
 * events are published on that broker. Here the external broker is aedes on TCP.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { VcdMessaging } from '../../nodes/vcd/messaging';
import { VcdSession } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { waitFor } from '../support/wait';

type Aedes = import('aedes').Aedes;

describe('VCD simulator relaying its message bus to an external broker', () => {
  let external: Aedes;
  let server: net.Server;
  let sim: VcdSimulator;
  let session: VcdSession | undefined;
  let messaging: VcdMessaging | undefined;
  let publishedThere: string[];

  async function start(anonymousBus = false): Promise<void> {
    const { Aedes } = await import('aedes');
    external = await Aedes.createBroker();
    publishedThere = [];
    external.on('publish', (packet) => {
      if (packet.topic.startsWith('publish/')) publishedThere.push(packet.topic);
    });
    server = net.createServer((socket) => external.handle(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    sim = await VcdSimulator.start({ broker: `mqtt://127.0.0.1:${port}`, anonymousBus });
  }

  /** The status of a message-bus upgrade without a token. */
  function upgradeWithoutToken(): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/messaging/mqtt`, 'mqtt', { ca: sim.cert });
      ws.once('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
      ws.once('open', () => (resolve(101), ws.close()));
      ws.once('error', reject);
    });
  }

  afterEach(async () => {
    await messaging?.stop();
    await session?.close();
    messaging = session = undefined;
    await sim.stop();
    await new Promise<void>((r) => external.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('carries events from the external broker to a client that presented its token', async () => {
    await start();
    session = new VcdSession({
      url: sim.url,
      org: 'acme',
      authType: 'password',
      username: 'acmeadmin',
      password: DEFAULT_PASSWORD,
      tls: { ca: sim.cert },
    });
    messaging = new VcdMessaging({ site: session.site, tokens: session, tls: { ca: sim.cert } });
    const received: string[] = [];
    const granted = new Promise<void>((resolve) =>
      messaging!.add('node', 'publish/{org}/+', 1, {
        message: (topic) => received.push(topic),
        granted: () => resolve(),
      }),
    );
    await granted;
    await sim.flood(3, { actor: 'acmeuser@acme' });
    await waitFor(() => received.length === 3, 'three events through the relay');
    assert.equal(publishedThere.length, 3, 'published on the external broker');
    assert.deepEqual(received, publishedThere);
  });

  it('refuses an upgrade without a token, unless the bus is opened for the core mqtt node', async () => {
    await start();
    assert.equal(await upgradeWithoutToken(), 401);
    await sim.stop();
    await new Promise<void>((r) => external.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await start(true);
    assert.equal(await upgradeWithoutToken(), 101);
  });
});
