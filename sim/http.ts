/**
 * The small HTTP toolkit the simulators share: a server (HTTPS with the
 * simulator certificate, or plain HTTP), a router, and response helpers.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { serverCertificate } from './tls';

export interface SimRequest {
  method: string;
  /** The request target exactly as sent (path and query, still %-encoded). */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text (what the JSON and XML APIs read). */
  body: string;
  /** The body's bytes, for those that carry binary data. */
  raw: Buffer;
  params: string[];
}

export type Handler = (req: SimRequest, res: http.ServerResponse) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string | RegExp, handler: Handler): this {
    const pattern =
      typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
    this.routes.push({ method, pattern, handler });
    return this;
  }

  /** A control endpoint that does one thing: POST `path` runs `act`, then answers `{ [done]: true }`. */
  action(path: string, done: string, act: (req: SimRequest) => void): this {
    return this.on('POST', path, (req, res) => {
      act(req);
      sendJson(res, 200, { [done]: true });
    });
  }

  /** Serves a request; unknown paths get 404, known paths with another method 405. */
  async serve(raw: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://sim');
    const bytes = await readBody(raw);
    const body = bytes.toString('utf8');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return sendJson(res, 400, { message: 'Bad request: broken %-escape in the path' });
    }
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== raw.method) continue;
      const req: SimRequest = {
        method: raw.method,
        url: raw.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: raw.headers,
        body,
        raw: bytes,
        params: m.slice(1),
      };
      try {
        await route.handler(req, res);
      } catch (err) {
        if (!res.headersSent) sendJson(res, 500, { message: `simulator error: ${(err as Error).message}` });
      }
      return;
    }
    sendJson(res, pathMatched ? 405 : 404, { message: pathMatched ? 'Method not allowed' : 'Not found' });
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface SimServer {
  server: http.Server;
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  /** The server certificate (PEM), when serving HTTPS. */
  cert?: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  host?: string;
  port?: number;
  /** HTTPS with the simulator certificate (default) or plain HTTP. */
  tls?: boolean;
}

export async function listen(options: ServeOptions, router: Router): Promise<SimServer> {
  // A request that breaks off mid-body only ends its own response.
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) =>
    void router.serve(req, res).catch(() => res.destroy());
  const secure = options.tls !== false;
  const pems = secure ? await serverCertificate() : undefined;
  const server = pems
    ? https.createServer({ cert: pems.cert, key: pems.key }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    server,
    url: `${secure ? 'https' : 'http'}://${host}:${port}`,
    cert: pems?.cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
