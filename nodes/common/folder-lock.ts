/**
 * An exclusive lock on a folder that one process at a time may write (a
 * spool): two processes on one folder (a double start, a rolling update on a
 * shared volume) would hand out the same sequence numbers and lose each
 * other's writes. The second is refused with a coded error.
 *
 * The lock is a file `lock.<n>` in the folder that names its owner: process id
 * and host name and, on Linux, the boot, the pid namespace and the process's
 * start time. It appears whole (written beside it, then hard-linked into place,
 * which fails when the name exists). A lock is stale once its owner is gone:
 *
 * - owner in this host's and this pid namespace's view: the process no longer
 *   runs, or its pid now belongs to a process started at another time (reused);
 *   decided at once;
 * - owner elsewhere (another host or container), or a lock that cannot be read:
 *   its owner touches it every `heartbeatMs`; once its time has not moved for
 *   `staleAfterMs`, as watched from here on this clock, it is stale.
 *
 * A stale lock is taken over by creating `lock.<n+1>`: of processes that judge
 * it stale at once, exactly one creates that name. The owner checks at each
 * heartbeat that its lock is still the newest and still its file; a process
 * frozen past `staleAfterMs` whose lock was taken over hears of it (`onLost`)
 * and must stop writing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CodedError } from './errors';
import { NO_FOLLOW } from './node-files';

const LOCK_NAME = /^lock\.(\d{1,15})$/;
const TEMP_NAME = /^lock\.\d+\.[0-9a-f]+\.tmp$/;

export interface LockOwner {
  pid: number;
  host: string;
  boot?: string;
  pidns?: string;
  /** When the process started, in clock ticks since boot (/proc/<pid>/stat). */
  start?: string;
}

export interface FolderLockOptions {
  /** The code of the error that says the folder is in use, or that the lock was lost. */
  code: string;
  /** What the folder is, for messages ("The spool folder"). */
  what: string;
  heartbeatMs?: number;
  staleAfterMs?: number;
  onLost?(err: CodedError): void;
}

/** Lock files this process holds: a second take in this process is refused like another's. */
const heldHere = new Set<string>();
/** Locks judged by their heartbeat: their file's time and inode, and since when (our clock) they have not moved. */
const watched = new Map<string, { mtimeMs: number; ino: number; since: number }>();

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time), counted after the command name, which may hold spaces. */
function startOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

let self: LockOwner | undefined;

/** Who this process is, in the terms a lock file names its owner. */
export function thisProcess(): LockOwner {
  if (!self) {
    let pidns: string | undefined;
    try {
      pidns = fs.readlinkSync('/proc/self/ns/pid');
    } catch {
      pidns = undefined;
    }
    self = {
      pid: process.pid,
      host: os.hostname(),
      boot: readText('/proc/sys/kernel/random/boot_id'),
      pidns,
      start: startOf(process.pid),
    };
  }
  return self;
}

function ownerFrom(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    const optional = (v: unknown) => v === undefined || typeof v === 'string';
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0 || typeof o.host !== 'string')
      return undefined;
    return optional(o.boot) && optional(o.pidns) && optional(o.start) ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** Is the owner's pid meaningful here: same host, same boot, same pid namespace? */
function sameProcessSpace(owner: LockOwner): boolean {
  const me = thisProcess();
  return owner.host === me.host && owner.boot === me.boot && owner.pidns === me.pidns;
}

/** Does the owner still run (its pid alive and, where the system says, started when the lock says)? */
function running(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = owner.start === undefined ? undefined : startOf(owner.pid);
  return start === undefined || start === owner.start;
}

/** The newest lock file in `dir`. */
async function newest(dir: string): Promise<{ gen: number; file: string } | undefined> {
  let top = 0;
  for (const name of await fsp.readdir(dir)) top = Math.max(top, Number(LOCK_NAME.exec(name)?.[1] ?? 0));
  return top > 0 ? { gen: top, file: path.join(dir, `lock.${top}`) } : undefined;
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | NO_FOLLOW);
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return ownerFrom(buf.subarray(0, bytesRead).toString('utf8'));
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** Has this lock's time stood still for `staleAfterMs` while we watched? */
function stoodStill(file: string, stat: fs.Stats, staleAfterMs: number): boolean {
  const seen = watched.get(file);
  if (!seen || seen.mtimeMs !== stat.mtimeMs || seen.ino !== stat.ino) {
    watched.set(file, { mtimeMs: stat.mtimeMs, ino: stat.ino, since: Date.now() });
    return false;
  }
  return Date.now() - seen.since >= staleAfterMs;
}

/** Whether the lock in `file` is stale, or its owner (when it can be read) if it is not. */
async function judge(
  file: string,
  staleAfterMs: number,
): Promise<{ stale: true } | { stale: false; owner?: LockOwner }> {
  const stat = await fsp.lstat(file).catch(() => undefined);
  if (!stat) return { stale: true };
  const owner = stat.isFile() ? await readOwner(file) : undefined;
  if (owner && sameProcessSpace(owner)) {
    const alive = owner.pid === process.pid ? heldHere.has(file) : running(owner);
    return alive ? { stale: false, owner } : { stale: true };
  }
  return stoodStill(file, stat, staleAfterMs) ? { stale: true } : { stale: false, owner };
}

