/**
 * Recognising the input format from its shape ("Input: Recognise it"), and
 * the formats the editor offers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FORMATS, decode, detectFormat } from '../../nodes/events/decode';
import { DECODERS } from '../../nodes/events/decode/decoders';
import { aciPush, refusesWithCode, vcdEvent } from '../support/decode-fixtures';

describe('recognising the input format', () => {
  it('detects every format from its shape', () => {
    assert.equal(detectFormat({ type: 'EVENT', headers: {}, payload: '{}' }), 'vcd');
    assert.equal(detectFormat(vcdEvent), 'vcd-json');
    assert.equal(detectFormat('<x/>'), 'vcd-amqp');
    assert.equal(detectFormat(aciPush), 'aci');
    assert.equal(detectFormat({ specversion: '1.0' }), 'cloudevent');
    assert.equal(detectFormat({ eventId: 'a', eventType: 't', timestamp: 'now' }), 'vcd-audit');
    assert.equal(detectFormat({}, { 'content-type': 'application/cloudevents-batch+json' }), 'cloudevent');
  });

  it('accepts a UTF-8 byte-order mark before JSON', () => {
    const text = `\uFEFF${JSON.stringify(vcdEvent)}`;
    assert.equal(decode({ payload: text }).events[0]!.id, vcdEvent.eventId);
    assert.equal(decode({ payload: Buffer.from(text) }).events[0]!.id, vcdEvent.eventId);
  });

  it('the editor offers exactly the formats the decoders table has, in detection order', () => {
    const events = path.resolve(__dirname, '../../../nodes/events');
    const html = fs.readFileSync(path.join(events, 'event-decode.html'), 'utf8');
    const select = /<select id="node-input-format"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
    const offered = [...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(offered, ['auto', ...DECODERS.map((d) => d.name)]);
    assert.deepEqual(offered, FORMATS, 'the runtime accepts what the editor offers');
    for (const lang of ['en-US', 'de']) {
      const catalog = JSON.parse(
        fs.readFileSync(path.join(events, 'locales', lang, 'event-decode.json'), 'utf8'),
      );
      assert.deepEqual(Object.keys(catalog['event-decode'].format), offered, `labels in ${lang}`);
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
