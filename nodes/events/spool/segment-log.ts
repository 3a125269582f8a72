/**
 * An append-only log of records in numbered segment files: what a node has
 * taken and not yet finished with. Each record is framed by its length and a
 * CRC-32, so a write cut off by a crash is recognised at the next open, cut
 * away with one warning, and never hides the records before it.
 *
 *   record = u32 body length | u32 crc32(body) | body
 *   body   = 0x01 | u64 seq | payload            (an entry)
 *          = 0x02 | u64 seq | u64 seq | ...       (entries finished with)
 *
 * Appends that arrive together are written with one write and one fdatasync
 * (group commit); finishing entries ("acks") is written without a sync, as a
 * lost ack only means an entry is offered again. Segments are removed from the
 * oldest on, once nothing in them is live; an old segment that is mostly dead
 * is copied forward (its live records byte for byte, same sequence numbers) so
 * one long-lived entry does not pin the files behind it. Sequence numbers, not
 * file positions, give the order.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { CodedError } from '../../common/errors';

export const SpoolCodes = {
  /** The spool's folder cannot be made or its files not opened. */
  FAILED: 'CE_SPOOL_FAILED',
  WRITE_FAILED: 'CE_SPOOL_WRITE_FAILED',
  CLOSED: 'CE_SPOOL_CLOSED',
} as const;

const HEADER = 8;
const ENTRY = 1;
const ACK = 2;
/** Framing and sequence number of an entry record. */
export const RECORD_OVERHEAD = HEADER + 1 + 8;
/** A longer length field can only be a torn or foreign write. */
const MAX_BODY = 64 * 1024 * 1024;
const ACKS_PER_RECORD = 8192;
const SEGMENT_NAME = /^(\d{12})\.seg$/;

export interface SegmentLogOptions {
  /** Bytes of live records (framing included) the log holds at most. */
  limitBytes: number;
  /** A new segment starts once the current one is this large (default: a quarter of the limit, 64 KiB-16 MiB). */
  segmentBytes?: number;
  /** Called once per open when a torn or damaged tail was cut away. */
  onWarning?: (message: string) => void;
}

interface Segment {
  no: number;
  file: string;
  size: number;
  /** Live entries and their bytes in this segment. */
  live: number;
  liveBytes: number;
  handle?: FileHandle;
}

interface Location {
  segment: Segment;
  offset: number;
  size: number;
}

interface Incoming {
  seq: number;
  record: Buffer;
  resolve(seq: number): void;
  reject(err: Error): void;
}

