import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import { type LockOwner, thisProcess } from '../../nodes/common/folder-lock';
import { exitedPid, lockFolder } from '../support/lock-folder';
import { waitFor } from '../support/wait';

const openFiles = () => fs.readdirSync('/proc/self/fd').length;

/** `thisProcess()` of a fresh copy of the module: the copy every test shares filled its cache long ago. */
function freshThisProcess(): LockOwner {
  const id = require.resolve('../../nodes/common/folder-lock');
  const shared = require.cache[id];
  delete require.cache[id];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(id) as { thisProcess: () => LockOwner }).thisProcess();
  } finally {
    require.cache[id] = shared;
  }
}

describe('folder lock: edges', () => {
  const folder = lockFolder();
  const { take, leave, refused: refusal } = folder;

  it('names its owner on Linux by boot, pid namespace and start time, as /proc tells them', function () {
    if (process.platform !== 'linux') this.skip();
    const me = freshThisProcess();
    assert.deepEqual(thisProcess(), me, 'the same, asked again');
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // Field 22, counted after the command name in parentheses.
    assert.equal(me.start, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    assert.equal(me.boot, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.equal(me.pidns, fs.readlinkSync('/proc/self/ns/pid'));
    assert.equal(me.pid, process.pid);
  });

  it("judges a dead pid only in this host's boot and pid namespace; elsewhere the lock counts by its heartbeat", async () => {
    const me = thisProcess();
    const pid = exitedPid();
    for (const other of [{ host: 'another-host' }, { boot: 'another-boot' }, { pidns: 'pid:[1]' }]) {
      leave(1, { ...me, pid, ...other });
      const err = await refusal();
      assert.equal(err.code, 'TEST_LOCKED', JSON.stringify(other));
      assert.doesNotMatch(err.message, /this one/);
    }
  });

  it('names who holds it: a process elsewhere, this one, or another process when the lock cannot be read', async () => {
    leave(1, { pid: 1, host: 'another-host' });
    const elsewhere = await refusal({ staleAfterMs: 90_000 });
    assert.match(elsewhere.message, /in use by process 1 on another-host: .* stood still for 90 s; /);
    assert.deepEqual(elsewhere.details, { pid: 1, host: 'another-host' });
    fs.rmSync(path.join(folder.dir(), 'lock.1'));
    const held = await take();
    const mine = await refusal();
    assert.match(mine.message, new RegExp(`process ${process.pid} on ${os.hostname()} \\(this one\\)`));
    assert.match(mine.message, /stood still for 60 s; /, 'the default');
    await held.release();
    fs.writeFileSync(path.join(folder.dir(), 'lock.4'), '');
    const unreadable = await refusal();
    assert.match(unreadable.message, /^The test folder is in use by another process: /);
    assert.equal(unreadable.details, undefined);
    fs.rmSync(path.join(folder.dir(), 'lock.4'));
    leave(5, { ...thisProcess(), pid: process.ppid, start: undefined });
    assert.match((await refusal()).message, new RegExp(`in use by process ${process.ppid} on [^ ]+: `));
  });

  it('reads an owner only when each field has its type: a lock naming another counts by its heartbeat', async () => {
    const me = thisProcess();
    const pid = exitedPid();
    const malformed = [{ pid: 0 }, { pid: -5 }, { pid: 1.5 }, { pid: String(pid) }, { host: 5 }, { boot: 5 }];
    for (const wrong of [...malformed, { pidns: 5 }, { start: 5 }]) {
      leave(1, { ...me, pid, ...wrong });
      const err = await refusal();
      assert.match(err.message, /^The test folder is in use by another process: /, JSON.stringify(wrong));
      assert.equal(err.details, undefined);
      fs.rmSync(path.join(folder.dir(), 'lock.1'));
    }
  });

  it('keeps a lock whose owner runs as another user, who may not be signalled (pid 1 when not root)', async function () {
    if (process.platform !== 'linux') this.skip();
    const stat = fs.readFileSync('/proc/1/stat', 'utf8');
    leave(1, { ...thisProcess(), pid: 1, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] });
    assert.match((await refusal()).message, /in use by process 1 on /);
  });

  it('takes over at once a lock naming this process that it does not hold (left by a start that failed)', async () => {
    leave(1, thisProcess());
    assert.equal(path.basename((await take()).file), 'lock.2');
    assert.deepEqual(fs.readdirSync(folder.dir()), ['lock.2']);
  });

  it('leaves a lock that replaced its own in place when it lets go', async () => {
    const lock = await take();
    const other = JSON.stringify({ pid: 1, host: 'another-host' });
    fs.rmSync(lock.file);
    fs.writeFileSync(lock.file, other);
    await lock.release();
    assert.equal(fs.readFileSync(lock.file, 'utf8'), other);
  });

  it('keeps a still lock from elsewhere until staleAfterMs has passed since it was first seen', async () => {
    leave(1, { pid: 1, host: 'another-host' });
    const before = openFiles();
    for (let i = 0; i < 10; i++) assert.equal((await refusal({ staleAfterMs: 60_000 })).code, 'TEST_LOCKED');
    assert.equal(openFiles(), before, 'each look closes the lock file');
  });

  it('its owner keeps beating while it holds the lock, and hears when its file was removed or replaced', async () => {
    for (const loseIt of [
      (file: string) => fs.rmSync(file),
      (file: string) => {
        fs.rmSync(file);
        fs.writeFileSync(file, JSON.stringify(thisProcess()));
      },
    ]) {
      const lost: CodedError[] = [];
      const lock = await take({ heartbeatMs: 40, onLost: (err) => lost.push(err) });
      for (let beats = 0; beats < 3; beats++) {
        const before = fs.statSync(lock.file).mtimeMs;
        await waitFor(() => fs.statSync(lock.file).mtimeMs > before, `heartbeat ${beats + 1}`);
      }
      assert.equal(lost.length, 0, 'held all along');
      loseIt(lock.file);
      await waitFor(() => lost.length > 0, 'the loss');
      assert.equal(lost[0]!.code, 'TEST_LOCKED');
      await lock.release();
      fs.rmSync(lock.file, { force: true });
    }
  });
});
