/**
 * REST calls through an APIC cluster for the nodes that ask and change
 * things: one session, logged in on demand on the first APIC that answers,
 * refreshed by its own timers and replaced when it is lost or ages. A call
 * goes to the next APIC when one fails at network level, once more with a new
 * login when the session is refused, and again after a backoff when the APIC
 * throttles (503). A refused login waits before the next (a busy flow must not
 * trip the APIC's lockout policy). Plain TypeScript; no Node-RED import.
 */
import { Backoff, type BackoffOptions } from '../common/backoff';
import { CodedError, toCoded } from '../common/errors';
import { ApicCodes, isNetworkFailure, type ApicAnswer, type ApicCluster, type ApicSession } from './session';

export interface ApicRestOptions {
  /** Between tries of a throttled call (503). */
  throttle?: BackoffOptions;
  /** Between refused logins. */
  auth?: BackoffOptions;
  /** Tries of one call, at most. */
  attempts?: number;
}

export class ApicRest {
  private current: ApicSession | undefined;
  private pending: Promise<ApicSession> | undefined;
  private refused: { error: CodedError; retryAt: number } | undefined;
  private readonly authBackoff: Backoff;
  private readonly options: ApicRestOptions;
  private closed = false;

  constructor(
    readonly cluster: ApicCluster,
    options: ApicRestOptions = {},
  ) {
    this.options = options;
    this.authBackoff = new Backoff({ initialMs: 60_000, maxMs: 900_000, ...options.auth });
  }

  /** The APIC the session is on, if there is one. */
  get host(): string | undefined {
    return this.current?.host;
  }

  /**
   * One call (`path` with its query, e.g. /api/class/fvBD.json?page=0). A
   * configuration POST is retried like a read: APIC's posts say what an object
   * must be, so sending one twice changes nothing more.
   */
  async call(method: string, path: string, body?: string): Promise<ApicAnswer & { host: string }> {
    const throttled = new Backoff({ initialMs: 1000, maxMs: 30_000, ...this.options.throttle });
    const attempts = this.options.attempts ?? this.cluster.hosts.length + 2;
    for (let attempt = 1; ; attempt++) {
      const session = await this.session();
      try {
        const answer = await session.send(method, path, body);
        return { ...answer, host: session.host };
      } catch (err) {
        const error = toCoded(err, session.host);
        if (attempt >= attempts || this.closed) throw error;
        if (error.code === ApicCodes.SESSION_EXPIRED || error.code === ApicCodes.CLOSED) {
          this.drop(session);
        } else if (isNetworkFailure(error)) {
          // This APIC is away: the next login starts with the next one.
          this.cluster.failover(session.host);
          this.drop(session);
        } else if (error.code === ApicCodes.THROTTLED) {
          await new Promise((r) => setTimeout(r, throttled.next()));
        } else {
          throw error;
        }
      }
    }
  }

  /** Logs out and takes no more calls. */
  async close(): Promise<void> {
    this.closed = true;
    const session = this.current;
    this.current = undefined;
    await Promise.all([session?.logout(), this.pending?.then((s) => s.logout()).catch(() => undefined)]);
  }

  private session(): Promise<ApicSession> {
    if (this.closed) return Promise.reject(new CodedError(ApicCodes.CLOSED, 'The controller is closed.'));
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    if (this.refused && Date.now() < this.refused.retryAt) return Promise.reject(this.refused.error);
    this.pending ??= this.cluster
      .login()
      .then((session) => {
        if (this.closed) {
          session.logout().catch(() => undefined);
          throw new CodedError(ApicCodes.CLOSED, 'The controller is closed.');
        }
        this.refused = undefined;
        this.authBackoff.reset();
        session.on('lost', () => this.drop(session));
        session.on('aging', () => this.drop(session));
        session.on('debug', () => undefined);
        session.start();
        this.current = session;
        return session;
      })
      .catch((err: unknown) => {
        const error = toCoded(err, this.cluster.preferredHost);
        if (error.code === ApicCodes.AUTH_FAILED)
          this.refused = { error, retryAt: Date.now() + this.authBackoff.next() };
        throw error;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  private drop(session: ApicSession): void {
    if (this.current === session) this.current = undefined;
    session.logout().catch(() => undefined);
  }
}
