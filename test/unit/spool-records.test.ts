/**
 * The spool's reader against damage of every shape: whatever bytes are flipped
 * or slipped in, every record the damage did not touch is read back, and
 * nothing is read that was not written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { SegmentReader, entryRecord, sealEntry } from '../../nodes/events/spool/records';
import { SeqSet } from '../../nodes/events/spool/seq-set';

const SEED = 20261202;

interface Case {
  payloads: Uint8Array[];
  flips: { at: number; mask: number }[];
  insert?: { at: number; bytes: Uint8Array };
}

const cases: fc.Arbitrary<Case> = fc.record({
  payloads: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 40 }),
  flips: fc.array(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
  insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 2000 }) }), {
    nil: undefined,
  }),
});

describe('spool records: reading past damage', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-records-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes the case's records, damages them, reads them back: the frames read and the records left whole. */
  async function readBack(c: Case): Promise<{ read: Map<number, string>; whole: Map<number, string> }> {
    const records = c.payloads.map((p, i) => {
      const record = entryRecord(Buffer.from(p));
      sealEntry(record, i + 1);
      return record;
    });
    let bytes = Buffer.concat(records);
    const touched = new Set<number>();
    const recordAt = (offset: number) => {
      let start = 0;
      for (const [i, r] of records.entries()) {
        if (offset < start + r.length) return { i, start };
        start += r.length;
      }
      return undefined;
    };
    for (const flip of c.flips) {
      const at = flip.at % bytes.length;
      bytes[at]! ^= flip.mask;
      touched.add(recordAt(at)!.i);
    }
    if (c.insert) {
      const at = c.insert.at % (bytes.length + 1);
      const hit = recordAt(at);
      if (hit && at > hit.start) touched.add(hit.i);
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(c.insert.bytes), bytes.subarray(at)]);
    }
    const file = path.join(dir, 'segment');
    fs.writeFileSync(file, bytes);
    const handle = await fsp.open(file, 'r');
    const read = new Map<number, string>();
    try {
      const reader = new SegmentReader(handle, 0, bytes.length, c.payloads.length + 1);
      for (let item = await reader.next(); item; item = await reader.next()) {
        if ('why' in item) continue;
        assert.ok(!read.has(item.seq), `record ${item.seq} read twice`);
        read.set(item.seq, item.body.subarray(9).toString('hex'));
      }
    } finally {
      await handle.close();
    }
    const whole = new Map<number, string>();
    c.payloads.forEach((p, i) => touched.has(i) || whole.set(i + 1, Buffer.from(p).toString('hex')));
    return { read, whole };
  }

  it('every record the damage did not touch is read, and nothing that was not written', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { read, whole } = await readBack(c);
        for (const [seq, payload] of whole) assert.equal(read.get(seq), payload, `record ${seq} lost`);
        for (const [seq, payload] of read)
          assert.equal(
            payload,
            Buffer.from(c.payloads[seq - 1]!).toString('hex'),
            `record ${seq} is not what was written`,
          );
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('spool sequence-number runs', () => {
  it('answers as a plain set would, in few runs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ add: fc.integer({ min: 1, max: 200 }) }),
            fc.record({ first: fc.integer({ min: 1, max: 200 }), span: fc.integer({ min: -2, max: 30 }) }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const set = new SeqSet();
          const model = new Set<number>();
          for (const op of ops) {
            if ('add' in op) {
              set.add(op.add);
              model.add(op.add);
            } else {
              set.addRange(op.first, op.first + op.span);
              for (let n = op.first; n <= op.first + op.span; n++) model.add(n);
            }
          }
          for (let n = 0; n <= 232; n++) assert.equal(set.has(n), model.has(n), `has(${n})`);
          for (let a = 1; a <= 232; a += 17)
            for (let b = a - 1; b <= a + 40; b += 7) {
              let missing = 0;
              for (let n = a; n <= b; n++) missing += model.has(n) ? 0 : 1;
              assert.equal(set.missingIn(a, b), missing, `missingIn(${a}, ${b})`);
            }
          const sorted = [...model].sort((x, y) => x - y);
          const runs = sorted.filter((n, i) => i === 0 || sorted[i - 1] !== n - 1).length;
          assert.equal(set.runCount, runs, 'runs merge when they touch');
        },
      ),
      { numRuns: 500, seed: SEED },
    );
  });
});
