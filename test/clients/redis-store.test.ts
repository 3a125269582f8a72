/**
 * The HA pair's shared store against a real Redis (Debian's redis-server):
 * claims, expiry, logins, TLS, and what a down or hanging server means.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import {
  RedisStore,
  StoreCodes,
  parseStoreUrl,
  storeAddress,
  type StoreState,
} from '../../nodes/alerts/redis-store';
import { serverCertificate } from '../../sim/tls';
import { TestRedis, needRedis } from '../support/redis';
import { delay, waitFor } from '../support/wait';

describe('alert store: Redis', function () {
  this.timeout(30_000);
  const stores: RedisStore[] = [];
  const servers: TestRedis[] = [];

  before(function () {
    needRedis(this);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const r of servers.splice(0)) await r.stop();
  });

  async function server(options: Parameters<typeof TestRedis.start>[0] = {}) {
    const r = await TestRedis.start(options);
    servers.push(r);
    return r;
  }

  function connect(options: Partial<ConstructorParameters<typeof RedisStore>[0]> & { url: string }) {
    const store = new RedisStore({ prefix: 'test:', timeoutMs: 1000, ...options });
    const states: { state: StoreState; code?: string }[] = [];
    store.onState((state, error) => states.push({ state, code: error?.code }));
    store.start();
    stores.push(store);
    return { store, states };
  }

  it('claims a key once until its time is up, for any number of claimants (SET NX PX)', async () => {
    const redis = await server();
    const a = connect({ url: redis.url });
    const b = connect({ url: redis.url });
    await waitFor(() => a.store.state === 'connected' && b.store.state === 'connected', 'both connected');
    const results = await Promise.all([
      a.store.claim('k1', 400),
      b.store.claim('k1', 400),
      a.store.claim('k1', 400),
      b.store.claim('k1', 400),
    ]);
    assert.deepEqual(results.filter(Boolean).length, 1, 'one of four');
    assert.equal(await a.store.claim('k2', 400), true, 'another key');
    await delay(600);
    assert.equal(await b.store.claim('k1', 400), true, 'free again after its time');
  });

  it('logs in with the password (a credential) and says so when it is wrong, never quoting it', async () => {
    const redis = await server({ password: 's3cret-pa55' });
    const good = connect({ url: redis.url, password: 's3cret-pa55' });
    await waitFor(() => good.store.state === 'connected', 'logged in');
    assert.equal(await good.store.claim('k', 1000), true);
    const bad = connect({ url: redis.url, password: 'wrong-pa55' });
    await waitFor(() => bad.states.some((s) => s.code === StoreCodes.AUTH_FAILED), 'the refusal');
    const none = connect({ url: redis.url });
    await waitFor(
      () => none.states.some((s) => s.code === StoreCodes.AUTH_FAILED),
      'the refusal without a password',
    );
    await assert.rejects(bad.store.claim('k', 1000), (err) => isCoded(err, StoreCodes.AUTH_FAILED));
    assert.doesNotMatch(
      JSON.stringify([bad.states, bad.store.error?.message, none.store.error?.message]),
      /pa55/,
    );
  });

  it('over TLS, trusting the CA given', async () => {
    const { cert, key } = await serverCertificate();
    const redis = await server({ tls: { cert, key } });
    const untrusted = connect({ url: redis.url });
    await waitFor(
      () => untrusted.states.some((s) => s.code?.startsWith('TLS_')),
      'the untrusted certificate',
    );
    const trusted = connect({ url: redis.url, ca: cert });
    await waitFor(() => trusted.store.state === 'connected', 'connected over TLS');
    assert.equal(await trusted.store.claim('k', 1000), true);
  });

  it('a server that is down or hangs fails the claim at once or within its timeout, and the store reconnects when it is back', async () => {
    const redis = await server();
    const { store, states } = connect({ url: redis.url });
    await waitFor(() => store.state === 'connected', 'connected');
    redis.pause();
    const started = Date.now();
    await assert.rejects(store.claim('hang', 1000), (err) => isCoded(err, StoreCodes.DOWN));
    assert.ok(Date.now() - started < 5000, 'within the timeout, not forever');
    redis.resume();
    await redis.down();
    await waitFor(() => store.state === 'reconnecting', 'the loss seen');
    const t = Date.now();
    await assert.rejects(store.claim('down', 1000), (err) => isCoded(err, StoreCodes.DOWN));
    assert.ok(Date.now() - t < 500, 'no wait for a connection that is not there');
    await redis.up();
    await waitFor(() => store.state === 'connected', 'connected again', 20_000);
    assert.equal(await store.claim('back', 1000), true);
    assert.ok(states.some((s) => s.state === 'reconnecting' && s.code === StoreCodes.DOWN));
  });

  it('reads the address: redis:// or rediss://, a database number, never a user or password in it', () => {
    assert.equal(storeAddress('redis://redis.example.com:6379/2'), 'redis://redis.example.com:6379/2');
    assert.equal(parseStoreUrl(' rediss://10.0.0.5 ').protocol, 'rediss:');
    for (const bad of [
      '',
      'http://x:6379',
      'redis://',
      'redis://:pw@host:6379',
      'redis://u:pw@h',
      'redis://h/x',
      'not a url',
    ]) {
      assert.throws(
        () => parseStoreUrl(bad),
        (err) => isCoded(err, StoreCodes.CONFIG_INVALID),
        bad,
      );
    }
    assert.throws(
      () => parseStoreUrl('redis://:hunter2@h'),
      (err: Error) => !err.message.includes('hunter2'),
    );
  });
});
