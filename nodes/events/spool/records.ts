/**
 * The spool's records, and a reader of one segment file that checks every
 * record it gives and finds its way past damage.
 *
 *   record = u32 body length | u32 crc32(body) | body
 *   body   = 0x01 | u64 seq | payload            (an entry)
 *          = 0x02 | u64 seq | u64 seq | ...       (entries finished with)
 *
 * A record is taken only whole, with a length the writer allows, a known type,
 * sequence numbers in range and a matching checksum. Anything else is damage:
 * the reader reports its extent and carries on at the next offset where a valid
 * record starts (resynchronisation), so one bad record never hides the good
 * ones after it. The length field of a JSON payload's record can never appear
 * inside JSON text (its high byte is a control character), and a candidate
 * must pass every cheap check before its checksum is computed, so the search
 * costs about one pass over the damaged bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export const HEADER = 8;
export const ENTRY = 1;
export const ACK = 2;
/** Framing and sequence number of an entry record. */
export const RECORD_OVERHEAD = HEADER + 1 + 8;
/** The longest body a reader takes: a longer length field can only be damage. */
export const MAX_BODY = 64 * 1024 * 1024;
/** The longest payload an entry may carry (the writer refuses more). */
export const MAX_PAYLOAD = MAX_BODY - 9;
export const ACKS_PER_RECORD = 8192;
/** How much of a segment one read brings in. */
const CHUNK = 256 * 1024;
/** A read that fails this often at one place (a bad sector) is given up: the rest of the file counts as damage. */
const READ_ATTEMPTS = 3;

export function writeSeq(buf: Buffer, seq: number, at: number): void {
  buf.writeUInt32BE(Math.floor(seq / 2 ** 32), at);
  buf.writeUInt32BE(seq >>> 0, at + 4);
}

export function readSeq(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

/** An entry record whose sequence number and checksum are set when it is written (seal). */
export function entryRecord(payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_OVERHEAD + payload.length);
  record.writeUInt32BE(record.length - HEADER, 0);
  record[HEADER] = ENTRY;
  payload.copy(record, RECORD_OVERHEAD);
  return record;
}

export function sealEntry(record: Buffer, seq: number): void {
  writeSeq(record, seq, HEADER + 1);
  record.writeUInt32BE(crc32(record.subarray(HEADER)), 4);
}

export function ackRecord(seqs: number[]): Buffer {
  const record = Buffer.allocUnsafe(HEADER + 1 + 8 * seqs.length);
  record.writeUInt32BE(record.length - HEADER, 0);
  record[HEADER] = ACK;
  seqs.forEach((seq, i) => writeSeq(record, seq, HEADER + 1 + 8 * i));
  record.writeUInt32BE(crc32(record.subarray(HEADER)), 4);
  return record;
}

/** A record as it was read: where, how long, its type, its (first) sequence number and its body. */
export interface Frame {
  offset: number;
  size: number;
  type: number;
  seq: number;
  body: Buffer;
}

/** Bytes that hold no record a reader can take, and why the first of them does not. */
export interface Damage {
  offset: number;
  size: number;
  why: string;
}

/** The cheap checks: a body length that fits in `room`, a known type, a first sequence number in range. */
function looksLikeRecord(buf: Buffer, at: number, room: number, seqLimit: number): boolean {
  const length = buf.readUInt32BE(at);
  if (length < 9 || length > MAX_BODY || HEADER + length > room) return false;
  const type = buf[at + HEADER];
  if (type === ACK ? (length - 1) % 8 !== 0 : type !== ENTRY) return false;
  const seq = readSeq(buf, at + HEADER + 1);
  return seq >= 1 && seq < seqLimit;
}

/** The record in `record` (exactly its bytes), or why it cannot be taken. */
export function parseFrame(record: Buffer, offset: number, seqLimit: number): Frame | string {
  if (!looksLikeRecord(record, 0, record.length, seqLimit)) {
    const length = record.readUInt32BE(0);
    if (length < 9 || length > MAX_BODY) return 'an impossible record length';
    return record[HEADER] === ENTRY || record[HEADER] === ACK
      ? 'a sequence number out of range'
      : 'a record of unknown type';
  }
  const body = record.subarray(HEADER);
  if (crc32(body) !== record.readUInt32BE(4)) return 'a checksum that does not match';
  for (let at = 9; at < body.length && body[0] === ACK; at += 8) {
    const seq = readSeq(body, at);
    if (seq < 1 || seq >= seqLimit) return 'a sequence number out of range';
  }
  return { offset, size: record.length, type: body[0] as number, seq: readSeq(body, 1), body };
}

/** Reads the records of one segment file from `pos` up to `end`, in chunks. */
export class SegmentReader {
  private chunk = Buffer.alloc(0);
  private chunkAt = 0;
  private failures = 0;

  constructor(
    private readonly handle: FileHandle,
    /** Where the next record starts. */
    public pos: number,
    /** The file's length as far as it was written (it grows as appends land). */
    public end: number,
    /** Sequence numbers at or above this one have not been handed out: a record naming one is damage. */
    public seqLimit: number,
  ) {}

  /**
   * The next record, or the damage skipped to reach it (one call), or
   * undefined at the end. A failed read throws, and the next call tries again,
   * up to READ_ATTEMPTS times.
   */
  async next(): Promise<Frame | Damage | undefined> {
    if (this.pos >= this.end) return undefined;
    const at = this.pos;
    let found: Frame | string;
    try {
      found = await this.frameAt(at);
      if (typeof found === 'string') this.pos = await this.resync(at + 1);
      this.failures = 0;
    } catch (err) {
      if (++this.failures < READ_ATTEMPTS) throw err;
      this.failures = 0;
      found = `bytes that cannot be read (${(err as Error).message})`;
      this.pos = this.end;
    }
    if (typeof found === 'string') return { offset: at, size: this.pos - at, why: found };
    this.pos = at + found.size;
    return found;
  }

  private async frameAt(at: number): Promise<Frame | string> {
    const room = this.end - at;
    if (room < RECORD_OVERHEAD) return 'a cut-off record';
    const length = (await this.bytes(at, HEADER)).readUInt32BE(0);
    if (length < 9 || length > MAX_BODY) return 'an impossible record length';
    if (HEADER + length > room) return 'a cut-off record';
    return parseFrame(await this.bytes(at, HEADER + length), at, this.seqLimit);
  }

  /** The first offset from `from` on where a valid record starts; the end when there is none. */
  private async resync(from: number): Promise<number> {
    let at = from;
    while (this.end - at >= RECORD_OVERHEAD) {
      const view = await this.bytes(at, Math.min(CHUNK, this.end - at));
      const last = view.length - RECORD_OVERHEAD;
      for (let i = 0; i <= last; i++) {
        if (!looksLikeRecord(view, i, this.end - at - i, this.seqLimit)) continue;
        if (typeof (await this.frameAt(at + i)) !== 'string') return at + i;
      }
      at += last + 1;
    }
    return this.end;
  }

  /** `length` bytes at `at`, from the chunk in memory or read in with what follows them. */
  private async bytes(at: number, length: number): Promise<Buffer> {
    const from = at - this.chunkAt;
    if (from >= 0 && from + length <= this.chunk.length) return this.chunk.subarray(from, from + length);
    const size = Math.min(Math.max(length, CHUNK), this.end - at);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this.handle.read(buf, got, size - got, at + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < length) throw new Error(`${length} bytes expected at ${at}, the file ended after ${got}`);
    this.chunk = buf.subarray(0, got);
    this.chunkAt = at;
    return this.chunk.subarray(0, length);
  }
}
