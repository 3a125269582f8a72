/**
 * What the scale benchmarks share: the measured process in a child of its own,
 * spoken to in JSON lines, its peak memory and CPU read from /proc, and the
 * machine's load beside every figure (the machine is shared).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { HttpClient } from '../nodes/common/http';
import { peakRssBytes } from './procs';
import { printScaleTable, type ScaleRow } from './results';

/** A node script of this folder that prints JSON lines and reads commands, one a line. */
export class LineChild {
  private readonly lines: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;
  readonly child: ChildProcess;

  constructor(script: string, args: string[], nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, script), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        console.error(`(${script}: ${line})`);
      }
      this.wake?.();
    });
    const release = stopOnExit(() => this.child.kill('SIGKILL'));
    this.child.once('exit', (code, signal) => {
      release();
      this.exited = `${script} exited (${code ?? signal})`;
      this.wake?.();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** The next line that has `key`, taken from what came so far or what comes within `timeoutMs`. */
  async next<T>(key: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.lines.findIndex((l) => key in l);
      if (at !== -1) return this.lines.splice(at, 1)[0]![key] as T;
      if (this.exited) throw new Error(`${this.exited} before "${key}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${key}" within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
  }

  /** Sends a command and takes the line that answers it (keyed by the command's name). */
  ask<T>(command: string, timeoutMs = 60_000): Promise<T> {
    this.send(command);
    return this.next<T>(command, timeoutMs);
  }

  /** The peak resident memory of the process so far (bytes). */
  peakRss(): number {
    return peakRssBytes(this.pid);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send('stop');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * Runs `stop` if this process ends first (an interrupted benchmark leaves no
 * simulator or measured process behind); returns what undoes that.
 */
export function stopOnExit(stop: () => void): () => void {
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(130));
  }
  return () => process.off('exit', stop);
}

/** The machine's load average over the last minute. */
export const load = () => os.loadavg()[0] as number;

/** A POST to a simulator's control API, answered 200. */
export async function control(url: string, ca: string, body: object = {}): Promise<unknown> {
  const http = new HttpClient({ tls: { ca }, timeoutMs: 600_000 });
  try {
    const res = await http.send('POST', url, { body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as unknown;
  } finally {
    await http.close();
  }
}

export const MiB = 1024 * 1024;

/** What a measured process says of the first live event after a start or a reconnect. */
export interface Live {
  ms: number;
  cpuMs: number;
}

/** What every measured process says when asked for its stats. */
export interface ChildStats {
  /** The longest stall as monitorEventLoopDelay saw it, and without the waits for a core (stalls.ts). */
  maxStallMs: number;
  ownStallMs: number;
  /** Bytes of saved state written so far. */
  stateBytes: number;
  cpuMs: number;
}

/** The steady stretch of a scale benchmark: BENCH_STEADY_SECONDS, else a minute (4 s with --quick). */
export function steadyStretchMs(quick: boolean): number {
  return Number(process.env.BENCH_STEADY_SECONDS ?? (quick ? 4 : 60)) * 1000;
}

/** A scale benchmark run on its own (`node dist/bench/scale-….js [--quick]`): its table. */
export function runAlone(title: string, work: (quick: boolean) => Promise<ScaleRow[]>): void {
  work(process.argv.includes('--quick'))
    .then((rows) => printScaleTable(title, rows))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
