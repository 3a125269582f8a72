/**
 * aci-request: class and DN queries, and configuration posts, through the
 * REST session of an aci-controller node (login, refresh, failover across
 * the cluster, 503 backoff, certificate signatures). The message names the
 * target (when the node does not) and the posted object; the node's settings
 * say whether it may change anything (read-only by default).
 */
import { CodedError } from '../common/errors';
import { configNode, onActingInput } from '../common/acting-node';
import { onClose, registerNode } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import { extended } from '../common/objects';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
import { REQUEST_KEYS, statusKeys } from '../common/status-keys';
import { RequestCodes, pickMethod, type MethodPolicy } from '../common/request-guard';
import type { AciControllerNode } from './controller-api';
import { ENTRY_INVALID } from './entries';
import { postConfig, queryPages, requestTarget, type QueryPage } from './requests';
import { APIC_KEYS, ApicCodes } from './session';

interface AciRequestDef extends NodeDef {
  controller: string;
  /** GET (query), POST (configuration), or msg (msg.method). */
  method: string;
  /** A class or DN with options; empty: msg.target. */
  target: string;
  methods: MethodPolicy;
  /** all (one message with every object) or pages (a message per page). */
  paging: 'all' | 'pages';
}

const ERROR_KEYS = statusKeys(REQUEST_KEYS, APIC_KEYS, {
  badTarget: [ENTRY_INVALID],
  throttled: [ApicCodes.THROTTLED],
  httpError: [ApicCodes.HTTP_ERROR],
  unreachable: [ApicCodes.UNREACHABLE],
  tooManyPages: [ApicCodes.TOO_MANY_PAGES],
});

async function perform(msg: NodeMessage, send: SendFn, def: AciRequestDef, controller: AciControllerNode) {
  const method = pickMethod(def.method || 'GET', msg.method, def.methods === 'write' ? 'write' : 'read');
  if (method !== 'GET' && method !== 'POST') {
    throw new CodedError(
      RequestCodes.METHOD_NOT_ALLOWED,
      `APIC is asked with GET and configured with POST, not ${method}.`,
    );
  }
  const entry = requestTarget(def.target?.trim() || msg.target);
  const rest = controller.rest();
  if (method === 'POST') {
    const answer = await postConfig(rest, entry, msg.payload);
    send(extended(msg, { payload: answer.imdata, target: entry.key, apic: answer.host }));
    return;
  }
  const objects: unknown[] = [];
  let last: QueryPage | undefined;
  for await (const page of queryPages(rest, entry)) {
    last = page;
    const about = { target: entry.key, apic: page.host, totalCount: page.totalCount };
    if (def.paging === 'pages') {
      send(extended(msg, { payload: page.objects, ...about, page: page.page, pageCount: page.pageCount }));
    } else objects.push(...page.objects);
  }
  if (def.paging !== 'pages' && last) {
    send(
      extended(msg, { payload: objects, target: entry.key, apic: last.host, totalCount: last.totalCount }),
    );
  }
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'aci-request', __dirname, AciRequest);

  function AciRequest(node: Node, def: AciRequestDef, texts: StatusTexts): void {
    const missing = {
      code: ApicCodes.CONFIG_INVALID,
      message: 'Select an aci controller.',
      key: 'noController',
    };
    const controller = configNode<AciControllerNode>(RED, node, def.controller, texts, missing);
    if (!controller) return;
    const view = new StatusThrottle(node);
    onActingInput(node, { view, texts, errors: ERROR_KEYS, counted: true }, (msg, send) =>
      perform(msg, send, def, controller),
    );
    onClose(node, () => view.stop());
  }
};
