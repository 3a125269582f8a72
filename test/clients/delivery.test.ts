import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodedError } from '../../nodes/common/errors';
import { type CloudEvent, fromPayload } from '../../nodes/events/cloudevent-model';
import { Delivery, type DeliveryOptions, type DeliveryResult } from '../../nodes/events/delivery';
import { SinkSimulator } from '../../sim/sink';
import { withSink } from '../support/sink';
import { delay, waitFor } from '../support/wait';

const event = (n: number, extra: Partial<CloudEvent> = {}): CloudEvent => ({
  ...fromPayload({ n }, { type: 'com.example.test', source: '/tests', subject: `item ${n}` }),
  ...extra,
});

type Outcome = { ok: true; result: DeliveryResult } | { ok: false; error: CodedError };
const settle = (p: Promise<DeliveryResult>): Promise<Outcome> =>
  p.then(
    (result) => ({ ok: true as const, result }),
    (error: CodedError) => ({ ok: false as const, error }),
  );

describe('CloudEvents delivery (against the sink simulator)', () => {
  const rig = withSink({ retry: { initialMs: 20, maxMs: 200, budgetMs: 10_000 } });

  it('binary mode: the sink validates and reads every attribute, a non-ASCII subject included', async () => {
    const d = rig.open();
    const ce = event(1, { subject: 'vApp "lab-é-ü" 100%', time: '2026-11-22T13:45:12.123456+01:00' });
    const result = await d.send(ce);
    assert.deepEqual(
      { status: result.status, attempts: result.attempts, events: result.events },
      { status: 202, attempts: 1, events: 1 },
    );
    const got = rig.sink.received[0]!;
    assert.equal(got.mode, 'binary');
    assert.equal(got.event.subject, 'vApp "lab-é-ü" 100%');
    assert.equal(got.event.time, '2026-11-22T13:45:12.123456+01:00');
    assert.deepEqual(got.event.data, { n: 1 });
    assert.deepEqual(rig.sink.rejected, []);
  });

  it('structured mode', async () => {
    const d = rig.open({ mode: 'structured' });
    await d.send(event(1));
    assert.equal(rig.sink.received[0]!.mode, 'structured');
    assert.equal(rig.sink.received[0]!.event.id, event(1).id);
  });

  it('batch mode: full batches at once, the rest after the linger time', async () => {
    const d = rig.open({ mode: 'batch', batchSize: 10, lingerMs: 100, concurrency: 1 });
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => d.send(event(i))));
    assert.equal(rig.sink.requests, 3);
    assert.deepEqual(
      results.map((r) => r.events),
      [...Array(20).fill(10), ...Array(5).fill(5)],
    );
    assert.deepEqual(
      rig.sink.received.map((r) => (r.event.data as { n: number }).n),
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.ok(rig.sink.received.every((r) => r.mode === 'batch'));
  });

  it('retries 503 and succeeds', async () => {
    const d = rig.open();
    rig.sink.failNext(2, 503);
    const result = await d.send(event(1));
    assert.equal(result.attempts, 3);
    assert.equal(rig.sink.requests, 3);
    assert.equal(rig.sink.received.length, 1);
    assert.equal(d.stats.retries, 2);
  });

  it('honours Retry-After on 429', async () => {
    const d = rig.open();
    rig.sink.failNext(1, 429, '1');
    const result = await d.send(event(1));
    assert.equal(result.attempts, 2);
    const [first, second] = rig.sink.log;
    assert.ok(second!.at - first!.at >= 900, `waited ${second!.at - first!.at} ms, Retry-After said 1 s`);
  });

  it('does not retry 400', async () => {
    const d = rig.open();
    rig.sink.failNext(1, 400);
    const out = await settle(d.send(event(1)));
    assert.ok(!out.ok);
    assert.equal(out.error.code, 'CE_DELIVERY_REJECTED');
    assert.equal(out.error.details?.status, 400);
    assert.equal(rig.sink.requests, 1);
  });

  it('stops at 410 Gone: this and every later event fail without another request', async () => {
    const d = rig.open({ concurrency: 1 });
    rig.sink.faults.gone = true;
    const outcomes = await Promise.all([1, 2, 3].map((n) => settle(d.send(event(n)))));
    assert.deepEqual(
      outcomes.map((o) => !o.ok && o.error.code),
      ['CE_SINK_GONE', 'CE_SINK_GONE', 'CE_SINK_GONE'],
    );
    const later = await settle(d.send(event(4)));
    assert.ok(!later.ok && later.error.code === 'CE_SINK_GONE');
    assert.equal(rig.sink.requests, 1);
    assert.match(outcomes[0]!.ok ? '' : outcomes[0]!.error.message, /410/);
  });

  it('delivers every event after the sink was down for a while, each exactly once', async () => {
    const d = rig.open({ concurrency: 4 });
    rig.sink.setDown(true);
    const pending = Array.from({ length: 50 }, (_, i) => settle(d.send(event(i))));
    await waitFor(() => d.stats.retries >= 4, 'retries while the sink is down');
    rig.sink.setDown(false);
    const outcomes = await Promise.all(pending);
    assert.ok(
      outcomes.every((o) => o.ok),
      'every event delivered',
    );
    const counts = rig.sink.counts();
    assert.equal(counts.size, 50);
    assert.ok(
      [...counts.values()].every((c) => c === 1),
      'none twice: the sink never answered while down',
    );
  });

  it('a duplicate happens only where a retry explains it (timeout while the sink was slow)', async () => {
    const d = rig.open({ timeoutMs: 150 });
    rig.sink.faults.slowMs = 400;
    const pending = settle(d.send(event(1)));
    await delay(250);
    rig.sink.faults.slowMs = 0;
    const out = await pending;
    assert.ok(out.ok);
    await waitFor(() => rig.sink.log.every((l) => l.status !== 0), 'the slow requests to finish at the sink');
    const copies = rig.sink.counts().get(`/tests ${event(1).id}`) ?? 0;
    assert.ok(
      copies >= 1 && copies <= out.result.attempts,
      `${copies} copies for ${out.result.attempts} attempts`,
    );
  });

  it('gives up when the retry budget is spent, with the last answer', async () => {
    const d = rig.open({ retry: { initialMs: 20, maxMs: 50, budgetMs: 300 } });
    rig.sink.failNext(1000, 503);
    const out = await settle(d.send(event(1)));
    assert.ok(!out.ok);
    assert.equal(out.error.code, 'CE_DELIVERY_FAILED');
    assert.match(out.error.message, /503.*retries ran out/);
  });

  describe('queue full', () => {
    /** Five events into a queue of two; what became of each, and the delivery that took them. */
    async function fill(policy: DeliveryOptions['onFull']): Promise<{ outcomes: Outcome[]; d: Delivery }> {
      const d = rig.open({ queueLimit: 2, concurrency: 1, onFull: policy });
      rig.sink.faults.slowMs = 150;
      const sends = [1, 2, 3, 4, 5].map((n) => settle(d.send(event(n))));
      if (policy === 'wait') await waitFor(() => d.stats.waiting > 0, 'events waiting for room');
      const outcomes = await Promise.all(sends);
      assert.ok(d.stats.queued <= 2);
      return { outcomes, d };
    }
    const delivered = () => rig.sink.received.map((r) => (r.event.data as { n: number }).n);

    it('reject-new refuses new events and counts them', async () => {
      const { outcomes, d } = await fill('reject-new');
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
        ['ok', 'ok', 'ok', 'CE_QUEUE_FULL', 'CE_QUEUE_FULL'],
      );
      assert.deepEqual(delivered(), [1, 2, 3]);
      assert.equal(d.stats.dropped, 2);
    });

    it('drop-oldest drops the oldest queued events for the new ones', async () => {
      const { outcomes, d } = await fill('drop-oldest');
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
        ['ok', 'CE_DROPPED', 'CE_DROPPED', 'ok', 'ok'],
      );
      assert.deepEqual(delivered(), [1, 4, 5]);
      assert.equal(d.stats.dropped, 2);
    });

    it('wait holds new events back until there is room, and loses none', async () => {
      const { outcomes, d } = await fill('wait');
      assert.ok(outcomes.every((o) => o.ok));
      assert.deepEqual(delivered(), [1, 2, 3, 4, 5]);
      assert.equal(d.stats.dropped, 0);
    });
  });

  it('sends bearer and basic credentials', async () => {
    await rig.open({ auth: { type: 'bearer', token: 't0ken-Secret' } }).send(event(1));
    await rig.open({ auth: { type: 'basic', username: 'nr', password: 'pw-Secret' } }).send(event(2));
    assert.equal(rig.sink.log[0]!.authorization, 'Bearer t0ken-Secret');
    assert.equal(rig.sink.log[1]!.authorization, `Basic ${Buffer.from('nr:pw-Secret').toString('base64')}`);
  });

  it('does the webhook handshake once, and refuses to send when the origin is not allowed', async () => {
    const d = rig.open({ handshake: true, origin: 'nr-test' });
    await d.send(event(1));
    await d.send(event(2));
    assert.equal(rig.sink.received.length, 2);
    rig.sink.faults.allowOrigin = 'someone-else';
    const refused = await settle(rig.open({ handshake: true, origin: 'nr-test' }).send(event(3)));
    assert.ok(!refused.ok && refused.error.code === 'CE_HANDSHAKE_FAILED');
    assert.equal(rig.sink.received.length, 2);
  });

  it('refuses an untrusted certificate at once, and accepts it with the CA', async () => {
    const out = await settle(rig.open({ tls: {} }).send(event(1)));
    assert.ok(!out.ok && out.error.code === 'TLS_UNTRUSTED');
    await rig.open({ tls: { insecure: true } }).send(event(2));
    assert.equal(rig.sink.received.length, 1);
  });

  it('on close, delivers what is queued within the grace time', async () => {
    const d = rig.open({ concurrency: 1, closeGraceMs: 5000 });
    rig.sink.faults.slowMs = 50;
    const sends = [1, 2, 3].map((n) => settle(d.send(event(n))));
    await waitFor(() => rig.sink.log.length > 0, 'the first request');
    const report = await d.close();
    const outcomes = await Promise.all(sends);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
      ['ok', 'ok', 'ok'],
    );
    assert.deepEqual(report, { lost: 0, ids: [] });
    const late = await settle(d.send(event(4)));
    assert.ok(!late.ok && late.error.code === 'CE_DELIVERY_CLOSED');
    assert.equal(d.stats.failed, 1, 'a refused late event is counted');
  });

  it('on close, what the grace time cannot deliver fails with CE_DELIVERY_CLOSED and is reported', async () => {
    const d = rig.open({
      concurrency: 1,
      queueLimit: 2,
      onFull: 'wait',
      closeGraceMs: 300,
      timeoutMs: 60_000,
    });
    rig.sink.faults.slowMs = 60_000; // the request in flight never ends by itself
    const sends = [1, 2, 3, 4, 5].map((n) => settle(d.send(event(n))));
    await waitFor(
      () => d.stats.waiting === 2 && rig.sink.log.length === 1,
      'one in flight, two queued, two waiting',
    );
    const report = await d.close();
    const outcomes = await Promise.all(sends);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
      Array(5).fill('CE_DELIVERY_CLOSED'),
    );
    assert.equal(report.lost, 5, 'in flight, queued and waiting alike');
    assert.deepEqual(report.ids.sort(), [1, 2, 3, 4, 5].map((n) => event(n).id).sort());
    assert.equal(d.stats.failed, 5);
  });

  it('after 410, later events are counted and fail with CE_SINK_GONE', async () => {
    const d = rig.open();
    rig.sink.faults.gone = true;
    await settle(d.send(event(1)));
    const later = await settle(d.send(event(2)));
    assert.ok(!later.ok);
    assert.equal(later.error.code, 'CE_SINK_GONE');
    assert.match(later.error.message, /410.*not sent/);
    assert.equal(d.stats.failed, 2);
    assert.equal(d.stats.gone, true);
    assert.equal(rig.sink.requests, 1);
  });

  it('the webhook handshake gets the same retries as delivery: an outage, a 503', async () => {
    const d = rig.open({ handshake: true, origin: 'nr-test' });
    rig.sink.setDown(true);
    const pending = settle(d.send(event(1)));
    await waitFor(() => d.stats.retries >= 2, 'retries while the sink is down');
    rig.sink.setDown(false);
    const out = await pending;
    assert.ok(out.ok, out.ok ? '' : out.error.message);

    const d2 = rig.open({ handshake: true, origin: 'nr-test' });
    rig.sink.faults.failOptions = 2;
    const out2 = await settle(d2.send(event(2)));
    assert.ok(out2.ok, out2.ok ? '' : out2.error.message);
    assert.equal(out2.result.attempts, 3);
    assert.equal(rig.sink.received.length, 2);
  });

  it('a sink that refuses the handshake (403) is not retried', async () => {
    rig.sink.faults.failOptions = 1;
    rig.sink.faults.failStatus = 403;
    const out = await settle(rig.open({ handshake: true }).send(event(1)));
    assert.ok(!out.ok && out.error.code === 'CE_HANDSHAKE_FAILED');
    assert.match(out.error.message, /refused.*403/);
    assert.equal(rig.sink.received.length, 0);
  });

  it('refuses, when made, a header or token no HTTP request may carry, without quoting the token', () => {
    // undici would refuse every request; one such request waiting for a connection held up those behind it.
    assert.throws(() => rig.open({ headers: { 'x-tenant': 'acme\rcorp' } }), {
      code: 'CE_CONFIG_INVALID',
      message: /Header x-tenant holds a character no HTTP header may carry/,
    });
    assert.throws(
      () => rig.open({ auth: { type: 'bearer', token: 'T0ken-\u0000-s3cret' } }),
      (err: CodedError) => err.code === 'CE_CONFIG_INVALID' && !err.message.includes('s3cret'),
    );
    assert.throws(() => rig.open({ headers: { 'x-price': '10 €' } }), { code: 'CE_CONFIG_INVALID' });
    // Tab and Latin-1 are field text.
    assert.doesNotThrow(() => rig.open({ headers: { 'x-site': 'Zürich\tnorth' } }));
  });

  it('reads only the start of a large error answer, then lets the connection go', async () => {
    let written = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/html' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const more = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const d = new Delivery({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/e`,
        retry: { budgetMs: 0 },
      });
      rig.closeAfter(d);
      const out = await settle(d.send(event(1)));
      assert.ok(!out.ok && out.error.code === 'CE_DELIVERY_FAILED');
      assert.ok(out.error.message.length < 300);
      await delay(200);
      assert.ok(written < 16 * 1024 * 1024, `the server could write ${written} bytes of a 64 MB answer`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the sink simulator is strict', () => {
  let sink: SinkSimulator;
  before(async () => {
    sink = await SinkSimulator.start({ tls: false });
  });
  after(() => sink.stop());

  const post = (headers: Record<string, string>, body: string | Buffer) =>
    fetch(`${sink.url}/e`, { method: 'POST', headers, body });
  const base = { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/s', 'ce-type': 't' };
  const structured = (extra: Record<string, unknown>) =>
    post(
      { 'content-type': 'application/cloudevents+json' },
      JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't', ...extra }),
    );

  it('keeps binary data byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    assert.equal((await post({ ...base, 'content-type': 'application/octet-stream' }, bytes)).status, 202);
    assert.equal(sink.received.at(-1)!.event.data_base64, bytes.toString('base64'));
  });

  it('refuses times that are not real, bad data_base64, and extension values of no CloudEvents type', async () => {
    for (const time of ['2024-13-45T99:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T00:00:00+25:00'])
      assert.equal((await post({ ...base, 'ce-time': time }, '')).status, 400, time);
    assert.equal((await post({ ...base, 'ce-time': '2024-02-29T23:59:60.123456+01:00' }, '')).status, 202);
    assert.equal((await structured({ data_base64: '!!!' })).status, 400);
    assert.equal((await structured({ foo: { a: 1 } })).status, 400);
    assert.equal((await structured({ foo: 1.5 })).status, 400);
    assert.equal((await structured({ source: 'not a uri' })).status, 400);
    assert.equal((await structured({ foo: 7, bar: true })).status, 202);
  });
});
