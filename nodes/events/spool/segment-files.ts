/**
 * The segment files of a spool folder: how one is opened (never through a
 * link, never one linked elsewhere), and what reading them all at open tells
 * (scanFolder). Opening writes nothing: it only cuts a torn tail off the newest
 * segment (which needs no space), so a spool on a full disk still opens.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CodedError, errorMessage } from '../../common/errors';
import { NO_FOLLOW } from '../../common/node-files';
import { ACK, ENTRY, type Frame, SegmentReader, parseFrame, readSeq } from './records';
import { SeqSet } from './seq-set';

const SEGMENT_NAME = /^(\d{12})\.seg$/;

export interface Segment {
  no: number;
  file: string;
  /** Bytes written (nothing reads further). */
  size: number;
  handle?: FileHandle;
  /** The lowest sequence number of an entry in it. */
  minSeq: number;
  /** Its entries that are handed out and not finished, and their bytes. */
  out: number;
  outBytes: number;
  /** Offsets of damage found at open (the entries in it were never counted). */
  knownDamage?: Set<number>;
  /** A failed write could not be cut back off: nothing more is appended to it. */
  sealed?: boolean;
}

/** What the files say at open. */
export interface Scan {
  segments: Segment[];
  /** Sequence numbers finished with (acknowledged, or below every file). */
  done: SeqSet;
  nextSeq: number;
  /** Live entries and their bytes. */
  unread: number;
  unreadBytes: number;
  /** The highest number of any segment file, readable or not: new segments come after it. */
  highestNo: number;
  /**
   * Segments before the oldest were removed (with acks of theirs): a number below its first entry was
   * finished there, or lost in damage at its start, and the files cannot tell which.
   */
  olderRemoved: boolean;
}

export function newSegment(dir: string, no: number): Segment {
  return {
    no,
    file: path.join(dir, `${String(no).padStart(12, '0')}.seg`),
    size: 0,
    minSeq: Infinity,
    out: 0,
    outBytes: 0,
  };
}

/** Opens a segment file (creating it, `create`): never through a link, never one with a second name. */
export async function openSegment(segment: Segment, create = false): Promise<FileHandle> {
  if (segment.handle) return segment.handle;
  const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
  const handle = await fsp.open(segment.file, O_RDWR | NO_FOLLOW | (create ? O_CREAT | O_EXCL : 0), 0o600);
  const stat = await handle.stat();
  if (!stat.isFile() || stat.nlink !== 1) {
    await handle.close();
    throw new CodedError('CE_SPOOL_FAILED', `${path.basename(segment.file)} is linked elsewhere`);
  }
  segment.handle = handle;
  return handle;
}

