import assert from 'node:assert/strict';
import { StateKeeper, type KeptState } from '../../nodes/common/state-keeper';
import { waitFor } from '../support/wait';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** A store in memory that records what the keeper asks of it. */
class Recorded implements KeptState<string> {
  calls: string[] = [];
  /** The error the next saves return (undefined: they succeed). */
  failWith: Error | undefined;
  saved = 0;
  load(): string {
    this.calls.push('load');
    return 'what was saved';
  }
  save(): Error | undefined {
    this.saved++;
    this.calls.push('save');
    return this.failWith;
  }
  remove(): void {
    this.calls.push('remove');
  }
  close(): void {
    this.calls.push('close');
  }
}

/** A store whose write-ahead finishes when the test says so; like a log, a write takes what is queued when it begins. */
class WriteAhead extends Recorded {
  mustWrite = false;
  private finish: ((error?: Error) => void) | undefined;
  writeAhead(): Promise<Error | undefined> {
    this.calls.push('write');
    if (!this.mustWrite) return Promise.resolve(undefined);
    this.mustWrite = false;
    return new Promise((resolve) => {
      this.finish = (error) => {
        this.calls.push('written');
        resolve(error);
      };
    });
  }
  async written(error?: Error): Promise<void> {
    await waitFor(() => this.finish !== undefined, 'the write begun');
    const finish = this.finish!;
    this.finish = undefined;
    finish(error);
  }
}

const options = (warn: (m: string) => void, everyMs = 60_000) => ({
  firstRun: 'nothing',
  failure: 'Cannot keep it',
  warn,
  everyMs,
});

describe('the state keeper every node’s saved state shares', () => {
  it('restores a synchronous store at once, saves on its timer, and saves then closes the store at close', async () => {
    const store = new Recorded();
    const keeper = new StateKeeper(store, options(assert.fail, 10));
    assert.equal(keeper.restored, 'what was saved', 'restored before the constructor returns');
    await waitFor(() => store.saved >= 3, 'three timed saves');
    const before = store.saved;
    const closing = keeper.close(false);
    assert.equal(store.saved, before + 1, 'the last save done before close returns');
    await closing;
    assert.deepEqual(store.calls.slice(-2), ['save', 'close']);
  });

  it('restores an asynchronous store once ready; one that cannot be read is a first run, with a warning', async () => {
    const loaded = new StateKeeper(
      { load: async () => 'later', save: () => undefined, remove() {} },
      options(assert.fail),
    );
    assert.equal(loaded.restored, 'nothing');
    await loaded.ready;
    assert.equal(loaded.restored, 'later');
    const warnings: string[] = [];
    const torn = new StateKeeper(
      { load: () => Promise.reject(new Error('torn')), save: () => undefined, remove() {} },
      options((m) => warnings.push(m)),
    );
    await torn.ready;
    assert.equal(torn.restored, 'nothing');
    assert.deepEqual(warnings, ['Cannot keep it: torn']);
    await Promise.all([loaded.close(false), torn.close(false)]);
  });

  it('warns once per run of failed saves, and again after a success', async () => {
    const store = new Recorded();
    const warnings: string[] = [];
    const keeper = new StateKeeper(
      store,
      options((m) => warnings.push(m), 5),
    );
    const saves = async (n: number) => {
      const until = store.saved + n;
      await waitFor(() => store.saved >= until, `${n} saves`);
    };
    store.failWith = new Error('disk full');
    await saves(4);
    assert.deepEqual(warnings, ['Cannot keep it: disk full'], 'one warning for four failures');
    store.failWith = undefined;
    await saves(2);
    store.failWith = new Error('disk gone');
    await saves(3);
    assert.deepEqual(warnings, ['Cannot keep it: disk full', 'Cannot keep it: disk gone']);
    await keeper.close(true);
  });

  it('deletes the state with the node, before close returns, and writes nothing after', async () => {
    const store = new Recorded();
    const keeper = new StateKeeper(store, options(assert.fail, 5));
    void keeper.close(true);
    assert.equal(store.calls.at(-1), 'remove', 'removed before close returns');
    const calls = store.calls.length;
    await new Promise((r) => setTimeout(r, 50)); // ten timer periods
    assert.equal(store.calls.length, calls, `nothing after close: ${store.calls.slice(calls).join(', ')}`);
  });

  it('holds sends behind the write they need, in order, and sends at once when nothing needs writing', async () => {
    const store = new WriteAhead();
    const keeper = new StateKeeper(store, options(assert.fail));
    const sent: string[] = [];
    keeper.send(() => sent.push('free'));
    assert.deepEqual(sent, ['free'], 'nothing to write: sent at once');
    store.mustWrite = true;
    keeper.send(() => store.calls.push('first') && sent.push('first'));
    await turn(); // the write is under way
    keeper.send(() => sent.push('second')); // needs no write of its own, but must not overtake the first
    await turn(); // its own (empty) write is asked for while the first is under way
    assert.deepEqual(sent, ['free'], 'held until the write');
    await store.written();
    await waitFor(() => sent.length === 3, 'the sends after the write');
    assert.deepEqual(sent, ['free', 'first', 'second']);
    assert.ok(store.calls.indexOf('written') < store.calls.indexOf('first'), 'the write came first');
    await keeper.close(false);
  });

  it('sends even when the write fails (warning once), and close runs what waits, then nothing more is written', async () => {
    const store = new WriteAhead();
    const warnings: string[] = [];
    const keeper = new StateKeeper(
      store,
      options((m) => warnings.push(m)),
    );
    const sent: string[] = [];
    store.mustWrite = true;
    keeper.send(() => sent.push('a'));
    await store.written(new Error('no space'));
    await waitFor(() => sent.length === 1, 'sent despite the failed write');
    assert.deepEqual(warnings, ['Cannot keep it: no space']);
    store.mustWrite = true;
    keeper.send(() => sent.push('at close'));
    const closing = keeper.close(false);
    await store.written();
    await closing;
    assert.deepEqual(sent, ['a', 'at close']);
    assert.deepEqual(store.calls.slice(-2), ['save', 'close']);
    const calls = store.calls.length;
    store.mustWrite = true;
    keeper.send(() => sent.push('after close'));
    await turn();
    assert.equal(sent.at(-1), 'after close', 'a push after close still goes');
    assert.equal(store.calls.length, calls, 'and writes nothing');
  });
});
