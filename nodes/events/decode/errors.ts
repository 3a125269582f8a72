import { CodedError } from '../../common/errors';
import { excerpt } from '../../common/http';

export const DecodeCodes = {
  INVALID_JSON: 'DECODE_INVALID_JSON',
  UNKNOWN_TYPE: 'DECODE_UNKNOWN_TYPE',
  BAD_PAYLOAD: 'DECODE_BAD_PAYLOAD',
  WRONG_SHAPE: 'DECODE_WRONG_SHAPE',
  UNKNOWN_FORMAT: 'DECODE_UNKNOWN_FORMAT',
  INVALID_XML: 'DECODE_INVALID_XML',
} as const;

/** A decoding failure that quotes a short excerpt of the input (never all of it). */
export function decodeError(code: string, message: string, input?: string): CodedError {
  return new CodedError(code, input === undefined ? message : `${message} (input: "${excerpt(input, 80)}")`, {
    excerpt: input === undefined ? undefined : excerpt(input, 200),
  });
}
