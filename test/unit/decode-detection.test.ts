/**
 * Recognising the input format from its shape ("Input: Recognise it"), and
 * the formats the editor offers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FORMATS, decode, detectFormat } from '../../nodes/events/decode';
import { DECODERS } from '../../nodes/events/decode/decoders';
import { aciPushSample } from '../../nodes/events/decode/aci-samples';
import { vcdNotificationSample } from '../../nodes/events/decode/vcd-notification';
import type { NodeAPI } from '../../nodes/common/red';
import eventDecode from '../../nodes/events/event-decode';
import { refusesWithCode } from '../support/decode-fixtures';

describe('recognising the input format', () => {
  it('detects every format from its shape', () => {
    assert.equal(detectFormat({ type: 'EVENT', headers: {}, payload: '{}' }), 'vcd-envelope');
    assert.equal(detectFormat(vcdNotificationSample), 'vcd-notification');
    assert.equal(detectFormat('<x/>'), 'vcd-amqp');
    assert.equal(detectFormat(aciPushSample), 'aci');
    assert.equal(detectFormat({ specversion: '1.0' }), 'cloudevent');
    assert.equal(detectFormat({ eventId: 'a', eventType: 't', timestamp: 'now' }), 'vcd-audit');
    assert.equal(detectFormat({}, { 'content-type': 'application/cloudevents-batch+json' }), 'cloudevent');
  });

  it('accepts a UTF-8 byte-order mark before JSON', () => {
    const text = `\uFEFF${JSON.stringify(vcdNotificationSample)}`;
    assert.equal(decode({ payload: text }).events[0]!.id, vcdNotificationSample.eventId);
    assert.equal(decode({ payload: Buffer.from(text) }).events[0]!.id, vcdNotificationSample.eventId);
  });

  it('the editor offers exactly the formats the decoders table has, each with its label', () => {
    const registered: { settings?: Record<string, { value: unknown; exportable: boolean }> }[] = [];
    const red = {
      nodes: { registerType: (_t: string, _c: unknown, o: (typeof registered)[0]) => registered.push(o) },
    };
    eventDecode(red as unknown as NodeAPI);
    const setting = registered[0]?.settings?.eventDecodeFormats;
    assert.equal(setting?.exportable, true, 'the editor reads it as RED.settings.eventDecodeFormats');
    const offered = (setting?.value as { names: string[] }).names;
    assert.deepEqual(
      offered,
      DECODERS.map((d) => d.name),
    );
    assert.deepEqual(['auto', ...offered], FORMATS, 'the runtime accepts what the editor offers');
    const events = path.resolve(__dirname, '../../../nodes/events');
    const html = fs.readFileSync(path.join(events, 'event-decode.editor.js'), 'utf8');
    assert.match(html, /RED\.settings\.eventDecodeFormats/);
    for (const lang of ['en-US', 'de']) {
      const catalog = JSON.parse(
        fs.readFileSync(path.join(events, 'locales', lang, 'event-decode.json'), 'utf8'),
      );
      assert.deepEqual(Object.keys(catalog['event-decode'].format).sort(), ['auto', ...offered].sort(), lang);
    }
  });

  it('"Recognise it" tries the decoders in table order and takes the first that says yes', () => {
    // A CloudEvent that also carries an APIC document is a CloudEvent: the earlier row wins.
    const both = { specversion: '1.0', id: '1', source: '/s', type: 't', imdata: [] };
    assert.equal(DECODERS.find((d) => d.detect(both))?.name, 'cloudevent');
    assert.equal(detectFormat(both), 'cloudevent');
    for (const d of DECODERS) assert.ok(FORMATS.includes(d.name), d.name);
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      ['not JSON', { payload: '{"type": "EVENT", ' }, {}, 'DECODE_INVALID_JSON'],
      ['neither JSON nor XML', { payload: 'hello' }, {}, 'DECODE_UNKNOWN_FORMAT'],
      ['an unknown shape', { payload: { hello: 'world' } }, {}, 'DECODE_UNKNOWN_FORMAT'],
    ]);
  });
});
