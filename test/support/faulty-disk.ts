/**
 * A disk that misbehaves on demand, in the real fs layer the code uses: the
 * FileHandle methods of node:fs/promises and fs.writeSync are wrapped while a
 * test runs, so writes can fail as on a full disk (ENOSPC), come back short
 * (fewer bytes written than asked, as a write may), or call a hook first.
 * `before()` puts a hook before any other function of node:fs/promises or
 * method of a FileHandle, to play what another process or a slow disk does
 * between two steps of the code. Everything else still goes to the real file
 * system.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import os from 'node:os';

type Writev = FileHandle['writev'];
type Write = (buffer: Buffer, offset?: number, length?: number, position?: number | null) => Promise<unknown>;
type Read = (buffer: Buffer, offset?: number, length?: number, position?: number | null) => Promise<unknown>;
type Method = (...args: unknown[]) => Promise<unknown>;
/** A function of node:fs/promises (`link`, `lstat`), or a FileHandle method as `handle.<name>` (`handle.utimes`). */
export type DiskCall = keyof typeof fsp | `handle.${keyof FileHandle & string}`;

export function enospc(syscall = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), {
    code: 'ENOSPC',
    errno: -28,
    syscall,
  });
}

export class FaultyDisk {
  /** Every write fails with ENOSPC. */
  full = false;
  /** Every write writes at most half of what it was given (at least one byte). */
  short = false;
  /** Every write takes no byte at all (reports 0 written) and writes nothing. */
  stalled = false;
  /** Writes (sync or not) that reached the disk or failed, for tests that count them. */
  writes = 0;
  /** Called before each read of a FileHandle, with the position and length read. */
  beforeRead?: (position: number, length: number) => void | Promise<void>;

  private restoreAll: (() => void)[] = [];
  private handleMethods?: Record<string, unknown>;

  /** Wraps the fs methods; call restore() when done (afterEach). */
  async install(): Promise<this> {
    const disk = this;
    const handle = await fsp.open(os.devNull, 'r');
    const proto = Object.getPrototypeOf(handle) as Record<string, unknown>;
    this.handleMethods = proto;
    await handle.close();
    this.wrap(
      proto,
      'writev',
      (original: Writev) =>
        async function (this: FileHandle, buffers: NodeJS.ArrayBufferView[], position?: number) {
          disk.check();
          if (!disk.short) return original.call(this, buffers, position);
          const whole = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
          return original.call(this, [whole.subarray(0, Math.max(1, whole.length >> 1))], position);
        },
    );
    this.wrap(
      proto,
      'write',
      (original: Write) =>
        async function (
          this: FileHandle,
          buffer: Buffer,
          offset = 0,
          length?: number,
          position?: number | null,
        ) {
          disk.check();
          if (disk.stalled) return { bytesWritten: 0, buffer };
          const asked = length ?? buffer.length - offset;
          const len = disk.short ? Math.max(1, asked >> 1) : asked;
          return original.call(this, buffer, offset, len, position);
        },
    );
    this.wrap(
      proto,
      'read',
      (original: Read) =>
        async function (
          this: FileHandle,
          buffer: Buffer,
          offset?: number,
          length?: number,
          position?: number | null,
        ) {
          await disk.beforeRead?.(position ?? -1, length ?? buffer.length - (offset ?? 0));
          return original.call(this, buffer, offset, length, position);
        },
    );
    this.wrap(
      fs as unknown as Record<string, unknown>,
      'writeSync',
      (original: typeof fs.writeSync) =>
        function (fd: number, buffer: Buffer, offset = 0, length?: number, position?: number | null): number {
          disk.check();
          if (disk.stalled) return 0;
          const asked = length ?? buffer.length - offset;
          const len = disk.short ? Math.max(1, asked >> 1) : asked;
          return original(fd, buffer, offset, len, position);
        },
    );
    return this;
  }

  /**
   * Until restore(), `hook` runs with the arguments of each call of `call` (on
   * any path: the hook picks its own), before the real call: it may change the
   * disk as another process would, wait as a slow disk does, or throw as a
   * failing one does. Call after install().
   */
  before(call: DiskCall, hook: (...args: never[]) => unknown): this {
    const [target, name] = call.startsWith('handle.')
      ? [this.handleMethods, call.slice('handle.'.length)]
      : [fsp as unknown as Record<string, unknown>, call];
    if (!target) throw new Error('install() the faulty disk before adding a hook');
    this.wrap(
      target,
      name,
      (original: Method) =>
        async function (this: unknown, ...args: unknown[]) {
          await hook(...(args as never[]));
          return original.apply(this, args);
        },
    );
    return this;
  }

  restore(): void {
    for (const undo of this.restoreAll.splice(0).reverse()) undo();
  }

  /** Restores the fs methods and clears every fault, for the next test. */
  reset(): void {
    this.restore();
    this.full = this.short = this.stalled = false;
    this.beforeRead = undefined;
  }

  private check(): void {
    this.writes++;
    if (this.full) throw enospc();
  }

  private wrap<F>(target: Record<string, unknown>, name: string, make: (original: F) => unknown): void {
    const original = target[name] as F;
    target[name] = make(original);
    this.restoreAll.push(() => (target[name] = original));
  }
}
