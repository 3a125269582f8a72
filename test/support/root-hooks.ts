/**
 * Root hooks for the whole suite (.mocharc.json `require`): a promise nobody
 * handled or an exception nobody caught fails the run. In Node-RED either one
 * can stop the process; here mocha would otherwise swallow it and pass.
 */
import { inspect } from 'node:util';

const escaped: string[] = [];

function record(kind: string, reason: unknown): void {
  escaped.push(`${kind}: ${reason instanceof Error ? (reason.stack ?? reason.message) : inspect(reason)}`);
}

// Mocha hands each rejection on to the process once more: count each promise once.
const rejected = new WeakSet<Promise<unknown>>();
process.on('unhandledRejection', (reason, promise) => {
  if (rejected.has(promise)) return;
  rejected.add(promise);
  record('unhandled rejection', reason);
});
// Mocha fails the running test on an uncaught exception too; this also catches those between tests.
process.on('uncaughtExceptionMonitor', (err) => record('uncaught exception', err));

/** Throws (failing the hook, which names the test) when anything escaped since the last check. */
function check(): void {
  if (escaped.length === 0) return;
  const found = escaped.splice(0);
  throw new Error(
    `${found.length} error${found.length === 1 ? '' : 's'} escaped (the runtime would have seen ${found.length === 1 ? 'it' : 'them'}):\n${found.join('\n')}`,
  );
}

export const mochaHooks = {
  afterEach(): void {
    check();
  },
  afterAll(): void {
    check();
  },
};
