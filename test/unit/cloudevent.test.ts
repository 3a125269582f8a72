import assert from 'node:assert/strict';
import { HTTP } from 'cloudevents';
import type { InfraEvent } from '../../nodes/common/infra-event';
import {
  fromInfraEvent,
  fromPayload,
  percentDecode,
  percentEncode,
  toBatch,
  toBinary,
  toStructured,
  validateCloudEvent,
  withOverrides,
} from '../../nodes/events/cloudevent-model';
import { parseExtensionLines, parseHeaderLines } from '../../nodes/events/emit-settings';

const infra: InfraEvent = {
  id: 'cecb8de7-b87c-4a8e-9b0e-1f6a2d7e5c11',
  source: 'https://vcd.example.com',
  type: 'com.vmware.vcloud.event.vm.create',
  time: '2026-11-22T13:45:12.345678+01:00',
  subject: 'urn:vcloud:vm:2f1f3b5c',
  summary: 'vm web-01 created by acmeadmin in acme: succeeded',
  origin: 'vcd',
  vcd: { org: 'acme', entityType: 'vm', operationSuccess: true },
  data: { eventId: 'cecb8de7', entityName: 'web-01' },
};

/** Node's http client refuses header values outside Latin-1; a percent-encoded one is plain ASCII. */
const sendable = (v: string) => /^[\x21-\x7e]*$/.test(v);

