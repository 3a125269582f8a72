import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Fifo } from '../../nodes/common/fifo';

type Op =
  | { op: 'push'; n: number }
  | { op: 'shift' }
  | { op: 'take'; n: number }
  | { op: 'putBack'; n: number }
  | { op: 'drain' };

const ops = fc.array(
  fc.oneof(
    // Long runs of pushes and takes, so the front passes the point where spent slots are cut off.
    fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 1, max: 3000 }) }),
    fc.constant({ op: 'shift' as const }),
    fc.record({ op: fc.constant('take' as const), n: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ op: fc.constant('putBack' as const), n: fc.integer({ min: 0, max: 300 }) }),
    fc.constant({ op: 'drain' as const }),
  ),
  { maxLength: 40 },
);

describe('Fifo: the queues of cloudevent emit and its spool', () => {
  it('hands out what it was given in order, whatever mix of push, shift, take, putBack and drain', () => {
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const fifo = new Fifo<number>([-2, -1]);
        const model = [-2, -1];
        let next = 0;
        for (const step of list) {
          if (step.op === 'push') {
            for (let i = 0; i < step.n; i++) {
              fifo.push(next);
              model.push(next++);
            }
          } else if (step.op === 'shift') {
            assert.equal(fifo.shift(), model.shift());
          } else if (step.op === 'take') {
            assert.deepEqual(fifo.take(step.n), model.splice(0, step.n));
          } else if (step.op === 'putBack') {
            // What was just taken goes back to the front, as a failed read of the spool does.
            const taken = fifo.take(step.n);
            model.splice(0, taken.length);
            fifo.putBack(taken);
            model.unshift(...taken);
          } else {
            assert.deepEqual(fifo.drain(), model.splice(0));
          }
          assert.equal(fifo.length, model.length);
          assert.equal(fifo.peek(), model[0]);
        }
        assert.deepEqual([...fifo], model);
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });
});

describe('Fifo: what it keeps of the spent front', () => {
  /** Slots held: live elements and spent ones not yet cut off. */
  const slots = (fifo: Fifo<number>) => (fifo as unknown as { items: unknown[] }).items.length;
  const filled = (n: number) => new Fifo(Array.from({ length: n }, (_, i) => i));

  it('cuts the spent front off once it is 1,024 slots and half the list, not before', () => {
    const fifo = filled(2048);
    fifo.take(1023);
    assert.equal(slots(fifo), 2048, '1,023 spent slots are kept: no copy yet');
    fifo.shift();
    assert.equal(slots(fifo), 1024, 'the 1,024th is cut off with the rest');
    const longer = filled(2050);
    longer.take(1024);
    assert.equal(slots(longer), 2050, 'less than half spent: kept');
    const small = filled(4);
    small.take(2);
    assert.equal(slots(small), 4, 'a small spent front is kept');
  });

  it('holds nothing once emptied, and stays bounded however much passed through', () => {
    const fifo = filled(3);
    fifo.take(2);
    fifo.shift();
    assert.equal(slots(fifo), 0);
    const busy = filled(1);
    for (let i = 1; i <= 100_000; i++) {
      busy.push(i);
      assert.equal(busy.shift(), i - 1);
    }
    assert.equal(busy.length, 1);
    assert.ok(slots(busy) <= 2048, `${slots(busy)} slots for one element`);
  });
});
