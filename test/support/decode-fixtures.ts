/**
 * What the decoding tests share: the samples of every format of the decoders
 * table (each format's module holds its own), and the one shape of a refusal
 * (a code and a short excerpt).
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { DECODERS } from '../../nodes/events/decode/decoders';
import type { FormatSample } from '../../nodes/events/decode/types';

/** A sample and the format it is of. */
export type Sample = FormatSample & { format: string };

/** Every sample of every format, in table order; their names are unique. */
export const FORMAT_SAMPLES: readonly Sample[] = DECODERS.flatMap((d) =>
  d.samples.map((s) => ({ ...s, format: d.name })),
);

/** A bad input, the options, and the code it is refused with. */
export type RefusedCase = [string, Parameters<typeof decode>[0], Parameters<typeof decode>[1], string];

/** One test per case: the input is refused with its code and a message short enough to read. */
export function refusesWithCode(cases: RefusedCase[]): void {
  for (const [what, input, options, code] of cases) {
    it(`${what} → ${code}`, () => {
      assert.throws(
        () => decode(input, options),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, code);
          assert.ok(err.message.length < 400, 'a short excerpt, not the whole input');
          return true;
        },
      );
    });
  }
}
