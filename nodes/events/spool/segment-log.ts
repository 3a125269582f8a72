/**
 * An append-only log of records (records.ts) in numbered segment files: what a
 * node has taken and not yet finished with. Appends that arrive together are
 * written with one write and one fdatasync (group commit); finishing entries
 * ("acks") is written without a sync, as a lost ack only means an entry is
 * offered again.
 *
 * One cursor reads the entries back in the order they were written (next());
 * what it hands out is "out" until acknowledged. Memory does not grow with the
 * entries on disk: a few numbers per segment, the sequence numbers finished
 * with or handed out as runs (SeqSet: about one run per entry out), and the
 * entries out (at most what the caller holds). A record the cursor cannot take
 * is skipped and counted, and it resynchronises on the next valid record.
 *
 * Segments are removed from the oldest on once the cursor is past them and
 * none of their entries is out; when one entry out pins an old segment (a
 * long-retried event) and the files hold more than two segments' worth of dead
 * bytes, its record is copied forward (byte for byte, same sequence number;
 * after a restart it comes where the copy lies, among newer entries).
 * Opening reads and writes nothing (it only cuts a torn tail off the newest
 * segment), so a full disk still opens and drains: delivering frees space.
 * The folder is locked against a second process (FolderLock); files in it that
 * are links, or linked elsewhere, are left alone.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CodedError, errorMessage } from '../../common/errors';
import { FolderLock } from '../../common/folder-lock';
import {
  ACKS_PER_RECORD,
  type Damage,
  ENTRY,
  type Frame,
  MAX_PAYLOAD,
  RECORD_OVERHEAD,
  SegmentReader,
  ackRecord,
  entryRecord,
  sealEntry,
} from './records';
import { DamageTally } from './damage';
import {
  type Scan,
  type Segment,
  newSegment,
  openSegment,
  readRecord,
  scanFolder,
  syncFolder,
  writeRecords,
} from './segment-files';
import { SeqSet } from './seq-set';

export { RECORD_OVERHEAD, MAX_PAYLOAD } from './records';

export const SpoolCodes = {
  /** The spool's folder cannot be made or its files not opened. */
  FAILED: 'CE_SPOOL_FAILED',
  WRITE_FAILED: 'CE_SPOOL_WRITE_FAILED',
  CLOSED: 'CE_SPOOL_CLOSED',
  /** Another process writes the folder (or took it over). */
  LOCKED: 'CE_SPOOL_LOCKED',
  /** Records that could not be read were skipped. */
  DAMAGED: 'CE_SPOOL_DAMAGED',
} as const;

export interface SegmentLogOptions {
  /** Bytes of live records (framing included) the log holds at most. */
  limitBytes: number;
  /** A new segment starts once the current one is this large (default: a quarter of the limit, 64 KiB-16 MiB). */
  segmentBytes?: number;
  /** Damage found at open, a write that failed (once until one succeeds), a segment left alone. */
  onWarning?: (message: string) => void;
  /** The cursor skipped records it could not read: `lost` entries that were not finished went with them. */
  onDamage?: (lost: number, error: CodedError) => void;
  /** Another process took the folder over while this one did not answer: nothing more is written. */
  onLockLost?: (error: CodedError) => void;
  /** How often the folder's lock is touched and checked (10 s). */
  lockHeartbeatMs?: number;
}

export interface Entry {
  seq: number;
  payload: Buffer;
}

interface Out {
  segment: Segment;
  offset: number;
  size: number;
}

interface Incoming {
  record: Buffer;
  resolve(seq: number): void;
  reject(err: Error): void;
}

