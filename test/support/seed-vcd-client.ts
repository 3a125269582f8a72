/** Launches the seed's client approach (Python paho-mqtt) against a VCD URL. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve(__dirname, '../../../test/interop/vcd_paho_client.py');

/** Why the seed client cannot run here, or undefined when it can. */
export function seedClientMissing(): string | undefined {
  if (!fs.existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is not installed`;
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import paho.mqtt.client, requests'], { encoding: 'utf8' });
  return probe.status === 0
    ? undefined
    : 'python3-paho-mqtt / python3-requests are not installed (Debian packages)';
}

/** Logs in as acmeadmin@acme, subscribes to the org and exits after `count` events. */
export function spawnSeedVcdClient(
  url: string,
  caFile: string,
  count: number,
  extra: string[] = [],
): ChildProcessWithoutNullStreams {
  return spawn(SYSTEM_PYTHON, [
    SCRIPT,
    url,
    '--ca',
    caFile,
    '--user',
    'acmeadmin',
    '--org',
    'acme',
    '--password',
    DEFAULT_PASSWORD,
    '--count',
    String(count),
    ...extra,
  ]);
}
