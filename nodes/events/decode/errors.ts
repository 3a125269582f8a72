import { CodedError, errorMessage } from '../../common/errors';
import { excerpt } from '../../common/http';

export const DecodeCodes = {
  INVALID_JSON: 'DECODE_INVALID_JSON',
  UNKNOWN_TYPE: 'DECODE_UNKNOWN_TYPE',
  BAD_PAYLOAD: 'DECODE_BAD_PAYLOAD',
  WRONG_SHAPE: 'DECODE_WRONG_SHAPE',
  UNKNOWN_FORMAT: 'DECODE_UNKNOWN_FORMAT',
  INVALID_XML: 'DECODE_INVALID_XML',
  TOO_LARGE: 'DECODE_TOO_LARGE',
  FAILED: 'DECODE_FAILED',
} as const;

/** A decoding failure that quotes a short excerpt of the input (never all of it). */
export function decodeError(code: string, message: string, input?: unknown): CodedError {
  if (input === undefined) return new CodedError(code, message);
  return new CodedError(code, `${message} (input: "${excerpt(input, 80)}")`, {
    excerpt: excerpt(input, 200),
  });
}

/**
 * Any failure while decoding as a DECODE_* error: a CodedError of ours passes,
 * anything else (a parser's plain Error, a RangeError from a deep value) gets a
 * code, so it reaches the error output instead of escaping as a TypeError.
 */
export function asDecodeError(err: unknown, input?: unknown): CodedError {
  if (err instanceof CodedError && err.code.startsWith('DECODE_')) return err;
  return decodeError(DecodeCodes.FAILED, `The input cannot be decoded: ${errorMessage(err)}`, input);
}

/**
 * What a one-line text may not hold: whitespace other than a single space (a
 * line break, a tab, a run of spaces; the class lists what `\s` matches, spelt
 * out because a negated class is slower), or a space at either end.
 */
const NOT_ONE_LINE = /[\t-\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]| {2}|^ | $/;

/** Summaries are one line: names and descriptions may carry line breaks. */
export function oneLine(text: string): string {
  // Most texts hold single spaces only: then they are one line as they are.
  return NOT_ONE_LINE.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}