export class SegmentLog {
  /** Writes that carried entries (each with one sync): fewer than appends when they arrive together. */
  commits = 0;
  private segments: Segment[] = [];
  /** Sequence numbers finished with or handed out. */
  private done = new SeqSet();
  private nextSeq = 1;
  /** Live entries not yet handed out, and their bytes. */
  private unreadCount = 0;
  private unreadBytes = 0;
  private highestNo = 0;
  private readonly segmentBytes: number;
  private readonly out = new Map<number, Out>();
  private outBytes = 0;
  private incoming: Incoming[] = [];
  /** Bytes appended and not yet written (or being written), and entries being written. */
  private incomingBytes = 0;
  private writing = 0;
  private acks: number[] = [];
  /** Acks a failed write could not store, tried again. */
  private unwrittenAcks: number[] = [];
  private retry?: NodeJS.Timeout;
  private writeFailure?: string;
  private flushQueued = false;
  /** Every file operation runs in this chain, one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lockLost?: CodedError;
  private cursor?: Segment;
  private reader?: SegmentReader;
  private readonly damage = new DamageTally();
  private folderLock?: FolderLock;

  private constructor(
    readonly dir: string,
    private readonly options: SegmentLogOptions,
  ) {
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.limitBytes / 4)));
  }

  /** Opens (or creates) the log in `dir`: locks it and reads back what is live, without writing. */
  static async open(dir: string, options: SegmentLogOptions): Promise<SegmentLog> {
    const log = new SegmentLog(dir, options);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await fsp.lstat(dir)).isDirectory())
      throw new CodedError(SpoolCodes.FAILED, `${dir} is not a folder (a link is not followed).`);
    log.folderLock = await FolderLock.take(dir, {
      code: SpoolCodes.LOCKED,
      what: 'The spool folder',
      heartbeatMs: options.lockHeartbeatMs,
      onLost: (err) => log.loseLock(err),
    });
    try {
      log.adopt(await scanFolder(dir, options.onWarning));
    } catch (err) {
      await log.folderLock.release();
      throw err;
    }
    return log;
  }

  /** Live entries on disk not yet handed out. */
  get unread(): number {
    return this.unreadCount;
  }

  /** Live entries: unread, out, being written. */
  get count(): number {
    return this.unreadCount + this.out.size + this.incoming.length + this.writing;
  }

  /** Live bytes (what the limit counts). */
  get bytes(): number {
    return this.unreadBytes + this.outBytes + this.incomingBytes;
  }

  /** Bytes of all segment files. */
  get diskBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.size, 0);
  }

  /** Would an entry of `payloadBytes` stay within the limit? */
  fits(payloadBytes: number): boolean {
    return this.bytes + payloadBytes + RECORD_OVERHEAD <= this.options.limitBytes;
  }

  /** Has the cursor handed this entry out (or was it finished with)? */
  taken(seq: number): boolean {
    return this.done.has(seq);
  }

  /** Writes an entry (with the others arriving meanwhile); resolves with its sequence number once it is on disk. */
  append(payload: Buffer): Promise<number> {
    if (this.lockLost) return Promise.reject(this.lockLost);
    if (this.closed) return Promise.reject(new CodedError(SpoolCodes.CLOSED, 'The spool is closed.'));
    if (payload.length > MAX_PAYLOAD)
      return Promise.reject(
        new CodedError(
          SpoolCodes.WRITE_FAILED,
          `An entry of ${payload.length} bytes is larger than a record may be.`,
        ),
      );
    const record = entryRecord(payload);
    this.incomingBytes += record.length;
    return new Promise<number>((resolve, reject) => {
      this.incoming.push({ record, resolve, reject });
      this.queueFlush();
    });
  }

  /** Finishes an entry that is out: it is not offered again after a restart. False when it was not out. */
  ack(seq: number): boolean {
    const out = this.out.get(seq);
    if (!out) return false;
    this.out.delete(seq);
    out.segment.out--;
    out.segment.outBytes -= out.size;
    this.outBytes -= out.size;
    this.acks.push(seq);
    if (!this.closed) this.queueFlush();
    return true;
  }

  /**
   * Up to `max` live entries after the cursor, in the order written; they are
   * out from now on. Records that cannot be read are skipped (onDamage).
   */
  next(max: number): Promise<Entry[]> {
    return this.run(async () => {
      const entries: Entry[] = [];
      while (entries.length < max && !this.closed) {
        const item = await this.readNext();
        if (!item) {
          // At the end of what is written, nothing is unread: what the counts still held was lost to damage.
          this.unreadCount = 0;
          this.unreadBytes = 0;
          break;
        }
        if ('why' in item) this.passDamage(item);
        else if (item.type === ENTRY && this.handOut(item))
          entries.push({ seq: item.seq, payload: item.body.subarray(9) });
      }
      return entries;
    });
  }

  /** Resolves once what was appended or acknowledged so far is written and old segments are removed. */
  idle(): Promise<void> {
    // Once closed, the folder is let go: what is left stays unwritten (an ack then means the entry comes back).
    if (!this.closed && (this.incoming.length > 0 || this.acks.length > 0)) this.queueFlush();
    return this.run(async () => undefined);
  }

  /** Writes what is pending, closes the files and lets the folder go; the log stays on disk. */
  async close(): Promise<void> {
    if (this.closed) return this.chain.then(() => undefined);
    this.closed = true;
    clearTimeout(this.retry);
    this.queueFlush();
    await this.run(async () => {
      for (const s of this.segments) await s.handle?.close().catch(() => undefined);
      for (const s of this.segments) s.handle = undefined;
      this.reader = undefined;
    });
    await this.folderLock?.release();
  }

  /** Closes the log and removes its folder. */
  async destroy(): Promise<void> {
    await this.close();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  private adopt(scan: Scan): void {
    this.segments = scan.segments;
    this.done = scan.done;
    this.nextSeq = scan.nextSeq;
    this.unreadCount = scan.unread;
    this.unreadBytes = scan.unreadBytes;
    this.highestNo = scan.highestNo;
    this.cursor = scan.segments[0];
    this.damage.olderRemoved = scan.olderRemoved;
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.chain.then(op);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.run(() => {
      this.flushQueued = false;
      return this.flush();
    }).catch((err: unknown) => {
      // flush() settles its appends itself; this is for a failure it did not foresee.
      this.options.onWarning?.(`The spool could not be written: ${errorMessage(err)}`);
    });
  }

  private loseLock(err: CodedError): void {
    this.lockLost = err;
    this.options.onLockLost?.(err);
  }

  /** The next record after the cursor, going on to the next segment at the end of one; undefined at the end. */
  private async readNext(): Promise<Frame | Damage | undefined> {
    for (;;) {
      const segment = (this.cursor ??= this.segments[0]);
      if (!segment) return undefined;
      this.reader ??= new SegmentReader(await openSegment(segment), 0, segment.size, this.nextSeq);
      this.reader.end = segment.size;
      this.reader.seqLimit = this.nextSeq;
      const item = await this.reader.next();
      if (item) return item;
      const following = this.segments[this.segments.indexOf(segment) + 1];
      if (!following) return undefined;
      this.cursor = following;
      this.reader = undefined;
    }
  }

  /** Marks an entry the cursor met as out, unless it was finished or is a copy of one out. */
  private handOut(frame: Frame): boolean {
    const gap = this.damage.met(frame.seq, this.done);
    if (gap) {
      if (!gap.known) this.unreadCount = Math.max(0, this.unreadCount - gap.lost);
      if (gap.lost > 0)
        this.options.onDamage?.(gap.lost, new CodedError(SpoolCodes.DAMAGED, gap.text, { lost: gap.lost }));
      else this.options.onWarning?.(gap.text);
    }
    if (this.done.has(frame.seq)) return false;
    const segment = this.cursor as Segment;
    this.done.add(frame.seq);
    this.out.set(frame.seq, { segment, offset: frame.offset, size: frame.size });
    segment.out++;
    segment.outBytes += frame.size;
    this.outBytes += frame.size;
    this.unreadCount = Math.max(0, this.unreadCount - 1);
    this.unreadBytes = Math.max(0, this.unreadBytes - frame.size);
    return true;
  }

  private passDamage(damage: Damage): void {
    const segment = this.cursor as Segment;
    const known = segment.knownDamage?.has(damage.offset) ?? false;
    this.damage.passed(damage, `${path.basename(segment.file)} at ${damage.offset}`, known);
    if (!known) this.unreadBytes = Math.max(0, this.unreadBytes - damage.size);
  }

  /** The segment appends go to: the newest, or a new one once it is full. */
  private async active(): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    if (last && last.size < this.segmentBytes && !last.sealed) return last;
    const segment = newSegment(this.dir, ++this.highestNo);
    await openSegment(segment, true);
    await syncFolder(this.dir);
    this.segments.push(segment);
    this.cursor ??= segment;
    return segment;
  }

  /** One write (and one sync, when entries are among it) of everything that arrived. */
  private async flush(): Promise<void> {
    const batch = this.incoming;
    const acks = this.unwrittenAcks.length > 0 ? this.unwrittenAcks.concat(this.acks) : this.acks;
    this.incoming = [];
    this.acks = [];
    this.unwrittenAcks = [];
    if (batch.length === 0 && acks.length === 0) return;
    // The batch counts as incoming until the write's outcome is known.
    const batchBytes = batch.reduce((n, item) => n + item.record.length, 0);
    this.writing = batch.length;
    // Numbers are given as the records are written, so a failed write leaves no hole in them.
    batch.forEach((item, i) => sealEntry(item.record, this.nextSeq + i));
    const records = batch.map((item) => item.record);
    for (let i = 0; i < acks.length; i += ACKS_PER_RECORD)
      records.push(ackRecord(acks.slice(i, i + ACKS_PER_RECORD)));
    let segment: Segment;
    try {
      if (this.lockLost) throw this.lockLost;
      segment = await this.active();
      await writeRecords(segment, records, batch.length > 0);
    } catch (err) {
      this.incomingBytes -= batchBytes;
      this.writing = 0;
      this.writeFailed(err, batch, acks);
      await this.compact().catch(() => undefined);
      return;
    }
    this.writeFailure = undefined;
    this.incomingBytes -= batchBytes;
    this.writing = 0;
    if (batch.length > 0) {
      this.commits++;
      segment.minSeq = Math.min(segment.minSeq, this.nextSeq);
      this.unreadCount += batch.length;
      this.unreadBytes += batchBytes;
    }
    segment.size += records.reduce((n, r) => n + r.length, 0);
    const first = this.nextSeq;
    this.nextSeq += batch.length;
    batch.forEach((item, i) => item.resolve(first + i));
    await this.compact().catch(() => undefined);
  }

  /** Appends are refused; acks wait for the next write (and a retry); the failure is told once. */
  private writeFailed(err: unknown, batch: Incoming[], acks: number[]): void {
    const error =
      err instanceof CodedError
        ? err
        : new CodedError(SpoolCodes.WRITE_FAILED, `The spool could not be written: ${errorMessage(err)}`);
    for (const item of batch) item.reject(error);
    if (this.lockLost) return;
    const floor = this.floor();
    this.unwrittenAcks = acks.filter((seq) => seq >= floor);
    if (this.writeFailure !== error.message) this.options.onWarning?.(error.message);
    this.writeFailure = error.message;
    if (this.unwrittenAcks.length > 0 && !this.closed && !this.retry) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.queueFlush();
      }, 1000);
      this.retry.unref();
    }
  }

  /** No entry below this sequence number is on disk any more. */
  private floor(): number {
    return this.segments.reduce((min, s) => Math.min(min, s.minSeq), this.nextSeq);
  }

  /**
   * Removes the oldest segments once the cursor is past them and none of their
   * entries is out; copies the entries out of an oldest segment that is mostly
   * dead forward, when the files hold more than two segments' worth of dead bytes.
   */
  private async compact(): Promise<void> {
    let removed = false;
    for (;;) {
      const head = this.segments[0];
      if (!head || this.segments.length < 2 || head === this.cursor) break;
      if (head.out > 0) {
        const dead = this.diskBytes - this.bytes;
        if (dead <= 2 * this.segmentBytes || head.outBytes * 2 > head.size) break;
        if (!(await this.copyForward(head))) break;
      }
      this.segments.shift();
      await head.handle?.close().catch(() => undefined);
      head.handle = undefined;
      await fsp.rm(head.file, { force: true });
      removed = true;
    }
    if (!removed) return;
    // What lies below the files left can no longer be met: its numbers join one run, except those
    // damage passed may have held (the next entry met counts them as lost).
    const floor = this.floor();
    this.done.addRange(1, Math.min(floor, this.damage.openFrom) - 1);
    this.unwrittenAcks = this.unwrittenAcks.filter((seq) => seq >= floor);
  }

  /** Copies the entries out of `head` to the newest segment; true once none is left in it. */
  private async copyForward(head: Segment): Promise<boolean> {
    const moving = [...this.out].filter(([, out]) => out.segment === head);
    const records: Buffer[] = [];
    for (const [seq, out] of moving) {
      const frame = await readRecord(head, out.offset, out.size, this.nextSeq);
      // The record there must be the entry the index says (its number and checksum), or it is not copied.
      if (typeof frame === 'string' || frame.type !== ENTRY || frame.seq !== seq) return false;
      records.push(frame.record);
    }
    const target = await this.active();
    await writeRecords(target, records, true);
    let offset = target.size;
    moving.forEach(([seq], i) => {
      const size = (records[i] as Buffer).length;
      const out = this.out.get(seq);
      // Acknowledged while the copy was written: it stays finished (its ack is written after the copy).
      if (out?.segment === head) {
        Object.assign(out, { segment: target, offset });
        head.out--;
        head.outBytes -= size;
        target.out++;
        target.outBytes += size;
      }
      target.minSeq = Math.min(target.minSeq, seq);
      offset += size;
    });
    target.size = offset;
    return head.out === 0;
  }
}
