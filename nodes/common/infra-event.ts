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
  /** RFC 3339 exactly as the source gave it. */
  time: string;
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
