/** A fresh folder per test for FolderLock tests: its locks released and the folder removed after each. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../nodes/common/errors';
import {
  FolderLock,
  type FolderLockOptions,
  type LockOwner,
  thisProcess,
} from '../../nodes/common/folder-lock';
import { rejectionOf } from './wait';

export const lockOptions: FolderLockOptions = { code: 'TEST_LOCKED', what: 'The test folder' };

export interface LockFolder {
  /** The current test's folder. */
  dir(): string;
  /** Takes the lock (released after the test). */
  take(more?: Partial<FolderLockOptions>): Promise<FolderLock>;
  /** Releases this lock after the test too. */
  hold(lock: FolderLock): FolderLock;
  /** Takes the lock where it must be refused: the refusal. */
  refused(more?: Partial<FolderLockOptions>): Promise<CodedError>;
  /** A lock file as another owner would leave it. */
  leave(gen: number, owner: object): void;
}

/** The pid of a process that has exited. */
export function exitedPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

/** Owners as this process judges them at once: one that still runs (the parent process), one that has exited. */
export const owners = {
  running: (): LockOwner => ({ ...thisProcess(), pid: process.ppid, start: undefined }),
  exited: (): LockOwner => ({ ...thisProcess(), pid: exitedPid() }),
};

/** Call inside a describe: registers the hooks. */
export function lockFolder(): LockFolder {
  let dir = '';
  const held: FolderLock[] = [];
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'))));
  afterEach(async () => {
    await Promise.all(held.splice(0).map((l) => l.release()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    take: async (more = {}) => {
      const lock = await FolderLock.take(dir, { ...lockOptions, ...more });
      held.push(lock);
      return lock;
    },
    hold: (lock) => {
      held.push(lock);
      return lock;
    },
    refused: (more = {}) =>
      rejectionOf(
        FolderLock.take(dir, { ...lockOptions, ...more }).then((lock) => held.push(lock)),
        'the lock to be refused',
      ),
    leave: (gen, owner) => fs.writeFileSync(path.join(dir, `lock.${gen}`), JSON.stringify(owner)),
  };
}
