/**
 * Keeps the APIC simulator faithful to real clients: the seed script's
 * approach (Debian's python3-requests and python3-websocket) logs in, opens
 * the socket, subscribes and receives a push from it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { needPeer, pythonMissing, SYSTEM_PYTHON } from '../support/peers';
import { waitFor } from '../support/wait';

const SCRIPT = path.resolve(__dirname, '../../../test/interop/aci_seed_client.py');
const BD = 'uni/tn-prod/BD-bd-web';

describe('interoperability: the seed ACI script (requests + websocket-client) against the APIC simulator', function () {
  let sim: ApicSimulator;
  let child: ChildProcess | undefined;

  before(function () {
    needPeer(this, pythonMissing('requests, websocket', 'python3-requests / python3-websocket are'));
  });

  afterEach(async () => {
    child?.kill();
    await sim?.stop();
  });

  it('logs in, opens the socket, subscribes and receives a push', async () => {
    sim = await ApicSimulator.start({ ratePerSec: 0 });
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apic-interop-')), 'ca.pem');
    fs.writeFileSync(caFile, sim.cert!);
    const proc = spawn(SYSTEM_PYTHON, [
      SCRIPT,
      sim.url,
      '--ca',
      caFile,
      '--user',
      'admin',
      '--password',
      DEFAULT_APIC_PASSWORD,
    ]);
    child = proc;
    const lines: string[] = [];
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));

    const first = await waitFor(
      () => lines[0] ?? (stderr && `error: ${stderr}`),
      'the subscription id',
      15_000,
    );
    const { subscriptionId } = JSON.parse(first) as { subscriptionId: string };
    sim.modify(BD, { descr: 'seen by the seed script' });
    assert.equal(await exited, 0, stderr);
    const push = JSON.parse(lines[1] ?? '{}') as {
      subscriptionId: string[];
      imdata: { fvBD: { attributes: Record<string, string> } }[];
    };
    assert.deepEqual(push.subscriptionId, [subscriptionId]);
    assert.equal(push.imdata[0]!.fvBD.attributes.dn, BD);
    assert.equal(push.imdata[0]!.fvBD.attributes.descr, 'seen by the seed script');
    assert.equal(push.imdata[0]!.fvBD.attributes.status, 'modified');
  });
});
