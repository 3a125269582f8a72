/**
 * The processes of a pipeline benchmark: each is started here, and its CPU time
 * and resident memory are read from /proc, so a table can say which one was
 * busy and what each contender costs, whatever language it is written in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/nodered-process';

export const MOSQUITTO = '/usr/sbin/mosquitto';
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process spent so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/**
 * Starts a new peak: the kernel's high-water mark of resident memory (VmHWM)
 * is set back to the current RSS. False where that is not allowed.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The highest resident memory of a process (bytes) since it started or since resetPeakRss. */
export function peakRssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) * 1024;
}

/** Busy and total CPU seconds of the whole machine so far (all cores, every process). */
export function machineCpu(): { busy: number; total: number } {
  const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] as string)
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/** A process taking part in a run: its name in the tables and its pid. */
export interface Proc {
  name: string;
  pid: number;
}

/** CPU seconds of each process at one moment. */
export type CpuSnapshot = Map<string, number>;

/** The key of a snapshot under which the whole machine's busy CPU seconds are kept. */
const MACHINE = '(machine)';

export function snapshot(procs: Proc[]): CpuSnapshot {
  return new Map([...procs.map((p) => [p.name, cpuSeconds(p.pid)] as const), [MACHINE, machineCpu().busy]]);
}

/** CPU seconds each process spent between two snapshots. */
export function spent(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  return new Map([...after].map(([name, s]) => [name, s - (before.get(name) ?? 0)]));
}

/**
 * Which process bounded a run: the busiest one, with its share of one core. A
 * process near 100% is the limit; when none is, the machine's two cores were
 * (the sum says so).
 */
export function boundBy(cpu: Map<string, number>, seconds: number): string {
  const machine = (cpu.get(MACHINE) ?? NaN) / seconds;
  const shares = [...cpu]
    .filter(([name]) => name !== MACHINE)
    .map(([name, s]) => [name, s / seconds] as const)
    .sort((a, b) => b[1] - a[1]);
  const [top, share] = shares[0] ?? ['?', 0];
  const ours = shares.reduce((sum, [, s]) => sum + s, 0);
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  // Other work on the machine: what was busy beyond the processes of the run.
  const others = Number.isNaN(machine) ? '' : `, other work ${pct(Math.max(0, machine - ours))}`;
  if (share >= 0.85) return `${top} (${pct(share)} of a core${others})`;
  if (machine >= 0.85 * os.cpus().length) return `all cores busy (${top} ${pct(share)}${others})`;
  return `none saturated (${top} ${pct(share)}${others})`;
}

/** Mosquitto on a free loopback port with a generated configuration; resolves once it listens. */
export async function startMosquitto(): Promise<{ url: string; proc: Proc; stop(): void }> {
  if (!fs.existsSync(MOSQUITTO)) {
    throw new Error(
      `${MOSQUITTO} is not installed: the pipeline benchmarks need the Debian package mosquitto`,
    );
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // A flood must not be cut short by the per-client queue (default 1000 messages).
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
    return listens(port);
  }, 'mosquitto to listen');
  return {
    url: `mqtt://127.0.0.1:${port}`,
    proc: { name: 'broker', pid: child.pid as number },
    stop: () => {
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A node script of this folder in a child process that prints one JSON line once ready. */
export async function startNodeChild<T>(
  script: string,
  args: string[],
  nodeArgs: string[] = [],
): Promise<{ ready: T; child: ChildProcess; stop(): void }> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<T>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve(JSON.parse(out.slice(0, nl)) as T);
    };
    child.stdout!.on('data', onData);
  });
  child.removeAllListeners('exit');
  return { ready, child, stop: () => void child.kill('SIGTERM') };
}
