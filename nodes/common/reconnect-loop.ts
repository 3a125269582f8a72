/**
 * The one reconnect loop of the push clients (VCD messaging, the APIC
 * subscriber): connect, hold the connection until it ends, let the client say
 * what state that leaves and how long to wait, wait (backoff with jitter, reset
 * after a connection that lived a while), connect again, until stopped.
 */
import { Backoff, sleep, type BackoffOptions } from './backoff';

/** The state of a shared connection, as its users show it. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'auth-failed' | 'closed';

/** How one connection ended. */
export interface ConnectionEnd {
  /** How long it was up; 0 when it never came up. */
  connectedMs: number;
}

export interface ReconnectLoopOptions<E extends ConnectionEnd> {
  /** One connection from its start to its end; resolves with how it ended (or throws). */
  connect(signal: AbortSignal): Promise<E>;
  /** A failure `connect` threw, as an end. */
  failed(err: unknown): E;
  /**
   * After an end (never once stopped): shows the state it leaves and says how
   * long to wait before the next connect; undefined waits the next backoff step.
   */
  ended(end: E): number | undefined;
  /** Between reconnects (grows, with jitter; default 1 s growing to 1 min). */
  backoff?: BackoffOptions;
  /** A connection that lived this long resets the backoff (default 10 s). */
  stableMs?: number;
}

export class ReconnectLoop<E extends ConnectionEnd> {
  private readonly backoff: Backoff;
  private running: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(private readonly options: ReconnectLoopOptions<E>) {
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, ...options.backoff });
  }

  /** Aborted when the loop stops; every connection of this run listens to it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Starts connecting, unless already running. */
  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal).finally(() => {
      this.running = undefined;
    });
  }

  /** Stops reconnecting: aborts with `reason`, lets the client close its connection, waits for the loop. */
  async stop(reason: Error, closeCurrent?: () => unknown): Promise<void> {
    this.abort.abort(reason);
    await closeCurrent?.();
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { connect, failed, ended, stableMs = 10_000 } = this.options;
    while (!signal.aborted) {
      let end: E;
      try {
        end = await connect(signal);
      } catch (err) {
        end = failed(err);
      }
      if (signal.aborted) break;
      if (end.connectedMs >= stableMs) this.backoff.reset();
      const wait = ended(end);
      try {
        await sleep(wait ?? this.backoff.next(), signal);
      } catch {
        break;
      }
    }
  }
}
