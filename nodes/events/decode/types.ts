/**
 * What an input format is to event decode: one module per format exports a
 * `Decoder` (see CONTRIBUTING.md, "Adding an input format"), and the table in
 * decoders.ts lists them in detection order.
 */
import type { InfraEvent } from '../../common/infra-event';
import type { CloudEvent } from '../cloudevent-model';

export type HeaderBag = Record<string, string | string[] | undefined>;

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
  /**
   * The Source setting: the system's URL, for events whose input does not name
   * its system. Where the input names it, the input's own wins.
   */
  source?: string;
  topic?: string;
}

/** An input of a format, as a real system sends it: every test of all formats decodes it, fuzzing varies it. */
export interface FormatSample {
  /** What it is, in a few words (test names). */
  name: string;
  input: DecodeInput;
  /** The system the input names itself, which its events take as `source` whatever Source says. */
  ownSource?: string;
}

export interface Decoder<Name extends string = string> {
  /** The format's name: the Input setting's value, and the key of its label (`event-decode.format.<name>`). */
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
  /** At least one input of each shape the format reads. */
  readonly samples: readonly FormatSample[];
}

/** A decoder, its name kept as a literal type (the table's names become the type of the Input setting). */
export const decoder = <Name extends string>(d: Decoder<Name>): Decoder<Name> => d;

/**
 * The `source` of an event (the same rule in every format): the system the
 * input names itself, else the Source setting, else what the format falls
 * back on (a URN of the kind of system).
 */
export function sourceOf(own: string | undefined, ctx: DecoderContext, fallback: string): string {
  return own || ctx.source || fallback;
}
