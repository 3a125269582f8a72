/**
 * The watch over blocking tasks that still wait (PendingApprovals), on node:test's
 * fake clock: when a task is read again after its deadline, how often, for how
 * long, how many are watched, and what `ended` and `failed` receive.
 */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { CodedError } from '../../nodes/common/errors';
import { BlockingCodes, type BlockingTaskView } from '../../nodes/vcd/blocking-task';
import { PendingApprovals, PendingCodes, type PendingOptions } from '../../nodes/vcd/pending-approvals';

const ref = { id: 'urn:vcloud:x', name: 'x' };

function view(status: string, leftMs?: number): BlockingTaskView {
  return {
    blockingTask: 'urn:vcloud:blockingTask:t',
    operation: 'vappUpdateVm',
    status,
    object: ref,
    org: ref,
    requestedBy: ref,
    timeout: { action: 'abort', leftMs },
    task: { ...ref, status: status === 'active' ? 'running' : 'aborted' },
  };
}

const waiting = (leftMs: number) => view('active', leftMs);

/** A watch whose reads answer `answer(uuid)`; it records what it read and told. */
function watch(options: Partial<PendingOptions> = {}) {
  const reads: string[] = [];
  const ended: BlockingTaskView[] = [];
  const failed: { code: string; message: string; uuid: string }[] = [];
  const state = {
    answer: (_uuid: string): Promise<BlockingTaskView> => Promise.resolve(waiting(0)),
  };
  const pending = new PendingApprovals({
    read: (uuid) => {
      reads.push(uuid);
      return state.answer(uuid);
    },
    ended: (v) => ended.push(v),
    failed: (e, uuid) => failed.push({ code: e.code, message: e.message, uuid }),
    ...options,
  });
  return { pending, reads, ended, failed, state };
}

