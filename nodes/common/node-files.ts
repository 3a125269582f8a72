/**
 * The files a node keeps in Node-RED's user directory, one folder per purpose
 * under the package's own folder: `<userDir>/dcevents/<purpose>/<name>`. The
 * name is a hash of the node id, never the id itself: node ids come from flow
 * files anyone can edit, and an id such as `../flows_cred` must not reach a
 * path. Writes are atomic (temp file, fsync, rename, fsync of the folder), so a
 * crash leaves the old file or the new one, never half of one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The package's folder in the user directory. */
export const PACKAGE_FOLDER = 'dcevents';

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

  /** A folder of a node's own (for state kept in several files), created on demand. */
  folderOf(nodeId: string): string {
    const folder = this.pathOf(nodeId, '.d');
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    return folder;
  }

  /** The file's content, or undefined when there is none or it cannot be read. */
  read(nodeId: string, suffix = '.json'): Buffer | undefined {
    try {
      return fs.readFileSync(this.pathOf(nodeId, suffix));
    } catch {
      return undefined;
    }
  }

  /** Replaces the node's file atomically; readable by the owner only. */
  write(nodeId: string, data: string | Buffer, suffix = '.json'): void {
    writeFileAtomic(this.pathOf(nodeId, suffix), data);
  }

  /**
   * Appends to the node's file and fsyncs it: what returns is on disk. A crash
   * during the write can leave a torn last record; readers skip it.
   */
  append(nodeId: string, data: string | Buffer, suffix: string): void {
    const file = this.pathOf(nodeId, suffix);
    const created = !fs.existsSync(file);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeSynced(file, 'a', data);
    if (created) syncFolder(this.dir);
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

/** temp file, fsync, rename, fsync of the folder (so the rename itself survives a power cut). */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  writeSynced(temp, 'w', data);
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  syncFolder(dir);
}

/** Writes (flags "w") or appends ("a") and fsyncs: what returns is on disk. Owner-only when created. */
function writeSynced(file: string, flags: 'w' | 'a', data: string | Buffer): void {
  const fd = fs.openSync(file, flags, 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
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
