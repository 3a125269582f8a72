/**
 * A server that answers slowly or hugely, on purpose, against every client that
 * reads answers from outside (VCD, APIC, the CloudEvents sink): a request ends at
 * its deadline however the bytes trickle in, is retried as a timeout is, and an
 * answer is read only up to its size cap, before anything parses it.
 */
import assert from 'node:assert/strict';
import { ApicCluster } from '../../nodes/aci/session';
import { HttpClient } from '../../nodes/common/http';
import { fromPayload } from '../../nodes/events/cloudevent-model';
import { Delivery } from '../../nodes/events/delivery';
import { VcdSession } from '../../nodes/vcd/session';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { HostileHttp } from '../support/hostile-http';
import { watchTurns } from '../support/time-bound';
import { rejectionOf } from '../support/wait';

/** Runs `work`; how long it took, and the most CPU time any one turn of the event loop took meanwhile. */
async function withStalls<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; ms: number }> {
  const turns = watchTurns();
  const started = performance.now();
  try {
    const result = await work();
    return { result, stallMs: turns.stop(), ms: performance.now() - started };
  } finally {
    turns.stop();
  }
}

/** A VCD login to `url` that may be tried again at once. */
const vcdSessionAt = (url: string, timeoutMs?: number) =>
  new VcdSession({
    url,
    org: 'acme',
    authType: 'password',
    username: 'u',
    password: 'p',
    timeoutMs,
    retry: { initialMs: 0, maxMs: 0 },
  });

/** A cluster of `first`, then a simulated APIC (its URL to `use`); both closed after. */
async function clusterAfter(
  first: string,
  use: (cluster: ApicCluster, apic: string) => Promise<void>,
  timeoutMs?: number,
): Promise<void> {
  const sim = await ApicSimulator.start({ ratePerSec: 0, tls: false, ports: [0] });
  const cluster = new ApicCluster({
    hosts: `${first}, ${sim.urls[0]}`,
    authType: 'password',
    username: 'admin',
    password: DEFAULT_APIC_PASSWORD,
    tls: {},
    timeoutMs,
  });
  try {
    await use(cluster, sim.urls[0] as string);
  } finally {
    await cluster.close();
    await sim.stop();
  }
}

