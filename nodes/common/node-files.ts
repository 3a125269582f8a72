/**
 * The files a node keeps in Node-RED's user directory, one folder per purpose
 * under the package's own folder: `<userDir>/dcevents/<purpose>/<name>`. The
 * name is a hash of the node id, never the id itself: node ids come from flow
 * files anyone can edit, and an id such as `../flows_cred` must not reach a
 * path. Writes are atomic (temp file, fsync, rename, fsync of the folder), so a
 * crash leaves the old file or the new one, never half of one; a write that
 * cannot finish (a full disk) leaves the old file and no temp file. Links are
 * never followed: a file or folder of ours that is a symbolic link is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The package's folder in the user directory. */
export const PACKAGE_FOLDER = 'dcevents';

/** Opening a symbolic link fails (ELOOP) instead of opening what it points to (0 where there is no such flag). */
export const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;

const PURPOSE = /^[a-z][a-z0-9-]{0,39}$/;
const SUFFIX = /^(\.[a-z0-9]{1,10})*$/;

/** A stable, path-safe name for a node id (32 hex characters). */
export function nodeFileName(nodeId: string): string {
  return createHash('sha256').update(`dcevents-node:${nodeId}`, 'utf8').digest('hex').slice(0, 32);
}

export class NodeFiles {
  /** `<userDir>/dcevents/<purpose>` */
  readonly dir: string;

  constructor(userDir: string, purpose: string) {
    if (!PURPOSE.test(purpose)) throw new Error(`invalid file purpose "${purpose}"`);
    this.dir = path.join(path.resolve(userDir), PACKAGE_FOLDER, purpose);
  }

  /** The file of a node: `<dir>/<hash><suffix>` (suffix such as `.json`, or `''`). */
  pathOf(nodeId: string, suffix = '.json'): string {
    if (!SUFFIX.test(suffix)) throw new Error(`invalid file suffix "${suffix}"`);
    return path.join(this.dir, nodeFileName(nodeId) + suffix);
  }

  /** A folder of a node's own (for state kept in several files), created on demand; never a link. */
  folderOf(nodeId: string): string {
    const folder = this.pathOf(nodeId, '.d');
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (!fs.lstatSync(folder).isDirectory()) throw new Error(`${folder} is not a folder (a link?)`);
    return folder;
  }

  /** The file's content, or undefined when there is none, it cannot be read or it is a link. */
  read(nodeId: string, suffix = '.json'): Buffer | undefined {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.pathOf(nodeId, suffix), fs.constants.O_RDONLY | NO_FOLLOW);
      return fs.readFileSync(fd);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Replaces the node's file atomically; readable by the owner only. */
  write(nodeId: string, data: string | Buffer, suffix = '.json'): void {
    writeFileAtomic(this.pathOf(nodeId, suffix), data);
  }

  /**
   * Appends to the node's file and fsyncs it: what returns is on disk. An
   * append that fails is cut back off, so no torn record sits before the next
   * one; only a crash during the write can leave a torn last record, which
   * readers skip.
   */
  append(nodeId: string, data: string | Buffer, suffix: string): void {
    const file = this.pathOf(nodeId, suffix);
    const created = !fs.existsSync(file);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | NO_FOLLOW, 0o600);
    try {
      const end = fs.fstatSync(fd).size;
      try {
        writeAll(fd, data, end);
        fs.fsyncSync(fd);
      } catch (err) {
        fs.ftruncateSync(fd, end);
        throw err;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (created) syncFolder(this.dir);
  }

  /**
   * `append` without holding the event loop: the write and the fsync run off
   * the main thread (a disk busy with other work delays this one only). An
   * append that fails is cut back off, as `append`'s.
   */
  async appendAsync(nodeId: string, data: string, suffix: string): Promise<void> {
    const file = this.pathOf(nodeId, suffix);
    const created = !fs.existsSync(file);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const handle = await fs.promises.open(
      file,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | NO_FOLLOW,
      0o600,
    );
    try {
      const end = (await handle.stat()).size;
      try {
        await writeAllAsync(handle, Buffer.from(data, 'utf8'), end);
        await handle.sync();
      } catch (err) {
        await handle.truncate(end);
        throw err;
      }
    } finally {
      await handle.close();
    }
    if (created) syncFolder(this.dir);
  }

  /**
   * A new content for the node's file, written a piece at a time (a large
   * state need not be one string) off the main thread, that replaces the file
   * atomically when committed: temp file, fsync, rename, fsync of the folder.
   */
  rewrite(nodeId: string, suffix: string): FileRewrite {
    return new FileRewrite(this.pathOf(nodeId, suffix));
  }

  /** Removes one file of the node (not its other files). */
  removeFile(nodeId: string, suffix: string): void {
    fs.rmSync(this.pathOf(nodeId, suffix), { force: true });
  }

  /** Removes every file and folder of the node under this purpose. */
  remove(nodeId: string): void {
    const prefix = nodeFileName(nodeId);
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(prefix)) fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Temp file (new, owner-only, never through a link), every byte written,
 * fsync, rename, fsync of the folder (so the rename itself survives a power
 * cut). On any failure the temp file is removed and the old file stays.
 */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | NO_FOLLOW, 0o600);
  try {
    try {
      writeAll(fd, data, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  syncFolder(dir);
}

/**
 * A file's new content, written in pieces into a temp file (new, owner-only,
 * never through a link) that replaces it on commit; the writes and the fsync
 * run off the main thread. Abandoned (or failed), the temp file goes and the
 * file stays as it was.
 */
export class FileRewrite {
  private readonly temp: string;
  private handle: Promise<fs.promises.FileHandle> | undefined;
  private size = 0;

  constructor(private readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  }

  private open(): Promise<fs.promises.FileHandle> {
    const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
    this.handle ??= fs.promises.open(this.temp, O_WRONLY | O_CREAT | O_EXCL | NO_FOLLOW, 0o600);
    return this.handle;
  }

  /** Appends a piece, every byte of it. */
  async write(data: string): Promise<void> {
    const bytes = Buffer.from(data, 'utf8');
    await writeAllAsync(await this.open(), bytes, this.size);
    this.size += bytes.length;
  }

  /** The temp file, on disk, becomes the file. */
  async commit(): Promise<void> {
    const handle = await this.open();
    this.handle = undefined;
    try {
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      fs.renameSync(this.temp, this.file);
    } catch (err) {
      fs.rmSync(this.temp, { force: true });
      throw err;
    }
    syncFolder(path.dirname(this.file));
  }

  /** Gives up: the temp file goes, the file stays as it was. */
  async abandon(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close().catch(() => undefined);
    fs.rmSync(this.temp, { force: true });
  }
}

/** `writeAll` off the main thread. */
async function writeAllAsync(handle: fs.promises.FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('the disk took no more bytes'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** Writes all of `data` at `position`: a write may take fewer bytes than it was given. */
function writeAll(fd: number, data: string | Buffer, position: number): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let done = 0; done < bytes.length;) {
    const written = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (written <= 0) throw Object.assign(new Error('the disk took no more bytes'), { code: 'EIO' });
    done += written;
  }
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
