/**
 * The folder lock's races with other processes, played on the real disk
 * between two steps of a take or a heartbeat (the faulty disk's hooks): what
 * other takers do while this one links its lock, a lock released while it is
 * looked at, a heartbeat slower than its interval. (Two real processes:
 * spool-log.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import type { LockOwner } from '../../nodes/common/folder-lock';
import { FaultyDisk } from '../support/faulty-disk';
import { lockFolder, owners } from '../support/lock-folder';
import { delay, waitFor } from '../support/wait';

const writeOwner = (file: string, owner: object) => fs.writeFileSync(file, JSON.stringify(owner));
const heldBy = (owner: LockOwner) => ({ pid: owner.pid, host: owner.host });

describe('folder lock: races with other processes', () => {
  const folder = lockFolder();
  const { take, refused } = folder;
  const disk = new FaultyDisk();
  /** What other takers do just before each link of this process's lock, one per link. */
  let others: ((lock: string, draft: string) => void)[] = [];
  beforeEach(async () => {
    others = [];
    (await disk.install()).before('link', (draft: string, lock: string) => others.shift()?.(lock, draft));
  });
  afterEach(() => disk.restore());
  const files = () =>
    fs.readdirSync(folder.dir()).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

  it('goes round again when its new lock is removed between its link and its open, and takes the folder', async () => {
    let justLinked: string | undefined;
    others = [(lock) => (justLinked = lock)];
    disk.before('open', (file: string) => {
      if (file !== justLinked) return;
      justLinked = undefined;
      fs.rmSync(file); // another process judged it and took over in between
    });
    const lock = await take();
    assert.equal(fs.existsSync(lock.file), true);
    assert.deepEqual(files(), [path.basename(lock.file)]);
  });

  it('gives up when eight takers in a row won the name it tried, and wins the eighth name after seven', async () => {
    const exited = owners.exited();
    const winsAndDies = (lock: string) => writeOwner(lock, exited);
    others = Array(8).fill(winsAndDies);
    const err = await refused();
    assert.equal(err.code, 'TEST_LOCKED');
    assert.ok(
      err.message.includes(`${path.join(fs.realpathSync(folder.dir()), 'lock.*')} is the lock`),
      err.message,
    );
    assert.deepEqual(files(), [
      'lock.1',
      'lock.2',
      'lock.3',
      'lock.4',
      'lock.5',
      'lock.6',
      'lock.7',
      'lock.8',
    ]);
    others = Array(7).fill(winsAndDies);
    const lock = await take();
    assert.equal(path.basename(lock.file), 'lock.16');
    assert.deepEqual(files(), ['lock.16'], 'the stale locks are gone, no draft is left');
  });

  it('is refused, naming the winner, when another taker won the same name first, whether or not it cleared our draft', async () => {
    const winner = owners.running();
    for (const clearsDraft of [false, true]) {
      others = [
        (lock, draft) => {
          writeOwner(lock, winner);
          // A winner removes the drafts it finds, as a crash's leftovers: this link then finds no draft.
          if (clearsDraft) fs.rmSync(draft);
        },
      ];
      const err = await refused();
      assert.equal(err.code, 'TEST_LOCKED', `clears the draft: ${clearsDraft}`);
      assert.deepEqual(err.details, heldBy(winner));
      assert.deepEqual(files(), ['lock.1']);
      const kept = fs.readFileSync(path.join(folder.dir(), 'lock.1'), 'utf8');
      assert.equal(kept, JSON.stringify(winner), 'its lock untouched');
      fs.rmSync(path.join(folder.dir(), 'lock.1'));
    }
  });

  it('lets its lock go when a newer one appeared while it linked it, and is refused naming that owner', async () => {
    const winner = owners.running();
    // Another taker judged the name this one is linking stale and took the next.
    others = [(lock) => writeOwner(path.join(path.dirname(lock), 'lock.2'), winner)];
    const err = await refused();
    assert.deepEqual(err.details, heldBy(winner));
    assert.deepEqual(files(), ['lock.2']);
  });

  it('tells a disk that fails the link as it is, not as a lock held by another, and leaves no draft', async () => {
    others = [
      () => {
        throw Object.assign(new Error('EIO: i/o error, link'), { code: 'EIO', errno: -5, syscall: 'link' });
      },
    ];
    await assert.rejects(take(), { code: 'EIO' });
    assert.deepEqual(files(), []);
  });

  it('takes the folder when the lock it found is released before it looks at it', async () => {
    folder.leave(1, owners.running());
    const found = path.join(fs.realpathSync(folder.dir()), 'lock.1');
    disk.before('lstat', (file: string) => file === found && fs.rmSync(found, { force: true }));
    const lock = await take();
    assert.equal(path.basename(lock.file), 'lock.2');
    assert.deepEqual(files(), ['lock.2']);
  });

  it('is refused as by another process, not a crash, when the lock it found is released before it reads it', async () => {
    folder.leave(1, owners.running());
    const found = path.join(fs.realpathSync(folder.dir()), 'lock.1');
    let released = false;
    disk.before('open', (file: string) => {
      if (file === found && !released) fs.rmSync(found);
      released ||= file === found;
    });
    const err = await refused();
    assert.equal(err.code, 'TEST_LOCKED');
    assert.match(err.message, /in use by another process: /);
    assert.equal(path.basename((await take()).file), 'lock.1', 'free at the next take');
  });

  it('takes the folder again when its new lock was cleared before it checked it (a taker that came and went)', async () => {
    let lists = 0;
    disk.before('readdir', (dir: string) => {
      // The second listing checks the lock just linked: another taker cleared it and let go meanwhile.
      if (++lists === 2) fs.rmSync(path.join(dir, 'lock.1'));
    });
    const lock = await take();
    assert.equal(path.basename(lock.file), 'lock.1');
    assert.deepEqual(files(), ['lock.1']);
  });

  it('hears of no loss when it lets go during a heartbeat', async () => {
    const lost: CodedError[] = [];
    const lock = await take({ heartbeatMs: 20, onLost: (err) => lost.push(err) });
    let looks = 0;
    disk.before('lstat', (file: string) => file === lock.file && looks++);
    disk.before('handle.utimes', () => (looks === 0 ? lock.release() : undefined));
    // The release looks at its file once, the heartbeat once after it.
    await waitFor(() => looks >= 2, 'the heartbeat after the release');
    await delay(50);
    assert.deepEqual(lost, []);
  });

  it('watches a lock put in place anew as new, even with the time of the one it replaced (whole seconds)', async () => {
    const file = path.join(folder.dir(), 'lock.1');
    const second = Math.floor(Date.now() / 1000);
    const putInPlace = (pid: number) => {
      writeOwner(`${file}.new`, { pid, host: 'another-host' });
      fs.utimesSync(`${file}.new`, second, second);
      fs.renameSync(`${file}.new`, file);
    };
    const quick = { staleAfterMs: 200 };
    putInPlace(1);
    assert.equal((await refused(quick)).code, 'TEST_LOCKED');
    await delay(300);
    putInPlace(2);
    assert.deepEqual((await refused(quick)).details, { pid: 2, host: 'another-host' });
    await delay(300);
    assert.equal(path.basename((await take(quick)).file), 'lock.2', 'once it too stood still');
  });

  it('tells the loss of its lock once when its heartbeats overlap, on a disk slower than their interval', async () => {
    const lost: CodedError[] = [];
    const lock = await take({ heartbeatMs: 20, onLost: (err) => lost.push(err) });
    let answer: () => void = () => undefined;
    const slowDisk = new Promise<void>((resolve) => (answer = resolve));
    let touches = 0;
    disk.before('handle.utimes', async () => {
      touches++;
      await slowDisk;
    });
    await waitFor(() => touches > 0, 'a heartbeat on the slow disk');
    fs.rmSync(lock.file);
    await delay(300); // fifteen intervals while the disk does not answer
    answer();
    // Every heartbeat that touched the lock hears of the loss: wait for them all.
    await waitFor(() => lost.length >= touches, 'the end of each heartbeat');
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.code, 'TEST_LOCKED');
  });
});
