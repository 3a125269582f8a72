/**
 * The CloudEvents project's own conformance data for the JSON format
 * (test/data/cloudevents-conformance, from cloudevents/conformance): every
 * case gets its verdict from the decoder (structured, batch and, for single
 * events, binary mode), and from cloudevent emit's event builder where a
 * message can express the case. A valid event is sent on as it came.
 */
import assert from 'node:assert/strict';
import { fromInfraEvent, fromPayload, withOverrides } from '../../nodes/events/cloudevent-model';
import { decode } from '../../nodes/events/decode';
import { CONFORMANCE, type Json, sentOn } from '../support/conformance';

const STRUCTURED = { 'content-type': 'application/cloudevents+json' };
const BATCH = { 'content-type': 'application/cloudevents-batch+json' };

/** The same event in HTTP binary mode, as an http-in node hands it over: ce-* headers and the body. */
function binary(event: Json): { headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || value === null) continue;
    if (name === 'datacontenttype') headers['content-type'] = String(value);
    else headers[`ce-${name}`] = typeof value === 'string' ? encodeURIComponent(value) : String(value);
  }
  return { headers, body: typeof event.data === 'string' ? event.data : undefined };
}

/** What a message can say of an event for cloudevent emit to build: its attributes in msg.cloudevent, data as payload. */
function asMessage(event: Json): { payload: unknown; attributes: Json } {
  const { data, specversion: _specversion, data_base64: _base64, ...rest } = event;
  const attributes: Json = { extensions: {} };
  for (const [name, value] of Object.entries(rest)) {
    if (['id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema'].includes(name))
      attributes[name] = value;
    else (attributes.extensions as Json)[name] = value;
  }
  return { payload: data, attributes };
}

/**
 * Invalid cases a message cannot express to cloudevent emit, and why: emit
 * writes specversion itself, makes an id where none is given (the same data
 * always gets the same one), and sends one payload.
 */
const NOT_EXPRESSIBLE: Record<string, string> = {
  invalidNoSpecVersion: 'emit writes specversion 1.0',
  invalidEmptySpecVersion: 'emit writes specversion 1.0',
  invalidUnknownSpecVersion: 'emit writes specversion 1.0',
  invalidNoId: 'emit makes a deterministic id',
  invalidBothDataAndDataBase64: 'a message has one payload',
};

/**
 * A time a message gives is read as real systems write it (one time reader for
 * whatever enters): `+05` names an instant, and the event goes out with it in
 * RFC 3339, never as it was written.
 */
const READ_AS_TIME: Record<string, string> = {
  invalidTimeOffsetHourOnly: '2018-04-05T18:31:00+05:00',
};

describe('CloudEvents conformance data (JSON format)', () => {
  it('holds the 35 single-event and 8 batch cases of cloudevents/conformance', () => {
    assert.equal(CONFORMANCE.validEvents.length + CONFORMANCE.invalidEvents.length, 35);
    assert.equal(CONFORMANCE.validBatches.length + CONFORMANCE.invalidBatches.length, 8);
  });

  describe('event decode', () => {
    for (const c of CONFORMANCE.validEvents) {
      it(`${c.id}: valid, and sent on as it came`, () => {
        const structured = decode({ payload: JSON.stringify(c.event), httpHeaders: STRUCTURED });
        assert.equal(structured.format, 'cloudevent');
        assert.equal(structured.events.length, 1);
        assert.deepEqual({ ...fromInfraEvent(structured.events[0]!) }, sentOn(c.event!));
        const { headers, body } = binary(c.event!);
        const fromHeaders = decode({ payload: body, httpHeaders: headers });
        assert.deepEqual(
          { ...fromInfraEvent(fromHeaders.events[0]!) },
          // Binary mode has no types: an extension's number or boolean arrives as text.
          Object.fromEntries(
            Object.entries(sentOn(c.event!)).map(([k, v]) => [
              k,
              typeof v === 'number' || typeof v === 'boolean' ? String(v) : v,
            ]),
          ),
        );
      });
    }

    for (const c of CONFORMANCE.invalidEvents) {
      it(`${c.id}: refused with a code`, () => {
        assert.throws(() => decode({ payload: JSON.stringify(c.event), httpHeaders: STRUCTURED }), {
          code: 'DECODE_WRONG_SHAPE',
        });
      });
    }

    for (const c of CONFORMANCE.validBatches) {
      it(`${c.id}: valid, every event sent on as it came`, () => {
        const { events } = decode({ payload: JSON.stringify(c.batch), httpHeaders: BATCH });
        assert.deepEqual(
          events.map((e) => ({ ...fromInfraEvent(e) })),
          c.batch!.map((e) => sentOn(e as Json)),
        );
      });
    }

    for (const c of CONFORMANCE.invalidBatches) {
      it(`${c.id}: refused with a code`, () => {
        assert.throws(() => decode({ payload: JSON.stringify(c.batch), httpHeaders: BATCH }), {
          code: 'DECODE_WRONG_SHAPE',
        });
      });
    }
  });

  describe('cloudevent emit', () => {
    for (const c of CONFORMANCE.validEvents) {
      it(`${c.id}: built from a message as it came`, () => {
        const { payload, attributes } = asMessage(c.event!);
        assert.deepEqual({ ...fromPayload(payload, attributes) }, sentOn(c.event!));
      });
    }

    const refused = (err: { code?: string }) =>
      ['CE_INVALID', 'CE_INVALID_ATTRIBUTE'].includes(err.code ?? '');

    for (const c of CONFORMANCE.invalidEvents) {
      if (NOT_EXPRESSIBLE[c.id] || READ_AS_TIME[c.id]) continue;
      it(`${c.id}: refused with a code, from a message and as overrides of an event`, () => {
        const { payload, attributes } = asMessage(c.event!);
        assert.throws(() => fromPayload(payload, attributes), refused);
        // As overrides, an attribute left out keeps the event's own: only what a message sets is checked.
        if (!('type' in c.event! && 'source' in c.event!)) return;
        const valid = decode({ payload: JSON.stringify(CONFORMANCE.validEvents[0]!.event) }).events[0]!;
        assert.throws(() => withOverrides(fromInfraEvent(valid), attributes), refused);
      });
    }

    for (const [id, time] of Object.entries(READ_AS_TIME)) {
      it(`${id}: the time is read, and goes out in RFC 3339`, () => {
        const { payload, attributes } = asMessage(CONFORMANCE.invalidEvents.find((c) => c.id === id)!.event!);
        assert.equal(fromPayload(payload, attributes).time, time);
      });
    }

    it('leaves out only the cases a message cannot express, each for a reason', () => {
      const ids = CONFORMANCE.invalidEvents.map((c) => c.id);
      for (const id of [...Object.keys(NOT_EXPRESSIBLE), ...Object.keys(READ_AS_TIME)])
        assert.ok(ids.includes(id), id);
      assert.equal(ids.length - Object.keys(NOT_EXPRESSIBLE).length - Object.keys(READ_AS_TIME).length, 19);
    });
  });
});
