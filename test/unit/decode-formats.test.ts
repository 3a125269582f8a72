/**
 * The rules every input format of the decoders table follows, checked on each
 * one's own samples: so a new format is held to them by adding it to the table
 * (CONTRIBUTING.md, "Adding an input format").
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isRfc3339 } from '../../nodes/common/times';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { type DecodeFormat, decode } from '../../nodes/events/decode';
import { DECODERS } from '../../nodes/events/decode/decoders';
import { FORMAT_SAMPLES } from '../support/decode-fixtures';
import { ROOT } from '../support/source-files';

const SOURCE_SETTING = 'https://configured.example.com';
const locales = path.join(ROOT, 'nodes/events/locales');

/** An event without the time of its receipt (an input that carries no time gets it, and it moves on). */
const withoutReceipt = (e: InfraEvent) => (e.timeSource === 'receipt' ? { ...e, time: '' } : e);

describe('every input format', () => {
  it('has samples, each with a name of its own', () => {
    for (const d of DECODERS) assert.ok(d.samples.length > 0, `${d.name} has no sample`);
    const names = FORMAT_SAMPLES.map((s) => s.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
  });

  it('has a label in every language and an entry in the help', () => {
    const help = fs.readFileSync(path.join(locales, 'en-US/event-decode.html'), 'utf8');
    for (const lang of fs.readdirSync(locales)) {
      const catalog = JSON.parse(fs.readFileSync(path.join(locales, lang, 'event-decode.json'), 'utf8'));
      for (const d of DECODERS) {
        const label: unknown = catalog['event-decode'].format[d.name];
        assert.ok(typeof label === 'string' && label.length > 0, `event-decode.format.${d.name} in ${lang}`);
      }
    }
    for (const d of DECODERS) assert.ok(help.includes(`(<code>${d.name}</code>)</dt>`), `help of ${d.name}`);
  });

  it('CONTRIBUTING.md, which says how to add one, names files that exist', () => {
    const guide = fs.readFileSync(path.join(ROOT, 'CONTRIBUTING.md'), 'utf8');
    const named = [
      ...guide.matchAll(/[`(]((?:nodes|test|sim|docs)\/[\w./-]+\.(?:ts|json|html|md))[`)]/g),
    ].map((m) => m[1] as string);
    assert.ok(named.length > 10 && named.includes('nodes/events/decode/alertmanager.ts'), named.join());
    assert.deepEqual(
      named.filter((file) => !fs.existsSync(path.join(ROOT, file))),
      [],
    );
  });

  for (const sample of FORMAT_SAMPLES) {
    describe(`${sample.format}: ${sample.name}`, () => {
      it('is recognised as its format, and decodes the same when the format is chosen', () => {
        const auto = decode(sample.input);
        assert.equal(auto.format, sample.format);
        assert.ok(auto.events.length > 0);
        const chosen = decode(sample.input, { format: sample.format as DecodeFormat }).events;
        assert.deepEqual(chosen.map(withoutReceipt), auto.events.map(withoutReceipt));
      });

      it('gives the same ids every time, each event a one-line summary and an RFC 3339 time', () => {
        const first = decode(sample.input).events;
        assert.deepEqual(
          decode(sample.input).events.map((e) => e.id),
          first.map((e) => e.id),
        );
        for (const event of first) {
          assert.ok(event.id.length > 0);
          assert.ok(event.summary.length > 0 && !/[\r\n]/.test(event.summary), event.summary);
          assert.ok(isRfc3339(event.time), event.time);
          assert.ok(event.origin.length > 0);
        }
      });

      it('takes the system it names itself as source, else the Source setting', () => {
        const configured = decode(sample.input, { source: SOURCE_SETTING }).events;
        const unset = decode(sample.input).events;
        for (const [i, event] of configured.entries()) {
          assert.equal(event.source, sample.ownSource ?? SOURCE_SETTING);
          // Without Source, an input that names no system falls back on a URN of its kind.
          if (sample.ownSource) assert.equal(unset[i]?.source, sample.ownSource);
          else assert.notEqual(unset[i]?.source, SOURCE_SETTING);
        }
      });
    });
  }
});