/** The segments that can be opened, oldest first; what cannot (a link) is named in `alone`. */
async function openAll(dir: string, alone: string[]): Promise<{ segments: Segment[]; highestNo: number }> {
  const numbers = (await fsp.readdir(dir))
    .map((name) => SEGMENT_NAME.exec(name)?.[1])
    .filter((no): no is string => no !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (const no of numbers) {
    const segment = newSegment(dir, no);
    try {
      segment.size = (await (await openSegment(segment)).stat()).size;
      segments.push(segment);
    } catch (err) {
      alone.push(`${path.basename(segment.file)} (${errorMessage(err)})`);
    }
  }
  return { segments, highestNo: numbers[numbers.length - 1] ?? 0 };
}

/**
 * The first pass: what was finished with (acks come after their entries,
 * anywhere later), the numbers in use, and damage. Damage that runs to the end
 * of the newest segment is a write cut short: it is cut off. Elsewhere it is
 * noted, and the records after it are read on.
 */
async function readAcks(scan: Scan, notes: string[]): Promise<void> {
  let maxSeq = 0;
  for (const segment of scan.segments) {
    const newest = segment === scan.segments[scan.segments.length - 1];
    const reader = new SegmentReader(segment.handle as FileHandle, 0, segment.size, Number.MAX_SAFE_INTEGER);
    for (let item = await reader.next(); item; item = await reader.next()) {
      const name = path.basename(segment.file);
      if ('why' in item && newest && item.offset + item.size === segment.size) {
        await (segment.handle as FileHandle).truncate(item.offset);
        segment.size = item.offset;
        notes.push(
          `${item.size} bytes at the end of ${name} are not a whole record (${item.why}: a write cut short, as by a crash): cut off`,
        );
      } else if ('why' in item) {
        (segment.knownDamage ??= new Set()).add(item.offset);
        notes.push(
          `${item.size} bytes in ${name} at ${item.offset} cannot be read (${item.why}): skipped, the records after them are kept`,
        );
      } else {
        for (let at = 1; at < item.body.length; at += 8) {
          const seq = readSeq(item.body, at);
          maxSeq = Math.max(maxSeq, seq);
          if (item.type === ACK) scan.done.add(seq);
          else segment.minSeq = Math.min(segment.minSeq, seq);
          if (item.type === ENTRY) break;
        }
      }
    }
  }
  scan.nextSeq = maxSeq + 1;
}

/** The second pass: the live entries (not finished; a copy counted once) and their bytes. */
async function countLive(scan: Scan): Promise<void> {
  const seen = scan.done.clone();
  for (const segment of scan.segments) {
    const reader = new SegmentReader(segment.handle as FileHandle, 0, segment.size, scan.nextSeq);
    for (let item = await reader.next(); item; item = await reader.next()) {
      if ('why' in item || item.type !== ENTRY || seen.has(item.seq)) continue;
      seen.add(item.seq);
      scan.unread++;
      scan.unreadBytes += item.size;
    }
  }
}

/** Reads every segment of `dir`: what is finished, what is live, where damage lies. */
export async function scanFolder(dir: string, onWarning?: (text: string) => void): Promise<Scan> {
  const alone: string[] = [];
  const notes: string[] = [];
  const scan: Scan = {
    ...(await openAll(dir, alone)),
    done: new SeqSet(),
    nextSeq: 1,
    unread: 0,
    unreadBytes: 0,
    olderRemoved: false,
  };
  try {
    await readAcks(scan, notes);
    await countLive(scan);
  } catch (err) {
    for (const s of scan.segments) await s.handle?.close().catch(() => undefined);
    throw err;
  }
  // Below the oldest entry on disk nothing can be met any more: one run. In the folder's first segment
  // nothing lay below it but damage at its start, whose unfinished numbers the cursor counts as lost.
  scan.olderRemoved = (scan.segments[0]?.no ?? 1) > 1;
  if (scan.olderRemoved)
    scan.done.addRange(1, scan.segments.reduce((min, s) => Math.min(min, s.minSeq), scan.nextSeq) - 1);
  if (alone.length > 0) onWarning?.(`The spool left files alone that are not its own: ${alone.join('; ')}.`);
  if (notes.length > 0) onWarning?.(`The spool was damaged: ${notes.join('; ')}.`);
  return scan;
}

/** The record at `offset` of `size` bytes, checked (bytes kept in `record`), or why it cannot be taken. */
export async function readRecord(
  segment: Segment,
  offset: number,
  size: number,
  seqLimit: number,
): Promise<(Frame & { record: Buffer }) | string> {
  const record = Buffer.allocUnsafe(size);
  const { bytesRead } = await (await openSegment(segment)).read(record, 0, size, offset);
  const frame = bytesRead === size ? parseFrame(record, offset, seqLimit) : 'a cut-off record';
  return typeof frame === 'string' ? frame : { ...frame, record };
}

/** Appends records to a segment; a failed write is cut back off, so no torn record sits before later ones. */
export async function writeRecords(segment: Segment, records: Buffer[], sync: boolean): Promise<void> {
  const handle = await openSegment(segment);
  const total = records.reduce((n, r) => n + r.length, 0);
  try {
    let done = (await handle.writev(records, segment.size)).bytesWritten;
    // A short write (rare on files): the rest in plain writes.
    const rest = done < total ? Buffer.concat(records).subarray(done) : undefined;
    while (rest && done < total) {
      const at = done - (total - rest.length);
      const { bytesWritten } = await handle.write(rest, at, rest.length - at, segment.size + done);
      if (bytesWritten <= 0) throw new Error('the disk took no more bytes');
      done += bytesWritten;
    }
    if (sync) await handle.datasync();
  } catch (err) {
    await handle.truncate(segment.size).catch(() => {
      // Cannot cut it back: later appends go to a new segment (a reader resynchronises past the rest).
      segment.sealed = true;
    });
    throw err;
  }
}

/** A new file's name survives a power cut only once its folder is synced too. */
export async function syncFolder(dir: string): Promise<void> {
  const folder = await fsp.open(dir, 'r').catch(() => undefined);
  await folder?.sync().catch(() => undefined); // some file systems refuse it; the file is still there
  await folder?.close();
}
