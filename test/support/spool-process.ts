/** Another process that holds a spool folder, for tests of the folder lock. */
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
