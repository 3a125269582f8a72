/**
 * Storms: per key, the first event passes and opens a window; the next ones
 * within it are held and counted; when the window ends, one summary says what
 * was held ("12 more since 10:04: raised 6, cleared 6"), and while events keep
 * coming each window ends with one. A window with nothing held ends the storm:
 * the next event passes again. News passes at once: a fault that got worse
 * than any that passed in the storm (major → critical) and, with
 * `passClears`, a clearing event when the last one that passed was not a
 * clear (people learn it cleared; a fault that keeps flapping does not get
 * through at every flap).
 *
 * Only what is needed for the summary is kept (counts per kind and a short
 * brief of the latest held event), in the journal's "storm" space, so a storm
 * goes on across a restart. Bounded: at most `maxStorms` at once; opening one
 * more ends the oldest early, with its summary. Decisions depend only on the
 * events and the window, so both nodes of an HA pair make the same ones.
 */
import { createHash } from 'node:crypto';
import type { InfraEvent } from '../common/infra-event';
import type { JournalSpace } from './journal';
import { CLEARED, MAX_KINDS, kindOf, severityOf } from './storm-key';

export interface StormOptions {
  windowMs: number;
  maxStorms: number;
  passClears: boolean;
}

/** What a summary tells of an event. */
export interface Brief {
  id: string;
  type: string;
  time: string;
  summary: string;
}

export interface StormState {
  /** The key as the user's setting made it (clipped), for msg.storm. */
  key: string;
  source: string;
  subject?: string;
  origin: InfraEvent['origin'];
  /** The id of the event that opened the storm. */
  first: string;
  /** Summaries sent so far. */
  round: number;
  /** Start and end of the current window (ms, this machine's clock). */
  since: number;
  endsAt: number;
  held: number;
  /** Held events by kind, in the order the kinds first came. */
  counts: Record<string, number>;
  last?: Brief;
  /** The kind of the latest event that passed. */
  passed: string;
  /** The highest severity that passed (-1: none said). */
  worst: number;
}

/** The type of a summary message (msg.topic too). */
export const STORM_TYPE = 'dcevents.storm.summary';

/** A storm's state stays this long after its window (Node-RED down longer: its summary is not sent). */
const RETAIN_MS = 24 * 3600_000;
const CLIP = 300;

export interface Due {
  /** The storm's key in the journal: write it once the summary left. */
  id: string;
  summary: InfraEvent;
}

export class Storms {
  /** Summaries of storms ended early (too many at once), sent with the next due ones. */
  private readonly early: Due[] = [];

  constructor(
    private readonly options: StormOptions,
    private readonly space: JournalSpace<StormState>,
  ) {}

  get open(): number {
    return this.space.entries.size;
  }

  /**
   * Passes or holds an event of the storm `keyText`, in memory; returns the
   * storm's id, whose line the caller writes once the event left (or was held).
   */
  take(event: InfraEvent, keyText: string, now: number): { verdict: 'pass' | 'hold'; id: string } {
    const id = createHash('sha256').update(keyText, 'utf8').digest('base64url').slice(0, 22);
    let storm = this.space.get(id, now)?.value;
    if (storm && now >= storm.endsAt) {
      // Its window ended before the timer saw it: summarized now, and it goes on if it held anything.
      this.early.push(...this.end(id, storm, now));
      storm = this.space.get(id, now)?.value;
    }
    if (!storm) {
      this.opened(id, event, keyText, now);
      return { verdict: 'pass', id };
    }
    const kind = kindOf(event);
    const severity = severityOf(event);
    const clears = this.options.passClears && kind === CLEARED && storm.passed !== CLEARED;
    if (clears || severity > (storm.worst ?? -1)) {
      // News: a fault that got worse, or (if asked for) one that cleared.
      storm.passed = kind;
      storm.worst = Math.max(storm.worst ?? -1, severity);
      this.space.put(id, { expiresAt: storm.endsAt + RETAIN_MS, value: storm });
      return { verdict: 'pass', id };
    }
    storm.held++;
    const counted = kind in storm.counts || Object.keys(storm.counts).length < MAX_KINDS ? kind : 'other';
    storm.counts[counted] = (storm.counts[counted] ?? 0) + 1;
    storm.last = briefOf(event);
    this.space.put(id, { expiresAt: storm.endsAt + RETAIN_MS, value: storm });
    return { verdict: 'hold', id };
  }

