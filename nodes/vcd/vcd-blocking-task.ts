/**
 * vcd-blocking-task: what an approver needs of a VCD blocking task, and their
 * answer (msg.decision resume | abort | fail, msg.reason) through a vcd login
 * of organization System. A blocking task shown as waiting is watched: once
 * its time has run out, the node says what VCD did (the default action).
 */
import { CodedError, NetCodes } from '../common/errors';
import {
  StatusThrottle,
  createNode,
  onClose,
  onInput,
  reportSetupError,
  statusTexts,
  type StatusTexts,
} from '../common/glue';
import { metricsFor } from '../common/metrics';
import { extended } from '../common/objects';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
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
import { VcdCodes } from './session';

interface VcdBlockingTaskDef extends NodeDef {
  login: string;
  /** The message VCD records with an answer when msg.reason gives none. */
  reason?: string;
}

/** VCD requires a message with every answer. */
const DEFAULT_REASON = 'Answered from a Node-RED flow.';
const MAX_REASON = 1000;

/** Status keys (locales: vcd-blocking-task.status) of the failures a person must act on. */
const ERROR_KEYS: Record<string, string> = {
  [BlockingCodes.FORBIDDEN]: 'forbidden',
  [BlockingCodes.INPUT_INVALID]: 'badInput',
  [BlockingCodes.NOT_FOUND]: 'notFound',
  [BlockingCodes.ANSWER_FAILED]: 'refused',
  [VcdCodes.AUTH_FAILED]: 'authFailed',
  [VcdCodes.CONFIG_INVALID]: 'badSettings',
  [NetCodes.TLS_UNTRUSTED]: 'tlsUntrusted',
  [NetCodes.CONNECT_FAILED]: 'unreachable',
  [NetCodes.TIMEOUT]: 'unreachable',
};

/** The message's payload: the view, the outcome and what led to it. */
function payloadOf(view: BlockingTaskView, outcome: Outcome | 'ended', extra: Record<string, unknown> = {}) {
  const left = view.timeout.leftMs;
  const timeout = extended(view.timeout, { left: left === undefined ? undefined : formatLeft(left) });
  return extended(extended(view, { timeout, outcome }), extra);
}

interface Watch {
  node: Node;
  texts: StatusTexts;
  view: StatusThrottle;
  pending: PendingApprovals;
  ticker?: NodeJS.Timeout;
  answered: number;
}

/** While blocking tasks wait, the status counts them down once a second. */
function showWaiting(w: Watch): void {
  const left = w.pending.nearestLeft();
  if (left === undefined) {
    clearInterval(w.ticker);
    w.ticker = undefined;
    return;
  }
  w.view.show(w.texts.degraded('waiting', { count: w.pending.size, left: formatLeft(left) }));
  if (!w.ticker) {
    w.ticker = setInterval(() => showWaiting(w), 1000);
    w.ticker.unref();
  }
}

function watchPending(w: Pick<Watch, 'node' | 'texts' | 'view'>, client: () => BlockingTaskClient) {
  const watch = w as Watch;
  watch.answered = 0;
  watch.pending = new PendingApprovals({
    read: (uuid) => client().read(uuid),
    ended(view) {
      // What became of it when its time ran out: VCD's default action, or another approver's answer.
      const outcome = appliedDefault(view) ? 'timed-out' : 'ended';
      metricsFor(watch.node).sent++;
      watch.node.send({ topic: outcome, payload: payloadOf(view, outcome) });
      watch.view.show(
        watch.texts.degraded(outcome === 'timed-out' ? 'timedOut' : 'ended', {
          action: view.timeout.action ?? '?',
        }),
      );
      showWaiting(watch);
    },
    failed(error, uuid) {
      metricsFor(watch.node).error(error.code);
      watch.node.error(error, {
        topic: 'error',
        payload: { blockingTask: `urn:vcloud:blockingTask:${uuid}` },
      });
    },
  });
  return watch;
}

async function handle(
  msg: NodeMessage,
  send: SendFn,
  login: VcdLoginNode,
  def: VcdBlockingTaskDef,
  w: Watch,
) {
  const session = login.session;
  if (!session)
    throw login.configError ?? new CodedError(VcdCodes.CONFIG_INVALID, 'The vcd login is not set up.');
  const uuid = blockingTaskId(msg.payload);
  const decision = decisionOf(msg.decision);
  const client = new BlockingTaskClient(session);
  if (!decision) {
    const view = await client.read(uuid);
    const waiting = view.status === 'active';
    if (waiting) w.pending.add(uuid, view);
    send(
      extended(msg, {
        topic: waiting ? 'waiting' : 'ended',
        payload: payloadOf(view, waiting ? 'waiting' : 'ended'),
      }),
    );
    if (waiting) showWaiting(w);
    return;
  }
  const given = typeof msg.reason === 'string' ? msg.reason.trim() : '';
  const reason = (given || def.reason?.trim() || DEFAULT_REASON).slice(0, MAX_REASON);
  const result = await client.decide(uuid, decision, reason);
  w.pending.remove(uuid);
  w.answered++;
  send(
    extended(msg, {
      topic: result.outcome,
      payload: payloadOf(result.view, result.outcome, { decision, reason, code: result.code }),
    }),
  );
  w.view.show(
    result.outcome === 'late'
      ? w.texts.degraded('late', { count: w.answered })
      : w.texts.connected(result.outcome, { count: w.answered }),
  );
  if (w.pending.size) showWaiting(w);
}

export = function register(RED: NodeAPI): void {
  const texts = statusTexts(RED, 'vcd-blocking-task', __dirname);

  function VcdBlockingTask(this: Node, saved: VcdBlockingTaskDef): void {
    const def = createNode(RED, this, saved);
    const node = this;
    const login = RED.nodes.getNode(def.login) as VcdLoginNode | null;
    if (!login) {
      reportSetupError(
        RED,
        node,
        new CodedError(VcdCodes.CONFIG_INVALID, 'Select a vcd login.'),
        texts.error('noLogin'),
      );
      return;
    }
    const view = new StatusThrottle(node);
    const watch = watchPending({ node, texts, view }, () => new BlockingTaskClient(login.session!));
    view.show(texts.connected('ready'));

    onInput(node, async (msg, send) => {
      try {
        await handle(msg, send, login, def, watch);
      } catch (err) {
        const code = (err as CodedError).code;
        view.show(texts.error(ERROR_KEYS[code] ?? code ?? 'failed'));
        throw err;
      }
    });

    onClose(node, () => {
      clearInterval(watch.ticker);
      watch.pending.close();
      view.stop();
    });
  }

  RED.nodes.registerType('vcd-blocking-task', VcdBlockingTask);
};
