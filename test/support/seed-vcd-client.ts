/** Launches the seed's client approach (Python paho-mqtt) against a VCD URL. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { pythonMissing, SYSTEM_PYTHON } from './peers';

export { SYSTEM_PYTHON };
const SCRIPT = path.resolve(__dirname, '../../../test/interop/vcd_paho_client.py');

/** Why the seed client cannot run here, or undefined when it can. */
export const seedClientMissing = () =>
  pythonMissing('paho.mqtt.client, requests', 'python3-paho-mqtt / python3-requests are');

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
