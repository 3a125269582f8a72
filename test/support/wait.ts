/** Waiting helpers: every wait is bounded and says what it waited for. */
import type { EventEmitter } from 'node:events';
import type { CodedError } from '../../nodes/common/errors';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a truthy value; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

/** Resolves with the arguments of the next `event` (after the filter), or fails after `timeoutMs`. */
export function nextEvent<A extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  timeoutMs = 10_000,
  filter: (...args: A) => boolean = () => true,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      if (!filter(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    emitter.on(event, listener);
  });
}

/** Resolves with what `p` rejects with; fails naming `what` if `p` resolves instead. */
export async function rejectionOf<E = CodedError>(p: Promise<unknown>, what = 'a rejection'): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error(`expected ${what}, but it resolved`);
}
