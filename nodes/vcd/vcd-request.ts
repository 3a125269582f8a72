/**
 * vcd-request: any VCD API call through the session of a vcd-login node. The
 * message sets the path (or fills the node's path placeholders), the query and
 * the body, on the login's site only; the node's settings say which methods
 * it may send (read-only by default).
 */
import { CodedError } from '../common/errors';
import { configNode, onActingInput } from '../common/acting-node';
import { onClose, registerNode } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import { extended } from '../common/objects';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
import { REQUEST_KEYS, statusKeys } from '../common/status-keys';
import {
  RequestCodes,
  bodyText,
  buildQuery,
  checkContentType,
  fillPath,
  pickMethod,
  safeHeaders,
  type MethodPolicy,
} from '../common/request-guard';
import {
  API_PREFIXES,
  ApiCodes,
  VcdApi,
  apiPath,
  type ApiAnswer,
  type ApiCall,
  type ApiPage,
} from './api-request';
import type { VcdLoginNode } from './login-api';
import { VCD_KEYS, VcdCodes } from './session';

interface VcdRequestDef extends NodeDef {
  login: string;
  /** GET, HEAD, POST, PUT, PATCH, DELETE, or msg (msg.method). */
  method: string;
  /** A path with {{placeholders}}; empty: msg.path. */
  path: string;
  /** read (GET, HEAD) or write (every method). */
  methods: MethodPolicy;
  /** none, all (one message with every value), pages (a message per page). */
  paging: 'none' | 'all' | 'pages';
  /** parsed (JSON and XML as objects) or raw (the text). */
  output: 'parsed' | 'raw';
  /** Follow a task the call starts until it ends. */
  followTask: boolean;
}

const NO_LOGIN = { code: VcdCodes.CONFIG_INVALID, message: 'Select a vcd login.', key: 'noLogin' };

const ERROR_KEYS = statusKeys(REQUEST_KEYS, VCD_KEYS, {
  badPath: [RequestCodes.PATH_INVALID],
  badQuery: [RequestCodes.QUERY_INVALID],
  httpError: [VcdCodes.HTTP_ERROR],
  taskFailed: [ApiCodes.TASK_FAILED],
  taskTimeout: [ApiCodes.TASK_TIMEOUT],
  tooManyPages: [ApiCodes.TOO_MANY_PAGES],
  tooLarge: [ApiCodes.ANSWER_TOO_LARGE],
});

/** The call a message asks for, checked by the request guard. */
function callOf(msg: NodeMessage, def: VcdRequestDef): ApiCall {
  const method = pickMethod(def.method || 'GET', msg.method, def.methods === 'write' ? 'write' : 'read');
  const template = def.path?.trim();
  const path = template ? fillPath(template, msg, API_PREFIXES) : msg.path;
  const checked = apiPath(path);
  const reads = method === 'GET' || method === 'HEAD';
  const body = reads ? undefined : bodyText(msg.payload);
  let contentType = checkContentType(msg.contentType);
  if (body !== undefined && !contentType) {
    if (checked.startsWith('/api/')) {
      throw new CodedError(
        RequestCodes.BODY_INVALID,
        'The legacy API needs the media type of what is sent: set msg.contentType, e.g. application/vnd.vmware.vcloud.vm+xml.',
      );
    }
    contentType = 'application/json';
  }
  return { method, path: checked, query: buildQuery(msg.query), body, contentType };
}

function answerMsg(
  msg: NodeMessage,
  answer: ApiAnswer,
  raw: boolean,
  extra: Record<string, unknown> = {},
): NodeMessage {
  if (answer.unread && !raw) {
    throw new CodedError(
      ApiCodes.ANSWER_TOO_LARGE,
      `The XML answer is ${Math.round(Buffer.byteLength(answer.text) / 1024 / 1024)} MiB: too large to read into objects without blocking Node-RED. Set Output to raw text, or ask for fewer records (pageSize).`,
    );
  }
  return extended(
    extended(msg, {
      payload: raw ? answer.text : (answer.parsed ?? answer.text),
      statusCode: answer.status,
      headers: safeHeaders(answer.headers),
      contentType: answer.contentType,
    }),
    extra,
  );
}

async function perform(msg: NodeMessage, send: SendFn, def: VcdRequestDef, api: VcdApi, signal: AbortSignal) {
  const call = callOf(msg, def);
  const raw = def.output === 'raw';
  if (def.paging !== 'none' && call.method === 'GET' && call.path.startsWith('/cloudapi/')) {
    const values: unknown[] = [];
    let last: ApiPage | undefined;
    for await (const page of api.pages(call)) {
      if (def.paging === 'pages') {
        send(
          answerMsg(msg, page.answer, raw, {
            page: page.page,
            pageCount: page.pageCount,
            resultTotal: page.resultTotal,
          }),
        );
      } else values.push(...page.values);
      last = page;
    }
    if (def.paging === 'all' && last) {
      send(
        extended(answerMsg(msg, last.answer, false), {
          payload: values,
          resultTotal: last.resultTotal ?? values.length,
        }),
      );
    }
    return;
  }
  const answer = await api.call(call);
  const task = def.followTask !== false ? api.taskOf(answer) : undefined;
  if (!task) {
    send(answerMsg(msg, answer, raw));
    return;
  }
  const ended = await api.follow(task, signal);
  send(answerMsg(msg, ended, raw, { task }));
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'vcd-request', __dirname, VcdRequest);

  function VcdRequest(node: Node, def: VcdRequestDef, texts: StatusTexts): void {
    const login = configNode<VcdLoginNode>(RED, node, def.login, texts, NO_LOGIN);
    if (!login) return;
    const view = new StatusThrottle(node);
    const stop = new AbortController();

    onActingInput(node, { view, texts, errors: ERROR_KEYS, counted: true }, async (msg, send) => {
      const session = login.session;
      if (!session)
        throw login.configError ?? new CodedError(VcdCodes.CONFIG_INVALID, 'The vcd login is not set up.');
      await perform(msg, send, def, new VcdApi(session), stop.signal);
    });

    onClose(node, () => {
      stop.abort();
      view.stop();
    });
  }
};
