/**
 * The APIC socket: wss://<apic>/socket<token>, opened before any subscription;
 * pings from the client keep it honest (a ping unanswered by the next one ends
 * the connection), and its close ends the connection too.
 */
import WebSocket, { type RawData } from 'ws';
import { CodedError, errorMessage } from '../../common/errors';
import { outboundFailure, webSocketOptions, type OutboundSettings } from '../../common/outbound';
import { ApicCodes, type ApicSession } from '../session';
import type { Connection } from './connection';
import { SubscriptionCodes } from './types';

/** The largest push read (JSON.parse of it costs tens of milliseconds). */
const MAX_PUSH_BYTES = 16 * 1024 * 1024;

export interface SocketOptions {
  /** TLS and proxy (the cluster's). */
  outbound: OutboundSettings;
  connectTimeoutMs?: number;
  /** Client pings on the socket (default 30 s). */
  pingIntervalMs?: number;
}

/** Why an upgrade was answered with an HTTP status instead. */
function upgradeError(session: ApicSession, status: number): CodedError {
  if (status === 401 || status === 403) {
    return new CodedError(ApicCodes.SESSION_EXPIRED, `${session.host} refused the socket token (${status}).`);
  }
  if (status === 503) {
    return new CodedError(ApicCodes.THROTTLED, `${session.host} is throttling requests (503 at the socket).`);
  }
  return new CodedError(
    SubscriptionCodes.SOCKET_FAILED,
    `Opening the socket on ${session.host} failed with HTTP ${status}. A proxy or load balancer in ` +
      'front of the APIC may not pass WebSocket upgrades.',
    { status },
  );
}

/** Opens wss://<apic>/socket<token>; resolves once it is open. */
export function openSocket(
  session: ApicSession,
  options: SocketOptions,
  signal: AbortSignal,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(session.socketUrl, {
      headers: session.socketHeaders(),
      ...webSocketOptions(session.socketUrl, options.outbound, options.connectTimeoutMs ?? 30_000),
      handshakeTimeout: options.connectTimeoutMs ?? 30_000,
      perMessageDeflate: false,
      // One push holds the objects of one change (a few KB); ws allows 100 MiB. A larger one closes the
      // socket (1009), and the reconnect's resync reads the state again: nothing is lost, nothing stalls.
      maxPayload: MAX_PUSH_BYTES,
    });
    const fail = (error: CodedError) => {
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners('open');
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    const onAbort = () => fail(new CodedError(ApicCodes.CLOSED, 'stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      const error = upgradeError(session, res.statusCode ?? 0);
      // A refused token means the session is gone, not just the socket.
      if (error.code === ApicCodes.SESSION_EXPIRED) session.lose(error);
      fail(error);
    });
    ws.once('error', (err) => fail(outboundFailure(err, session.host, options.outbound)));
    ws.once('open', () => {
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners('error');
      ws.removeAllListeners('unexpected-response');
      resolve(ws);
    });
  });
}

/** Ends the connection when its socket closes or stops answering pings; hands every message on. */
export function watchSocket(
  connection: Connection,
  pingIntervalMs: number,
  onMessage: (data: RawData) => void,
): void {
  const { ws, host } = connection;
  let socketError: unknown;
  ws.on('error', (err) => (socketError ??= err));
  ws.on('close', (code: number, why: Buffer) => {
    const detail = socketError
      ? errorMessage(socketError)
      : `code ${code}${why.length ? `, ${why.toString()}` : ''}`;
    connection.end({
      error: new CodedError(
        SubscriptionCodes.CONNECTION_LOST,
        `The socket to ${host} closed (${detail}); logging in again and resubscribing.`,
      ),
    });
  });
  let alive = true;
  ws.on('pong', () => (alive = true));
  ws.on('message', (data: RawData) => {
    alive = true;
    onMessage(data);
  });
  const timer = setInterval(() => {
    if (!alive) {
      connection.end({
        error: new CodedError('TIMEOUT', `${host} did not answer socket pings; connecting again.`),
      });
      return;
    }
    alive = false;
    if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, pingIntervalMs);
  timer.unref();
  connection.onEnd(() => clearInterval(timer));
}
