import assert from 'node:assert/strict';
import { delay, waitFor } from '../../support/wait';
import { BD, changed, synced, useApicHarness } from './harness';

describe('APIC cluster: failover and throttling', function () {
  const apic = useApicHarness();

  it('uses the next APIC when the first is down, at start and mid-stream', async () => {
    const sim = await apic.startSim();
    await sim.stopApic(0);
    const { subscriber, seen } = apic.watch('fvBD');
    await synced(subscriber);
    assert.equal(subscriber.host, sim.urls[1]);
    await sim.startApic(0);
    await sim.stopApic(1);
    await waitFor(
      () => subscriber.host && subscriber.host !== sim.urls[1] && subscriber.state === 'connected',
      'a failover',
      15_000,
    );
    sim.modify(BD, { descr: 'after failover' });
    await changed(seen, BD, 'after failover');
    assert.ok(seen.states.some(([state, info]) => state === 'reconnecting' && info.error));
  });

  it('backs off while the APIC throttles (503 with HTML), says so, and recovers', async () => {
    const sim = await apic.startSim();
    // Throttled long enough that the 2.8 s looked at below end inside it even when the first
    // throttled answer comes late on a busy machine.
    sim.throttle(4500);
    const { subscriber, seen } = apic.watch('fvBD', {}, apic.cluster(), {
      backoff: { initialMs: 1000, maxMs: 60_000 },
    });
    await waitFor(
      () => seen.states.some(([, info]) => info.error?.code === 'APIC_THROTTLED'),
      'a throttled state',
    );
    await delay(2800);
    // Still throttled: every request so far got the 503 page. Each round tries every APIC of the
    // cluster (throttling is per APIC), and the rounds back off with jitter.
    const during = [...sim.stats.requests];
    assert.equal(
      sim.stats.throttled,
      during.reduce((a, b) => a + b, 0),
    );
    assert.ok(
      during.every((n) => n <= 3),
      `requests per APIC in 2.8 s of throttling: ${during.join(', ')}`,
    );
    await synced(subscriber);
    sim.modify(BD, { descr: 'after throttling' });
    await changed(seen, BD, 'after throttling');
  });
});
