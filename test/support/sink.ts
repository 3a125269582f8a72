/**
 * The hooks the delivery client tests share: a fresh sink simulator for each
 * test, and deliveries to it that are closed after the test, before the sink stops.
 */
import { Delivery, type DeliveryOptions } from '../../nodes/events/delivery';
import { SinkSimulator } from '../../sim/sink';

interface Closable {
  close(): Promise<unknown>;
}

export interface SinkRig {
  /** The running test's sink. */
  readonly sink: SinkSimulator;
  /**
   * A delivery to the sink's `/events` that trusts its certificate, with the
   * rig's defaults, then `options` (each replaces a default whole); closed after the test.
   */
  open(options?: Partial<DeliveryOptions>): Delivery;
  /** Closes `closable` after the test as well (a spool around a delivery, a delivery elsewhere); returns it. */
  closeAfter<T extends Closable>(closable: T): T;
}

/** Registers the hooks in the calling `describe`; `defaults` are the options every `open()` starts from. */
export function withSink(defaults: Partial<DeliveryOptions> = {}): SinkRig {
  let current: SinkSimulator | undefined;
  const opened: Closable[] = [];
  beforeEach(async () => {
    current = await SinkSimulator.start();
  });
  afterEach(async () => {
    // Closing twice is harmless: a spool closes its delivery, which is tracked too.
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await current?.stop();
    current = undefined;
  });
  const closeAfter = <T extends Closable>(closable: T): T => {
    opened.push(closable);
    return closable;
  };
  const rig: SinkRig = {
    get sink(): SinkSimulator {
      if (!current) throw new Error('the sink runs only while a test runs');
      return current;
    },
    open: (options = {}) =>
      closeAfter(
        new Delivery({ url: `${rig.sink.url}/events`, tls: { ca: rig.sink.cert }, ...defaults, ...options }),
      ),
    closeAfter,
  };
  return rig;
}