describe('security: slow and huge answers', function () {
  const started: HostileHttp[] = [];
  const start = async (...args: Parameters<typeof HostileHttp.start>) => {
    const h = await HostileHttp.start(...args);
    started.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((h) => h.stop()));
  });

  describe('every request has a deadline, not only an idle timeout', () => {
    // A byte every 150 ms keeps any idle timeout of 600 ms from firing, for ever.
    const TIMEOUT_MS = 600;
    const DRIP_MS = 150;

    for (const drip of ['body', 'headers'] as const) {
      it(`the REST client: a peer that drips its ${drip} fails with TIMEOUT at the deadline`, async () => {
        const peer = await start({ drip, everyMs: DRIP_MS });
        const http = new HttpClient({ tls: {}, timeoutMs: TIMEOUT_MS });
        try {
          const t0 = performance.now();
          const err = await rejectionOf(http.send('GET', `${peer.url}/api/versions`));
          const ms = performance.now() - t0;
          assert.equal(err.code, 'TIMEOUT');
          assert.match(err.message, /did not answer in time \(0\.6 s in all\)/);
          assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS * 5, `ended after ${Math.round(ms)} ms`);
        } finally {
          await http.close();
        }
      });
    }

    it('the sink: a dripping answer is a timeout, retried as one until the budget is spent', async () => {
      const sink = await start({ drip: 'body', everyMs: DRIP_MS, status: 202 });
      const delivery = new Delivery({
        url: `${sink.url}/events`,
        timeoutMs: TIMEOUT_MS,
        retry: { initialMs: 20, maxMs: 50, budgetMs: 2000 },
      });
      try {
        const ce = fromPayload({ n: 1 }, { type: 'com.example.t', source: '/tests' });
        const err = await rejectionOf(delivery.send(ce));
        assert.equal(err.code, 'CE_DELIVERY_FAILED');
        assert.match(err.message, /did not answer in time.*retries ran out after \d+ attempts/);
        assert.ok(sink.requests.length >= 2, `${sink.requests.length} requests: a timeout is retried`);
        assert.equal(delivery.stats.inFlight, 0);
      } finally {
        await delivery.close();
      }
    });

    it('the APIC: a dripping controller is left for the next one, as after a timeout', async () => {
      const slow = await start({ drip: 'body', everyMs: DRIP_MS });
      await clusterAfter(
        slow.url,
        async (cluster, apic) => {
          const session = await cluster.login();
          assert.equal(session.host, apic);
          assert.deepEqual(
            slow.requests.map((r) => r.url),
            ['/api/aaaLogin.json'],
          );
          await session.logout();
        },
        TIMEOUT_MS,
      );
    });

    it('VCD: a dripping /api/versions fails the login with TIMEOUT, and the next login asks again', async () => {
      const vcd = await start({ drip: 'body', everyMs: DRIP_MS });
      const session = vcdSessionAt(vcd.url, TIMEOUT_MS);
      try {
        assert.equal((await rejectionOf(session.login())).code, 'TIMEOUT');
        assert.equal((await rejectionOf(session.login())).code, 'TIMEOUT');
        assert.equal(vcd.requests.length, 2);
      } finally {
        await session.close();
      }
    });
  });

  describe('every answer is read with a size cap before it is parsed', () => {
    it('VCD: 32 MB of XML from /api/versions is refused after 1 MiB, the event loop kept free', async () => {
      const vcd = await start({
        huge: 32 * 1024 * 1024,
        text: '<VersionInfo>',
        contentType: 'application/xml',
        chunked: true,
      });
      const session = vcdSessionAt(vcd.url);
      try {
        const { result: err, stallMs } = await withStalls(() => rejectionOf(session.login()));
        assert.equal(err.code, 'HTTP_BODY_TOO_LARGE');
        assert.match(err.message, /larger than the 1 MiB read from it/);
        assert.ok(stallMs < 500, `the event loop stalled ${Math.round(stallMs)} ms`);
      } finally {
        await session.close();
      }
    });

    it('refuses an answer whose Content-Length is beyond the cap before reading its body', async () => {
      const peer = await start({ huge: 512 * 1024 * 1024, text: '{', contentType: 'application/json' });
      const http = new HttpClient({ tls: {}, maxBodyBytes: 1024 * 1024 });
      try {
        const { result: err, ms } = await withStalls(() => rejectionOf(http.send('GET', `${peer.url}/x`)));
        assert.equal(err.code, 'HTTP_BODY_TOO_LARGE');
        assert.ok(ms < 5000, `took ${Math.round(ms)} ms`);
      } finally {
        await http.close();
      }
    });

    it('the APIC: a login answer beyond 1 MiB is refused as such, the next APIC logs in', async () => {
      const big = await start({
        huge: 8 * 1024 * 1024,
        text: '{"imdata":[',
        contentType: 'application/json',
        chunked: true,
      });
      await clusterAfter(big.url, async (cluster, apic) => {
        const probed = await cluster.probe();
        assert.deepEqual(
          probed.map((p) => [p.host, p.ok, p.code]),
          [
            [big.url, false, 'HTTP_BODY_TOO_LARGE'],
            [apic, true, undefined],
          ],
        );
      });
    });

    it('the sink: of a 64 MB error page, 4 KiB is read for the excerpt and the request cut', async () => {
      const sink = await start({
        huge: 64 * 1024 * 1024,
        text: '<p>busy</p>',
        contentType: 'text/html',
        chunked: true,
        status: 500,
      });
      const delivery = new Delivery({ url: sink.url, retry: { budgetMs: 0 } });
      try {
        const ce = fromPayload({ n: 1 }, { type: 'com.example.t', source: '/tests' });
        const { result: err, ms } = await withStalls(() => rejectionOf(delivery.send(ce)));
        assert.equal(err.code, 'CE_DELIVERY_FAILED');
        assert.match(err.message, /^The sink answered 500: <p>busy<\/p><p>busy<\/p>/);
        assert.ok(ms < 5000, `took ${Math.round(ms)} ms`);
      } finally {
        await delivery.close();
      }
    });
  });
});
