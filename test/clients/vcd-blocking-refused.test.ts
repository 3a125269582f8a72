/**
 * Answers to blocking tasks that VCD does not take, through BlockingTaskClient
 * against the VCD simulator: a task that times out just before the answer
 * arrives (late, not an error), an answer VCD fails (its message in the
 * error), one already over (no answer posted), one VCD does not know, and the
 * reason as it reaches VCD.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import { BlockingCodes, BlockingTaskClient } from '../../nodes/vcd/blocking-task';
import type { VcdSession } from '../../nodes/vcd/session';
import { systemAdminSession } from '../support/vcd-sessions';
import { VcdSimulator } from '../../sim/vcd';

describe('VCD blocking tasks: answers VCD does not take', () => {
  let sim: VcdSimulator;
  let session: VcdSession;
  let client: BlockingTaskClient;

  beforeEach(async () => {
    sim = await VcdSimulator.start();
    sim.blocking.settings.operations = new Set(['vappUpdateVm']);
    sim.blocking.settings.timeoutAction = 'fail';
    session = systemAdminSession(sim);
    client = new BlockingTaskClient(session);
  });
  afterEach(async () => {
    await session.close();
    await sim.stop();
  });

  /** A tenant's VM change, held: the blocking task's UUID. */
  function held(): string {
    const started = sim.reconfigureVm('acmeuser@acme', 'web-01');
    const urn = started?.blockingTask;
    assert.ok(urn, 'the change is held');
    return urn.slice('urn:vcloud:blockingTask:'.length);
  }

  it('a task that times out just before the answer arrives is late, with what VCD did', async () => {
    const id = held();
    sim.faults.blockingAnswer = 'endsFirst';
    const result = await client.decide(id, 'resume', 'approved');
    assert.equal(result.outcome, 'late');
    assert.equal(result.code, BlockingCodes.ENDED);
    assert.equal(result.view.status, 'failed', 'the view read after the refusal: the default action fail');
    assert.equal(result.view.timeout.action, 'fail');
    assert.equal(sim.blocking.answersPosted.length, 1, 'the answer was sent');
  });

  it('an answer VCD fails while the task still waits is VCD_BLOCKING_ANSWER_FAILED with its message', async () => {
    const id = held();
    sim.faults.blockingAnswer = 'refused';
    await assert.rejects(client.decide(id, 'abort', 'not now'), (err: unknown) => {
      assert.ok(isCoded(err, BlockingCodes.ANSWER_FAILED), String(err));
      assert.equal(
        err.message,
        `VCD refused to abort blocking task ${id} (500): Unable to perform this action. Contact your cloud administrator.`,
      );
      assert.deepEqual(err.details, { status: 500, blockingTask: id });
      return true;
    });
    assert.equal(sim.blocking.items.get(id)?.status, 'active', 'the task still waits');
    // The switch acts once: the next answer is taken.
    const taken = await client.decide(id, 'abort', 'not now');
    assert.equal(taken.outcome, 'aborted');
    assert.equal(taken.code, undefined);
  });

  it('a task already over is late without an answer posted', async () => {
    const id = held();
    sim.blocking.timeOut(id);
    const result = await client.decide(id, 'resume', 'approved');
    assert.equal(result.outcome, 'late');
    assert.equal(result.code, BlockingCodes.ENDED);
    assert.equal(result.view.status, 'failed');
    assert.equal(sim.blocking.answersPosted.length, 0, 'nothing was posted');
  });

  it('a blocking task VCD does not know is VCD_BLOCKING_TASK_NOT_FOUND, naming it', async () => {
    const unknown = '0f0e0d0c-0b0a-4909-8807-060504030201';
    await assert.rejects(client.read(unknown), (err: unknown) => {
      assert.ok(isCoded(err, BlockingCodes.NOT_FOUND), String(err));
      assert.equal(err.message, `VCD knows no blocking task ${unknown} (any more).`);
      assert.deepEqual(err.details, { blockingTask: unknown });
      return true;
    });
  });

  it('writes &, < and > of the reason escaped into the XML VCD reads', async () => {
    const id = held();
    const reason = 'ticket <CHG-7> & review > none';
    const result = await client.decide(id, 'abort', reason);
    assert.equal(result.outcome, 'aborted');
    const [posted] = sim.blocking.answersPosted;
    assert.equal(posted?.action, 'abort');
    assert.match(
      posted?.body ?? '',
      /<Message>ticket &lt;CHG-7&gt; &amp; review &gt; none<\/Message><\/BlockingTaskOperationParams>$/,
    );
  });
});
