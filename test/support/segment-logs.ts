/**
 * The hooks the spool segment-log tests share: a fresh folder for each test,
 * logs opened in it that are closed after the test, and a faulty disk that is
 * put back (and its faults cleared) before they close.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SegmentLog, type SegmentLogOptions } from '../../nodes/events/spool/segment-log';
import { FaultyDisk } from './faulty-disk';

export interface SegmentLogRig {
  /** The running test's folder. */
  readonly dir: string;
  /** Install it in a test to make the disk fail; it is restored after the test. */
  readonly disk: FaultyDisk;
  /** Opens a log in `dir` with the rig's defaults, then `options`; closed after the test. */
  open(options?: Partial<SegmentLogOptions>): Promise<SegmentLog>;
  /** Closes `log` now, as a stop before a restart does, and no longer closes it after the test. */
  stop(log: SegmentLog): Promise<void>;
}

/** Registers the hooks in the calling `describe`; `prefix` names the temp folders. */
export function withSegmentLogs(prefix: string, defaults: Partial<SegmentLogOptions> = {}): SegmentLogRig {
  let dir: string | undefined;
  const opened: SegmentLog[] = [];
  const disk = new FaultyDisk();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  });
  afterEach(async () => {
    disk.reset();
    await Promise.all(opened.splice(0).map((log) => log.close()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const folder = (): string => {
    if (!dir) throw new Error('withSegmentLogs: the folder exists only while a test runs');
    return dir;
  };
  return {
    get dir() {
      return folder();
    },
    disk,
    async open(options = {}) {
      const log = await SegmentLog.open(folder(), { limitBytes: 1024 * 1024, ...defaults, ...options });
      opened.push(log);
      return log;
    },
    async stop(log) {
      await log.close();
      const at = opened.indexOf(log);
      if (at >= 0) opened.splice(at, 1);
    },
  };
}
