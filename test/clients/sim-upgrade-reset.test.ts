/**
 * A client that resets its connection while the simulator refuses its
 * WebSocket upgrade (a stale token, say) must not take the simulator down: a
 * real VCD or APIC keeps serving the others. Such resets come from every
 * client that retries with an expired token and gives up quickly.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { ApicSimulator } from '../../sim/apic';
import { VcdSimulator } from '../../sim/vcd';
import { delay } from '../support/wait';

function upgradeRequest(hostname: string, path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
    `Sec-WebSocket-Protocol: mqtt\r\nAuthorization: Bearer stale\r\n\r\n`
  );
}

/** A TLS connection and the TCP socket under it (which is what can be reset). */
async function open(url: string, ca: string | undefined): Promise<{ socket: net.Socket; tcp: net.Socket }> {
  const { hostname, port, protocol } = new URL(url);
  const tcp = net.connect(Number(port), hostname);
  tcp.on('error', () => undefined);
  if (protocol === 'http:') {
    await once(tcp, 'connect');
    return { socket: tcp, tcp };
  }
  const socket = tls.connect({ socket: tcp, ca, servername: 'localhost' });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  return { socket, tcp };
}

/** The status line the simulator answers a refused upgrade with (it is still serving). */
async function refusal(url: string, ca: string | undefined, path: string): Promise<string> {
  const { socket } = await open(url, ca);
  socket.write(upgradeRequest(new URL(url).hostname, path));
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return String(chunk).split('\r\n')[0] as string;
}

/** Upgrade requests that are refused, each connection reset right after it is sent. */
async function resetWhileRefused(url: string, ca: string | undefined, path: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const { socket, tcp } = await open(url, ca);
    socket.write(upgradeRequest(new URL(url).hostname, path));
    if (i % 2) await delay(1);
    tcp.resetAndDestroy();
  }
  await delay(200);
}

for (const secure of [false, true]) {
  describe(`simulators over ${secure ? 'https' : 'http'}: a client resetting a refused WebSocket upgrade`, () => {
    it('VCD keeps serving', async () => {
      const sim = await VcdSimulator.start({ tls: secure });
      try {
        await resetWhileRefused(sim.url, sim.cert, '/messaging/mqtt');
        assert.equal(await refusal(sim.url, sim.cert, '/messaging/mqtt'), 'HTTP/1.1 401 Unauthorized');
      } finally {
        await sim.stop();
      }
    });

    it('APIC keeps serving', async () => {
      const apic = await ApicSimulator.start({ ratePerSec: 0, tls: secure });
      try {
        await resetWhileRefused(apic.url, apic.cert, '/socketstale');
        assert.match(await refusal(apic.url, apic.cert, '/socketstale'), /^HTTP\/1\.1 [45]\d\d /);
      } finally {
        await apic.stop();
      }
    });
  });
}
