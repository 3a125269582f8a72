/** A real Node-RED process with this package loaded, for tests that need the whole runtime. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { prepareUserDir, startNodeRed, type FlowNode } from '../../sim/nodered';
import { waitFor } from './wait';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Does something listen on this loopback port? */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RunningNodeRed {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Everything Node-RED printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function runNodeRed(options: {
  flows: FlowNode[];
  credentials?: Record<string, Record<string, string>>;
  modules?: string[];
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
}): Promise<RunningNodeRed> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-'));
  prepareUserDir(dir, { port, logLevel: 'info', ...options });
  const red: ChildProcess = startNodeRed(dir, 'pipe', options.env);
  let output = '';
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  // Flows (and their http-in routes) exist once the runtime says so.
  await waitFor(
    () => output.includes('Started flows') || red.exitCode !== null,
    'Node-RED to start its flows',
    30_000,
  );
  if (red.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
  return {
    base,
    log: () => output,
    stop: async () => {
      if (red.exitCode !== null) return;
      red.kill('SIGINT');
      await new Promise((r) => red.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