function inUse(options: FolderLockOptions, file: string, owner?: LockOwner): CodedError {
  const who = owner
    ? `process ${owner.pid} on ${owner.host}${owner.pid === process.pid && sameProcessSpace(owner) ? ' (this one)' : ''}`
    : 'another process';
  return new CodedError(
    options.code,
    `${options.what} is in use by ${who}: one process at a time may write it. It is free once that process ` +
      `stops (a lock left by a crash on another host or container is taken over after it stood still for ` +
      `${Math.round((options.staleAfterMs ?? 60_000) / 1000)} s; ${file} is the lock).`,
    owner ? { pid: owner.pid, host: owner.host } : undefined,
  );
}

export class FolderLock {
  private timer?: NodeJS.Timeout;
  private beating = false;
  private lost = false;
  private released = false;

  private constructor(
    private readonly dir: string,
    private readonly gen: number,
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly ino: number,
    private readonly options: FolderLockOptions,
  ) {}

  /** Takes the lock on `dir` (which must exist), or throws a CodedError (`options.code`) naming who holds it. */
  static async take(folder: string, options: FolderLockOptions): Promise<FolderLock> {
    // One name per folder, however it was reached: this process's own locks are found by it.
    const dir = await fsp.realpath(folder);
    const staleAfterMs = options.staleAfterMs ?? 60_000;
    // Each round either finds a live owner (refused) or creates the next name; losing that race goes round again.
    for (let round = 0; round < 8; round++) {
      const top = await newest(dir);
      if (top) {
        const verdict = await judge(top.file, staleAfterMs);
        if (!verdict.stale) throw inUse(options, top.file, verdict.owner);
      }
      const lock = await FolderLock.create(dir, (top?.gen ?? 0) + 1, options);
      if (top) watched.delete(top.file);
      if (lock) return lock;
    }
    throw inUse(options, path.join(dir, 'lock.*'));
  }

  /** Creates `lock.<gen>` whole, or undefined when another process created it first. */
  private static async create(
    dir: string,
    gen: number,
    options: FolderLockOptions,
  ): Promise<FolderLock | undefined> {
    const file = path.join(dir, `lock.${gen}`);
    // Held here from the start: another take in this process meanwhile must not judge it stale.
    if (heldHere.has(file)) return undefined;
    heldHere.add(file);
    let lock: FolderLock | undefined;
    try {
      lock = await FolderLock.link(dir, gen, file, options);
    } finally {
      if (!lock) heldHere.delete(file);
    }
    if (!lock) return undefined;
    if ((await newest(dir))?.gen !== gen) {
      await lock.release();
      return undefined;
    }
    await lock.removeOthers();
    lock.timer = setInterval(() => {
      lock.beat().catch(() => undefined);
    }, options.heartbeatMs ?? 10_000);
    lock.timer.unref();
    return lock;
  }

  /** Writes the owner beside `file` and links it into place: undefined when the name exists already. */
  private static async link(
    dir: string,
    gen: number,
    file: string,
    options: FolderLockOptions,
  ): Promise<FolderLock | undefined> {
    const temp = path.join(dir, `lock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const { O_WRONLY, O_CREAT, O_EXCL, O_RDONLY } = fs.constants;
    const draft = await fsp.open(temp, O_WRONLY | O_CREAT | O_EXCL | NO_FOLLOW, 0o600);
    // On a full disk the owner may not be written: the lock then counts by its heartbeat alone.
    await draft.write(JSON.stringify(thisProcess())).catch(() => undefined);
    await draft.close();
    try {
      await fsp.link(temp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') return undefined;
      throw err;
    } finally {
      await fsp.rm(temp, { force: true });
    }
    // Gone already: another process judged it stale in between and took over; the take looks again.
    const handle = await fsp.open(file, O_RDONLY | NO_FOLLOW).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return handle && new FolderLock(dir, gen, file, handle, (await handle.stat()).ino, options);
  }

  /** Lets the folder go: the lock file is removed if it is still this one's file. */
  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    heldHere.delete(this.file);
    const stat = await fsp.lstat(this.file).catch(() => undefined);
    if (stat?.ino === this.ino) await fsp.rm(this.file, { force: true });
    await this.handle.close().catch(() => undefined);
  }

  /** Older locks (stale, or this process's own from a failed start) and drafts left by a crash. */
  private async removeOthers(): Promise<void> {
    for (const name of await fsp.readdir(this.dir)) {
      const gen = Number(LOCK_NAME.exec(name)?.[1] ?? NaN);
      if (gen < this.gen || TEMP_NAME.test(name)) await fsp.rm(path.join(this.dir, name), { force: true });
    }
  }

  private async stillMine(): Promise<boolean> {
    const stat = await fsp.lstat(this.file).catch(() => undefined);
    return stat?.ino === this.ino && (await newest(this.dir).catch(() => undefined))?.gen === this.gen;
  }

  /** Touches the lock (what a process elsewhere watches) and checks that it is still this one's. */
  private async beat(): Promise<void> {
    if (this.beating || this.lost) return;
    this.beating = true;
    try {
      const now = new Date();
      await this.handle.utimes(now, now).catch(() => undefined);
      if ((await this.stillMine()) || this.released) return;
      this.lost = true;
      clearInterval(this.timer);
      heldHere.delete(this.file);
      this.options.onLost?.(
        new CodedError(
          this.options.code,
          `${this.options.what} was taken over by another process while this one did not answer (${this.file}): nothing more is written to it.`,
        ),
      );
    } finally {
      this.beating = false;
    }
  }
}