describe('CloudEvents encoding', () => {
  it('maps an InfraEvent 1:1, with the extensions', () => {
    const ce = fromInfraEvent(infra);
    assert.deepEqual(ce, {
      specversion: '1.0',
      id: infra.id,
      source: infra.source,
      type: infra.type,
      time: infra.time,
      subject: infra.subject,
      datacontenttype: 'application/json',
      vcdorg: 'acme',
      vcdentitytype: 'vm',
      data: infra.data,
    });
  });

  it('percent-encodes binary headers as UTF-8, and decodes them back', () => {
    const subject = 'vApp "lab-é-ü" 100% 🚀';
    const encoded = percentEncode(subject);
    assert.equal(encoded, 'vApp%20%22lab-%C3%A9-%C3%BC%22%20100%25%20%F0%9F%9A%80');
    assert.ok(sendable(encoded));
    assert.equal(percentDecode(encoded), subject);
    assert.throws(() => percentDecode('%ZZ'), { code: 'CE_INVALID' });
    assert.throws(() => percentDecode('%C3'), { code: 'CE_INVALID' }, 'a lone UTF-8 lead byte');
  });

  it('percent-encodes exactly space, ", % and what lies outside U+0021..U+007E, alone or among safe characters', () => {
    for (let c = 0; c < 0x100; c++) {
      const ch = String.fromCharCode(c);
      const safe = c > 0x20 && c < 0x7f && ch !== '"' && ch !== '%';
      const escaped = [...Buffer.from(ch, 'utf8')]
        .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
        .join('');
      assert.equal(percentEncode(ch), safe ? ch : escaped, `U+${c.toString(16)}`);
      assert.equal(
        percentEncode(`urn:a-${ch}-z`),
        `urn:a-${safe ? ch : escaped}-z`,
        `U+${c.toString(16)} inside`,
      );
    }
    assert.equal(percentEncode(''), '');
  });

  it('binary mode: ce-* headers, Content-Type for datacontenttype, the data as body', () => {
    const { headers, body } = toBinary(fromInfraEvent({ ...infra, subject: 'vm lab-é' }));
    assert.equal(headers['ce-specversion'], '1.0');
    assert.equal(headers['ce-subject'], 'vm%20lab-%C3%A9');
    assert.equal(headers['ce-time'], infra.time, 'time exactly as the source wrote it');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['ce-datacontenttype'], undefined);
    assert.ok(Object.values(headers).every(sendable));
    assert.deepEqual(JSON.parse(String(body)), infra.data);
  });

  it('binary mode: every extension as its own ce-* header, however many names come and go', () => {
    for (let i = 0; i < 300; i++) {
      const ce = { ...fromInfraEvent(infra), [`x${i}`]: `v${i}` };
      const { headers } = toBinary(ce);
      assert.equal(headers[`ce-x${i}`], `v${i}`);
      assert.equal(headers['ce-id'], ce.id);
      assert.equal(Object.keys(headers).filter((h) => h.startsWith('ce-x')).length, 1);
    }
  });

  it('the cloudevents SDK reads what we send: binary, structured and batch', () => {
    const ce = fromInfraEvent(infra);
    const bin = toBinary(ce);
    const fromBinary = HTTP.toEvent({ headers: bin.headers, body: bin.body }) as unknown as {
      id: string;
      type: string;
      data: unknown;
      vcdorg: string;
    };
    assert.equal(fromBinary.id, ce.id);
    assert.equal(fromBinary.type, ce.type);
    assert.equal(fromBinary.vcdorg, 'acme');
    assert.deepEqual(fromBinary.data, infra.data);

    const structured = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: toStructured(ce),
    }) as { subject: string; data: unknown };
    assert.equal(structured.subject, ce.subject);
    assert.deepEqual(structured.data, infra.data);

    const second = fromInfraEvent({ ...infra, id: 'other' });
    const batch = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: toBatch([ce, second]),
    }) as { id: string }[];
    assert.deepEqual(
      batch.map((e) => e.id),
      [ce.id, 'other'],
    );
  });

  it('keeps time to the source precision in every mode (the SDK would round to ms)', () => {
    const ce = fromPayload(
      { a: 1 },
      { type: 't', source: '/s', time: '2026-11-22T13:45:12.123456789-05:30' },
    );
    assert.equal(toBinary(ce).headers['ce-time'], '2026-11-22T13:45:12.123456789-05:30');
    assert.equal(
      (JSON.parse(toStructured(ce)) as { time: string }).time,
      '2026-11-22T13:45:12.123456789-05:30',
    );
  });

  it('binary data travels as data_base64 in JSON, as raw bytes in binary mode', () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const ce = fromPayload(bytes, { type: 't', source: '/s' });
    assert.equal(ce.datacontenttype, 'application/octet-stream');
    const json = JSON.parse(toStructured(ce)) as { data_base64: string; data?: unknown };
    assert.equal(json.data_base64, bytes.toString('base64'));
    assert.equal(json.data, undefined);
    assert.deepEqual(toBinary(ce).body, bytes);
  });

  it('gives the same payload the same id, and a different one another', () => {
    const a = fromPayload({ alarm: 'disk' }, { type: 't', source: '/s' });
    const b = fromPayload({ alarm: 'disk' }, { type: 't', source: '/s' });
    const c = fromPayload({ alarm: 'cpu' }, { type: 't', source: '/s' });
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.equal(fromPayload('x', { type: 't', source: '/s', id: 'given' }).id, 'given');
  });

  it('takes a source that is a URI-reference and a dataschema that is an absolute URI, as the SDK does', () => {
    const attrs = { type: 't', source: '/s' };
    for (const source of ['[', 'a[b]', '/x]']) {
      assert.throws(() => fromPayload(1, { ...attrs, source }), { code: 'CE_INVALID' }, source);
    }
    assert.equal(fromPayload(1, { ...attrs, source: 'https://[::1]:8080/x' }).source, 'https://[::1]:8080/x');
    for (const dataschema of ['/schemas/v1', 'A:']) {
      assert.throws(() => fromPayload(1, { ...attrs, dataschema }), { code: 'CE_INVALID' }, dataschema);
    }
    const ce = fromPayload(1, { ...attrs, dataschema: 'https://example.com/v1.json' });
    assert.equal(
      (HTTP.toEvent({ headers: toBinary(ce).headers, body: '1' }) as { dataschema?: string }).dataschema,
      ce.dataschema,
    );
  });

  it('checks extension names and the required attributes', () => {
    assert.throws(() => fromPayload(1, { type: 't', source: '/s', extensions: { Team: 'x' } }), {
      code: 'CE_INVALID_ATTRIBUTE',
    });
    assert.throws(
      () => fromPayload(1, { type: 't', source: '/s', extensions: { averyveryverylongname1: 'x' } }),
      {
        code: 'CE_INVALID_ATTRIBUTE',
      },
    );
    assert.throws(() => fromPayload(1, { type: 't', source: '/s', extensions: { data: 'x' } }), {
      code: 'CE_INVALID_ATTRIBUTE',
    });
    assert.throws(() => fromPayload(1, { type: 't', source: '/s', extensions: { subject: 'x' } }), {
      code: 'CE_INVALID_ATTRIBUTE',
    });
    assert.equal(
      fromPayload(1, { type: 't', source: '/s', extensions: { team: 'netops', n: 3 } }).team,
      'netops',
    );
    assert.throws(() => fromPayload(1, { source: '/s' }), { code: 'CE_INVALID' });
    assert.throws(() => fromPayload(1, { type: 't' }), { code: 'CE_INVALID' });
    assert.throws(() => validateCloudEvent({ specversion: '0.3', id: '1', source: '/s', type: 't' }), {
      code: 'CE_INVALID',
    });
    assert.throws(
      () =>
        validateCloudEvent({
          specversion: '1.0',
          id: '1',
          source: '/s',
          type: 't',
          time: '2026-13-01T00:00:00Z',
        }),
      {
        code: 'CE_INVALID',
      },
    );
  });

  it('reads header and extension settings strictly', () => {
    assert.deepEqual(parseHeaderLines('X-Tenant: acme\n\nX-Trace:  abc '), {
      'x-tenant': 'acme',
      'x-trace': 'abc',
    });
    assert.throws(() => parseHeaderLines('no colon here'), { code: 'CE_CONFIG_INVALID' });
    assert.throws(() => parseHeaderLines('Bad Name: x'), { code: 'CE_CONFIG_INVALID' });
    assert.throws(() => parseHeaderLines('ce-id: x'), { code: 'CE_CONFIG_INVALID' });
    assert.throws(() => parseHeaderLines('Authorization: Bearer x'), { code: 'CE_CONFIG_INVALID' });
    assert.deepEqual(parseExtensionLines('team=netops\nsite = fra1'), { team: 'netops', site: 'fra1' });
    assert.throws(() => parseExtensionLines('team'), { code: 'CE_CONFIG_INVALID' });
  });

  it('extension values are strings, booleans or 32-bit integers; null unsets one', () => {
    const ok = fromPayload(1, {
      type: 't',
      source: '/s',
      extensions: { n: -(2 ** 31), m: 2 ** 31 - 1, b: true },
    });
    assert.deepEqual([ok.n, ok.m, ok.b], [-(2 ** 31), 2 ** 31 - 1, true]);
    const unset = fromPayload(1, { type: 't', source: '/s', extensions: { e: null } });
    assert.equal('e' in unset, false, 'null is an unset extension (as in the JSON format)');
    for (const value of [1.5, 2 ** 31, 2 ** 40, { a: 1 }, [1], 'tab\there', 'lone \ud800', '\ufffe']) {
      assert.throws(
        () => fromPayload(1, { type: 't', source: '/s', extensions: { e: value as unknown as string } }),
        { code: 'CE_INVALID_ATTRIBUTE' },
        JSON.stringify(value),
      );
    }
  });

  it('refuses extensions that are not an object of name: value', () => {
    for (const extensions of ['team=x', ['team'], 5]) {
      assert.throws(
        () =>
          fromPayload(1, {
            type: 't',
            source: '/s',
            extensions: extensions as unknown as Record<string, string>,
          }),
        { code: 'CE_INVALID_ATTRIBUTE' },
      );
    }
  });

  it('source must be a URI-reference', () => {
    for (const source of [
      'https://vcd.example.com',
      '/s',
      'https://vcd.example.com/p?q=1#frag',
      'urn:vcloud:org:1',
      'https://vcenter-01:443/sdk',
      'a%20b',
    ])
      assert.equal(fromPayload(1, { type: 't', source }).source, source);
    for (const source of ['not a uri', 'https://vcd/ü', '1http:x', 'a%zz', 'a"b', '##', 'https://a/#x#y'])
      assert.throws(() => fromPayload(1, { type: 't', source }), { code: 'CE_INVALID' }, source);
  });

  it('an InfraEvent from a CloudEvent gets its extensions and content type back; overrides are explicit', () => {
    const ce = fromInfraEvent({
      ...infra,
      origin: 'cloudevent',
      vcd: undefined,
      data: '<x/>',
      cloudevent: {
        extensions: { vsphereapiver: '8.0' },
        datacontenttype: 'application/xml',
        dataschema: 'https://example.com/schema',
      },
    });
    assert.equal(ce.vsphereapiver, '8.0');
    assert.equal(ce.datacontenttype, 'application/xml');
    assert.equal(ce.dataschema, 'https://example.com/schema');
    assert.equal(toBinary(ce).body, '<x/>');
    const over = withOverrides(ce, { subject: 'other', extensions: { team: 'netops' } });
    assert.deepEqual(
      [over.id, over.type, over.subject, over.team, over.vsphereapiver, over.data],
      [infra.id, infra.type, 'other', 'netops', '8.0', '<x/>'],
    );
  });
});
