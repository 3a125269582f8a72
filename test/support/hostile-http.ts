/**
 * An HTTP server on 127.0.0.1 that misbehaves on purpose: it answers a byte at
 * a time, just inside any idle timeout, and never finishes (a dripping peer), or
 * it answers with a body far larger than any real one. It counts what it got.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Misbehaviour =
  /** Status and headers at once, then one byte of body every `everyMs`, never ending. */
  | { drip: 'body'; everyMs: number; status?: number }
  /** The status line and headers themselves, one byte every `everyMs`, never ending. */
  | { drip: 'headers'; everyMs: number }
  /** `huge` bytes of `text` repeated (status 200 unless said), with a Content-Length, or chunked. */
  | { huge: number; text: string; contentType: string; chunked?: boolean; status?: number };

export class HostileHttp {
  readonly requests: { method: string; url: string }[] = [];
  private readonly server = http.createServer();
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  private constructor(private readonly misbehaviour: Misbehaviour) {}

  static async start(misbehaviour: Misbehaviour): Promise<HostileHttp> {
    const hostile = new HostileHttp(misbehaviour);
    hostile.server.on('request', (req, res) => hostile.answer(req, res));
    await new Promise<void>((resolve) => hostile.server.listen(0, '127.0.0.1', resolve));
    hostile.url = `http://127.0.0.1:${(hostile.server.address() as AddressInfo).port}`;
    return hostile;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    const m = this.misbehaviour;
    if ('huge' in m) {
      const chunk = Buffer.from(m.text.repeat(Math.ceil(65536 / m.text.length)).slice(0, 65536));
      res.writeHead(m.status ?? 200, {
        'content-type': m.contentType,
        ...(m.chunked ? {} : { 'content-length': String(m.huge) }),
      });
      let left = m.huge;
      const more = () => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
      return;
    }
    const socket = res.socket;
    if (!socket) return;
    const text =
      m.drip === 'headers'
        ? 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-slow: ' + 'x'.repeat(1e6)
        : '{"imdata":[' + ' '.repeat(1e6);
    if (m.drip === 'body') {
      res.writeHead(m.status ?? 200, { 'content-type': 'application/json', 'content-length': String(1e6) });
      res.flushHeaders();
    }
    let at = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        this.timers.delete(timer);
        return;
      }
      // Raw bytes on the socket: the server's own framing would buffer them.
      socket.write(text[at++ % text.length] as string);
    }, m.everyMs);
    this.timers.add(timer);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
