/**
 * A first-in, first-out list whose take from the front costs the same at any
 * length. `Array.prototype.shift` and `splice(0, n)` move every element left
 * once an array is large (V8 trims the front in place only for small ones):
 * with 100k events waiting, that costs more per event than the rest of the
 * pipeline together. Here the front is an index; the spent slots are cut off
 * once they are half of the array, so each element is moved at most once more.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(items: Iterable<T> = []) {
    for (const item of items) this.items.push(item);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** The first element, left in place. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    this.compact();
    return item;
  }

  /** Takes up to `n` elements from the front, in order. */
  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + Math.max(0, n));
    const out = this.items.slice(this.head, end) as T[];
    this.items.fill(undefined, this.head, end);
    this.head = end;
    this.compact();
    return out;
  }

  /** Puts elements back at the front (taken, then not used), in their order. */
  putBack(front: readonly T[]): void {
    if (front.length === 0) return;
    if (front.length <= this.head) {
      this.head -= front.length;
      for (let i = 0; i < front.length; i++) this.items[this.head + i] = front[i];
    } else {
      this.items = [...front, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  /** Everything, in order; the list is empty afterwards. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
