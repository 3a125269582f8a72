/**
 * The one reader of times from outside. Real systems write ISO 8601 in forms
 * RFC 3339 does not have: VCD's audit trail `+0000`, others `+00`, lower-case
 * `t` and `z`, fractions of any length. `readTime` turns each into RFC 3339,
 * keeping the fraction and the offset as written (only their spelling
 * changes); `isRfc3339` is the strict test a CloudEvent's `time` must pass.
 *
 * A hand-written scanner, not a regex: it reads each character once, bounds
 * the length first, and costs less than the pattern it replaced.
 */

/** Longer than any time: 19 characters, a 38-digit fraction and an offset. */
const MAX_LENGTH = 64;

/** Days of each month; February's 29th depends on the year. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by `count` digits at `at`, or -1 when one of them is not a digit. */
function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    // Past the end charCodeAt gives NaN: no comparison holds, so the test is written positive.
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * Date and time of day (`YYYY-MM-DDThh:mm:ss`, T or t), every field in range
 * and the day in the calendar. A leap second (:60) is refused, as Date.parse
 * and so most consumers refuse it.
 */
function isDateTime(text: string): boolean {
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return false;
  if (text[10] !== 'T' && text[10] !== 't') return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || minute < 0 || second < 0) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (day <= 28) return true;
  return month === 2 ? day === 29 && isLeap(year) : day <= (MONTH_DAYS[month - 1] as number);
}

/** Where the fraction after the seconds ends (19 without one), or -1 for a dot without digits. */
function fractionEnd(text: string): number {
  if (text[19] !== '.') return 19;
  let at = 20;
  while (at < text.length && digits(text, at, 1) >= 0) at++;
  return at === 20 ? -1 : at;
}

/** `±hh` and `±hhmm` as RFC 3339 writes them (`±hh:mm`); undefined when out of range. */
function offsetOf(zone: string): string | undefined {
  const sign = zone[0];
  if (sign !== '+' && sign !== '-') return undefined;
  const colon = zone.length === 6 && zone[3] === ':';
  if (zone.length !== 3 && zone.length !== 5 && !colon) return undefined;
  const hour = digits(zone, 1, 2);
  const minute = zone.length === 3 ? 0 : digits(zone, colon ? 4 : 3, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  return colon ? zone : `${zone.slice(0, 3)}:${zone.length === 3 ? '00' : zone.slice(3)}`;
}

/**
 * A time as real systems write it → RFC 3339, or undefined when no reading
 * makes it one (no offset, a day that does not exist, "never", not a string).
 * The fraction is kept as written, the offset too (`+0000` → `+00:00`);
 * `T` and `Z` are written upper-case. An RFC 3339 time comes back as the same
 * string.
 */
export function readTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 20 || value.length > MAX_LENGTH) return undefined;
  if (!isDateTime(value)) return undefined;
  const end = fractionEnd(value);
  if (end < 0) return undefined;
  const zone = value.slice(end);
  const offset = zone === 'Z' || zone === 'z' ? 'Z' : offsetOf(zone);
  if (offset === undefined) return undefined;
  if (offset === zone && value[10] === 'T') return value;
  return `${value.slice(0, 10)}T${value.slice(11, end)}${offset}`;
}

/** Strict RFC 3339 (a CloudEvent's `time`): the offset `Z` or `±hh:mm`, as the grammar has it. */
export function isRfc3339(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 20 || value.length > MAX_LENGTH) return false;
  if (!isDateTime(value)) return false;
  const end = fractionEnd(value);
  if (end < 0) return false;
  const zone = value.slice(end);
  return zone === 'Z' || zone === 'z' || (zone.length === 6 && offsetOf(zone) === zone);
}

/** Milliseconds of 400 Gregorian years: the calendar repeats after them. */
const CYCLE_MS = 146_097 * 86_400_000;

/**
 * The instant a time names, in ms since the epoch (fractions beyond the
 * millisecond are cut); undefined when `readTime` cannot read it. Computed from
 * the fields, so a 9-digit fraction or a year before 100 read as written.
 */
export function timeMillis(value: unknown): number | undefined {
  const time = readTime(value);
  if (time === undefined) return undefined;
  const year = digits(time, 0, 4);
  const end = fractionEnd(time);
  const ms = end > 20 ? digits(`${time.slice(20, Math.min(end, 23))}00`, 0, 3) : 0;
  // Date.UTC reads the years 0 to 99 as 1900 to 1999: count them 400 years later.
  const early = year < 100 ? 1 : 0;
  const utc =
    Date.UTC(
      year + early * 400,
      digits(time, 5, 2) - 1,
      digits(time, 8, 2),
      digits(time, 11, 2),
      digits(time, 14, 2),
      digits(time, 17, 2),
      ms,
    ) -
    early * CYCLE_MS;
  const zone = time.slice(end);
  if (zone === 'Z') return utc;
  const minutes = digits(zone, 1, 2) * 60 + digits(zone, 4, 2);
  return utc - (zone[0] === '-' ? -1 : 1) * minutes * 60_000;
}

/** Now, in RFC 3339 (UTC, milliseconds): the time of an event whose source gave none that could be read. */
export function receiptTime(): string {
  // One input can carry tens of thousands of objects without a time: format each millisecond once.
  const now = Date.now();
  if (now !== receipt.at) {
    receipt.at = now;
    receipt.text = new Date(now).toISOString();
  }
  return receipt.text;
}

const receipt = { at: NaN, text: '' };
