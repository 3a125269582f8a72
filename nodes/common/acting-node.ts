/**
 * What the nodes that act (vcd blocking task, vcd request, aci request) share:
 * the config node they work through, and their input: a failure shown in the
 * status by its label (an HTTP status in the words and in msg.statusCode of
 * the message Catch gets), then sent to Catch. Node-RED specifics, as glue.
 */
import { CodedError } from './errors';
import { onInput, reportSetupError } from './glue';
import { StatusThrottle, type StatusTexts } from './node-status';
import type { Node, NodeAPI, NodeMessage, SendFn } from './red';

/**
 * The config node a node works through; when it is missing, the setup error
 * (`code`, `message`) is reported with the status `key` and nothing is returned.
 */
export function configNode<C>(
  RED: NodeAPI,
  node: Node,
  id: string,
  texts: StatusTexts,
  missing: { code: string; message: string; key: string },
): C | undefined {
  const config = RED.nodes.getNode(id) as C | null;
  if (!config)
    reportSetupError(RED, node, new CodedError(missing.code, missing.message), texts.error(missing.key));
  return config ?? undefined;
}

export interface ActingInput {
  view: StatusThrottle;
  texts: StatusTexts;
  /** Error codes → status keys (locales); other codes are shown as they are. */
  errors: Record<string, string>;
  /** Show "requesting" while it works and "done · N" after (request nodes). */
  counted?: boolean;
}

/** Runs `work` for every message: its failures in the status and to Catch, never thrown into the runtime. */
export function onActingInput(
  node: Node,
  shown: ActingInput,
  work: (msg: NodeMessage, send: SendFn) => Promise<void>,
): void {
  const { view, texts, errors, counted } = shown;
  let done = 0;
  onInput(node, async (msg, send) => {
    try {
      if (counted) view.show(texts.connecting('requesting'));
      await work(msg, send);
      if (counted) view.show(texts.connected('done', { count: ++done }));
    } catch (err) {
      const error = err as CodedError;
      const status = error.details?.status;
      // Catch nodes get the message that failed: with the server's status, as a successful answer has it.
      if (typeof status === 'number') msg.statusCode = status;
      view.show(texts.error(errors[error.code] ?? error.code ?? 'failed', { status: String(status ?? '') }));
      throw err;
    }
  });
}
