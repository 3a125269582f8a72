/**
 * How aci subscribe meets a failure: what ends the connection, what refuses
 * an entry, what is retried (and when it is reported), and who hears of it.
 */
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { CodedError } from '../../nodes/common/errors';
import { ServerClock } from '../../nodes/common/server-clock';
import { parseEntries } from '../../nodes/aci/entries';
import type { ApicSession } from '../../nodes/aci/session';
import { Connection } from '../../nodes/aci/subscriber/connection';
import {
  connectionError,
  endsConnection,
  isRefusal,
  passingBackoff,
  postpone,
  refuse,
} from '../../nodes/aci/subscriber/failures';
import { Recipients, type RecipientEntry } from '../../nodes/aci/subscriber/recipients';
import { knownStates } from '../../nodes/aci/subscriber/resync';
import type { WatchHandlers } from '../../nodes/aci/subscriber/types';

function connection(): Connection {
  const session = { host: 'https://apic1', clock: new ServerClock() } as unknown as ApicSession;
  return new Connection(session, {} as unknown as WebSocket);
}

/** A node's one entry, with the handlers given (none: a node that did not set them). */
function entryOf(handlers: Partial<WatchHandlers> = {}): RecipientEntry {
  const recipient = new Recipients().add(
    'node-1',
    parseEntries('fvBD'),
    { changes: () => undefined, ...handlers },
    { initial: 'skip', refreshTimeoutSec: 60 },
  );
  return recipient.entries.get('fvBD')!;
}

const unavailable = () => new CodedError('APIC_HTTP_ERROR', 'HTTP 503 Service Unavailable', { status: 503 });

