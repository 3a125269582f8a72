/** The APIC simulator and subscribers on it, for the client tests; everything started is stopped after each test. */
import type { CodedError } from '../../../nodes/common/errors';
import type { ConnectionState } from '../../../nodes/common/reconnect-loop';
import { parseEntries } from '../../../nodes/aci/entries';
import { ApicCluster, type ApicClusterOptions } from '../../../nodes/aci/session';
import {
  ApicSubscriber,
  type AciChange,
  type StateInfo,
  type WatchOptions,
} from '../../../nodes/aci/subscriber';
import { ApicSimulator, DEFAULT_APIC_PASSWORD, type ApicSimOptions } from '../../../sim/apic';
import { waitFor } from '../../support/wait';

export const BD = 'uni/tn-prod/BD-bd-web';

export interface Watching {
  changes: AciChange[];
  refused: CodedError[];
  failing: CodedError[];
  states: [ConnectionState, StateInfo][];
}

export interface SubscriberExtras {
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  authBackoff?: { initialMs: number; maxMs: number };
}

export class ApicHarness {
  sim!: ApicSimulator;
  private readonly subscribers: ApicSubscriber[] = [];
  private readonly clusters: ApicCluster[] = [];

  async startSim(options: ApicSimOptions = {}): Promise<ApicSimulator> {
    this.sim = await ApicSimulator.start({ ratePerSec: 0, ...options });
    return this.sim;
  }

  cluster(options: Partial<ApicClusterOptions> = {}): ApicCluster {
    const c = new ApicCluster({
      hosts: this.sim.hosts,
      authType: 'password',
      username: 'admin',
      password: DEFAULT_APIC_PASSWORD,
      tls: { ca: this.sim.cert },
      ...options,
    });
    this.clusters.push(c);
    return c;
  }

  /** A subscriber watching `entries`; short backoff and pings so tests stay quick. */
  watch(
    entries: string,
    options: Partial<WatchOptions> = {},
    c: ApicCluster = this.cluster(),
    extra: SubscriberExtras = {},
  ): { subscriber: ApicSubscriber; seen: Watching } {
    const subscriber = new ApicSubscriber({
      cluster: c,
      pingIntervalMs: 1000,
      backoff: extra.backoff ?? { initialMs: 100, maxMs: 1000 },
      authBackoff: extra.authBackoff,
      pageSize: extra.pageSize,
    });
    this.subscribers.push(subscriber);
    const seen: Watching = { changes: [], refused: [], failing: [], states: [] };
    subscriber.on('state', (state: ConnectionState, info: StateInfo) => seen.states.push([state, info]));
    subscriber.add(
      'node-1',
      parseEntries(entries),
      {
        changes: (cs) => seen.changes.push(...cs),
        refused: (e) => seen.refused.push(e),
        failing: (e) => seen.failing.push(e),
      },
      { initial: 'skip', refreshTimeoutSec: 60, ...options },
    );
    return { subscriber, seen };
  }

  /** Stops this subscriber after the test too. */
  stopAfter(subscriber: ApicSubscriber): ApicSubscriber {
    this.subscribers.push(subscriber);
    return subscriber;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.subscribers.splice(0).map((s) => s.stop()));
    await Promise.all(this.clusters.splice(0).map((c) => c.close()));
    await this.sim?.stop();
  }
}

/** A harness for the tests of one suite, stopped after each test. */
export function useApicHarness(): ApicHarness {
  const harness = new ApicHarness();
  afterEach(() => harness.stopAll());
  return harness;
}

export const synced = (subscriber: ApicSubscriber) =>
  new Promise<void>((r) => subscriber.once('synced', () => r()));

export const changed = (seen: Watching, dn: string, descr: string) =>
  waitFor(
    () => seen.changes.find((c) => c.dn === dn && c.attributes.descr === descr),
    `the change of ${dn} to "${descr}"`,
  );
