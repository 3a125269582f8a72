/**
 * The input formats, one row each: the name the editor offers, what it is in a
 * few words, how it is recognised, and how it is decoded. The rows are in
 * detection order: "auto" takes the first whose `detect` says yes. Adding a
 * format is a module of its own, a row here, and an option with its labels in
 * event-decode.html and the locales (a test checks that the editor offers
 * exactly these names, in this order).
 */
import type { InfraEvent } from '../../common/infra-event';
import type { CloudEvent } from '../cloudevent-model';
import { aciEvents, aciObjectMessageEvent, isAciDocument, isAciObjectMessage } from './aci';
import {
  type HeaderBag,
  cloudEventToInfraEvent,
  fromBatch,
  fromBinary,
  fromStructured,
  isBinaryCloudEvent,
  isStructuredCloudEvent,
} from './cloudevent';
import { DecodeCodes, decodeError } from './errors';
import { isVcdNotification, vcdEnvelopeObjectEvent, vcdNotificationEvent } from './vcd-notification';
import { vcdAmqpEvent } from './vcd-amqp';
import { isVcdAuditPage, isVcdAuditRecord, vcdAuditEvents } from './vcd-audit';
import { looksLikeEnvelope } from './vcd-envelope';

export interface DecodeInput {
  payload: unknown;
  /** AMQP routing key (vcd-amqp). */
  routingKey?: string;
  /** AMQP headers (vcd-amqp). */
  amqpHeaders?: Record<string, unknown>;
  /** HTTP request headers (binary-mode CloudEvents). */
  httpHeaders?: HeaderBag;
  /** MQTT topic, for summaries. */
  topic?: string;
}

export interface DecoderContext {
  /** The system's URL, used as `source` where the input does not name one. */
  source?: string;
  topic?: string;
}

export interface Decoder<Name extends string = string> {
  readonly name: Name;
  /** What the format is, in a few words, for the error when nothing matches. */
  readonly description: string;
  /** Whether a value (JSON already parsed; XML and binary-mode bodies as they came) is this format. */
  detect(value: unknown, httpHeaders?: HeaderBag): boolean;
  /** The events of a value of this format; throws DECODE_* errors. */
  decode(
    value: unknown,
    input: DecodeInput,
    ctx: DecoderContext,
  ): { events: InfraEvent[]; cloudevents?: CloudEvent[] };
  /** Chosen by name, text is handed over as text even when it looks like JSON. */
  readonly takesText?: boolean;
}

const decoder = <Name extends string>(d: Decoder<Name>): Decoder<Name> => d;

function contentType(headers: HeaderBag | undefined): string {
  const entry = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type');
  return String(entry?.[1] ?? '');
}

const cloudevent = decoder({
  name: 'cloudevent',
  description: 'CloudEvent',
  detect: (value, headers) =>
    isBinaryCloudEvent(headers) ||
    contentType(headers).startsWith('application/cloudevents') ||
    (Array.isArray(value) && value.length > 0 && value.every(isStructuredCloudEvent)) ||
    isStructuredCloudEvent(value),
  decode(value, input) {
    const cloudevents = isBinaryCloudEvent(input.httpHeaders)
      ? [fromBinary(input.httpHeaders ?? {}, input.payload)]
      : Array.isArray(value)
        ? fromBatch(value)
        : [fromStructured(value)];
    return { events: cloudevents.map(cloudEventToInfraEvent), cloudevents };
  },
});

const aci = decoder({
  name: 'aci',
  description: 'ACI push or answer',
  detect: (value) => isAciDocument(value) || isAciObjectMessage(value),
  decode: (value, _input, ctx) => ({
    events: isAciObjectMessage(value) ? [aciObjectMessageEvent(value, ctx)] : aciEvents(value, ctx),
  }),
});

const vcdEnvelope = decoder({
  name: 'vcd',
  description: 'VCD envelope',
  detect: looksLikeEnvelope,
  decode: (value, _input, ctx) => ({ events: [vcdEnvelopeObjectEvent(value, ctx)] }),
});

const vcdJson = decoder({
  name: 'vcd-json',
  description: 'VCD notification',
  detect: isVcdNotification,
  decode(value, _input, ctx) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw decodeError(DecodeCodes.WRONG_SHAPE, 'A VCD notification must be a JSON object', value);
    }
    return { events: [vcdNotificationEvent(value as Record<string, unknown>, ctx)] };
  },
});

const vcdAudit = decoder({
  name: 'vcd-audit',
  description: 'VCD audit record',
  detect: (value) => isVcdAuditRecord(value) || isVcdAuditPage(value),
  decode: (value, _input, ctx) => ({ events: vcdAuditEvents(value, ctx) }),
});

const vcdAmqp = decoder({
  name: 'vcd-amqp',
  description: 'AMQP XML',
  // Text that is still text here is XML: JSON was parsed before detection.
  detect: (value) => typeof value === 'string',
  takesText: true,
  decode(value, input, ctx) {
    if (typeof value !== 'string')
      throw decodeError(DecodeCodes.WRONG_SHAPE, 'An AMQP notification must be XML text');
    const amqp = { routingKey: input.routingKey, headers: input.amqpHeaders, source: ctx.source };
    return { events: [vcdAmqpEvent(value, amqp)] };
  },
});

/** Every format, in detection order. */
export const DECODERS = [cloudevent, aci, vcdEnvelope, vcdJson, vcdAudit, vcdAmqp] as const;

export type FormatName = (typeof DECODERS)[number]['name'];
