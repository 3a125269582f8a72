import assert from 'node:assert/strict';
import { mock } from 'node:test';
import type { CodedError } from '../../nodes/common/errors';
import { CLOCK_SLACK_MS, MissedEvents } from '../../nodes/vcd/catch-up';
import { FILTER, at, auditTrail, record, recovery } from '../support/vcd-audit';
import { waitFor } from '../support/wait';

const T0 = Date.parse(at(0));
const sinceOf = (path: string | undefined) =>
  /timestamp=ge=(.+)/.exec(new URL(path!, 'https://vcd').searchParams.get('filter') ?? '')?.[1];

/** A trail that answers the start with `newest` and every recovery with `values` (one page). */
function fixedTrail(newest: unknown, values: unknown) {
  const paths: string[] = [];
  let hold: Promise<void> | undefined;
  const request = async (_method: 'GET', path: string) => {
    paths.push(path);
    if (path.includes('sortDesc')) return newest;
    await hold;
    return { resultTotal: 1, pageCount: 1, values };
  };
  return {
    request,
    paths,
    /** Makes the next recovery answer wait until the returned function is called. */
    holdNext(): () => void {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return release;
    },
  };
}

/**
 * The fake trail, with its answers held while `hold` is pending (each computed when asked, as VCD does),
 * and the most requests it ever had under way at once.
 */
function heldTrail(records: ReturnType<typeof record>[]) {
  const trail = auditTrail(records);
  let inFlight = 0;
  const state = { hold: undefined as Promise<void> | undefined, most: 0 };
  const request = async (method: 'GET', path: string) => {
    const answer = trail.request(method, path);
    state.most = Math.max(state.most, ++inFlight);
    try {
      await state.hold;
      await new Promise((r) => setImmediate(r)); // an answer comes over the network, never in the same turn
      return await answer;
    } finally {
      inFlight--;
    }
  };
  return { request, paths: trail.paths, state };
}

/** Holds the trail's answers until the returned function is called. */
function hold(state: { hold: Promise<void> | undefined }): () => void {
  let release!: () => void;
  state.hold = new Promise((r) => (release = r));
  return release;
}

