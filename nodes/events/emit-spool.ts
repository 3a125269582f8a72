/**
 * cloudevent emit with `spool: disk`: opens the node's spool under
 * `<userDir>/dcevents/spool/`, turns what the spool reports into the node's
 * outputs (1: delivered, 2: failed or dropped), errors and warnings, and
 * removes the files when the node is deleted (not when it is redeployed or
 * restarted). While another process has the folder (a double start, a rolling
 * update on a shared volume), events are refused with CE_SPOOL_LOCKED (said
 * once) and the spool is tried again until the folder is free.
 */
import { Backoff } from '../common/backoff';
import { CodedError, errorMessage } from '../common/errors';
import { afterFlowsStart } from '../common/glue';
import { metricsFor } from '../common/metrics';
import { NodeFiles } from '../common/node-files';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from '../common/red';
import { toJsonObject } from './cloudevent-model';
import { DeliveryCodes, type Delivery, type DeliveryResult, type FullPolicy } from './delivery';
import { SpoolCodes } from './spool/segment-log';
import {
  type EventMeta,
  type SpoolStats,
  type SpooledEvent,
  SpooledDelivery,
} from './spool/spooled-delivery';
import { extended } from '../common/objects';

export const SPOOL_PURPOSE = 'spool';

export interface EmitSpool {
  /** Resolves once the event is on disk (it then counts as taken). */
  take(ce: Parameters<SpooledDelivery['take']>[0], msg: NodeMessage): Promise<void>;
  /** Closes the spool (keeping it), or removes it when the node was deleted. */
  close(removed: boolean): Promise<void>;
}

export interface EmitSpoolSettings {
  limitMb: number;
  window: number;
  onFull: FullPolicy;
  /** Output 2 is wired: failed events leave there, else they go to Catch. */
  failuresWired: boolean;
  onChange(stats: SpoolStats): void;
  /** Shows a status (a state, not a count). */
  show(status: NodeStatus): void;
  /** The node's status when the spool cannot be opened, or while another process has it. */
  failedStatus: NodeStatus;
  lockedStatus: NodeStatus;
}

/** What the spool's failures do to the node: a status, a counted error, and the error in Catch (once the flows run). */
type Failure = (err: CodedError, status?: NodeStatus) => void;

function metaOf(msg: NodeMessage): EventMeta {
  return {
    ...(typeof msg._msgid === 'string' ? { _msgid: msg._msgid } : {}),
    ...(typeof msg.topic === 'string' ? { topic: msg.topic } : {}),
  };
}

function outputOf(event: SpooledEvent): NodeMessage {
  const { ce, meta } = event;
  return extended(meta, { cloudevent: { id: ce.id, source: ce.source, type: ce.type } });
}

/** The node's spool folder under the user directory (hashed name, package folder). */
function spoolFolder(RED: NodeAPI, node: Node): { files: NodeFiles; dir: string } {
  const userDir = RED.settings.userDir;
  if (!userDir) {
    throw new CodedError(
      DeliveryCodes.CONFIG_INVALID,
      "A spool on disk needs Node-RED's user directory (settings.userDir).",
    );
  }
  const files = new NodeFiles(userDir, SPOOL_PURPOSE);
  try {
    return { files, dir: files.folderOf(node.id) };
  } catch (err) {
    throw new CodedError(SpoolCodes.FAILED, `The spool folder cannot be made: ${errorMessage(err)}`);
  }
}

/** What the spool reports → the node's outputs (1: delivered, 2: failed or dropped), errors, warnings and counters. */
function wireOutputs(node: Node, spool: SpooledDelivery, settings: EmitSpoolSettings, fail: Failure): void {
  const metrics = metricsFor(node);
  spool.on('change', settings.onChange);
  spool.on('warning', (text: string) => node.warn(text));
  // Records that could not be read back: skipped, counted as dropped (the status shows it), one error each time.
  spool.on('damaged', (_lost: number, err: CodedError) => fail(err));
  spool.on('locked', (err: CodedError) => fail(err, settings.lockedStatus));
  spool.on('delivered', (event: SpooledEvent, result: DeliveryResult) => {
    metrics.sent++;
    node.send([extended(outputOf(event), { payload: result }), null]);
  });
  spool.on('failed', (event: SpooledEvent, err: CodedError) => {
    const msg = { ...outputOf(event), payload: toJsonObject(event.ce) };
    const error = { code: err.code ?? DeliveryCodes.FAILED, message: errorMessage(err), ...err.details };
    metrics.error(err.code);
    if (settings.failuresWired) {
      metrics.sent++;
      node.send([null, { ...msg, error }]);
    } else node.error(err, msg);
  });
  settings.onChange(spool.stats);
}

/** Closes the spool; a node deleted from the flows (not disabled, not moved) takes its files along. */
async function closeSpool(
  RED: NodeAPI,
  node: Node,
  files: NodeFiles,
  spool: SpooledDelivery | undefined,
  removed: boolean,
  /** Another process has the folder: its files are that process's to keep. */
  locked: boolean,
): Promise<void> {
  const { kept, lost } = (await spool?.close()) ?? { kept: 0, lost: 0 };
  if (lost > 0)
    node.warn(
      `${lost} event${lost === 1 ? '' : 's'} waiting for room in the spool were not taken when the flow stopped.`,
    );
  if (!removed || locked) {
    if (kept > 0) node.log(`${kept} event${kept === 1 ? '' : 's'} kept in the spool for the next start.`);
    return;
  }
  RED.events.once('flows:started', () => {
    let stillThere = false;
    RED.nodes.eachNode((n) => (stillThere ||= n.id === node.id));
    if (!stillThere) files.remove(node.id);
  });
}

export function openEmitSpool(
  RED: NodeAPI,
  node: Node,
  delivery: Delivery,
  settings: EmitSpoolSettings,
): EmitSpool {
  const { files, dir } = spoolFolder(RED, node);
  const metrics = metricsFor(node);
  const report = afterFlowsStart(RED, node);
  const fail: Failure = (err, status) => {
    metrics.error(err.code);
    if (status) settings.show(status);
    report(() => node.error(err, { payload: err.details }));
  };
  const options = {
    dir,
    limitBytes: settings.limitMb * 1024 * 1024,
    window: settings.window,
    onFull: settings.onFull,
  };
  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  let closed = false;
  let refused = false;
  let retry: NodeJS.Timeout | undefined;
  const attempt = (): Promise<SpooledDelivery> => {
    const opening = SpooledDelivery.open(delivery, options, (text) => node.warn(text)).catch(
      (err: unknown) => {
        if (err instanceof CodedError && err.code === SpoolCodes.LOCKED) throw err;
        throw new CodedError(SpoolCodes.FAILED, `The spool could not be opened: ${errorMessage(err)}`);
      },
    );
    opening.then(
      (spool) => wireOutputs(node, spool, settings, fail),
      (err: CodedError) => {
        if (err.code !== SpoolCodes.LOCKED) return fail(err, settings.failedStatus);
        // Said once; tried again (events meanwhile are refused with this error) until the folder is free.
        if (!refused) fail(err, settings.lockedStatus);
        refused = true;
        if (closed) return;
        retry = setTimeout(() => {
          current = attempt();
        }, backoff.next());
        retry.unref();
      },
    );
    return opening;
  };
  let current = attempt();
  return {
    take: async (ce, msg) => (await current).take(ce, metaOf(msg)),
    close: async (removed) => {
      closed = true;
      clearTimeout(retry);
      const spool = await current.catch(() => undefined);
      await closeSpool(RED, node, files, spool, removed, !spool && refused);
    },
  };
}
