/**
 * A server's clock as measured: the `Date` header of its latest answer,
 * carried forward on our monotonic clock. The two clocks are never compared
 * (ours may be set wrong or jump); only the time since the answer is ours.
 */
import { performance } from 'node:perf_hooks';

/** An IMF-fixdate is 29 characters; anything much longer is not a date. */
const MAX_DATE_LENGTH = 64;

export class ServerClock {
  private server: number | undefined;
  private measuredAt = 0;

  /**
   * An answer arrived now (`mono`, performance.now()) with this `Date` header.
   * A header that is missing or not a date changes nothing.
   */
  observe(date: string | undefined, mono = performance.now()): void {
    if (!date || date.length > MAX_DATE_LENGTH) return;
    const at = Date.parse(date);
    if (!Number.isFinite(at)) return;
    this.server = at;
    this.measuredAt = mono;
  }

  /**
   * The server's time now (ms since the epoch), undefined until an answer
   * said. At least this: the header is cut to the second and was written before
   * the answer travelled; the server's true time is up to a second (and the
   * answer's travel) later.
   */
  now(mono = performance.now()): number | undefined {
    return this.server === undefined ? undefined : this.server + (mono - this.measuredAt);
  }
}