  /** Queues the journal line of a storm as it is now (after its event left or was held). */
  write(id: string): void {
    this.space.write(id);
  }

  /** Storms whose window ended: their summaries (memory changed; write each id once it left). */
  due(now: number): Due[] {
    const out = this.early.splice(0);
    for (const [id, { value: storm }] of this.space.entries) {
      if (storm && now >= storm.endsAt) out.push(...this.end(id, storm, now));
    }
    return out;
  }

  private opened(id: string, event: InfraEvent, keyText: string, now: number): void {
    // The oldest storms end early rather than be forgotten with what they held.
    for (const [oldest, { value }] of this.space.entries) {
      if (this.space.entries.size < this.options.maxStorms) break;
      if (value) this.early.push(...this.end(oldest, value, now, true));
      else this.space.put(oldest, { expiresAt: 0 });
    }
    const storm: StormState = {
      key: keyText.slice(0, CLIP),
      source: event.source,
      ...(event.subject === undefined ? {} : { subject: event.subject }),
      origin: event.origin,
      first: event.id,
      round: 0,
      since: now,
      endsAt: now + this.options.windowMs,
      held: 0,
      counts: {},
      passed: kindOf(event),
      worst: severityOf(event),
    };
    this.space.put(id, { expiresAt: storm.endsAt + RETAIN_MS, value: storm });
  }

  /** A window ends: its summary when it held anything, and the next window; else the storm is over. */
  private end(id: string, storm: StormState, now: number, over = false): Due[] {
    if (storm.held === 0) {
      this.space.put(id, { expiresAt: 0 });
      return [];
    }
    storm.round++;
    const summary = summaryOf(storm, now);
    if (over) {
      this.space.put(id, { expiresAt: 0 });
    } else {
      Object.assign(storm, { since: now, endsAt: now + this.options.windowMs, held: 0, counts: {} });
      delete storm.last;
      this.space.put(id, { expiresAt: storm.endsAt + RETAIN_MS, value: storm });
    }
    return [{ id, summary }];
  }
}

function clip(text: unknown, max = CLIP): string {
  const s = typeof text === 'string' ? text : String(text ?? '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function briefOf(event: InfraEvent): Brief {
  return { id: clip(event.id), type: clip(event.type), time: clip(event.time), summary: clip(event.summary) };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "10:04" on this machine's clock; with the date when the window began more than half a day ago. */
export function clockOf(ms: number, now: number): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (now - ms < 12 * 3600_000) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** What the held events were, as a summary event: same source, subject and origin as the storm's first. */
export function summaryOf(storm: StormState, now: number): InfraEvent {
  const counts = Object.entries(storm.counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const last = storm.last ? ` · ${storm.last.summary}` : '';
  const since = new Date(storm.since).toISOString();
  const until = new Date(now).toISOString();
  return {
    // The same on both nodes of an HA pair: the storm's first event and the window's number.
    id: `storm:${storm.first}#${storm.round}`,
    source: storm.source,
    type: STORM_TYPE,
    time: until,
    ...(storm.subject === undefined ? {} : { subject: storm.subject }),
    summary: `${storm.held} more since ${clockOf(storm.since, now)}: ${counts}${last}`,
    origin: storm.origin,
    data: {
      key: storm.key,
      since,
      until,
      held: storm.held,
      counts: { ...storm.counts },
      first: storm.first,
      ...(storm.last ? { last: storm.last } : {}),
    },
  };
}
