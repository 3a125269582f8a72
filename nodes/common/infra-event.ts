/**
 * The one event every node speaks after decoding: `msg.payload` is an InfraEvent
 * and `msg.topic` its `type`.
 */

/**
 * What an input format adds to its events beyond the fields every event has,
 * one property per kind of facts (`vcd`, `aci`, `cloudevent`, ...). Each
 * format's module declares its own property here (TypeScript declaration
 * merging: `declare module '.../common/infra-event' { interface EventFacts
 * {...} }`), so a new format changes nothing in this file.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the formats' modules
export interface EventFacts {}

export interface InfraEvent extends EventFacts {
  /** Deterministic: the same upstream event always gives the same id. */
  id: string;
  /** URI of the emitting system. */
  source: string;
  /** Dotted, e.g. com.vmware.vcloud.event.vm.create, com.cisco.aci.fvBD.modified. */
  type: string;
  /**
   * RFC 3339: the source's own time, read as it was written (precision and offset kept, the spelling made
   * RFC 3339: `+0000` → `+00:00`); the receipt time where the source gave none that could be read.
   */
  time: string;
  /** `receipt` when `time` is the receipt time, because the source gave no time that could be read. */
  timeSource?: 'receipt';
  subject?: string;
  /** One human line. */
  summary: string;
  /** What read it, e.g. `vcd`, `vcd-amqp`, `aci`, `cloudevent`: each format names its own. */
  origin: string;
  data: unknown;
}

/**
 * The event, marked when its source gave no time that could be read (`own`
 * undefined): its `time` is then the receipt time, and `timeSource` says so.
 */
export function timedAt<E extends InfraEvent>(event: E, own: string | undefined): E {
  if (own === undefined) event.timeSource = 'receipt';
  return event;
}
