/** A fresh folder per test for FolderLock tests: its locks released and the folder removed after each. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FolderLock, type FolderLockOptions } from '../../nodes/common/folder-lock';

export const lockOptions: FolderLockOptions = { code: 'TEST_LOCKED', what: 'The test folder' };

export interface LockFolder {
  /** The current test's folder. */
  dir(): string;
  /** Takes the lock (released after the test). */
  take(more?: Partial<FolderLockOptions>): Promise<FolderLock>;
  /** Releases this lock after the test too. */
  hold(lock: FolderLock): FolderLock;
  /** A lock file as another owner would leave it. */
  leave(gen: number, owner: object): void;
}

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
    leave: (gen, owner) => fs.writeFileSync(path.join(dir, `lock.${gen}`), JSON.stringify(owner)),
  };
}