/** Moves the fake clock on and lets the reads it started settle. */
async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('vcd blocking task: the watch over tasks that still wait', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('reads a task again 2 s after its deadline, not before, and hands its end to ended', async () => {
    const w = watch();
    w.pending.add('a', waiting(10_000));
    await advance(11_999);
    assert.deepEqual(w.reads, [], 'not before deadline + 2 s');
    const over = view('aborted', 0);
    w.state.answer = () => Promise.resolve(over);
    await advance(1);
    assert.deepEqual(w.reads, ['a']);
    assert.deepEqual(w.ended, [over], 'ended receives the view read');
    assert.equal(w.pending.size, 0);
    await advance(60_000);
    assert.deepEqual(w.reads, ['a'], 'an ended task is told once and read no more');
    assert.deepEqual(w.failed, []);
  });

  it('sleeps until the first task falls due: one timer, no wake-up before it', async () => {
    const fake = globalThis.setTimeout;
    let armed = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof fake>) => {
      armed++;
      return fake(...args);
    }) as typeof fake;
    try {
      const w = watch();
      w.pending.add('a', waiting(60_000));
      for (let s = 0; s < 20; s++) await advance(1000);
      assert.equal(armed, 1, 'set once when the task was added, not again while nothing is due');
      assert.deepEqual(w.reads, []);
    } finally {
      globalThis.setTimeout = fake;
    }
  });

  it('reads a task still waiting every 5 s, 12 times, then gives up with VCD_BLOCKING_STILL_WAITING', async () => {
    const w = watch();
    w.pending.add('a', waiting(1000));
    await advance(3000);
    assert.equal(w.reads.length, 1);
    for (let check = 2; check <= 12; check++) {
      await advance(4999);
      assert.equal(w.reads.length, check - 1, `check ${check} not before 5 s`);
      await advance(1);
      assert.equal(w.reads.length, check, `check ${check} at 5 s`);
      if (check < 12) assert.deepEqual(w.failed, [], `no failure before the last check (${check})`);
    }
    assert.equal(w.failed.length, 1);
    assert.equal(w.failed[0]?.code, PendingCodes.STILL_WAITING);
    assert.equal(w.failed[0]?.uuid, 'a');
    assert.match(w.failed[0]?.message ?? '', /Blocking task a still waits/);
    assert.equal(w.pending.size, 0);
    await advance(60_000);
    assert.equal(w.reads.length, 12, 'no 13th read');
    assert.deepEqual(w.ended, []);
  });

  it('takes the grace, the retry and the number of checks from its options', async () => {
    const w = watch({ graceMs: 100, retryMs: 300, maxChecks: 2 });
    w.pending.add('a', waiting(1000));
    await advance(1099);
    assert.equal(w.reads.length, 0);
    await advance(1);
    assert.equal(w.reads.length, 1, 'deadline + grace');
    await advance(299);
    assert.equal(w.reads.length, 1);
    await advance(1);
    assert.equal(w.reads.length, 2, 'retry');
    assert.deepEqual(
      w.failed.map((f) => f.code),
      [PendingCodes.STILL_WAITING],
    );
    await advance(10_000);
    assert.equal(w.reads.length, 2);
  });

  it('drops a task VCD no longer knows after telling failed once', async () => {
    const w = watch();
    w.state.answer = (uuid) =>
      Promise.reject(new CodedError(BlockingCodes.NOT_FOUND, `VCD knows no blocking task ${uuid}.`));
    w.pending.add('gone', waiting(0));
    await advance(2000);
    assert.deepEqual(w.failed, [
      { code: BlockingCodes.NOT_FOUND, message: 'VCD knows no blocking task gone.', uuid: 'gone' },
    ]);
    assert.equal(w.pending.size, 0);
    await advance(120_000);
    assert.deepEqual(w.reads, ['gone']);
  });

  it('tells each failed read, retries 5 s later, and stops after 12 failed checks', async () => {
    const w = watch();
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    w.state.answer = () => Promise.reject(reset);
    w.pending.add('a', waiting(0));
    await advance(2000);
    assert.equal(w.failed.length, 1);
    assert.equal(w.failed[0]?.code, 'CONNECT_FAILED');
    assert.match(w.failed[0]?.message ?? '', /VCD/, 'the error names what could not be reached');
    assert.equal(w.pending.size, 1, 'still watched after one failed read');
    await advance(4999);
    assert.equal(w.reads.length, 1, 'not retried before 5 s');
    await advance(1);
    assert.equal(w.reads.length, 2, 'retried at 5 s');
    for (let i = 3; i <= 12; i++) await advance(5000);
    assert.equal(w.reads.length, 12);
    assert.equal(w.failed.length, 12);
    assert.equal(w.pending.size, 0, 'dropped after the 12th failure');
    await advance(60_000);
    assert.equal(w.reads.length, 12);
  });

  it('a read that fails once and then finds the task ended hands it to ended', async () => {
    const w = watch();
    w.state.answer = () => Promise.reject(new Error('socket hang up'));
    w.pending.add('a', waiting(0));
    await advance(2000);
    const over = view('aborted', 0);
    w.state.answer = () => Promise.resolve(over);
    await advance(5000);
    assert.equal(w.failed.length, 1);
    assert.deepEqual(w.ended, [over]);
    assert.equal(w.pending.size, 0);
  });

  it('reads only the tasks that fall due', async () => {
    const w = watch();
    w.state.answer = () => Promise.resolve(view('aborted', 0));
    w.pending.add('soon', waiting(10_000));
    w.pending.add('later', waiting(60_000));
    await advance(12_000);
    assert.deepEqual(w.reads, ['soon']);
    assert.equal(w.pending.size, 1);
    await advance(49_999);
    assert.deepEqual(w.reads, ['soon']);
    await advance(1);
    assert.deepEqual(w.reads, ['soon', 'later']);
  });

  it('watches only a task that waits with a time left, and nothing after close', async () => {
    const w = watch();
    w.pending.add('ended', view('aborted', 10_000));
    w.pending.add('no-time', view('active'));
    assert.equal(w.pending.size, 0);
    assert.equal(w.pending.nearestLeft(), undefined);
    w.pending.add('a', waiting(1000));
    assert.equal(w.pending.size, 1);
    w.pending.close();
    assert.equal(w.pending.size, 0);
    w.pending.add('b', waiting(1000));
    assert.equal(w.pending.size, 0, 'a closed watch takes no more');
    await advance(60_000);
    assert.deepEqual(w.reads, []);
  });

  it('shows the time left of the one that runs out first, never below zero', async () => {
    const w = watch();
    w.pending.add('long', waiting(30_000));
    w.pending.add('short', waiting(10_000));
    assert.equal(w.pending.nearestLeft(), 10_000);
    await advance(4000);
    assert.equal(w.pending.nearestLeft(), 6000);
    await advance(7000);
    assert.equal(w.pending.nearestLeft(), 0, 'past the deadline, inside the grace');
  });

  it('reads an answered task no more, and the others still on time', async () => {
    const w = watch();
    w.pending.add('answered', waiting(10_000));
    w.pending.add('other', waiting(20_000));
    w.pending.remove('answered');
    assert.equal(w.pending.size, 1);
    await advance(21_999);
    assert.deepEqual(w.reads, []);
    await advance(1);
    assert.deepEqual(w.reads, ['other']);
  });

  it('tells nothing of a task answered while it was being read', async () => {
    const w = watch();
    const answers: { resolve: (v: BlockingTaskView) => void; reject: (e: Error) => void }[] = [];
    w.state.answer = () => new Promise((resolve, reject) => answers.push({ resolve, reject }));
    w.pending.add('a', waiting(0));
    w.pending.add('b', waiting(0));
    await advance(2000);
    assert.equal(answers.length, 2);
    w.pending.remove('a');
    w.pending.remove('b');
    answers[0]?.resolve(view('aborted', 0));
    answers[1]?.reject(new Error('socket hang up'));
    await advance(0);
    assert.deepEqual(w.ended, []);
    assert.deepEqual(w.failed, []);
  });

  it('watches 1,000 tasks at most by default; the oldest goes first with VCD_BLOCKING_TOO_MANY_WAITING', () => {
    const w = watch();
    for (let i = 0; i < 1000; i++) w.pending.add(`t${i}`, waiting(60_000));
    assert.equal(w.pending.size, 1000);
    assert.deepEqual(w.failed, []);
    w.pending.add('t1000', waiting(60_000));
    assert.equal(w.pending.size, 1000);
    assert.deepEqual(w.failed, [
      {
        code: PendingCodes.TOO_MANY,
        message: 'More than 1000 blocking tasks wait: no longer watching t0.',
        uuid: 't0',
      },
    ]);
  });

  it('takes its bound from the options; a task added again counts once', async () => {
    const w = watch({ max: 2 });
    w.pending.add('a', waiting(1000));
    w.pending.add('b', waiting(1000));
    w.pending.add('a', waiting(1000));
    assert.equal(w.failed.length, 0);
    w.pending.add('c', waiting(1000));
    assert.deepEqual(
      w.failed.map((f) => [f.code, f.uuid]),
      [[PendingCodes.TOO_MANY, 'b']],
      'the oldest is the one added longest ago',
    );
    await advance(3000);
    assert.deepEqual(w.reads.sort(), ['a', 'c']);
  });
});
