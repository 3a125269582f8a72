import assert from 'node:assert/strict';
import { StatusThrottle } from '../../nodes/common/node-status';
import type { Node, NodeStatus } from '../../nodes/common/red';
import { delay } from '../support/wait';

describe('status throttle', () => {
  function fakeNode() {
    const shown: (NodeStatus | Record<string, never>)[] = [];
    return { node: { status: (s: NodeStatus) => shown.push(s) } as unknown as Node, shown };
  }
  const count = (n: number): NodeStatus => ({ fill: 'green', shape: 'dot', text: `sent ${n}` });

  it('shows the first count at once and coalesces the rest into one later update', async () => {
    const { node, shown } = fakeNode();
    const view = new StatusThrottle(node, 50);
    let made = 0;
    for (let n = 1; n <= 100; n++) view.update(() => (made++, count(n)));
    assert.deepEqual(shown, [count(1)]);
    await delay(120);
    assert.deepEqual(shown, [count(1), count(100)]);
    // Only the shown ones were made: a status text is translated, which costs more than an event's way.
    assert.equal(made, 2);
    view.stop();
  });

  it('arms no timer once the node closed, however the counts change after', async () => {
    const { node, shown } = fakeNode();
    const view = new StatusThrottle(node, 30);
    view.update(() => count(1)); // shown at once: no timer pending when the node closes
    view.stop();
    // A delivery draining at close still reports changes.
    for (let n = 2; n < 10; n++) view.update(() => count(n));
    await delay(100);
    assert.deepEqual(shown, [count(1)]);
  });
});
