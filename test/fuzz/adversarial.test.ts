/**
 * Every decoder of the decoders table, and every way an event is summarised,
 * on adversarial inputs up to the decode limit: no input stalls the event loop
 * for more than 100 ms. Each place of a sample that holds outside text is
 * filled, one at a time and as large as the node accepts, with long runs (of
 * plain text, of its own value) and with the attacks derived from every regex
 * that read that place while the sample decoded (the package's own and its
 * libraries', such as the XML parser's). Every format's samples are tried
 * (test/unit/decode-formats holds every format to having some); their regexes
 * are found by running them.
 */
import assert from 'node:assert/strict';
import { CodedError } from '../../nodes/common/errors';
import { decode, type DecodeInput } from '../../nodes/events/decode';
import { fill, room, slots, type Slot } from '../support/adversarial-inputs';
import { FORMAT_SAMPLES } from '../support/decode-fixtures';
import { attackText, regexAttacks, type Attack } from '../support/regex-attacks';
import { regexReaders, type Readers, type SeenRegex } from '../support/regex-discovery';
import { slowest } from '../support/time-bound';

const BOUND_MS = 100;
const SMALL = 64 * 1024;
const OPTIONS = { source: 'https://vcd.example.com' };

/** Decodes, and lets only DECODE_* refusals through; returns the refusal's code. */
function decodeOrRefuse(input: DecodeInput): string | undefined {
  try {
    decode(input, OPTIONS);
    return undefined;
  } catch (err) {
    if (err instanceof CodedError && err.code.startsWith('DECODE_')) return err.code;
    throw err;
  }
}

/** The attacks for one place: long runs, and those of every regex that read it. */
function attacksOn(slot: Slot, readers: SeenRegex[]): Attack[] {
  const found = new Map<string, Attack>();
  const add = (a: Attack) => found.set(JSON.stringify(a), a);
  add({ lead: '', pump: 'a', end: '' });
  if (!slot.key) {
    add({ lead: '', pump: ' ', end: '\n' });
    if (slot.value) add({ lead: '', pump: slot.value, end: '' });
  }
  for (const r of readers) for (const a of regexAttacks(r.source, r.flags)) add(a);
  return [...found.values()];
}

describe('fuzz: every decoder and summary on adversarial inputs up to the decode limit', function () {
  this.timeout(0);
  let readers: Readers = {};
  before(async () => {
    readers = await regexReaders();
  });

  for (const { name, input: sample } of FORMAT_SAMPLES) {
    it(name, () => {
      const problems: string[] = [];
      for (const slot of slots(sample)) {
        const attacks = attacksOn(slot, readers[name]?.[slot.where] ?? []).map((a) => ({
          a,
          room: room(sample, slot, (n) => attackText(a, n)),
        }));
        const refused: string[] = [];
        const { ms, input } = slowest(
          [SMALL, Infinity],
          // Filled before the clock starts: a JSON payload carried as text is parsed and written again.
          (n) =>
            attacks.map(({ a, room: max }) => {
              const text = attackText(a, Math.min(n, max));
              return { a, length: text.length, input: fill(sample, slot, text) };
            }),
          ({ a, length, input }) => {
            if (decodeOrRefuse(input) === 'DECODE_TOO_LARGE')
              refused.push(`${length} of ${JSON.stringify(a)}`);
          },
          BOUND_MS,
        );
        if (ms >= BOUND_MS) {
          problems.push(
            `${slot.where}: ${Math.round(ms)} ms on ${input?.length} characters of ${JSON.stringify(input?.a)}`,
          );
        }
        for (const what of refused) problems.push(`${slot.where}: refused as too large: ${what}`);
      }
      assert.deepEqual(problems, []);
    });
  }
});
