/**
 * event-decode: whatever arrives (VCD envelopes and notifications, legacy AMQP
 * XML, ACI pushes and answers, CloudEvents) → one message per InfraEvent.
 */
import { StatusThrottle, numberSetting, onClose, onInput, status } from '../common/glue';
import { metricsFor } from '../common/metrics';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/red';
import { DecodeCodes, FORMATS, decode, type DecodeFormat } from './decode';
import { asDecodeError } from './decode/errors';

interface EventDecodeDef extends NodeDef {
  format: DecodeFormat;
  source: string;
  keepOriginal: boolean;
  errors: 'catch' | 'output';
  /** Largest input in MiB. */
  maxSize: number | string;
}

/** Status labels: the codes themselves do not fit in a status line. */
const LABELS: Record<string, string> = {
  [DecodeCodes.INVALID_JSON]: 'bad JSON',
  [DecodeCodes.INVALID_XML]: 'bad XML',
  [DecodeCodes.WRONG_SHAPE]: 'wrong shape',
  [DecodeCodes.UNKNOWN_FORMAT]: 'unknown format',
  [DecodeCodes.UNKNOWN_TYPE]: 'unknown type',
  [DecodeCodes.BAD_PAYLOAD]: 'bad payload',
  [DecodeCodes.TOO_LARGE]: 'too large',
};

interface MaybeAmqp {
  fields?: { routingKey?: unknown };
  properties?: { headers?: Record<string, unknown> };
  req?: { headers?: Record<string, string | string[] | undefined> };
}

export = function register(RED: NodeAPI): void {
  function EventDecode(this: Node, def: EventDecodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const format: DecodeFormat = FORMATS.includes(def.format) ? def.format : 'auto';
    const errorsToOutput = def.errors === 'output';
    const maxBytes = Math.round(numberSetting(def.maxSize, 1, 0.001, 1024) * 1024 * 1024);
    const view = new StatusThrottle(node);
    let decodedCount = 0;
    const metrics = metricsFor(node);

    onInput(
      node,
      (msg, send) => {
        const m = msg as NodeMessage & MaybeAmqp;
        const routingKey = typeof m.fields?.routingKey === 'string' ? m.fields.routingKey : msg.topic;
        let decoded;
        try {
          decoded = decode(
            {
              payload: msg.payload,
              topic: msg.topic,
              routingKey,
              amqpHeaders: m.properties?.headers,
              httpHeaders: m.req?.headers,
            },
            { format, source: def.source?.trim() || undefined, maxBytes },
          );
        } catch (err) {
          const e = asDecodeError(err, msg.payload);
          view.show(status.error(LABELS[e.code] ?? 'decode failed'));
          if (!errorsToOutput) throw e;
          metrics.error(e.code);
          send([null, { ...msg, error: { code: e.code, message: e.message } }]);
          return;
        }
        // One input, n events: a sequence as Node-RED's split node makes it (shared _msgid,
        // msg.parts; an upstream sequence nests inside), so a join node can rebuild it.
        const count = decoded.events.length;
        const out = decoded.events.map((event, i) => {
          const parts = {
            id: msg._msgid,
            index: i,
            count,
            type: 'array',
            len: 1,
            ...(msg.parts ? { parts: msg.parts } : {}),
          };
          const o: NodeMessage = { ...msg, payload: event, topic: event.type, parts };
          if (def.keepOriginal) o.original = msg.payload;
          // No msg.cloudevent: cloudevent emit reads that as overrides. A CloudEvent's own
          // attributes travel in the InfraEvent (payload.cloudevent).
          return o;
        });
        decodedCount += out.length;
        metrics.decoded += out.length;
        view.update(status.connected(decodedCount, 'decoded'));
        send(errorsToOutput ? [out, null] : [out]);
      },
      { statusOnError: false },
    );

    onClose(node, () => view.stop());
  }

  RED.nodes.registerType('event-decode', EventDecode);
};
