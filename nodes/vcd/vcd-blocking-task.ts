/**
 * vcd-blocking-task: what an approver needs of a VCD blocking task, and their
 * answer (msg.decision resume | abort | fail, msg.reason) through a vcd login
 * of organization System. A blocking task shown as waiting is watched: once
 * its time has run out, the node says what VCD did (the default action).
 */
import { CodedError } from '../common/errors';
import { configNode, onActingInput } from '../common/acting-node';
import { onClose, registerNode } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import { metricsFor } from '../common/metrics';
import { extended } from '../common/objects';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
import { REACH_KEYS, statusKeys } from '../common/status-keys';
import {
  BlockingCodes,
  BlockingTaskClient,
  blockingTaskId,
  decisionOf,
  formatLeft,
  type BlockingTaskView,
  type Outcome,
} from './blocking-task';
import type { VcdLoginNode } from './login-api';
import { PendingApprovals, appliedDefault } from './pending-approvals';
import { VCD_KEYS, VcdCodes } from './session';

interface VcdBlockingTaskDef extends NodeDef {
  login: string;
  /** The message VCD records with an answer when msg.reason gives none. */
  reason?: string;
}

/** VCD requires a message with every answer. */
const DEFAULT_REASON = 'Answered from a Node-RED flow.';
const MAX_REASON = 1000;

/** Status keys (locales: vcd-blocking-task.status) of the failures a person must act on. */
const ERROR_KEYS = statusKeys(REACH_KEYS, VCD_KEYS, {
  forbidden: [BlockingCodes.FORBIDDEN],
  badInput: [BlockingCodes.INPUT_INVALID],
  notFound: [BlockingCodes.NOT_FOUND],
  refused: [BlockingCodes.ANSWER_FAILED],
});

/** The message's payload: the view, the outcome and what led to it. */
function payloadOf(view: BlockingTaskView, outcome: Outcome | 'ended', extra: Record<string, unknown> = {}) {
  const left = view.timeout.leftMs;
  const timeout = extended(view.timeout, { left: left === undefined ? undefined : formatLeft(left) });
  return extended(extended(view, { timeout, outcome }), extra);
}

/**
 * What the node shows while it works: the blocking tasks it told an approver
 * about and that still wait (counted down in its status once a second), and
 * what became of each once its time ran out.
 */
class Approvals {
  answered = 0;
  readonly pending: PendingApprovals;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: Node,
    private readonly texts: StatusTexts,
    private readonly view: StatusThrottle,
    read: (uuid: string) => Promise<BlockingTaskView>,
  ) {
    this.pending = new PendingApprovals({
      read,
      ended: (v) => this.ended(v),
      failed: (error, uuid) => {
        metricsFor(node).error(error.code);
        node.error(error, { topic: 'error', payload: { blockingTask: `urn:vcloud:blockingTask:${uuid}` } });
      },
    });
  }

  /** The nearest deadline, counting down while anything waits. */
  showWaiting(): void {
    const left = this.pending.nearestLeft();
    if (left === undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
      return;
    }
    this.view.show(this.texts.degraded('waiting', { count: this.pending.size, left: formatLeft(left) }));
    if (!this.ticker) {
      this.ticker = setInterval(() => this.showWaiting(), 1000);
      this.ticker.unref();
    }
  }

  /** An answer was given: the outcome in the status. */
  answeredWith(outcome: Outcome): void {
    this.answered++;
    const values = { count: this.answered };
    this.view.show(
      outcome === 'late' ? this.texts.degraded('late', values) : this.texts.connected(outcome, values),
    );
    if (this.pending.size) this.showWaiting();
  }

  close(): void {
    clearInterval(this.ticker);
    this.pending.close();
    this.view.stop();
  }

  /** What became of a waiting one when its time ran out: VCD's default action, or another approver's answer. */
  private ended(view: BlockingTaskView): void {
    const outcome = appliedDefault(view) ? 'timed-out' : 'ended';
    metricsFor(this.node).sent++;
    this.node.send({ topic: outcome, payload: payloadOf(view, outcome) });
    const key = outcome === 'timed-out' ? 'timedOut' : 'ended';
    this.view.show(this.texts.degraded(key, { action: view.timeout.action ?? '?' }));
    this.showWaiting();
  }
}

async function handle(
  msg: NodeMessage,
  send: SendFn,
  login: VcdLoginNode,
  def: VcdBlockingTaskDef,
  a: Approvals,
) {
  const session = login.session;
  if (!session)
    throw login.configError ?? new CodedError(VcdCodes.CONFIG_INVALID, 'The vcd login is not set up.');
  const uuid = blockingTaskId(msg.payload);
  const decision = decisionOf(msg.decision);
  const client = new BlockingTaskClient(session);
  if (!decision) {
    const view = await client.read(uuid);
    const outcome = view.status === 'active' ? 'waiting' : 'ended';
    if (outcome === 'waiting') a.pending.add(uuid, view);
    send(extended(msg, { topic: outcome, payload: payloadOf(view, outcome) }));
    if (outcome === 'waiting') a.showWaiting();
    return;
  }
  const given = typeof msg.reason === 'string' ? msg.reason.trim() : '';
  const reason = (given || def.reason?.trim() || DEFAULT_REASON).slice(0, MAX_REASON);
  const result = await client.decide(uuid, decision, reason);
  a.pending.remove(uuid);
  const payload = payloadOf(result.view, result.outcome, { decision, reason, code: result.code });
  send(extended(msg, { topic: result.outcome, payload }));
  a.answeredWith(result.outcome);
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'vcd-blocking-task', __dirname, VcdBlockingTask);

  function VcdBlockingTask(node: Node, def: VcdBlockingTaskDef, texts: StatusTexts): void {
    const missing = { code: VcdCodes.CONFIG_INVALID, message: 'Select a vcd login.', key: 'noLogin' };
    const login = configNode<VcdLoginNode>(RED, node, def.login, texts, missing);
    if (!login) return;
    const view = new StatusThrottle(node);
    // Only blocking tasks read through the session are watched: it exists when they are read again.
    const approvals = new Approvals(node, texts, view, (uuid) =>
      new BlockingTaskClient(login.session!).read(uuid),
    );
    view.show(texts.connected('ready'));
    onActingInput(node, { view, texts, errors: ERROR_KEYS }, (msg, send) =>
      handle(msg, send, login, def, approvals),
    );
    onClose(node, () => approvals.close());
  }
};
