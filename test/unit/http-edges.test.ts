import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { excerpt, exchange, type ReadLimits } from '../../nodes/common/http';

describe('reading an answer within its limits: edges', () => {
  let server: http.Server;
  let origin: string;
  let requests = 0;
  /** What the server answers, by path. */
  const answers: Record<string, (res: http.ServerResponse) => void> = {
    '/exact': (res) => res.end('x'.repeat(1000)),
    '/long': (res) => res.end(`${'a'.repeat(1000)}${'b'.repeat(5000)}`),
    '/announced': (res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('only the start');
    },
    '/silent': () => undefined,
  };
  const agent = new Agent();
  before(async () => {
    server = http.createServer((req, res) => {
      requests++;
      answers[req.url ?? '']?.(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await agent.close();
  });
  const get = (path: string, limits: Partial<ReadLimits>) =>
    exchange(
      agent,
      { origin, path, method: 'GET' },
      { deadlineMs: 10_000, maxBodyBytes: 1000, target: origin, ...limits },
    );

  it('keeps a body of exactly the largest size, and the start of a longer one when asked to', async () => {
    assert.equal((await get('/exact', {})).body.length, 1000);
    const kept = await get('/long', { keepStart: true });
    assert.equal(kept.body.toString(), 'a'.repeat(1000));
    await assert.rejects(get('/long', {}), { code: 'HTTP_BODY_TOO_LARGE' });
  });

  it('refuses an answer at once when its announced length is over the size, quoting the size in MiB', async () => {
    await assert.rejects(
      get('/announced', { maxBodyBytes: 1.5 * 1024 * 1024 }),
      (err: Error & { code: string; details: unknown }) => {
        assert.equal(err.code, 'HTTP_BODY_TOO_LARGE');
        assert.match(err.message, / larger than the 1\.5 MiB read from it\.$/);
        assert.deepEqual(err.details, { maxBytes: 1.5 * 1024 * 1024 });
        return true;
      },
    );
  });

  it('fails at the deadline with TIMEOUT, telling the seconds it waited', async () => {
    await assert.rejects(
      get('/silent', { deadlineMs: 300 }),
      (err: Error & { code: string; details: unknown }) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.match(err.message, /did not answer in time \(0\.3 s in all\)\.$/);
        assert.deepEqual(err.details, { systemCode: 'DEADLINE' });
        return true;
      },
    );
  });

  it('fails with the error of a dispatcher that throws at once (an interceptor refusing), never hangs', async () => {
    const refusing = agent.compose(() => () => {
      throw new Error('refused by an interceptor');
    });
    const before = requests;
    await assert.rejects(
      exchange(
        refusing,
        { origin, path: '/exact', method: 'GET' },
        { deadlineMs: 5000, maxBodyBytes: 1000, target: origin },
      ),
      { message: 'refused by an interceptor' },
    );
    assert.equal(requests, before);
  });

  it('sends nothing when it is ended before it starts', async () => {
    const before = requests;
    await assert.rejects(get('/exact', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(requests, before);
  });
});

describe('excerpts of values for error texts', () => {
  it('shows a buffer as its text, cut at the size asked', () => {
    assert.equal(excerpt(Buffer.from('grüße')), 'grüße');
    assert.equal(excerpt(Buffer.from('x'.repeat(300)), 80), `${'x'.repeat(80)}…`);
  });

  it('ends with … only when it cut something', () => {
    assert.equal(excerpt('y'.repeat(120)), 'y'.repeat(120));
    assert.equal(excerpt('y'.repeat(121)), `${'y'.repeat(120)}…`);
    assert.equal(excerpt(' a \n\t b\r\n'), 'a b', 'one line, one space per run');
  });

  it('shows null as null, and nesting past eight levels as …', () => {
    assert.equal(excerpt({ a: null, b: [null] }), '{"a":null,"b":[null]}');
    let deep: unknown = 1;
    for (let i = 0; i < 10; i++) deep = [deep];
    assert.equal(excerpt(deep), `${'['.repeat(9)}…${']'.repeat(9)}`);
  });
});
