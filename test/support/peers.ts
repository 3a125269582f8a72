/**
 * Some tests need a Debian package beside Node (python3 modules, aiosmtpd, chromium, redis-server). On a
 * developer's machine a missing one skips those tests, saying so. .ci/run sets DCEVENTS_STRICT_TESTS=1: there a
 * missing package fails the test instead, so a run is never green on tests that did not run.
 */
import { spawnSync } from 'node:child_process';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export const STRICT = process.env.DCEVENTS_STRICT_TESTS === '1';

/** Skips the calling suite or test (fails it in strict mode) when `missing` says what is not installed. */
export function needPeer(ctx: Mocha.Context, missing: string | undefined): void {
  if (!missing) return;
  if (STRICT) throw new Error(`${missing}; DCEVENTS_STRICT_TESTS=1 fails a test that would skip`);
  console.log(`      skipped: ${missing}`);
  ctx.skip();
}

/** Why Debian's python3 cannot import these modules here, or undefined when it can. */
export function pythonMissing(modules: string, packages: string): string | undefined {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', `import ${modules}`]);
  return probe.status === 0
    ? undefined
    : `${packages} not installed (Debian: ${SYSTEM_PYTHON} cannot import ${modules})`;
}

/** Why the mail relay (python3-aiosmtpd, test/support/smtp_server.py) cannot run here, or undefined. */
export const mailRelayMissing = () => pythonMissing('aiosmtpd', 'python3-aiosmtpd is');
