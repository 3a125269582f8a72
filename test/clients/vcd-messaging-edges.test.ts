import assert from 'node:assert/strict';
import { CodedError } from '../../nodes/common/errors';
import { MessagingCodes, VcdMessaging, type TokenSource } from '../../nodes/vcd/messaging';
import { VcdSession } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { nextEvent, waitFor } from '../support/wait';

/**
 * What the message-bus client does with a refused token and with filters that
 * overlap. The backoff is two minutes: anything that happens within a test's
 * time happened at once, not after a backoff step.
 */
describe('VCD messaging client: refused tokens and overlapping filters', () => {
  let sim: VcdSimulator;
  let session: VcdSession | undefined;
  let messaging: VcdMessaging | undefined;

  const slowBackoff = { backoff: { initialMs: 120_000 }, stableMs: 600_000 };
  const acmeAdmin = {
    org: 'acme',
    authType: 'password',
    username: 'acmeadmin',
    password: DEFAULT_PASSWORD,
  } as const;

  async function login(): Promise<VcdSession> {
    session = new VcdSession({ ...acmeAdmin, url: sim.url, tls: { ca: sim.cert } });
    await session.token();
    return session;
  }

  /** Subscribes, waits for the failed login and checks it came after one refusal and one retry; their errors. */
  async function refusedTwice(m: VcdMessaging): Promise<Array<CodedError | undefined>> {
    const seen: Array<[string, CodedError | undefined]> = [];
    m.on('state', (state: string, error?: CodedError) => seen.push([state, error]));
    const failed = nextEvent(m, 'state', 10_000, (state) => state === 'auth-failed');
    m.add('node', 'publish/{org}/+', 0, { message: () => undefined });
    await failed;
    assert.deepEqual(
      seen.map(([state]) => state),
      ['connecting', 'reconnecting', 'auth-failed'],
    );
    const errors = seen.slice(1).map(([, error]) => error);
    for (const error of errors) assert.equal(error?.code, MessagingCodes.UNAUTHORIZED);
    return errors;
  }

  beforeEach(async () => {
    sim = await VcdSimulator.start();
  });

  afterEach(async () => {
    await messaging?.stop();
    await session?.close();
    await sim.stop();
    messaging = undefined;
    session = undefined;
  });

  it('a token VCD no longer knows is refused at the upgrade once, renewed and used at once', async () => {
    const tokens = await login();
    sim.directory.expireAll(); // VCD forgot the session; the client still holds its token
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...slowBackoff });
    const states: string[] = [];
    messaging.on('state', (state: string) => states.push(state));
    const received: string[] = [];
    messaging.add('node', 'publish/{org}/+', 1, { message: (topic) => received.push(topic) });

    await waitFor(() => sim.subscriptions.length === 1, 'subscribed with the renewed token');
    assert.equal(sim.stats.rejectedUpgrades[401], 1, 'the old token was refused once');
    assert.equal(sim.stats.passwordLogins, 2, 'one login again after the refusal');
    assert.deepEqual(states, ['connecting', 'reconnecting', 'connected']);
    const published = sim.publishEvent({ actor: 'acmeuser@acme' });
    await waitFor(() => received.length === 1, 'the event on the renewed connection');
    assert.equal(received[0], published.topic);
  });

  it('a token refused twice in a row is a failed login, shown as such and not retried at once', async () => {
    const invalidated: string[] = [];
    const bogus: TokenSource = {
      token: () => Promise.resolve('not-a-vcd-token'),
      invalidate: (token) => invalidated.push(token),
      isCurrent: () => true,
      info: { orgUuid: 'o', userUuid: 'u' },
    };
    messaging = new VcdMessaging({ site: sim.url, tokens: bogus, tls: { ca: sim.cert }, ...slowBackoff });
    for (const error of await refusedTwice(messaging)) {
      assert.equal(error?.details?.status, 401);
    }
    assert.equal(sim.stats.rejectedUpgrades[401], 2, 'the second try came at once, a third waits');
    assert.deepEqual(invalidated, ['not-a-vcd-token', 'not-a-vcd-token'], 'each refused token dropped');
  });

  it('a login refused in MQTT CONNACK drops the token, tries once more at once, then shows a failed login', async () => {
    const tokens = await login();
    sim.faults.upgradeAuthDropped = true; // a proxy that keeps the Bearer token from the bus
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...slowBackoff });
    for (const error of await refusedTwice(messaging)) {
      assert.match(error?.message ?? '', /refused the login in MQTT CONNACK/);
    }
    assert.equal(sim.stats.upgrades, 2, 'the second try came at once, a third waits');
    assert.equal(sim.stats.passwordLogins, 2, 'the refused token was dropped and renewed once');
  });

  it("a login that fails shows the login's own error", async () => {
    const refusal = new CodedError('VCD_AUTH_FAILED', 'VCD refused the login');
    const failing: TokenSource = {
      token: () => Promise.reject(refusal),
      invalidate: () => undefined,
      isCurrent: () => false,
      info: undefined,
    };
    messaging = new VcdMessaging({ site: sim.url, tokens: failing, tls: { ca: sim.cert }, ...slowBackoff });
    const failed = nextEvent<[string, CodedError?]>(messaging, 'state', 10_000, (s) => s !== 'connecting');
    messaging.add('node', 'publish/{org}/+', 0, { message: () => undefined });
    const [state, error] = await failed;
    assert.equal(state, 'auth-failed');
    assert.equal(error, refusal);
    assert.equal(
      sim.stats.upgrades + (sim.stats.rejectedUpgrades[401] ?? 0),
      0,
      'no upgrade without a token',
    );
  });

  it('a connection lost on a good token reconnects with that token: no new login', async () => {
    const tokens = await login();
    const quick = { backoff: { initialMs: 50, maxMs: 100 } };
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...quick });
    messaging.add('node', 'publish/{org}/+', 1, { message: () => undefined });
    await waitFor(() => sim.subscriptions.length === 1, 'subscribed');
    const lost = nextEvent<[string, CodedError?]>(messaging, 'state', 10_000, (s) => s === 'reconnecting');
    messaging.dropConnection();
    const [, error] = await lost;
    assert.equal(error?.code, MessagingCodes.CONNECTION_LOST);
    await nextEvent(messaging, 'connected');
    assert.equal(sim.stats.upgrades, 2);
    assert.equal(sim.stats.passwordLogins, 1, 'the token was kept');
    assert.deepEqual(sim.stats.rejectedUpgrades, {});
  });

  it('started again after a stop, shows connecting, then connected, and subscribes again', async () => {
    const tokens = await login();
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...slowBackoff });
    const states: string[] = [];
    messaging.on('state', (state: string) => states.push(state));
    messaging.add('node', 'publish/{org}/+', 0, { message: () => undefined });
    await nextEvent(messaging, 'connected');
    await messaging.stop();
    messaging.start();
    await nextEvent(messaging, 'connected');
    assert.deepEqual(states, ['connecting', 'connected', 'closed', 'connecting', 'connected']);
    await waitFor(() => sim.subscriptions.length === 1, 'subscribed on the new connection');
  });

  it('a SUBSCRIBE cut by a lost connection is neither granted nor refused; the reconnect subscribes again', async () => {
    const tokens = await login();
    sim.faults.subscribeCut = true;
    const quick = { backoff: { initialMs: 50, maxMs: 100 } };
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...quick });
    const seen: string[] = [];
    messaging.on('state', (state: string) => seen.push(state));
    messaging.add('node', 'publish/{org}/+', 1, {
      message: () => undefined,
      granted: () => seen.push('granted'),
      refused: () => seen.push('refused'),
    });
    await waitFor(() => seen.includes('granted'), 'the filter granted');
    assert.deepEqual(seen, ['connecting', 'connected', 'reconnecting', 'connected', 'granted']);
    assert.deepEqual(sim.subscriptions, [`publish/${tokens.info!.orgUuid}/+`]);
  });

  it('each user gets a message once, however many of its filters match; a refused filter is named', async () => {
    const tokens = await login();
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...slowBackoff });
    const got = { mine: [] as string[], two: [] as string[], org: [] as string[] };
    const granted: string[] = [];
    const refused: CodedError[] = [];
    const handlerErrors: unknown[] = [];
    messaging.on('handler-error', (err) => handlerErrors.push(err));
    // Added first, so the dispatch has passed it when a later user receives the message.
    messaging.add('mine', 'publish/{org}/{user}', 1, { message: (t) => got.mine.push(t) });
    messaging.add('two', 'publish/{org}/+', 1, { message: (t) => got.two.push(t) });
    messaging.add('org', 'publish/{org}/+', 1, {
      message: (t) => got.org.push(t),
      granted: (filter) => granted.push(filter),
    });
    // After another user's filter: each user once, whatever the order of the filters.
    messaging.add('two', 'publish/{org}/#', 1, { message: (t) => got.two.push(t) });
    messaging.add('all', 'publish/#', 1, {
      message: () => undefined,
      refused: (error) => refused.push(error),
    });
    await waitFor(() => refused.length === 1 && granted.length === 1, 'the SUBACKs');
    const org = tokens.info!.orgUuid;
    assert.deepEqual(granted, [`publish/${org}/+`]);
    assert.equal(refused[0]!.code, MessagingCodes.SUBSCRIBE_REFUSED);
    assert.equal(refused[0]!.details?.topic, 'publish/#');
    // A filter added on a live connection is subscribed at once, without a reconnect.
    const lateGranted = new Promise<string>((resolve) =>
      messaging!.add('late', 'publish/{org}/{user}', 0, { message: () => undefined, granted: resolve }),
    );
    assert.equal(await lateGranted, `publish/${org}/${tokens.info!.userUuid}`);
    assert.equal(sim.stats.upgrades, 1);

    const published = sim.publishEvent({ actor: 'acmeuser@acme' });
    await waitFor(() => got.org.length === 1, 'the event for the org user');
    assert.deepEqual(got.two, [published.topic], 'once for a user with two matching filters');
    assert.deepEqual(got.mine, [], "another user's event does not match {user}");
    assert.deepEqual(got.org, [published.topic]);
    assert.deepEqual(handlerErrors, [], 'users without granted or refused handlers are fine');
  });

  it('a handler that throws is reported as a handler error and the other users still get the message', async () => {
    const tokens = await login();
    messaging = new VcdMessaging({ site: tokens.site, tokens, tls: { ca: sim.cert }, ...slowBackoff });
    const handlerErrors: unknown[] = [];
    messaging.on('handler-error', (err) => handlerErrors.push(err));
    const bug = new Error('a bug in the flow');
    const got: string[] = [];
    const granted: string[] = [];
    const refused: CodedError[] = [];
    // Added first, so the dispatch reaches it before the others.
    messaging.add('broken', 'publish/{org}/+', 1, {
      message: () => {
        throw bug;
      },
    });
    messaging.add('after', 'publish/{org}/+', 1, {
      message: (t) => got.push(t),
      granted: (filter) => granted.push(filter),
    });
    // Refused (publish/# needs a system administrator): one user without a refused handler, one with.
    messaging.add('quiet', 'publish/#', 0, { message: () => undefined });
    messaging.add('told', 'publish/#', 0, { message: () => undefined, refused: (e) => refused.push(e) });
    await waitFor(() => granted.length === 1 && refused.length === 1, 'the SUBACKs');
    assert.deepEqual(handlerErrors, [], 'a user without a refused handler raises none');

    const published = sim.publishEvent({ actor: 'acmeuser@acme' });
    await waitFor(() => got.length === 1, 'the event for the user after the broken one');
    assert.deepEqual(got, [published.topic]);
    assert.deepEqual(handlerErrors, [bug], "the broken handler's error, reported once");
    assert.equal(messaging.state, 'connected', 'the connection outlives the broken handler');
  });
});
