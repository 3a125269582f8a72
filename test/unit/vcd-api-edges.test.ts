/**
 * VcdApi on hand-made answers: an OpenAPI list read page by page (what each
 * page asks for, the bound on pages, an answer that is no list) and a task
 * followed to its end on a fake clock (its cadence, its deadline, its failure,
 * a stop, an href that is not followed).
 */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { isCoded } from '../../nodes/common/errors';
import type { HttpResponse } from '../../nodes/common/http';
import { ApiCodes, VcdApi, type ApiPage } from '../../nodes/vcd/api-request';
import type { VcdSession } from '../../nodes/vcd/session';

const SITE = 'https://vcd.example.com';
const TASK_HREF = `${SITE}/api/task/1`;

/** A session answering each call with `answer(path)`, keeping the paths asked for. */
function session(answer: (path: string) => HttpResponse) {
  const paths: string[] = [];
  const s = {
    site: SITE,
    send: async (call: { path: string }) => {
      paths.push(call.path);
      return answer(call.path);
    },
  } as unknown as VcdSession;
  return { s, paths };
}

const json = (body: unknown): HttpResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  text: JSON.stringify(body),
});
const taskXml = (status: string, inner = '') => ({
  status: 200,
  headers: { 'content-type': 'application/vnd.vmware.vcloud.task+xml' },
  text:
    `<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="${status}" operationName="vappUpdateVm" ` +
    `id="urn:vcloud:task:1" href="${TASK_HREF}">${inner}</Task>`,
});

/** A list of `pageCount` pages, two values each. */
const list = (pageCount: number) => (path: string) => {
  const page = Number(new URLSearchParams(path.split('?')[1]).get('page'));
  return json({ resultTotal: pageCount * 2, pageCount, page, values: [`${page}a`, `${page}b`] });
};

async function readAll(pages: AsyncGenerator<ApiPage>): Promise<ApiPage[]> {
  const read: ApiPage[] = [];
  for await (const p of pages) read.push(p);
  return read;
}

const call = (query = '') => ({ method: 'GET', path: '/cloudapi/1.0.0/vms', query });

