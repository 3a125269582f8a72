/**
 * A Redis server of its own for a test (Debian's redis-server), on a free
 * loopback port, with nothing saved to disk. Missing redis-server skips the
 * test on a developer's machine and fails it in CI (test/support/peers.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, listening } from './nodered-process';
import { needPeer } from './peers';
import { waitFor } from './wait';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Skips (or in strict mode fails) the calling suite when there is no redis-server. */
export function needRedis(ctx: Mocha.Context): void {
  const installed = spawnSync(REDIS_SERVER, ['--version']).status === 0;
  needPeer(ctx, installed ? undefined : 'redis-server is not installed (Debian package redis-server)');
}

export interface RedisOptions {
  password?: string;
  /** TLS on the port (redis-server's tls-port), with this certificate and key. */
  tls?: { cert: string; key: string };
}

export class TestRedis {
  private server: ChildProcess | undefined;
  private output = '';
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-'));

  private constructor(
    readonly port: number,
    private readonly options: RedisOptions,
  ) {}

  static async start(options: RedisOptions = {}): Promise<TestRedis> {
    const redis = new TestRedis(await freePort(), options);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  log(): string {
    return this.output;
  }

  /** Starts the server (again, after `down`), empty. */
  async up(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    if (this.options.password) args.push('--requirepass', this.options.password);
    const { tls } = this.options;
    if (tls) {
      fs.writeFileSync(path.join(this.dir, 'cert.pem'), tls.cert);
      fs.writeFileSync(path.join(this.dir, 'key.pem'), tls.key);
      args.push('--port', '0', '--tls-port', String(this.port), '--tls-auth-clients', 'no');
      args.push(
        '--tls-cert-file',
        path.join(this.dir, 'cert.pem'),
        '--tls-key-file',
        path.join(this.dir, 'key.pem'),
      );
    } else {
      args.push('--port', String(this.port));
    }
    this.server = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const add = (d: Buffer) => (this.output += d.toString());
    this.server.stdout!.on('data', add);
    this.server.stderr!.on('data', add);
    await waitFor(() => listening(this.port), `redis-server on ${this.port}`, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.output}`);
    });
  }

  /** Stops the server (what it held is gone). */
  async down(): Promise<void> {
    const server = this.server;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }

  /** A server that hangs: connected, but no answer (SIGSTOP), until `resume`. */
  pause(): void {
    this.server?.kill('SIGSTOP');
  }

  resume(): void {
    this.server?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.down();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
