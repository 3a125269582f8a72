import assert from 'node:assert/strict';
import { MissedEvents } from '../../nodes/vcd/catch-up';
import type { VcdSession } from '../../nodes/vcd/session';
import { systemAdminSession } from '../support/vcd-sessions';
import { VcdSimulator } from '../../sim/vcd';

describe('VCD missed-events recovery at scale (against the simulator)', function () {
  this.timeout(120_000);
  let sim: VcdSimulator | undefined;
  let session: VcdSession | undefined;
  afterEach(async () => {
    await session?.close();
    await sim?.stop();
    sim = session = undefined;
  });

  it('recovers 30,000 events missed in one gap, page by page, each once and oldest first', async () => {
    sim = await VcdSimulator.start({});
    session = systemAdminSession(sim);
    const s = session;
    const delivered: { id: string; at: number }[] = [];
    const failures: string[] = [];
    const missed = new MissedEvents(
      (method, path) => s.request(method, path),
      {
        deliver: (_topic, n) =>
          delivered.push({ id: n.eventId as string, at: Date.parse(n.timestamp as string) }),
        failed: (e) => failures.push(e.code),
      },
      { vcdNow: () => s.clock.now() },
    );
    sim.publishEvent(); // the newest record: the mark
    await missed.granted('publish/#');
    await new Promise((r) => setTimeout(r, 20));
    missed.disconnected();
    sim.backlog(30_000, 10);
    const reads = sim.stats.auditReads;
    await missed.granted('publish/#');
    missed.close();
    assert.deepEqual(failures, []);
    assert.equal(delivered.length, 30_000, 'every one (the recovery once stopped at 10,000)');
    assert.equal(new Set(delivered.map((d) => d.id)).size, 30_000, 'each once');
    assert.ok(
      delivered.every((d, i) => i === 0 || d.at >= delivered[i - 1]!.at),
      'oldest first',
    );
    assert.equal(sim.stats.auditReads - reads, Math.ceil(30_000 / 128), 'pages of 128');
  });
});