function frame(body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(HEADER);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

function writeSeq(buf: Buffer, seq: number, at: number): void {
  buf.writeUInt32BE(Math.floor(seq / 2 ** 32), at);
  buf.writeUInt32BE(seq >>> 0, at + 4);
}

function readSeq(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

function entryRecord(seq: number, payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_OVERHEAD + payload.length);
  const body = record.subarray(HEADER);
  body[0] = ENTRY;
  writeSeq(body, seq, 1);
  payload.copy(body, 9);
  record.writeUInt32BE(body.length, 0);
  record.writeUInt32BE(crc32(body), 4);
  return record;
}

function ackRecord(seqs: number[]): Buffer {
  const body = Buffer.allocUnsafe(1 + 8 * seqs.length);
  body[0] = ACK;
  seqs.forEach((seq, i) => writeSeq(body, seq, 1 + 8 * i));
  return frame(body);
}

/** The next record at `offset`, or why there is none a reader can trust. */
function parseRecord(
  buf: Buffer,
  offset: number,
): { type: number; body: Buffer; size: number } | { torn: string } {
  if (buf.length - offset < HEADER) return { torn: 'a cut-off record header' };
  const length = buf.readUInt32BE(offset);
  if (length < 9 || length > MAX_BODY) return { torn: 'an impossible record length' };
  if (offset + HEADER + length > buf.length) return { torn: 'a cut-off record' };
  const body = buf.subarray(offset + HEADER, offset + HEADER + length);
  if (crc32(body) !== buf.readUInt32BE(offset + 4)) return { torn: 'a record whose checksum does not match' };
  const type = body[0] as number;
  if (type !== ENTRY && (type !== ACK || (length - 1) % 8 !== 0)) return { torn: 'a record of unknown type' };
  return { type, body, size: HEADER + length };
}

export class SegmentLog {
  private readonly segments: Segment[] = [];
  /** Live entries in sequence order. */
  private readonly live = new Map<number, Location>();
  private readonly segmentBytes: number;
  private nextSeq = 1;
  /** Live bytes, including appends not yet written. */
  private reserved = 0;
  private incoming: Incoming[] = [];
  private acks: number[] = [];
  private flushQueued = false;
  /** Every file operation runs in this chain, one at a time. */
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Writes that carried entries (each with one sync): fewer than appends when they arrive together. */
  commits = 0;

  private constructor(
    readonly dir: string,
    private readonly options: SegmentLogOptions,
  ) {
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.limitBytes / 4)));
  }

  /** Opens (or creates) the log in `dir` and reads back what is live. */
  static async open(dir: string, options: SegmentLogOptions): Promise<SegmentLog> {
    const log = new SegmentLog(dir, options);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const numbers = (await fs.readdir(dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((no): no is string => no !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const found = new Map<number, Location>();
    const finished = new Set<number>();
    const damage: string[] = [];
    for (const no of numbers) {
      const segment = log.segmentAt(no);
      const why = await log.scan(segment, found, finished);
      if (why) damage.push(why);
      log.segments.push(segment);
    }
    for (const [seq, loc] of [...found].sort((a, b) => a[0] - b[0])) {
      if (finished.has(seq)) continue;
      log.live.set(seq, loc);
      loc.segment.live++;
      loc.segment.liveBytes += loc.size;
      log.reserved += loc.size;
    }
    if (damage.length > 0)
      options.onWarning?.(`The spool was damaged, probably by a crash during a write: ${damage.join('; ')}.`);
    await log.run(() => log.compact());
    return log;
  }

  /** Live entries. */
  get count(): number {
    return this.live.size + this.incoming.length;
  }

  /** Live bytes (what the limit counts). */
  get bytes(): number {
    return this.reserved;
  }

  /** Bytes of all segment files. */
  get diskBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.size, 0);
  }

  /** The sequence numbers of the live, written entries, oldest first. */
  sequence(): number[] {
    return [...this.live.keys()];
  }

  /** Would an entry of `payloadBytes` stay within the limit? */
  fits(payloadBytes: number): boolean {
    return this.reserved + payloadBytes + RECORD_OVERHEAD <= this.options.limitBytes;
  }

  /** Writes an entry (with the others arriving meanwhile); resolves with its sequence number once it is on disk. */
  append(payload: Buffer): Promise<number> {
    if (this.closed) return Promise.reject(new CodedError(SpoolCodes.CLOSED, 'The spool is closed.'));
    const seq = this.nextSeq++;
    const record = entryRecord(seq, payload);
    this.reserved += record.length;
    return new Promise<number>((resolve, reject) => {
      this.incoming.push({ seq, record, resolve, reject });
      this.queueFlush();
    });
  }

  /** Finishes an entry: it is not offered again after a restart. False when it was not live. */
  ack(seq: number): boolean {
    const loc = this.live.get(seq);
    if (!loc) return false;
    this.live.delete(seq);
    loc.segment.live--;
    loc.segment.liveBytes -= loc.size;
    this.reserved -= loc.size;
    this.acks.push(seq);
    if (!this.closed) this.queueFlush();
    return true;
  }

  /** The payloads of live entries (those no longer live are missing from the map). */
  read(seqs: number[]): Promise<Map<number, Buffer>> {
    return this.run(async () => {
      const out = new Map<number, Buffer>();
      for (const seq of seqs) {
        const loc = this.live.get(seq);
        if (!loc) continue;
        const buf = Buffer.allocUnsafe(loc.size);
        const handle = await this.handleOf(loc.segment);
        await handle.read(buf, 0, loc.size, loc.offset);
        const parsed = parseRecord(buf, 0);
        if ('torn' in parsed)
          throw new CodedError(SpoolCodes.WRITE_FAILED, `Spool entry ${seq}: ${parsed.torn}.`);
        out.set(seq, parsed.body.subarray(9));
      }
      return out;
    });
  }

  /** Resolves once what was appended or acknowledged so far is written and old segments are removed. */
  idle(): Promise<void> {
    if (this.incoming.length > 0 || this.acks.length > 0) this.queueFlush();
    return this.run(async () => undefined);
  }

  /** Writes what is pending and closes the files; the log stays on disk. */
  async close(): Promise<void> {
    if (this.closed) return this.lock.then(() => undefined);
    this.closed = true;
    this.queueFlush();
    await this.run(async () => {
      for (const s of this.segments) await s.handle?.close().catch(() => undefined);
      for (const s of this.segments) s.handle = undefined;
    });
  }

  /** Closes the log and removes its folder. */
  async destroy(): Promise<void> {
    await this.close();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.lock.then(op);
    this.lock = result.catch(() => undefined);
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
      this.options.onWarning?.(`The spool could not be written: ${(err as Error).message}`);
    });
  }

  private segmentAt(no: number): Segment {
    return {
      no,
      file: path.join(this.dir, `${String(no).padStart(12, '0')}.seg`),
      size: 0,
      live: 0,
      liveBytes: 0,
    };
  }

  private async handleOf(segment: Segment): Promise<FileHandle> {
    segment.handle ??= await fs.open(segment.file, 'a+', 0o600);
    return segment.handle;
  }

  /** Reads a segment's records into `found`/`finished`; cuts a damaged tail away and says what it was. */
  private async scan(
    segment: Segment,
    found: Map<number, Location>,
    finished: Set<number>,
  ): Promise<string | undefined> {
    const buf = await fs.readFile(segment.file);
    let offset = 0;
    while (offset < buf.length) {
      const parsed = parseRecord(buf, offset);
      if ('torn' in parsed) {
        await fs.truncate(segment.file, offset);
        segment.size = offset;
        return `${buf.length - offset} bytes skipped at the end of ${path.basename(segment.file)} (${parsed.torn})`;
      }
      const { type, body, size } = parsed;
      for (let at = 1; at < body.length; at += 8) {
        const seq = readSeq(body, at);
        this.nextSeq = Math.max(this.nextSeq, seq + 1);
        if (type === ACK) finished.add(seq);
        else found.set(seq, { segment, offset, size });
        if (type === ENTRY) break;
      }
      offset += size;
    }
    segment.size = offset;
    return undefined;
  }

  /** The segment appends go to: the newest, or a new one once it is full. */
  private async active(): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    if (last && last.size < this.segmentBytes) return last;
    const segment = this.segmentAt((last?.no ?? 0) + 1);
    await this.handleOf(segment);
    await this.syncFolder();
    this.segments.push(segment);
    return segment;
  }

  /** A new file's name survives a power cut only once its folder is synced too. */
  private async syncFolder(): Promise<void> {
    const folder = await fs.open(this.dir, 'r').catch(() => undefined);
    await folder?.sync().catch(() => undefined); // some file systems refuse it; the file is still there
    await folder?.close();
  }

  /** One write (and one sync, when entries are among it) of everything that arrived. */
  private async flush(): Promise<void> {
    const batch = this.incoming;
    const acks = this.acks;
    this.incoming = [];
    this.acks = [];
    if (batch.length === 0 && acks.length === 0) return;
    const records = batch.map((i) => i.record);
    for (let i = 0; i < acks.length; i += ACKS_PER_RECORD)
      records.push(ackRecord(acks.slice(i, i + ACKS_PER_RECORD)));
    try {
      const segment = await this.active();
      await this.writeAt(segment, records, batch.length > 0);
      if (batch.length > 0) this.commits++;
      let offset = segment.size;
      for (const item of batch) {
        const loc = { segment, offset, size: item.record.length };
        offset += loc.size;
        this.live.set(item.seq, loc);
        segment.live++;
        segment.liveBytes += loc.size;
      }
      segment.size = offset + records.slice(batch.length).reduce((n, r) => n + r.length, 0);
    } catch (err) {
      for (const item of batch) this.reserved -= item.record.length;
      const error = new CodedError(
        SpoolCodes.WRITE_FAILED,
        `The spool could not be written: ${(err as Error).message}`,
      );
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) item.resolve(item.seq);
    await this.compact().catch(() => undefined);
  }

  /** Appends bytes to a segment; a failed write is cut back off, so no torn record sits before later ones. */
  private async writeAt(segment: Segment, records: Buffer[], sync: boolean): Promise<void> {
    const handle = await this.handleOf(segment);
    const total = records.reduce((n, r) => n + r.length, 0);
    try {
      let done = (await handle.writev(records, segment.size)).bytesWritten;
      // A short write (rare on files): the rest in plain writes.
      const rest = done < total ? Buffer.concat(records).subarray(done) : undefined;
      while (rest && done < total) {
        const at = done - (total - rest.length);
        const { bytesWritten } = await handle.write(rest, at, rest.length - at, segment.size + done);
        done += bytesWritten;
      }
      if (sync) await handle.datasync();
    } catch (err) {
      await handle.truncate(segment.size).catch(() => {
        // Cannot cut it back: later appends go to a new segment.
        segment.size = this.segmentBytes;
      });
      throw err;
    }
  }

  /**
   * Removes the oldest segments once nothing in them is live; copies the live
   * records of an oldest segment that is mostly dead forward, when the files
   * hold more than two segments' worth of dead bytes.
   */
  private async compact(): Promise<void> {
    for (;;) {
      const head = this.segments[0];
      if (!head || this.segments.length < 2) return;
      if (head.live > 0) {
        const dead = this.diskBytes - this.reserved;
        if (dead <= 2 * this.segmentBytes || head.liveBytes * 2 > head.size) return;
        await this.copyForward(head);
      }
      this.segments.shift();
      await head.handle?.close().catch(() => undefined);
      head.handle = undefined;
      await fs.rm(head.file, { force: true });
    }
  }

  private async copyForward(head: Segment): Promise<void> {
    const moving = [...this.live].filter(([, loc]) => loc.segment === head);
    const handle = await this.handleOf(head);
    const records: Buffer[] = [];
    for (const [, loc] of moving) {
      const buf = Buffer.allocUnsafe(loc.size);
      await handle.read(buf, 0, loc.size, loc.offset);
      records.push(buf);
    }
    const target = await this.active();
    await this.writeAt(target, records, true);
    let offset = target.size;
    for (const [seq, loc] of moving) {
      this.live.set(seq, { segment: target, offset, size: loc.size });
      offset += loc.size;
    }
    target.size = offset;
    target.live += head.live;
    target.liveBytes += head.liveBytes;
    head.live = 0;
    head.liveBytes = 0;
  }
}
