/**
 * Any VCD API call through a login's session (docs/vcd.md): the OpenAPI
 * (`/cloudapi/...`, JSON) and the legacy API (`/api/...`, XML read into
 * objects), in the negotiated version, a 401 renewed once (VcdSession.send).
 * OpenAPI answers that come in pages are read page by page; an answer that is
 * a task (a legacy Task, or 202 with a Location) is followed until it ends.
 * Plain TypeScript; the vcd-request node adapts it to Node-RED.
 */
import { Backoff } from '../common/backoff';
import { CodedError } from '../common/errors';
import { OBJECT_ANSWER_BYTES, header, type HttpResponse } from '../common/http';
import { isRecord } from '../common/guards';
import { RequestCodes, checkPath } from '../common/request-guard';
import { parseXml, type XmlNode } from '../common/xml';
import { vcdMessage } from './blocking-task';
import { VcdCodes } from './codes';
import type { VcdSession } from './session';

export const ApiCodes = {
  /** The task the call started ended in error, or was aborted or canceled. */
  TASK_FAILED: 'VCD_TASK_FAILED',
  /** The task did not end within the node's limit. */
  TASK_TIMEOUT: 'VCD_TASK_TIMEOUT',
  /** More pages than the node reads for one message. */
  TOO_MANY_PAGES: 'VCD_TOO_MANY_PAGES',
  /** An XML answer too large to read into objects without stalling Node-RED. */
  ANSWER_TOO_LARGE: 'VCD_ANSWER_TOO_LARGE',
} as const;

/** The most of one answer a request keeps (as text); what is read into objects is capped lower. */
export const REQUEST_ANSWER_BYTES = 16 * 1024 * 1024;

/** Where a message may send a request: the two APIs, not the login's own session and token endpoints. */
export const API_PREFIXES = ['/api/', '/cloudapi/'] as const;
const LOGIN_OWNED = /^\/(api\/sessions?|cloudapi\/[^/]+\/(sessions|tokens))(\/|$)/i;

/** A path a message may call, or REQUEST_PATH_INVALID. */
export function apiPath(path: unknown): string {
  const checked = checkPath(path, API_PREFIXES);
  if (LOGIN_OWNED.test(checked)) {
    throw new CodedError(
      RequestCodes.PATH_INVALID,
      `${checked} belongs to the vcd login (its session and tokens): a request node does not call it.`,
    );
  }
  return checked;
}

export interface ApiCall {
  method: string;
  /** A checked path (apiPath) and its query ('' or '?...'). */
  path: string;
  query: string;
  body?: string;
  contentType?: string;
}

export interface ApiAnswer {
  status: number;
  headers: HttpResponse['headers'];
  contentType?: string;
  text: string;
  /** The body read: JSON as it is, XML as objects (attributes as "@name"), else undefined. */
  parsed?: unknown;
  /** XML larger than OBJECT_ANSWER_BYTES: kept as text only (reading it would block for seconds). */
  unread?: boolean;
}

/** One page of an OpenAPI list answer. */
export interface ApiPage {
  page: number;
  pageCount: number;
  resultTotal?: number;
  values: unknown[];
  answer: ApiAnswer;
}

const TASK_DONE = new Set(['success', 'error', 'aborted', 'canceled']);

function read(res: HttpResponse): ApiAnswer {
  const contentType = header(res.headers, 'content-type');
  const text = res.text;
  let parsed: unknown;
  let unread: boolean | undefined;
  const start = text.trimStart()[0];
  if (/json/i.test(contentType ?? '') || (!contentType && (start === '{' || start === '['))) {
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined; // a broken JSON answer stays text
    }
  } else if (/xml/i.test(contentType ?? '') || start === '<') {
    // JSON.parse reads a hundred MB/s; XML about four: large XML stays text.
    if (Buffer.byteLength(text) > OBJECT_ANSWER_BYTES) unread = true;
    else parsed = text ? parseXml(text) : undefined;
  }
  return { status: res.status, headers: res.headers, contentType, text, parsed, unread };
}

export class VcdApi {
  constructor(
    private readonly session: VcdSession,
    private readonly limits: { maxPages?: number; taskTimeoutMs?: number; pollMs?: number } = {},
  ) {}