describe('missed VCD events: edges', () => {
  it('a record with no operatingOrg or user key at all is still an event', async () => {
    const { operatingOrg: _org, user: _user, ...bare } = record(2);
    const trail = fixedTrail({ values: [record(1)] }, [bare]);
    const { missed, delivered, errors } = recovery(trail);
    await missed.granted('#');
    missed.disconnected();
    await missed.granted('#');
    assert.deepEqual(delivered, ['e2']);
    assert.deepEqual(errors, []);
  });

  it('a reconnect during a recovery reads what was missed meanwhile after it, one read at a time', async () => {
    const records = [record(1)];
    const trail = heldTrail(records);
    const { missed, delivered, errors } = recovery(trail);
    await missed.granted(FILTER);
    missed.disconnected();
    records.push(record(2));
    const release = hold(trail.state);
    const first = missed.granted(FILTER); // its only page ([e1 e2]) is read now, and answered later
    missed.disconnected();
    records.push(record(3)); // published while away again, after that page was read
    const second = missed.granted(FILTER);
    release();
    await Promise.all([first, second]);
    await waitFor(() => delivered.includes('e3'), 'e3, read by a recovery after the first', 2000);
    assert.deepEqual(delivered, ['e2', 'e3'], 'each once, in order');
    assert.equal(trail.state.most, 1, 'never two reads of the trail at once');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(trail.paths.length, 3, 'the newest record, then one page per recovery, and no more reads');
    assert.deepEqual(errors, []);
    missed.close();
  });

  it('a recovery read to its end leaves nothing pending: the next reconnect reads from the newest event', async () => {
    const records = [record(1)];
    const trail = auditTrail(records);
    // Remembering one id, as after more live events than it keeps: a read from further back sends doubles.
    const { missed, delivered, errors } = recovery(trail, { remember: 1 });
    await missed.granted(FILTER);
    missed.disconnected();
    records.push(record(2));
    await missed.granted(FILTER);
    records.push(record(3));
    assert.equal(missed.seen('e3', at(3)), true, 'e3 arrives live');
    assert.equal(missed.resumePoint(), Date.parse(at(3)), 'a restart resumes after the live event');
    missed.disconnected();
    await missed.granted(FILTER);
    assert.equal(sinceOf(trail.paths.at(-1)), at(3));
    assert.deepEqual(delivered, ['e2'], 'e2 once, e3 not again');
    assert.deepEqual(errors, []);
  });

  it('a reconnect before the first read answered has nothing to read yet, and fails nothing', async () => {
    const records = [record(1)];
    const trail = heldTrail(records);
    const { missed, delivered, errors } = recovery(trail);
    const release = hold(trail.state);
    const first = missed.granted(FILTER);
    const second = missed.granted(FILTER);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(errors, [], 'nothing was missed yet: no time to read from');
    assert.equal(missed.resumePoint(), Date.parse(at(1)));
    records.push(record(2));
    missed.disconnected();
    await missed.granted(FILTER);
    assert.deepEqual(delivered, ['e2']);
  });

  it('tells a pause again in a later recovery once the one before was over', async () => {
    const records = [record(1)];
    let short = true;
    const { missed, delivered, errors } = recovery(auditTrail(records), { memoryShort: () => short });
    await missed.granted(FILTER);
    for (let n = 2; n <= 6; n++) records.push(record(n));
    missed.disconnected();
    await missed.granted(FILTER); // [e1 e2], then paused
    assert.deepEqual(
      errors.map((e) => e.code),
      ['VCD_CATCHUP_PAUSED'],
    );
    short = false;
    await waitFor(() => delivered.length === 5, 'the rest of the first recovery', 2000);
    for (let n = 7; n <= 11; n++) records.push(record(n));
    short = true;
    missed.disconnected();
    await missed.granted(FILTER);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['VCD_CATCHUP_PAUSED', 'VCD_CATCHUP_PAUSED'],
      'the second recovery paused too, and says so',
    );
    missed.close();
  });

  it('an answer that is null ends the recovery with nothing read, and no failure', async () => {
    const request = (_method: 'GET', path: string) =>
      Promise.resolve(path.includes('sortDesc') ? { values: [record(1)] } : null);
    const { missed, delivered, errors, progress } = recovery({ request });
    await missed.granted(FILTER);
    missed.disconnected();
    await missed.granted(FILTER);
    assert.deepEqual(errors, []);
    assert.deepEqual(delivered, []);
    assert.deepEqual(progress, [{ read: 0, total: undefined }, undefined]);
  });

  it('a skipped record does not count as sent in what a pause reports', async () => {
    const records = [record(1)];
    const { missed, delivered, errors } = recovery(auditTrail(records), {
      pageSize: 3,
      memoryShort: () => true,
    });
    await missed.granted(FILTER);
    records.push({ ...record(2), eventId: 'urn:vcloud:audit:e 2' }, record(3), record(4));
    missed.disconnected();
    await missed.granted(FILTER); // [e1 (a double), e 2 (skipped), e3], then paused
    missed.close();
    assert.deepEqual(delivered, ['e3']);
    const paused = errors.find((e) => e.code === 'VCD_CATCHUP_PAUSED');
    assert.deepEqual(paused?.details, { sent: 1, left: 1 });
  });

  it('a record without a time, then a failed page: the retry reads from the last time read', async () => {
    const { timestamp: _time, ...timeless } = record(3);
    let failing = true;
    const paths: string[] = [];
    const request = (_method: 'GET', path: string): Promise<unknown> => {
      paths.push(path);
      if (path.includes('sortDesc')) return Promise.resolve({ values: [record(1)] });
      if (!path.includes('page=2&')) return Promise.resolve({ pageCount: 2, values: [record(2), timeless] });
      if (failing) {
        failing = false;
        return Promise.reject(new Error('GET auditTrail answered 503'));
      }
      return Promise.resolve({ pageCount: 2, values: [record(4)] });
    };
    const { missed, delivered, errors } = recovery({ request });
    await missed.granted(FILTER);
    missed.disconnected();
    await missed.granted(FILTER);
    await waitFor(() => delivered.includes('e4'), 'e4, after the retry', 2000);
    missed.close();
    assert.deepEqual(delivered, ['e2', 'e4']);
    assert.equal(sinceOf(paths.at(-2)), at(2), 'the retry starts at e2, the last record with a time');
    assert.deepEqual(
      errors.map((e) => e.code),
      ['VCD_CATCHUP_BAD_RECORD', 'VCD_CATCHUP_FAILED', 'VCD_CATCHUP_BAD_RECORD'],
    );
  });

  it('retries a failed recovery 15 to 30 s after it failed, by default', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let asked = 0;
      const request = (_method: 'GET', path: string): Promise<unknown> => {
        if (path.includes('sortDesc')) return Promise.resolve({ values: [record(1)] });
        asked++;
        return Promise.reject(new Error('GET auditTrail answered 503'));
      };
      const errors: CodedError[] = [];
      const missed = new MissedEvents(request, { deliver: () => undefined, failed: (e) => errors.push(e) });
      await missed.granted(FILTER);
      missed.disconnected();
      await missed.granted(FILTER);
      assert.equal(asked, 1);
      const settle = () => new Promise((r) => setImmediate(r));
      mock.timers.tick(14_999);
      await settle();
      assert.equal(asked, 1, 'not before 15 s');
      mock.timers.tick(15_001);
      await settle();
      assert.equal(asked, 2, 'by 30 s');
      missed.close();
    } finally {
      mock.timers.reset();
    }
  });

  it('skips what is not a record, ids that are not strings and event ids with other characters', async () => {
    const noOrg = { ...record(2), eventId: 'urn:vcloud:audit:e2', operatingOrg: null };
    const spaced = { ...record(3), eventId: 'urn:vcloud:audit:e 3' };
    const numberId = { ...record(4), eventEntity: { name: 'vm', id: 4 } };
    const noEntityId = { ...record(6), eventEntity: { name: 'vm-6' } };
    const trail = fixedTrail({ values: [record(1)] }, [null, noOrg, spaced, numberId, record(5), noEntityId]);
    const { missed, delivered, errors } = recovery(trail);
    await missed.granted('#');
    missed.disconnected();
    await missed.granted('#');
    assert.deepEqual(delivered, ['e2', 'e5', 'e6'], 'no org or no entity id is still an event');
    assert.deepEqual(
      errors.map((e) => e.code),
      ['VCD_CATCHUP_BAD_RECORD', 'VCD_CATCHUP_BAD_RECORD', 'VCD_CATCHUP_BAD_RECORD'],
    );
  });

  it('an answer whose values are no list fails the recovery, naming it, and sends nothing', async () => {
    const trail = fixedTrail({ values: [record(1)] }, 'e2 e3');
    const { missed, delivered, errors } = recovery(trail, { retry: { initialMs: 60_000 } });
    await missed.granted(FILTER);
    missed.disconnected();
    await missed.granted(FILTER);
    missed.close();
    assert.deepEqual(delivered, []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'VCD_CATCHUP_FAILED');
    assert.match(errors[0]!.message, /no list of records \("values"\)/);
  });

  it('an empty trail or an answer without records starts at VCD time, with no failure', async () => {
    for (const empty of [{}, { values: [] }, null]) {
      const trail = fixedTrail(empty, []);
      const { missed, errors } = recovery(trail, { vcdNow: () => T0 });
      await missed.granted(FILTER);
      assert.deepEqual(errors, [], JSON.stringify(empty));
      assert.equal(missed.resumePoint(), T0);
    }
  });

  it('live events without an id are each delivered', () => {
    const { missed } = recovery(auditTrail([]));
    for (const id of [undefined, '', undefined, '']) assert.equal(missed.seen(id, at(1)), true);
    assert.equal(missed.seen(7, at(1)), true);
    assert.equal(missed.seen(7, at(1)), true, 'an id that is no string is no key');
  });

  it('the mark follows the newest live event up to VCD time plus the slack, never back', async () => {
    const trail = fixedTrail({ values: [record(0)] }, []);
    const { missed } = recovery(trail, { vcdNow: () => T0 });
    await missed.granted(FILTER);
    missed.seen('a', new Date(T0 + CLOCK_SLACK_MS + 1).toISOString());
    assert.equal(missed.resumePoint(), T0, 'beyond the slack: ignored');
    missed.seen('b', new Date(T0 + CLOCK_SLACK_MS).toISOString());
    assert.equal(missed.resumePoint(), T0 + CLOCK_SLACK_MS, 'at the slack: taken');
    missed.seen('c', at(0));
    assert.equal(missed.resumePoint(), T0 + CLOCK_SLACK_MS, 'an older event does not move it back');
    missed.disconnected();
    await missed.granted(FILTER);
    assert.equal(sinceOf(trail.paths.at(-1)), new Date(T0 + CLOCK_SLACK_MS).toISOString());
  });

  it('drops as doubles the last `remember` ids, and no more', async () => {
    for (const [remember, expected] of [
      [3, []],
      // e2 forgotten and sent again; remembering it forgets e3, and so on.
      [2, ['e2', 'e3', 'e4']],
    ] as const) {
      const records = [record(1)];
      const { missed, delivered } = recovery(auditTrail(records), { remember });
      await missed.granted(FILTER);
      missed.disconnected();
      records.push(record(2), record(3), record(4));
      for (const n of [2, 3, 4]) missed.seen(`e${n}`, at(1)); // live, while the mark stays at e1
      await missed.granted(FILTER);
      assert.deepEqual(delivered, expected, `remembering ${remember}`);
    }
  });

  it('a closed recovery reads and sends nothing more', async () => {
    const trail = fixedTrail({ values: [record(1)] }, [record(2), record(3)]);
    const { missed, delivered } = recovery(trail);
    await missed.granted(FILTER);
    missed.disconnected();
    const release = trail.holdNext();
    const running = missed.granted(FILTER);
    missed.close();
    release();
    await running;
    assert.deepEqual(delivered, [], 'an answer that came after the close');
    const asked = trail.paths.length;
    await missed.granted(FILTER);
    assert.equal(trail.paths.length, asked, 'no request after the close');
  });
});
