/**
 * event-decode: whatever arrives (VCD envelopes and notifications, legacy AMQP
 * XML, ACI pushes and answers, CloudEvents) → one message per InfraEvent.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { numberSetting, onClose, onInput, registerNode } from '../common/glue';
import { StatusThrottle, type StatusTexts } from '../common/node-status';
import type { InfraEvent } from '../common/infra-event';
import { metricsFor } from '../common/metrics';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../common/red';
import { DecodeCodes, FORMATS, decode, type DecodeFormat } from './decode';
import { DECODERS } from './decode/decoders';
import { asDecodeError } from './decode/errors';
import { RENAMED_DECODE_FORMATS } from '../common/migrate';
import { extended } from '../common/objects';

interface EventDecodeDef extends NodeDef {
  format: DecodeFormat;
  source: string;
  keepOriginal: boolean;
  errors: 'catch' | 'output';
  /** Largest input in MiB. */
  maxSize: number | string;
}

/** Status keys (locales: event-decode.status): the codes themselves do not fit in a status line. */
const ERROR_KEYS: Record<string, string> = {
  [DecodeCodes.INVALID_JSON]: 'badJson',
  [DecodeCodes.INVALID_XML]: 'badXml',
  [DecodeCodes.WRONG_SHAPE]: 'wrongShape',
  [DecodeCodes.UNKNOWN_FORMAT]: 'unknownFormat',
  [DecodeCodes.UNKNOWN_TYPE]: 'unknownType',
  [DecodeCodes.BAD_PAYLOAD]: 'badPayload',
  [DecodeCodes.TOO_LARGE]: 'tooLarge',
};

interface MaybeAmqp {
  fields?: { routingKey?: unknown };
  properties?: { headers?: Record<string, unknown> };
  req?: { headers?: Record<string, string | string[] | undefined> };
}

function readSettings(def: EventDecodeDef) {
  return {
    format: FORMATS.includes(def.format) ? def.format : ('auto' as DecodeFormat),
    source: def.source?.trim() || undefined,
    keepOriginal: Boolean(def.keepOriginal),
    errorsToOutput: def.errors === 'output',
    maxBytes: Math.round(numberSetting(def.maxSize, 1, 0.001, 1024) * 1024 * 1024),
  };
}

type Settings = ReturnType<typeof readSettings>;

/** The events in a message, whichever way it came (MQTT, AMQP, HTTP in). */
function decodeMessage(msg: NodeMessage, settings: Settings): InfraEvent[] {
  const m = msg as NodeMessage & MaybeAmqp;
  const routingKey = typeof m.fields?.routingKey === 'string' ? m.fields.routingKey : msg.topic;
  const input = {
    payload: msg.payload,
    topic: msg.topic,
    routingKey,
    amqpHeaders: m.properties?.headers,
    httpHeaders: m.req?.headers,
  };
  const { format, source, maxBytes } = settings;
  return decode(input, { format, source, maxBytes }).events;
}

/**
 * One input, n events: a sequence as Node-RED's split node makes it (shared
 * _msgid, msg.parts; an upstream sequence nests inside), so a join node can
 * rebuild it. The input is kept on the first message only: the runtime copies
 * every message after the first, and one input of thousands of events carried
 * on each took seconds and hundreds of MB (a 1 MiB one ran the heap out).
 */
function asSequence(msg: NodeMessage, events: InfraEvent[], keepOriginal: boolean): NodeMessage[] {
  return events.map((event, index) => {
    const parts = {
      id: msg._msgid,
      index,
      count: events.length,
      type: 'array',
      len: 1,
      ...(msg.parts ? { parts: msg.parts } : {}),
    };
    const o: NodeMessage = extended(msg, { payload: event, topic: event.type, parts });
    if (keepOriginal && index === 0) o.original = msg.payload;
    // No msg.cloudevent: cloudevent emit reads that as overrides. A CloudEvent's own
    // attributes travel in the InfraEvent (payload.cloudevent).
    return o;
  });
}

/**
 * Messages handed to the runtime per turn of the event loop. The runtime copies
 * each message it sends (all but the first of a send) before any goes on: the
 * 12,000 events of one ACI answer at once held every flow for most of a second.
 */
const SEND_SLICE = 500;

/**
 * Sends the messages of the inputs in order, a slice per turn of the event
 * loop: a sequence that takes several turns keeps the inputs after it waiting,
 * so events never overtake those of an earlier input. The usual one-event
 * input goes out at once.
 */
class SequenceSender {
  private sending?: Promise<void>;
  private stopped = false;

  constructor(private readonly toOutputs: (messages: NodeMessage[]) => Parameters<SendFn>[0]) {}

  send(messages: NodeMessage[], send: SendFn): Promise<void> | void {
    if (!this.sending && messages.length <= SEND_SLICE) {
      send(this.toOutputs(messages));
      return;
    }
    // After the sequence before it, however that one ended.
    const run = () => this.inSlices(messages, send);
    const done = (this.sending ?? Promise.resolve()).then(run, run);
    this.sending = done;
    return done.finally(() => {
      if (this.sending === done) this.sending = undefined;
    });
  }

  /** The node is closing: what has not gone out yet stays. */
  stop(): void {
    this.stopped = true;
  }

  private async inSlices(messages: NodeMessage[], send: SendFn): Promise<void> {
    for (let start = 0; start < messages.length && !this.stopped; start += SEND_SLICE) {
      if (start > 0) await nextTurn();
      if (!this.stopped) send(this.toOutputs(messages.slice(start, start + SEND_SLICE)));
    }
  }
}

export = function register(RED: NodeAPI): void {
  registerNode(RED, 'event-decode', __dirname, EventDecode, {
    // The dialog lists the decoders table's formats, and maps the former names of a flow from an older version.
    settings: {
      eventDecodeFormats: {
        value: { names: DECODERS.map((d) => d.name), renamed: RENAMED_DECODE_FORMATS },
        exportable: true,
      },
    },
  });

  function EventDecode(node: Node, def: EventDecodeDef, texts: StatusTexts): void {
    const settings = readSettings(def);
    const view = new StatusThrottle(node);
    const metrics = metricsFor(node).uses('decoded');
    const sender = new SequenceSender((out) => (settings.errorsToOutput ? [out, null] : [out]));
    let decodedCount = 0;

    onInput(node, (msg, send) => {
      let events: InfraEvent[];
      try {
        events = decodeMessage(msg, settings);
      } catch (err) {
        const e = asDecodeError(err, msg.payload);
        view.show(texts.error(ERROR_KEYS[e.code] ?? 'decodeFailed'));
        if (!settings.errorsToOutput) throw e;
        metrics.error(e.code);
        send([null, { ...msg, error: { code: e.code, message: e.message } }]);
        return;
      }
      const out = asSequence(msg, events, settings.keepOriginal);
      decodedCount += out.length;
      metrics.decoded += out.length;
      view.update(() => texts.connected('decoded', { count: decodedCount }));
      return sender.send(out, send);
    });

    onClose(node, () => {
      sender.stop();
      view.stop();
    });
  }
};
