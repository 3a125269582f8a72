/**
 * The one event every node speaks after decoding: `msg.payload` is an InfraEvent
 * and `msg.topic` its `type`.
 */
export type EventOrigin = 'vcd' | 'vcd-amqp' | 'aci' | 'cloudevent';

export interface VcdEventFacts {
  org?: string;
  user?: string;
  entity?: string;
  entityType?: string;
  entityName?: string;
  operationSuccess?: boolean;
  taskName?: string;
}

export interface AciEventFacts {
  className: string;
  dn: string;
  status: string;
  attributes: Record<string, string>;
}

/**
 * What an event decoded from a CloudEvent keeps of it beyond the InfraEvent
 * fields, so that emitting it again gives the same CloudEvent.
 */
export interface CloudEventFacts {
  extensions?: Record<string, string | number | boolean>;
  datacontenttype?: string;
  dataschema?: string;
}

export interface InfraEvent {
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
  origin: EventOrigin;
  vcd?: VcdEventFacts;
  aci?: AciEventFacts;
  /** When decoded from a CloudEvent. */
  cloudevent?: CloudEventFacts;
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
