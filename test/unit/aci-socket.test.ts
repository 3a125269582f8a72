/**
 * The APIC socket: what an upgrade answered with an HTTP status means (a lost
 * session, throttling, a proxy that does not pass WebSockets), stopping while
 * it opens, and how an open socket ends its connection (close, silence).
 */
import assert from 'node:assert/strict';
import { EventEmitter, getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket from 'ws';
import { CodedError } from '../../nodes/common/errors';
import type { ApicSession } from '../../nodes/aci/session';
import { Connection, type EndReason } from '../../nodes/aci/subscriber/connection';
import { openSocket, watchSocket } from '../../nodes/aci/subscriber/socket';

const HOST = 'https://apic1';

/** A session as the socket sees it; `lost` is what it was told it had lost. */
function fakeSession(url: string) {
  const lost: CodedError[] = [];
  const session = {
    host: HOST,
    socketUrl: url,
    socketHeaders: () => ({}),
    lose: (error: CodedError) => lost.push(error),
  } as unknown as ApicSession;
  return { session, lost };
}

/** A server that answers every upgrade with `status`, or holds it unanswered (status 0). */
async function upgradeServer(
  status: number,
): Promise<{ url: string; held: Socket[]; close: () => Promise<void> }> {
  const held: Socket[] = [];
  const server = http.createServer();
  server.on('upgrade', (_req, socket: Socket) => {
    if (status === 0) {
      held.push(socket);
      return;
    }
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/socketTOKEN`,
    held,
    close: () =>
      new Promise((resolve) => {
        for (const socket of held) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function refusal(
  status: number,
): Promise<{ error: CodedError; lost: CodedError[]; signal: AbortSignal }> {
  const server = await upgradeServer(status);
  try {
    const { session, lost } = fakeSession(server.url);
    const signal = new AbortController().signal;
    const error = await openSocket(session, { outbound: { tls: {} } }, signal).then(
      () => assert.fail('the socket opened'),
      (err: CodedError) => err,
    );
    return { error, lost, signal };
  } finally {
    await server.close();
  }
}

describe('APIC socket: an upgrade answered with a status', () => {
  for (const status of [401, 403]) {
    it(`takes ${status} as a session lost, and tells the session`, async () => {
      const { error, lost, signal } = await refusal(status);
      assert.equal(error.code, 'APIC_SESSION_EXPIRED');
      assert.equal(error.message, `${HOST} refused the socket token (${status}).`);
      assert.deepEqual(lost, [error]);
      assert.equal(getEventListeners(signal, 'abort').length, 0, 'no stop listener left behind');
    });
  }

  it('takes 503 as throttling, keeping the session', async () => {
    const { error, lost } = await refusal(503);
    assert.equal(error.code, 'APIC_THROTTLED');
    assert.equal(error.message, `${HOST} is throttling requests (503 at the socket).`);
    assert.deepEqual(lost, []);
  });

  for (const status of [200, 400, 404, 502]) {
    it(`takes ${status} as a failed socket, naming the proxy to check, keeping the session`, async () => {
      const { error, lost } = await refusal(status);
      assert.equal(error.code, 'APIC_SOCKET_FAILED');
      assert.equal(
        error.message,
        `Opening the socket on ${HOST} failed with HTTP ${status}. A proxy or load balancer in front of ` +
          'the APIC may not pass WebSocket upgrades.',
      );
      assert.deepEqual(error.details, { status });
      assert.deepEqual(lost, []);
    });
  }

  it('gives up an upgrade on stop, closing its connection', async () => {
    const server = await upgradeServer(0);
    try {
      const { session, lost } = fakeSession(server.url);
      const stop = new AbortController();
      const opening = openSocket(session, { outbound: { tls: {} } }, stop.signal);
      while (server.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const closed = new Promise((resolve) => server.held[0].once('end', resolve).resume());
      stop.abort();
      await assert.rejects(opening, { code: 'APIC_SESSION_CLOSED', message: 'stopped' });
      await closed;
      assert.deepEqual(lost, []);
    } finally {
      await server.close();
    }
  });
});

/** An open socket as watchSocket sees it: pings answered with a pong while `answers`. */
class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  answers = true;
  pings = 0;

  ping(): void {
    this.pings++;
    if (this.answers) setImmediate(() => this.emit('pong'));
  }
}

function watched(pingIntervalMs: number, onMessage: (data: unknown) => void = () => undefined) {
  const ws = new FakeSocket();
  const connection = new Connection({ host: HOST } as unknown as ApicSession, ws as unknown as WebSocket);
  watchSocket(connection, pingIntervalMs, onMessage);
  let reason: EndReason | undefined;
  void connection.ended.then((r) => (reason = r));
  return { ws, connection, ended: () => reason };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('APIC socket: watching an open socket', () => {
  it('ends the connection when a ping goes unanswered until the next one', async () => {
    const { ws, connection, ended } = watched(20);
    await sleep(150);
    assert.equal(ended(), undefined, 'pings answered: the connection stays');
    assert.ok(ws.pings >= 2);
    ws.answers = false;
    const reason = await connection.ended;
    assert.equal(reason.error?.code, 'TIMEOUT');
    assert.equal(reason.error?.message, `${HOST} did not answer socket pings; connecting again.`);
    const pings = ws.pings;
    await sleep(80);
    assert.equal(ws.pings, pings, 'no pings after the end');
  });

  it('takes a message as a sign of life, and hands it on', async () => {
    const got: unknown[] = [];
    const { ws, ended } = watched(30, (data) => got.push(data));
    ws.answers = false;
    const talking = setInterval(() => ws.emit('message', Buffer.from('push')), 5);
    try {
      await sleep(200);
    } finally {
      clearInterval(talking);
    }
    assert.equal(ended(), undefined);
    assert.ok(got.length > 5);
    assert.deepEqual(got[0], Buffer.from('push'));
  });

  it('ends the connection when the socket closes, saying the code and reason', async () => {
    const { ws, connection } = watched(60_000);
    ws.emit('close', 4001, Buffer.from('going away'));
    const reason = await connection.ended;
    assert.equal(reason.error?.code, 'APIC_CONNECTION_LOST');
    assert.equal(
      reason.error?.message,
      `The socket to ${HOST} closed (code 4001, going away); logging in again and resubscribing.`,
    );
  });

  it('says the code alone when the close has no reason', async () => {
    const { ws, connection } = watched(60_000);
    ws.emit('close', 1006, Buffer.alloc(0));
    const reason = await connection.ended;
    assert.match(reason.error?.message ?? '', /closed \(code 1006\); logging/);
  });

  it('names the first socket error instead of the close code', async () => {
    const { ws, connection } = watched(60_000);
    ws.emit('error', new Error('read ECONNRESET'));
    ws.emit('error', new Error('write EPIPE'));
    ws.emit('close', 1006, Buffer.alloc(0));
    const reason = await connection.ended;
    assert.equal(
      reason.error?.message,
      `The socket to ${HOST} closed (read ECONNRESET); logging in again and resubscribing.`,
    );
  });
});
