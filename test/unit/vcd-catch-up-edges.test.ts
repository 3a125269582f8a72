import assert from 'node:assert/strict';
import { CLOCK_SLACK_MS } from '../../nodes/vcd/catch-up';
import { FILTER, at, auditTrail, record, recovery } from '../support/vcd-audit';

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

describe('missed VCD events: edges', () => {
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
