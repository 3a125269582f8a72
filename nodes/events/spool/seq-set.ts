/**
 * A set of sequence numbers kept as sorted runs (first..last). The spool keeps
 * what it has finished with or handed out in one: those numbers are nearly
 * contiguous (entries are handed out in order and mostly finished in order),
 * so the runs stay few, about one per entry still out, whatever the number of
 * entries.
 */
export class SeqSet {
  /** first0, last0, first1, last1, ...: disjoint, not adjacent, in order. */
  private runs: number[] = [];

  /** How many runs hold the set (what it costs in memory: 16 bytes each). */
  get runCount(): number {
    return this.runs.length / 2;
  }

  has(seq: number): boolean {
    const i = this.runAtOrBefore(seq);
    return i >= 0 && (this.runs[2 * i + 1] as number) >= seq;
  }

  add(seq: number): void {
    const n = this.runs.length;
    const last = this.runs[n - 1];
    // Numbers mostly come in order: extend or open the last run without a search.
    if (last !== undefined && seq === last + 1) this.runs[n - 1] = seq;
    else if (last === undefined || seq > last + 1) this.runs.push(seq, seq);
    else this.addRange(seq, seq);
  }

  /** Adds first..last (nothing when last < first). */
  addRange(first: number, last: number): void {
    if (last < first) return;
    // The runs that overlap first..last or touch it merge into one.
    let lo = this.runAtOrBefore(first - 1);
    if (lo < 0 || (this.runs[2 * lo + 1] as number) < first - 1) lo++;
    const hi = this.runAtOrBefore(last + 1);
    if (lo > hi) {
      this.runs.splice(2 * lo, 0, first, last);
      return;
    }
    const merged = [
      Math.min(first, this.runs[2 * lo] as number),
      Math.max(last, this.runs[2 * hi + 1] as number),
    ];
    this.runs.splice(2 * lo, 2 * (hi - lo + 1), ...merged);
  }

  /** How many of first..last are not in the set. */
  missingIn(first: number, last: number): number {
    if (last < first) return 0;
    let present = 0;
    for (let i = Math.max(0, this.runAtOrBefore(first)); 2 * i < this.runs.length; i++) {
      const a = this.runs[2 * i] as number;
      const b = this.runs[2 * i + 1] as number;
      if (a > last) break;
      present += Math.max(0, Math.min(b, last) - Math.max(a, first) + 1);
    }
    return last - first + 1 - present;
  }

  clone(): SeqSet {
    const copy = new SeqSet();
    copy.runs = this.runs.slice();
    return copy;
  }

  /** The index of the last run starting at or before `seq`, or -1. */
  private runAtOrBefore(seq: number): number {
    let lo = 0;
    let hi = this.runs.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.runs[2 * mid] as number) <= seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }
}
