import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { CodedError } from '../../nodes/common/errors';
import { ReconnectLoop, type ConnectionEnd } from '../../nodes/common/reconnect-loop';
import { delay, waitFor } from '../support/wait';

interface End extends ConnectionEnd {
  error?: CodedError;
}

describe('the reconnect loop of the push clients', () => {
  it('connects again after each end, waiting what the client says, and tells failures from ends', async () => {
    const ends: End[] = [];
    let attempts = 0;
    const loop = new ReconnectLoop<End>({
      connect: async () => {
        attempts++;
        if (attempts % 2) throw new Error('refused');
        return { connectedMs: 5 };
      },
      failed: (err) => ({ connectedMs: 0, error: new CodedError('X_FAILED', String(err)) }),
      ended: (end) => {
        ends.push(end);
        return 0;
      },
    });
    loop.start();
    loop.start(); // one loop, however often started
    await waitFor(() => ends.length >= 4, 'four ends');
    await loop.stop(new Error('stopped'));
    assert.deepEqual(
      ends.slice(0, 4).map((e) => e.error?.code ?? 'ended'),
      ['X_FAILED', 'ended', 'X_FAILED', 'ended'],
    );
    assert.equal(attempts, ends.length, 'one attempt per end, none after the stop');
  });

  it('stops at once during a backoff wait, and a stop during a connection ends that connection', async () => {
    let connections = 0;
    const loop = new ReconnectLoop<End>({
      connect: async () => ({ connectedMs: connections++ }),
      failed: () => ({ connectedMs: 0 }),
      ended: () => undefined, // the backoff: an hour
      backoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
    });
    loop.start();
    await waitFor(() => connections === 1, 'the first connection');
    await loop.stop(new Error('stopped'));
    assert.equal(connections, 1);
    assert.ok(loop.signal.aborted);

    let release: () => void = () => undefined;
    const held = new ReconnectLoop<End>({
      connect: (signal) =>
        new Promise((resolve) => {
          release = () => resolve({ connectedMs: 0 });
          signal.addEventListener('abort', release, { once: true });
        }),
      failed: () => ({ connectedMs: 0 }),
      ended: () => 0,
    });
    held.start();
    let closed = false;
    await held.stop(new Error('stopped'), () => (closed = true));
    assert.ok(closed, 'the client closed its connection');
    assert.equal(getEventListeners(held.signal, 'abort').length, 0);
  });

  it('resets the backoff after a connection that lived stableMs, not after one a millisecond shorter', async () => {
    // The second backoff step is 17 minutes: only a reset lets a third connection come soon.
    for (const [lastedMs, resets] of [
      [10_000, true],
      [9_999, false],
    ] as const) {
      const lived = [0, lastedMs];
      let n = 0;
      let waits = 0;
      const loop = new ReconnectLoop<End>({
        connect: async () => ({ connectedMs: lived[n++] ?? 0 }),
        failed: () => ({ connectedMs: 0 }),
        ended: () => undefined,
        backoff: { initialMs: 1, maxMs: 3_600_000, factor: 1_000_000, random: () => (waits++, 0) },
        stableMs: 10_000,
      });
      loop.start();
      if (resets) await waitFor(() => n === 3, 'a third connection after the stable one');
      else {
        await waitFor(() => waits === 2, 'the wait after the second connection');
        await delay(200); // two hundred times the step after a reset
      }
      await loop.stop(new Error('stopped'));
      assert.equal(n, resets ? 3 : 2, `a connection of ${lastedMs} ms`);
    }
  });
});