  /** One call; an answer outside 2xx is a VCD_HTTP_ERROR naming VCD's message. */
  async call(call: ApiCall): Promise<ApiAnswer> {
    const res = await this.session.send({
      method: call.method,
      path: call.path + call.query,
      body: call.body,
      contentType: call.contentType,
      maxBodyBytes: REQUEST_ANSWER_BYTES,
    });
    if (res.status < 200 || res.status >= 300) {
      throw new CodedError(
        VcdCodes.HTTP_ERROR,
        `${call.method} ${call.path} answered ${res.status}: ${vcdMessage(res)}`,
        { status: res.status },
      );
    }
    return read(res);
  }

  /**
   * The pages of an OpenAPI list (page=1.. with the answer's pageCount), one
   * at a time; `pageSize` unless the query names one.
   */
  async *pages(call: ApiCall, pageSize = 128): AsyncGenerator<ApiPage> {
    const max = this.limits.maxPages ?? 1000;
    const params = new URLSearchParams(call.query.slice(1));
    if (!params.has('pageSize')) params.set('pageSize', String(pageSize));
    for (let page = 1; ; page++) {
      params.set('page', String(page));
      const answer = await this.call({ ...call, query: `?${params.toString().replace(/\+/g, '%20')}` });
      const body = answer.parsed;
      if (!isRecord(body) || !Array.isArray(body.values)) {
        yield { page: 1, pageCount: 1, values: [body], answer };
        return;
      }
      const pageCount = Math.max(1, Number(body.pageCount) || 1);
      const resultTotal = Number.isFinite(Number(body.resultTotal)) ? Number(body.resultTotal) : undefined;
      yield { page, pageCount, resultTotal, values: body.values, answer };
      if (page >= pageCount || body.values.length === 0) return;
      if (page >= max) {
        throw new CodedError(
          ApiCodes.TOO_MANY_PAGES,
          `${call.path} has ${pageCount} pages; this node reads ${max} at most.`,
          {
            pageCount,
          },
        );
      }
    }
  }

  /** The task an answer started, if any: a legacy Task not yet done, or 202 with a Location. */
  taskOf(answer: ApiAnswer): string | undefined {
    const task = isRecord(answer.parsed) ? (answer.parsed as XmlNode).Task : undefined;
    if (isRecord(task) && typeof task['@href'] === 'string') return task['@href'];
    if (answer.status === 202) return header(answer.headers, 'location');
    return undefined;
  }

  /** Follows a task until it ends; its last Task document, or VCD_TASK_FAILED / VCD_TASK_TIMEOUT. */
  async follow(href: string, signal?: AbortSignal): Promise<ApiAnswer> {
    const path = this.local(href);
    const deadline = Date.now() + (this.limits.taskTimeoutMs ?? 600_000);
    const pause = new Backoff({ initialMs: this.limits.pollMs ?? 1000, maxMs: 10_000, factor: 1.5 });
    for (;;) {
      const answer = await this.call({ method: 'GET', path, query: '' });
      const task = (answer.parsed as XmlNode | undefined)?.Task;
      const status = isRecord(task) ? String(task['@status'] ?? '') : '';
      if (TASK_DONE.has(status)) {
        if (status === 'success') return answer;
        const error = isRecord(task) && isRecord(task.Error) ? String(task.Error['@message'] ?? '') : '';
        throw new CodedError(
          ApiCodes.TASK_FAILED,
          `The task ${String((task as XmlNode)['@operationName'] ?? href)} ended ${status}${error ? `: ${error}` : ''}.`,
          {
            status,
            task: (task as XmlNode)['@id'],
          },
        );
      }
      const wait = pause.next();
      if (Date.now() + wait > deadline) {
        throw new CodedError(
          ApiCodes.TASK_TIMEOUT,
          `The task ${href} did not end in time (status ${status || 'unknown'}).`,
          {
            status,
          },
        );
      }
      await new Promise((r) => setTimeout(r, wait));
      if (signal?.aborted) throw new CodedError(VcdCodes.CLOSED, `Stopped following the task ${href}.`);
    }
  }

  /** The path of a task's href, only on this session's site. */
  private local(href: string): string {
    let url: URL;
    try {
      url = new URL(href, this.session.site);
    } catch {
      throw new CodedError(
        VcdCodes.HTTP_ERROR,
        `VCD named a task at ${JSON.stringify(href.slice(0, 80))}, not a URL.`,
      );
    }
    if (url.origin !== this.session.site) {
      throw new CodedError(
        VcdCodes.HTTP_ERROR,
        `VCD named a task on another host (${url.origin}); not followed.`,
      );
    }
    return checkPath(url.pathname, ['/api/']);
  }
}
