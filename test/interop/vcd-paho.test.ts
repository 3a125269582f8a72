/**
 * Keeps the VCD simulator faithful to real clients: the seed's own approach
 * (paho-mqtt over WebSockets with a Bearer header, from Debian's
 * python3-paho-mqtt) must log in, subscribe and receive events from it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VcdSimulator } from '../../sim/vcd';
import { needPeer } from '../support/peers';
import { seedClientMissing, spawnSeedVcdClient } from '../support/seed-vcd-client';
import { waitFor } from '../support/wait';

describe('interoperability: the seed client (paho-mqtt) against the VCD simulator', function () {
  let sim: VcdSimulator;
  let child: ChildProcess | undefined;
  let caFile: string;

  before(function () {
    needPeer(this, seedClientMissing());
  });

  beforeEach(async () => {
    sim = await VcdSimulator.start();
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vcd-interop-')), 'ca.pem');
    fs.writeFileSync(caFile, sim.cert!);
  });

  afterEach(async () => {
    child?.kill();
    child = undefined;
    await sim?.stop();
  });

  async function run(extra: string[]): Promise<void> {
    const lines: string[] = [];
    let stderr = '';
    const proc = spawnSeedVcdClient(sim.url, caFile, 3, extra);
    child = proc;
    proc.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));

    await waitFor(() => lines.includes('SUBSCRIBED') || stderr, 'the paho client to subscribe', 15_000);
    assert.equal(stderr, '', 'the client printed no error');
    const sent = [1, 2, 3].map(() => sim.publishEvent({ actor: 'acmeuser@acme' }).event.eventId);
    assert.equal(await exited, 0, `the client exited cleanly: ${stderr}`);
    const got = lines
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    assert.deepEqual(got, sent);
  }

  it('receives events with the Bearer header at the WebSocket upgrade', async () => {
    await run([]);
    assert.equal(sim.stats.upgrades, 1);
  });

  it('receives events with MQTT user "user@org" and the JWT as password', async () => {
    await run(['--mqtt-login']);
  });
});
