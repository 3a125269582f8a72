/** What the tests of cloudevent emit's disk spool share: its flow, and another process that holds its folder. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait';

export interface Holder {
  child: ChildProcess;
  /** Kills it the hard way (as a crash does) and waits until it is gone. */
  kill(): Promise<void>;
}

/** Starts a process that opens the spool in `dir` and holds it; resolves once it has it. */
export async function holdSpool(dir: string): Promise<Holder> {
  const child = spawn(process.execPath, [path.join(__dirname, 'hold-spool.js'), dir], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('\n') || child.exitCode !== null, 'the other process to open the spool');
  if (!out.startsWith('open')) throw new Error(`the other process could not open the spool: ${out}`);
  return {
    child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

type Msg = Record<string, unknown>;

/**
 * A saved flow: the emit node `n` with a disk spool to `sinkUrl` (output 1 →
 * helper `out`, output 2 → helper `failed`) and a Catch (→ helper `caught`).
 */
export function spoolFlow(sinkUrl: string, emit: Msg = {}): Msg[] {
  return [
    { id: 'tab', type: 'tab' },
    {
      id: 'n',
      type: 'cloudevent-emit',
      z: 'tab',
      url: sinkUrl,
      mode: 'binary',
      ceType: 'com.example.test',
      ceSource: '/tests',
      timeout: 2,
      retryBudget: 600,
      queueLimit: 5,
      concurrency: 1,
      onFull: 'wait',
      spool: 'disk',
      spoolLimit: 10,
      version: 1,
      ...emit,
      wires: [['out'], ['failed']],
    },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'failed', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}
