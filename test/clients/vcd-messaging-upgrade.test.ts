import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { CodedError } from '../../nodes/common/errors';
import { MessagingCodes, VcdMessaging, type TokenSource } from '../../nodes/vcd/messaging';
import { VcdSimulator } from '../../sim/vcd';
import { nextEvent, waitFor } from '../support/wait';

/**
 * What the message-bus client names when the WebSocket upgrade or the MQTT
 * login after it fails: a bus that is down for a while (502, 503, 504), a
 * load balancer that does not pass the upgrade on (any other status), a
 * connection closed before CONNACK, a socket that never opens. The backoff is
 * two minutes: each test sees one attempt.
 */
describe('VCD messaging client: failures at the upgrade and before CONNACK', () => {
  const tokens: TokenSource = {
    token: () => Promise.resolve('a-token'),
    invalidate: () => undefined,
    isCurrent: () => true,
    info: { orgUuid: 'o', userUuid: 'u' },
  };
  const slowBackoff = { backoff: { initialMs: 120_000 }, stableMs: 600_000 };
  let messaging: VcdMessaging | undefined;
  let server: http.Server | undefined;

  afterEach(async () => {
    await messaging?.stop();
    messaging = undefined;
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  /** The state and error of the first end of a connection to `site`. */
  async function firstFailure(
    site: string,
    tls?: { ca?: string },
    connectTimeoutMs?: number,
  ): Promise<[string, CodedError]> {
    messaging = new VcdMessaging({ site, tokens, tls, connectTimeoutMs, ...slowBackoff });
    const failed = nextEvent<[string, CodedError]>(messaging, 'state', 10_000, (s) => s !== 'connecting');
    messaging.add('node', 'publish/{org}/+', 0, { message: () => undefined });
    return failed;
  }

  /** A plain HTTP server on loopback whose upgrades `onUpgrade` answers; its site. */
  async function loopback(
    onUpgrade: (req: http.IncomingMessage, socket: import('node:stream').Duplex) => void,
  ) {
    server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', onUpgrade);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const answering = (status: number) =>
    loopback((_req, socket) =>
      socket.end(`HTTP/1.1 ${status} Status\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`),
    );

  it('a bus the simulator has down answers 503 at the upgrade: a passing loss naming the status', async () => {
    const sim = await VcdSimulator.start();
    try {
      sim.faults.brokerDownUntil = Date.now() + 60_000;
      const [state, error] = await firstFailure(sim.url, { ca: sim.cert });
      assert.equal(state, 'reconnecting');
      assert.equal(error.code, MessagingCodes.CONNECTION_LOST);
      assert.deepEqual(error.details, { status: 503 });
      assert.match(error.message, /unavailable \(HTTP 503 at the WebSocket upgrade\); retrying/);
      assert.equal(sim.stats.rejectedUpgrades[503], 1);
    } finally {
      await messaging?.stop();
      await sim.stop();
    }
  });

  for (const status of [502, 504]) {
    it(`${status} at the upgrade is a passing loss naming the status`, async () => {
      const [state, error] = await firstFailure(await answering(status));
      assert.equal(state, 'reconnecting');
      assert.equal(error.code, MessagingCodes.CONNECTION_LOST);
      assert.deepEqual(error.details, { status });
    });
  }

  for (const status of [400, 404, 500, 501]) {
    it(`${status} at the upgrade is VCD_MQTT_UPGRADE_FAILED with the load-balancer hint`, async () => {
      const [state, error] = await firstFailure(await answering(status));
      assert.equal(state, 'reconnecting');
      assert.equal(error.code, MessagingCodes.UPGRADE_FAILED);
      assert.deepEqual(error.details, { status });
      assert.match(error.message, new RegExp(`failed with HTTP ${status}\\. A load balancer`));
      assert.match(error.message, /Upgrade\/Connection headers/);
    });
  }

  it('403 at the upgrade, as 401, is a refused token: logged in again, not a load balancer', async () => {
    const [state, error] = await firstFailure(await answering(403));
    assert.equal(state, 'reconnecting');
    assert.equal(error.code, MessagingCodes.UNAUTHORIZED);
    assert.deepEqual(error.details, { status: 403 });
    assert.equal(error.message, 'The VCD message bus refused the token (403); logging in again.');
  });

  it('a connection closed after the upgrade and before CONNACK is a loss before CONNACK', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const site = await loopback((req, socket) =>
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => ws.close()),
    );
    try {
      const [state, error] = await firstFailure(site);
      assert.equal(state, 'reconnecting');
      assert.equal(error.code, MessagingCodes.CONNECTION_LOST);
      assert.equal(error.message, 'The VCD message bus closed the connection before MQTT CONNACK.');
      assert.equal(error.details, undefined, 'no status: the upgrade went through');
    } finally {
      wss.close();
    }
  });

  it('a bus that takes the upgrade and never answers CONNECT is a loss before CONNACK, naming why', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const site = await loopback((req, socket) =>
      wss.handleUpgrade(req, socket, Buffer.alloc(0), () => undefined),
    );
    try {
      const [state, error] = await firstFailure(site, undefined, 1000);
      assert.equal(state, 'reconnecting');
      assert.equal(error.code, MessagingCodes.CONNECTION_LOST);
      assert.equal(
        error.message,
        'The VCD message bus closed the connection before MQTT CONNACK (connack timeout).',
      );
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
  });

  it('a stop while a SUBSCRIBE waits for its SUBACK closes the connection at once', async () => {
    const wss = new WebSocketServer({ noServer: true });
    let subscribeSeen = false;
    const site = await loopback((req, socket) =>
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
        // CONNACK to the CONNECT, then silence: the SUBSCRIBE stays in flight.
        ws.once('message', () => {
          ws.send(Buffer.from([0x20, 2, 0, 0]));
          ws.once('message', () => (subscribeSeen = true));
        });
      }),
    );
    try {
      messaging = new VcdMessaging({ site, tokens, ...slowBackoff });
      messaging.add('node', 'publish/{org}/+', 1, { message: () => undefined });
      await waitFor(() => subscribeSeen, 'the SUBSCRIBE sent');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((r) => (timer = setTimeout(r, 5000, 'still waiting for the SUBACK')));
      const stopped = messaging.stop().then(() => 'stopped');
      assert.equal(await Promise.race([stopped, late]), 'stopped');
      clearTimeout(timer);
      assert.equal(messaging.state, 'closed');
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
  });

  it('a socket that never opens is named as the network failure it is', async () => {
    const site = await loopback(() => undefined);
    await new Promise((r) => server!.close(r)); // nothing listens on the port any more
    server = undefined;
    const [state, error] = await firstFailure(site);
    assert.equal(state, 'reconnecting');
    assert.notEqual(error.code, MessagingCodes.CONNECTION_LOST);
    assert.notEqual(error.code, MessagingCodes.UPGRADE_FAILED);
    assert.match(error.message, /refused|ECONNREFUSED/i);
  });
});
