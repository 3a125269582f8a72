/**
 * What an APIC object says of itself, as event decode and aci subscribe both
 * read it: when it happened (APIC writes `modTs: "never"` on faults, health
 * scores, audit and event records and most operational objects; their times
 * live in other attributes) and a digest of what it is.
 */
import { readTime } from '../../common/times';

/**
 * Where an object keeps its time, best first: `modTs` when it is a time, then
 * a fault's last transition, a health score's update, a record's creation, a
 * node's last state change, an adjacency's up time, a session's login.
 */
export const TIME_ATTRIBUTES = [
  'modTs',
  'lastTransition',
  'updTs',
  'created',
  'lastStateModTs',
  'upTS',
  'lastActTs',
  'loginTime',
] as const;

/** Attributes that say where and when, not what changed. */
export const BOOKKEEPING = new Set(['dn', 'status', 'modTs', 'rn', 'childAction']);

type Attributes = Readonly<Record<string, string | undefined>>;

/**
 * The best time the object carries, read into RFC 3339 (precision and offset
 * kept); undefined when none ("never" is none).
 */
export function objectTime(attributes: Attributes): string | undefined {
  for (const name of TIME_ATTRIBUTES) {
    const time = readTime(attributes[name]);
    if (time !== undefined) return time;
  }
  return undefined;
}

/** FNV-1a (32 bits): its offset basis and prime. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of the text's length, then of each of its UTF-16 units: the length keeps ("ab","c") from ("a","bc"). */
function fnv1a(hash: number, text: string): number {
  let h = Math.imul(hash ^ text.length, FNV_PRIME);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * A short digest of the attributes that say what an object is or what changed
 * (bookkeeping left out): FNV-1a over each name and its value, in the order of
 * the names, as 8 hex digits. It only tells two states of one object apart (two
 * pushes in the same millisecond, or an object without a time before and after
 * a restart), so no secret rests on it: a SHA-256 cut to the same 32 bits cost
 * two fifths of turning a push into an event. It is part of event ids and saved
 * state, so it must not change between versions: test vectors hold it.
 */
export function digestOf(attributes: Attributes): string {
  const names: string[] = [];
  for (const name of Object.keys(attributes)) if (!BOOKKEEPING.has(name)) names.push(name);
  if (names.length > 1) names.sort();
  let hash = FNV_OFFSET;
  for (const name of names) {
    const value: unknown = attributes[name] ?? '';
    hash = fnv1a(fnv1a(hash, name), typeof value === 'string' ? value : String(value));
  }
  return hex8(hash);
}

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** 8 hex digits of a 32-bit value: `toString(16)` of a number beyond 2^31 took longer than the hash. */
function hex8(n: number): string {
  return (
    (HEX[n >>> 24] as string) +
    (HEX[(n >>> 16) & 255] as string) +
    (HEX[(n >>> 8) & 255] as string) +
    (HEX[n & 255] as string)
  );
}