describe('VCD API calls: pages and tasks (hand-made answers)', () => {
  it('asks for 128 values a page unless the query names a size, a space written %20', async () => {
    const { s, paths } = session(list(1));
    await readAll(new VcdApi(s).pages(call('?filter=name==web 01')));
    await readAll(new VcdApi(s).pages(call('?pageSize=5')));
    await readAll(new VcdApi(s).pages(call(), 16));
    assert.deepEqual(paths, [
      '/cloudapi/1.0.0/vms?filter=name%3D%3Dweb%2001&pageSize=128&page=1',
      '/cloudapi/1.0.0/vms?pageSize=5&page=1',
      '/cloudapi/1.0.0/vms?pageSize=16&page=1',
    ]);
  });

  it('reads up to maxPages pages, exactly that many, and refuses a longer list with VCD_TOO_MANY_PAGES', async () => {
    const exact = session(list(3));
    const read = await readAll(new VcdApi(exact.s, { maxPages: 3 }).pages(call()));
    assert.deepEqual(
      read.map((p) => [p.page, p.pageCount, p.resultTotal, p.values]),
      [
        [1, 3, 6, ['1a', '1b']],
        [2, 3, 6, ['2a', '2b']],
        [3, 3, 6, ['3a', '3b']],
      ],
    );
    const longer = session(list(4));
    const seen: number[] = [];
    await assert.rejects(
      async () => {
        for await (const p of new VcdApi(longer.s, { maxPages: 3 }).pages(call())) seen.push(p.page);
      },
      (err: unknown) => {
        assert.ok(isCoded(err, ApiCodes.TOO_MANY_PAGES), String(err));
        assert.equal(err.message, '/cloudapi/1.0.0/vms has 4 pages; this node reads 3 at most.');
        assert.deepEqual(err.details, { pageCount: 4 });
        return true;
      },
    );
    assert.deepEqual(seen, [1, 2, 3], 'the pages within the bound were handed on');
    assert.equal(longer.paths.length, 3, 'no fourth page asked for');
  });

  it('reads 1000 pages at most by default', async () => {
    const { s, paths } = session(list(1001));
    await assert.rejects(readAll(new VcdApi(s).pages(call())), (err: unknown) =>
      isCoded(err, ApiCodes.TOO_MANY_PAGES),
    );
    assert.equal(paths.length, 1000);
    assert.equal((await readAll(new VcdApi(session(list(1000)).s).pages(call()))).length, 1000);
  });

  it('takes 2xx as an answer and anything else as VCD_HTTP_ERROR with its status and VCD message', async () => {
    let status = 200;
    const { s } = session(() => ({ status, headers: {}, text: status < 300 ? '' : 'Moved' }));
    const api = new VcdApi(s);
    for (status of [200, 204, 299]) assert.equal((await api.call(call())).status, status);
    for (status of [300, 404, 503]) {
      await assert.rejects(api.call(call()), (err: unknown) => {
        assert.ok(isCoded(err, 'VCD_HTTP_ERROR'), `${status}: ${String(err)}`);
        assert.equal(err.message, `GET /cloudapi/1.0.0/vms answered ${status}: Moved`);
        assert.deepEqual(err.details, { status });
        return true;
      });
    }
  });

  it('hands an answer that is no list on as one page of one value, asking once', async () => {
    for (const body of [{ id: 'urn:vcloud:vm:1', name: 'web-01' }, [1, 2], { values: 'not a list' }]) {
      const { s, paths } = session(() => json(body));
      const read = await readAll(new VcdApi(s).pages(call()));
      assert.deepEqual(
        read.map((p) => [p.page, p.pageCount, p.values]),
        [[1, 1, [body]]],
        JSON.stringify(body),
      );
      assert.equal(paths.length, 1);
    }
  });

  describe('a task followed on a fake clock', () => {
    beforeEach(() => {
      mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
      mock.method(Math, 'random', () => 0); // each wait its fixed half
    });
    afterEach(() => {
      mock.timers.reset();
      mock.restoreAll();
    });

    /** Runs `follow` to its end, moving the clock on 1 ms at a time (40 s at most); the poll times from its start. */
    async function follow(api: VcdApi, times: number[], href = TASK_HREF, signal?: AbortSignal) {
      const started = Date.now();
      let settled = false;
      const result = api.follow(href, signal).finally(() => (settled = true));
      result.catch(() => undefined);
      for (let i = 0; i < 40_000 && !settled; i++) {
        await new Promise((r) => setImmediate(r));
        mock.timers.tick(1);
      }
      assert.ok(settled, 'follow ended within 40 s');
      return { result, at: times.map((t) => t - started) };
    }

    it('polls a running task 1, 1.5, 2.25… times the poll apart, 10 s at most, and gives up before the deadline: VCD_TASK_TIMEOUT', async () => {
      const times: number[] = [];
      const { s } = session(() => (times.push(Date.now()), taskXml('running')));
      const { result, at } = await follow(new VcdApi(s, { taskTimeoutMs: 30_000, pollMs: 800 }), times);
      await assert.rejects(result, (err: unknown) => {
        assert.ok(isCoded(err, ApiCodes.TASK_TIMEOUT), String(err));
        assert.equal(err.message, `The task ${TASK_HREF} did not end in time (status running).`);
        assert.deepEqual(err.details, { status: 'running' });
        return true;
      });
      // Waits of 400, 600, 900, 1350, 2025, 3038, 4556 ms, then 5000 (the 10 s step's fixed half); the next
      // would end after the 30 s.
      assert.deepEqual(at, [0, 400, 1000, 1900, 3250, 5275, 8313, 12869, 17869, 22869, 27869]);
    });

    it('polls once more when the next poll falls on the deadline, and not after it', async () => {
      const times: number[] = [];
      const { s } = session(() => (times.push(Date.now()), taskXml('running')));
      const { result, at } = await follow(new VcdApi(s, { taskTimeoutMs: 5275, pollMs: 800 }), times);
      await assert.rejects(result, (err: unknown) => isCoded(err, ApiCodes.TASK_TIMEOUT));
      assert.deepEqual(at, [0, 400, 1000, 1900, 3250, 5275]);
    });

    it('names the status of a task that never said one as unknown when its time is up', async () => {
      const task = taskXml('');
      const taskWithoutStatus = { ...task, text: task.text.replace(' status=""', '') };
      for (const answer of [json({}), taskWithoutStatus]) {
        const { s } = session(() => answer);
        const { result } = await follow(new VcdApi(s, { taskTimeoutMs: 5000 }), []);
        await assert.rejects(result, (err: unknown) => {
          assert.ok(isCoded(err, ApiCodes.TASK_TIMEOUT), String(err));
          assert.equal(
            err.message,
            `The task ${TASK_HREF} did not end in time (status unknown).`,
            answer.text,
          );
          assert.deepEqual(err.details, { status: '' });
          return true;
        });
      }
    });

    it('keeps polling through an answer that is no Task, and returns the task that succeeded', async () => {
      const times: number[] = [];
      const empty = { status: 200, headers: {}, text: '' };
      const answers = [empty, json({}), taskXml('queued'), taskXml('success')];
      const { s } = session(() => (times.push(Date.now()), answers.shift()!));
      const { result, at } = await follow(new VcdApi(s), times);
      const done = await result;
      assert.equal((done.parsed as { Task: { '@status': string } }).Task['@status'], 'success');
      assert.deepEqual(at, [0, 500, 1250, 2375], 'one second apart at first by default');
    });

    it("a failed task is VCD_TASK_FAILED with VCD's reason, its status and id", async () => {
      for (const [status, inner, text] of [
        ['error', '<Error message="Disk full" majorErrorCode="500"/>', 'ended error: Disk full.'],
        ['aborted', '', 'ended aborted.'],
        ['canceled', '<Error majorErrorCode="500"/>', 'ended canceled.'],
      ] as const) {
        const { s } = session(() => taskXml(status, inner));
        const { result } = await follow(new VcdApi(s), []);
        await assert.rejects(result, (err: unknown) => {
          assert.ok(isCoded(err, ApiCodes.TASK_FAILED), String(err));
          assert.equal(err.message, `The task vappUpdateVm ${text}`);
          assert.deepEqual(err.details, { status, task: 'urn:vcloud:task:1' });
          return true;
        });
      }
    });

    it('a flow stopped while a task is followed ends it with VCD_SESSION_CLOSED', async () => {
      const stop = new AbortController();
      const times: number[] = [];
      const { s } = session(() => {
        times.push(Date.now());
        if (times.length === 2) stop.abort();
        return taskXml('running');
      });
      const { result } = await follow(new VcdApi(s, { pollMs: 1000 }), times, TASK_HREF, stop.signal);
      await assert.rejects(result, (err: unknown) => isCoded(err, 'VCD_SESSION_CLOSED'));
      assert.equal(times.length, 2, 'no poll after the stop');
    });

    it('follows a task href on its own site only, within /api/', async () => {
      const { s, paths } = session(() => taskXml('success'));
      const api = new VcdApi(s);
      await api.follow('/api/task/2');
      await api.follow(`${SITE}/api/task/3`);
      assert.deepEqual(paths, ['/api/task/2', '/api/task/3']);
      const refused = async (href: string, code: string, text: RegExp) =>
        assert.rejects(api.follow(href), (err: unknown) => {
          assert.ok(isCoded(err, code), `${href}: ${String(err)}`);
          assert.match(err.message, text);
          return true;
        });
      await refused(
        'https://[broken/api/task/1',
        'VCD_HTTP_ERROR',
        /named a task at "https:\/\/\[broken\/api\/task\/1", not a URL/,
      );
      const long = `https://[${'x'.repeat(100)}/api/task/1`;
      await refused(long, 'VCD_HTTP_ERROR', /at "https:\/\/\[x{71}", not a URL/);
      await refused(
        'https://evil.example.com/api/task/1',
        'VCD_HTTP_ERROR',
        /another host \(https:\/\/evil\.example\.com\)/,
      );
      await refused('http://vcd.example.com/api/task/1', 'VCD_HTTP_ERROR', /another host/);
      await refused(`${SITE}/cloudapi/1.0.0/tasks/1`, 'REQUEST_PATH_INVALID', /./);
      await refused(`${SITE}/api/../oauth/token`, 'REQUEST_PATH_INVALID', /./);
      assert.equal(paths.length, 2, 'nothing else was asked for');
    });
  });
});
