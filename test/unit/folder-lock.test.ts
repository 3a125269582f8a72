/**
 * The folder lock: who holds it, when a lock is stale, and what its owner hears
 * when another process took it over. (Two real processes: spool-log.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { FolderLock, thisProcess } from '../../nodes/common/folder-lock';
import { exitedPid, lockFolder, lockOptions } from '../support/lock-folder';
import { delay, waitFor } from '../support/wait';

const options = lockOptions;

describe('folder lock', () => {
  const folder = lockFolder();
  const { take, leave } = folder;
  const lockFiles = () =>
    fs
      .readdirSync(folder.dir())
      .filter((n) => n.startsWith('lock.'))
      .sort();

  it('names its owner, refuses a second taker in this process, and is free once released', async () => {
    const lock = await take();
    assert.deepEqual(lockFiles(), ['lock.1']);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(lock.file, 'utf8')),
      JSON.parse(JSON.stringify(thisProcess())),
    );
    await assert.rejects(FolderLock.take(folder.dir(), options), { code: 'TEST_LOCKED' });
    await lock.release();
    assert.deepEqual(lockFiles(), []);
    await take();
  });

  it('of two takers at once exactly one gets it', async () => {
    const results = await Promise.allSettled([
      FolderLock.take(folder.dir(), options),
      FolderLock.take(folder.dir(), options),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    folder.hold((won[0] as PromiseFulfilledResult<FolderLock>).value);
    assert.equal(
      (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code,
      'TEST_LOCKED',
    );
  });

  it('takes over at once a lock whose owner here no longer runs, or whose pid another process got since', async () => {
    const me = thisProcess();
    leave(4, { ...me, pid: exitedPid() });
    const first = await take();
    assert.equal(path.basename(first.file), 'lock.5', 'the next number; the stale lock is gone');
    assert.deepEqual(lockFiles(), ['lock.5']);
    await first.release();
    if (me.start === undefined) return; // no process start times on this system
    // The parent process runs, but it is not the process that wrote this lock: it started at another time.
    leave(7, { ...me, pid: process.ppid, start: 'not-when-it-started' });
    await take();
    assert.deepEqual(lockFiles(), ['lock.8']);
  });

  it('keeps a lock whose owner here still runs', async () => {
    const me = thisProcess();
    leave(1, { ...me, pid: process.ppid, start: undefined });
    await assert.rejects(FolderLock.take(folder.dir(), options), (err: CodedError) => {
      assert.match(err.message, new RegExp(`process ${process.ppid} on ${me.host}`));
      assert.deepEqual(err.details, { pid: process.ppid, host: me.host });
      return true;
    });
  });

  it('a lock from elsewhere is kept while its heartbeat moves, and taken over once it stood still', async () => {
    const elsewhere = { pid: 1, host: 'another-host' };
    leave(1, elsewhere);
    const file = path.join(folder.dir(), 'lock.1');
    const quick = { staleAfterMs: 300 };
    await assert.rejects(FolderLock.take(folder.dir(), { ...options, ...quick }), { code: 'TEST_LOCKED' });
    for (let i = 1; i <= 4; i++) {
      await delay(150);
      // Its owner touches it: still alive, however long this goes on.
      fs.utimesSync(file, new Date(), new Date(Date.now() + i * 1000));
      await assert.rejects(FolderLock.take(folder.dir(), { ...options, ...quick }), { code: 'TEST_LOCKED' });
    }
    await delay(400);
    const lock = await take(quick);
    assert.equal(path.basename(lock.file), 'lock.2');
  });

  it('a lock that cannot be read counts by its heartbeat too (a full disk may leave it empty)', async () => {
    fs.writeFileSync(path.join(folder.dir(), 'lock.3'), '');
    await assert.rejects(FolderLock.take(folder.dir(), { ...options, staleAfterMs: 200 }), {
      code: 'TEST_LOCKED',
    });
    await delay(300);
    await take({ staleAfterMs: 200 });
  });

  it('its owner hears at its next heartbeat that another process took it over, and beats while it holds it', async () => {
    const lost: CodedError[] = [];
    const lock = await take({ heartbeatMs: 50, onLost: (err) => lost.push(err) });
    const before = fs.statSync(lock.file).mtimeMs;
    await waitFor(() => fs.statSync(lock.file).mtimeMs > before, 'a heartbeat');
    assert.equal(lost.length, 0);
    leave(2, { pid: 1, host: 'the-one-that-took-over' });
    await waitFor(() => lost.length > 0, 'the loss');
    assert.equal(lost[0]!.code, 'TEST_LOCKED');
    await lock.release();
    assert.ok(fs.existsSync(path.join(folder.dir(), 'lock.2')), 'the new owner keeps its lock');
  });
});