describe('ACI subscriber failures', () => {
  it('ends the connection for an ended session or socket, and for a socket the APIC no longer knows', () => {
    for (const code of ['APIC_SESSION_EXPIRED', 'APIC_SESSION_CLOSED', 'APIC_CONNECTION_LOST']) {
      assert.equal(endsConnection(new CodedError(code, 'over')), true, code);
    }
    const lost = new CodedError('APIC_HTTP_ERROR', 'Unable to locate opened web socket', { status: 405 });
    assert.equal(endsConnection(lost), true);
    assert.equal(endsConnection(unavailable()), false);
  });

  it('says a lost socket as such, naming the APIC, the answer and what to check', () => {
    const lost = new CodedError('APIC_HTTP_ERROR', 'Unable to locate opened web socket', { status: 405 });
    const said = connectionError(lost, 'apic2');
    assert.equal(said.code, 'APIC_CONNECTION_LOST');
    assert.deepEqual(said.details, { status: 405, host: 'apic2' });
    assert.match(
      said.message,
      /^apic2 no longer knows this session's socket \(Unable to locate opened web socket\)/,
    );
    assert.match(said.message, /load balancer may send the socket and the requests to different APICs/);
    assert.equal(connectionError(said, 'apic2'), said, 'said once');
    assert.equal(
      connectionError(unavailable(), 'apic2').code,
      'APIC_HTTP_ERROR',
      'other failures as they are',
    );
  });

  it('refuses an entry for a 4xx answer but a timeout or throttling, and retries everything else', () => {
    for (const status of [400, 403, 404, 499]) {
      assert.equal(isRefusal(new CodedError('APIC_HTTP_ERROR', 'no', { status })), true, `${status}`);
    }
    for (const status of [399, 408, 429, 500, 503]) {
      assert.equal(isRefusal(new CodedError('APIC_HTTP_ERROR', 'not now', { status })), false, `${status}`);
    }
    assert.equal(isRefusal(new CodedError('APIC_SUBSCRIBE_FAILED', 'no subscriptionId')), false);
  });

  it('retries a passing failure after a backoff, and reports the third of a streak once', () => {
    const c = connection();
    const failing: CodedError[] = [];
    const debug: string[] = [];
    const e = entryOf({ failing: (error) => failing.push(error) });
    const context = {
      passingBackoff: () => passingBackoff({ random: () => 0 }),
      emit: (_: 'debug', text: string) => debug.push(text),
    };

    const before = Date.now();
    postpone(c, e, unavailable(), context);
    const at = c.retry.get(e)!.at;
    assert.ok(at >= before + 500, 'not before half the first second (equal jitter)');
    assert.ok(at <= Date.now() + 500, 'not later than that');
    assert.deepEqual(debug, [
      'subscribing fvBD failed (HTTP 503 Service Unavailable); trying again in 500 ms',
    ]);

    postpone(c, e, unavailable(), context);
    assert.equal(failing.length, 0, 'two in a row: only debug');
    postpone(c, e, unavailable(), context);
    assert.equal(failing.length, 1);
    assert.equal(failing[0]!.code, 'APIC_SUBSCRIBE_FAILED');
    assert.equal(
      failing[0]!.message,
      'Subscribing fvBD failed 3 times in a row (HTTP 503 Service Unavailable); still trying.',
    );
    assert.deepEqual(failing[0]!.details, { entry: 'fvBD', status: 503 });
    postpone(c, e, unavailable(), context);
    assert.equal(failing.length, 1, 'once per streak');
    assert.equal(c.retry.get(e)!.failures, 4);
  });

  it('answers the message that asked, and passes over a node without handlers, when a streak is reported', () => {
    const context = { passingBackoff: () => passingBackoff(), emit: () => undefined };
    const noAnswer = new CodedError('APIC_SUBSCRIBE_FAILED', 'the answer had no subscriptionId');
    const bare = entryOf();
    const c = connection();
    for (let i = 0; i < 3; i++) postpone(c, bare, noAnswer, context);
    assert.equal(c.retry.get(bare)!.failures, 3);

    const failing: CodedError[] = [];
    const asked = entryOf({ failing: (error) => failing.push(error) });
    const answers: (CodedError | undefined)[] = [];
    asked.waiters.push((error) => answers.push(error));
    for (let i = 0; i < 3; i++) postpone(c, asked, noAnswer, context);
    assert.equal(answers.length, 1);
    assert.deepEqual(answers[0]!.details, { entry: 'fvBD', status: undefined });
    assert.equal(failing.length, 0, 'the message was answered instead');
    assert.equal(asked.recipient.entries.get('fvBD'), asked, 'the entry stays and is retried');
  });

  it('reports a refused entry to its node, or to the message that asked for it', () => {
    const badClass = new CodedError('APIC_HTTP_ERROR', 'unknown class fvBDD', { status: 400 });
    const refused: CodedError[] = [];
    const watched = entryOf({ refused: (error) => refused.push(error) });
    const c = connection();
    refuse(c, watched, badClass);
    assert.ok(c.refused.has(watched), 'not subscribed again on this connection');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.code, 'APIC_SUBSCRIBE_REFUSED');
    assert.equal(refused[0]!.message, 'The APIC refused the subscription to fvBD: unknown class fvBDD');
    assert.deepEqual(refused[0]!.details, { entry: 'fvBD', status: 400 });

    refuse(c, entryOf(), new CodedError('APIC_ENTRY_INVALID', 'no status'));

    // Asked for by a message: it fails; an entry it added (never read) goes, one that was read stays.
    for (const known of [undefined, knownStates([])]) {
      const asked = entryOf({ refused: (error) => refused.push(error) });
      asked.known = known;
      const answers: (CodedError | undefined)[] = [];
      asked.waiters.push((error) => answers.push(error));
      refuse(c, asked, badClass);
      assert.equal(answers[0]?.code, 'APIC_SUBSCRIBE_REFUSED');
      assert.equal(asked.recipient.entries.has('fvBD'), known !== undefined);
    }
    assert.equal(refused.length, 1, 'the messages were answered instead');
  });
});
