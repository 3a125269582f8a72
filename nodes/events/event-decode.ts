/**
 * event-decode: whatever arrives (VCD envelopes and notifications, legacy AMQP
 * XML, ACI pushes and answers, CloudEvents) → one message per InfraEvent.
 */
import type { CodedError } from '../common/errors';
import { StatusThrottle, onClose, onInput, status } from '../common/glue';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/red';
import { FORMATS, decode, type DecodeFormat } from './decode';

interface EventDecodeDef extends NodeDef {
  format: DecodeFormat;
  source: string;
  keepOriginal: boolean;
  errors: 'catch' | 'output';
}

interface MaybeAmqp {
  fields?: { routingKey?: unknown };
  properties?: { headers?: Record<string, unknown> };
  req?: { headers?: Record<string, string | string[] | undefined> };
}

/** CloudEvent attributes without the data, for msg.cloudevent. */
function attributesOf(ce: Record<string, unknown>): Record<string, unknown> {
  const { data: _data, data_base64: _b64, ...attrs } = ce;
  return attrs;
}

export = function register(RED: NodeAPI): void {
  function EventDecode(this: Node, def: EventDecodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const format: DecodeFormat = FORMATS.includes(def.format) ? def.format : 'auto';
    const errorsToOutput = def.errors === 'output';
    const view = new StatusThrottle(node);
    let decodedCount = 0;

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
            { format, source: def.source?.trim() || undefined },
          );
        } catch (err) {
          const e = err as CodedError;
          view.show(status.error(e.code));
          if (!errorsToOutput) throw err;
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
          const ce = decoded.cloudevents?.[i];
          if (ce) o.cloudevent = attributesOf(ce);
          return o;
        });
        decodedCount += out.length;
        view.update(status.connected(decodedCount, 'decoded'));
        send(errorsToOutput ? [out, null] : [out]);
      },
      { statusOnError: false },
    );

    onClose(node, () => view.stop());
  }

  RED.nodes.registerType('event-decode', EventDecode);
};
