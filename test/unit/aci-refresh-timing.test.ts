/**
 * When an APIC subscription is refreshed: at half its refresh timeout (APICs expire them early), on APICs before
 * 3.2(3) at half of the fixed 60 s they keep. Both bounds: too late and the subscription lapses, too early and a
 * controller with thousands of subscriptions is refreshed twice as often as it needs.
 */
import assert from 'node:assert/strict';
import type { ApicSession } from '../../nodes/aci/session';
import type { RecipientEntry } from '../../nodes/aci/subscriber/recipients';
import { newSubscription, subscriptionTimeoutSec } from '../../nodes/aci/subscriber/subscription-refresh';

const entry = (refreshTimeoutSec: number) =>
  ({ recipient: { options: { refreshTimeoutSec } } }) as unknown as RecipientEntry;
const on = (version: string | undefined) => ({ info: { version } }) as unknown as ApicSession;

describe('ACI subscription refresh timing', () => {
  it('refreshes a new subscription alone at exactly half its refresh timeout', () => {
    const before = Date.now();
    const made = newSubscription('72057594037927937', 60, { start: 1_000_000, index: 0, count: 1 });
    assert.equal(made.id, '72057594037927937');
    assert.equal(made.due, 1_000_000 + 30_000);
    assert.ok(made.aliveSince >= before && made.aliveSince <= Date.now(), 'alive from when it was made');
  });

  it('spreads a batch over that half: the last of three at half the timeout, the first at a sixth', () => {
    const dues = [0, 1, 2].map(
      (index) => newSubscription(`s${index}`, 90, { start: 0, index, count: 3 }).due,
    );
    assert.deepEqual(dues, [15_000, 30_000, 45_000]);
  });

  it('takes the refresh timeout asked for from APIC 3.2(3) on, and the fixed 60 s before', () => {
    for (const version of ['3.2(3a)', '3.2(10e)', '3.3(1a)', '4.0(1h)', '6.0(2h)', undefined, 'unknown'])
      assert.equal(subscriptionTimeoutSec(entry(600), on(version)), 600, String(version));
    for (const version of ['3.2(2o)', '3.1(2v)', '2.3(1f)', '1.0(1e)'])
      assert.equal(subscriptionTimeoutSec(entry(600), on(version)), 60, version);
  });
});
