/**
 * A small HTTP proxy on loopback, as the proxies between a datacenter and the
 * world behave: CONNECT tunnels (https, wss) and forwarded requests in
 * absolute form (plain http), optionally only with credentials (407
 * otherwise). It records what went through it, so a test can see that a
 * connection took the proxy, or did not.
 */
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface ProxiedRequest {
  /** CONNECT for a tunnel, else the method of a forwarded request. */
  method: string;
  /** host:port the client asked for. */
  target: string;
  /** The Proxy-Authorization the client sent, if any. */
  authorization?: string;
  /** The status the proxy answered (407 without the right credentials). */
  status: number;
}

export interface ProxyOptions {
  /** user:password the proxy wants (Basic); without it, anyone may use it. */
  credentials?: string;
  /**
   * Names only the proxy can resolve (to an address): a client that reaches
   * such a host went through the proxy, as a direct connection cannot.
   */
  resolve?: Record<string, string>;
}

export class ConnectProxy {
  readonly seen: ProxiedRequest[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: ProxyOptions,
  ) {}

  static async start(options: ProxyOptions = {}): Promise<ConnectProxy> {
    const server = http.createServer();
    const proxy = new ConnectProxy(server, options);
    server.on('connection', (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.on('connect', (req, socket: Socket, head) => proxy.tunnel(req, socket, head));
    server.on('request', (req, res) => proxy.forward(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The targets (host:port) the proxy was asked for, with how (CONNECT or a forwarded method). */
  targets(): string[] {
    return this.seen.map((r) => `${r.method} ${r.target}`);
  }

  private address(host: string): string {
    return this.options.resolve?.[host] ?? host;
  }

  private allowed(req: http.IncomingMessage): boolean {
    if (!this.options.credentials) return true;
    const expected = `Basic ${Buffer.from(this.options.credentials).toString('base64')}`;
    return req.headers['proxy-authorization'] === expected;
  }

  private note(req: http.IncomingMessage, target: string, status: number): void {
    const authorization = req.headers['proxy-authorization'];
    this.seen.push({ method: req.method ?? '', target, status, ...(authorization ? { authorization } : {}) });
  }

  private tunnel(req: http.IncomingMessage, client: Socket, head: Buffer): void {
    const target = req.url ?? '';
    if (!this.allowed(req)) {
      this.note(req, target, 407);
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    const upstream = net.connect(Number(target.slice(colon + 1)), this.address(host));
    upstream.once('connect', () => {
      this.note(req, target, 200);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => {
      this.note(req, target, 502);
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form requests only');
      return;
    }
    if (!this.allowed(req)) {
      this.note(req, url.host, 407);
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    this.note(req, url.host, 200);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      {
        host: this.address(url.hostname),
        port: url.port || 80,
        method: req.method,
        path: url.pathname + url.search,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Sets proxy environment variables for the duration of a test and restores
 * them after: `with({ HTTPS_PROXY: url, NO_PROXY: '' })`.
 */
export function proxyEnvironment(): { set(vars: Record<string, string | undefined>): void; restore(): void } {
  const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  const put = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  return {
    set(vars) {
      for (const name of names) put(name, undefined);
      for (const [name, value] of Object.entries(vars)) put(name, value);
    },
    restore() {
      for (const name of names) put(name, saved[name]);
    },
  };
}
