/**
 * The Webhook handshake and the request headers at the edges the sink simulator does not reach (it echoes the
 * origin it is asked for and refuses another with 403): a sink of the test's own answers the OPTIONS with any
 * status, allowed origin and Retry-After, and records every request it gets.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodedError } from '../../nodes/common/errors';
import { fromPayload } from '../../nodes/events/cloudevent-model';
import { Delivery, type DeliveryOptions } from '../../nodes/events/delivery';

const event = (n: number) => fromPayload({ n }, { type: 'com.example.test', source: '/tests' });

/** How the sink answers one handshake: status, WebHook-Allowed-Origin (none when undefined), and the rest. */
interface HandshakeAnswer {
  status: number;
  allowed?: string;
  retryAfter?: string;
  body?: string;
}

interface Seen {
  method: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

describe('CloudEvents delivery: the Webhook handshake at its edges', () => {
  let server: http.Server;
  let url: string;
  /** The answers to the next handshakes, in order; after them, 200 with the origin asked for. */
  let answers: HandshakeAnswer[];
  let seen: Seen[];
  const deliveries: Delivery[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', headers: req.headers, at: Date.now() });
      req.resume();
      if (req.method !== 'OPTIONS') return void res.writeHead(202).end();
      const origin = String(req.headers['webhook-request-origin'] ?? '');
      const answer = answers.shift() ?? { status: 200, allowed: origin };
      const headers: Record<string, string> = {};
      if (answer.allowed !== undefined) headers['webhook-allowed-origin'] = answer.allowed;
      if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
      res.writeHead(answer.status, headers).end(answer.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  beforeEach(() => {
    answers = [];
    seen = [];
  });
  afterEach(async () => {
    await Promise.all(deliveries.splice(0).map((d) => d.close()));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function open(options: Partial<DeliveryOptions> = {}): Delivery {
    const d = new Delivery({
      url,
      handshake: true,
      origin: 'nr-test',
      retry: { initialMs: 20, maxMs: 50, budgetMs: 10_000 },
      ...options,
    });
    deliveries.push(d);
    return d;
  }

  const methods = () => seen.map((s) => s.method);
  const refusal = (code: string, message: RegExp) => (err: CodedError) => {
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };

  it('delivers when the sink allows any origin (*), across the whole 2xx range', async () => {
    for (const status of [200, 204, 299]) {
      seen = [];
      answers = [{ status, allowed: '*' }];
      await open().send(event(status));
      assert.deepEqual(methods(), ['OPTIONS', 'POST'], `after a handshake answered ${status} with *`);
    }
  });

  it('refuses to send when a 2xx allows another origin or none, naming what was allowed', async () => {
    answers = [{ status: 200, allowed: 'nr-other' }];
    await assert.rejects(
      open().send(event(1)),
      refusal(
        'CE_HANDSHAKE_FAILED',
        /did not allow this origin in the webhook handshake \(allowed: "nr-other"\)/,
      ),
    );
    answers = [{ status: 204 }];
    await assert.rejects(open().send(event(2)), refusal('CE_HANDSHAKE_FAILED', /\(allowed: ""\)/));
    assert.deepEqual(methods(), ['OPTIONS', 'OPTIONS'], 'no event sent, no handshake tried again');
  });

  it('takes an allowed origin on an error status for a refusal, or for a failure to retry', async () => {
    answers = [{ status: 300, allowed: 'nr-test', body: 'see other' }];
    await assert.rejects(
      open().send(event(1)),
      refusal('CE_HANDSHAKE_FAILED', /refused the webhook handshake \(OPTIONS answered 300: see other\)/),
    );
    answers = [{ status: 403, allowed: 'nr-test' }];
    await assert.rejects(
      open().send(event(2)),
      refusal('CE_HANDSHAKE_FAILED', /refused the webhook handshake \(OPTIONS answered 403\)\.$/),
    );
    assert.deepEqual(methods(), ['OPTIONS', 'OPTIONS']);
    seen = [];
    answers = [{ status: 503, allowed: 'nr-test', body: 'warming up' }];
    const d = open({ retry: { budgetMs: 0 } });
    await assert.rejects(
      d.send(event(3)),
      refusal(
        'CE_DELIVERY_FAILED',
        /^The sink answered 503 to the webhook handshake \(OPTIONS\): warming up/,
      ),
    );
    assert.deepEqual(methods(), ['OPTIONS']);
  });

  it('waits what Retry-After says after a handshake answered 503, and handshakes no more once it succeeded', async () => {
    answers = [{ status: 503, retryAfter: '1' }];
    const d = open();
    const result = await d.send(event(1));
    assert.equal(result.attempts, 2);
    const gap = seen[1]!.at - seen[0]!.at;
    assert.ok(gap >= 950 && gap < 2500, `waited ${gap} ms for Retry-After: 1 (the backoff alone is 20 ms)`);
    await d.send(event(2));
    assert.deepEqual(methods(), ['OPTIONS', 'OPTIONS', 'POST', 'POST']);
  });

  it('asks as "node-red" unless told another origin', async () => {
    await open({ origin: undefined }).send(event(1));
    assert.equal(seen[0]!.headers['webhook-request-origin'], 'node-red');
  });

  it('says a network failure happened in the handshake', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      open({ url: `http://127.0.0.1:${port}/events`, retry: { budgetMs: 0 } }).send(event(1)),
      refusal('CE_DELIVERY_FAILED', /^Webhook handshake: .*127\.0\.0\.1/),
    );
  });
});

describe('CloudEvents delivery: credentials, addresses and answers at their edges', () => {
  let server: http.Server;
  let url: string;
  const authorizations: (string | undefined)[] = [];
  /** How the sink answers the next POST; 202 after it. */
  let next: { status: number; body?: string } | undefined;

  before(async () => {
    server = http.createServer((req, res) => {
      authorizations.push(req.headers.authorization);
      req.resume();
      const answer = next ?? { status: 202 };
      next = undefined;
      res.writeHead(answer.status).end(answer.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function sentWith(auth: DeliveryOptions['auth'], to = url): Promise<string | undefined> {
    authorizations.length = 0;
    const d = new Delivery({ url: to, auth, retry: { budgetMs: 0 } });
    try {
      await d.send(event(1));
    } finally {
      await d.close();
    }
    assert.equal(authorizations.length, 1, 'the event was sent');
    return authorizations[0];
  }

  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

  it('sends Basic credentials with an empty user name or password as they are', async () => {
    assert.equal(await sentWith({ type: 'basic', username: '', password: 'pw' }), basic(':pw'));
    assert.equal(await sentWith({ type: 'basic', username: 'nr' }), basic('nr:'));
  });

  it('sends no Authorization without a user name for Basic or a token for Bearer', async () => {
    assert.equal(await sentWith({ type: 'basic', password: 'pw-Secret' }), undefined);
    assert.equal(await sentWith({ type: 'bearer', token: '' }), undefined);
    assert.equal(await sentWith({ type: 'none', token: 't0ken', username: 'nr' }), undefined);
  });

  it('takes the sink URL with blanks around it (a no-break space too), and refuses one that is no http(s) URL, saying why', async () => {
    assert.equal(await sentWith(undefined, `\u00a0 ${url}\t`), undefined);
    const invalid = (message: RegExp) => (err: CodedError) =>
      err.code === 'CE_CONFIG_INVALID' && message.test(err.message);
    assert.throws(
      () => new Delivery({ url: 'sink.example.com/events' }),
      invalid(/^"sink\.example\.com\/events" is not a URL\.$/),
    );
    assert.throws(
      () => new Delivery({ url: 'ftp://sink.example.com/' }),
      invalid(/must start with https:\/\/ or http:\/\//),
    );
  });

  it("says what an error answer means: the proxy's 407, 410 with what the sink said, a bare status", async () => {
    const refused = async (answer: { status: number; body?: string }) => {
      next = answer;
      const d = new Delivery({ url, retry: { budgetMs: 0 } });
      try {
        return await d.send(event(1)).then(
          () => assert.fail(`an answer of ${answer.status} was taken for a delivery`),
          (err: CodedError) => err,
        );
      } finally {
        await d.close();
      }
    };
    const proxy = await refused({ status: 407, body: 'Proxy-Authenticate: Basic' });
    assert.equal(proxy.code, 'CE_DELIVERY_REJECTED');
    assert.match(
      proxy.message,
      /^The proxy wants credentials \(407 Proxy Authentication Required\): set them in the proxy\./,
    );
    const gone = await refused({ status: 410, body: 'tenant deleted' });
    assert.equal(gone.code, 'CE_SINK_GONE');
    assert.match(
      gone.message,
      /^The sink answered 410 Gone: it wants no more events; delivery stopped\. tenant deleted/,
    );
    const bare = await refused({ status: 400 });
    assert.equal(bare.code, 'CE_DELIVERY_REJECTED');
    assert.equal(bare.message, 'The sink answered 400');
    const said = await refused({ status: 422, body: 'unknown type' });
    assert.equal(said.message, 'The sink answered 422: unknown type');
  });
});
