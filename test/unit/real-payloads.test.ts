/**
 * Payloads real systems wrote (test/data/real, see its SOURCES.md) through the
 * one decoding path: each file decodes, or is refused with a clear code where
 * it is a fragment (and is then read as the answer it came from, as its
 * source says); every time an event carries is RFC 3339 and names the instant
 * the source wrote, to the source's precision; every ACI fault summary names
 * the fault's code and severity.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { readTime } from '../../nodes/common/times';
import { decode, type DecodeInput } from '../../nodes/events/decode';
import { ROOT } from '../support/source-files';

const DATA = path.join(ROOT, 'test', 'data', 'real');
const text = (file: string) => fs.readFileSync(path.join(DATA, file), 'utf8');
const json = (file: string) => JSON.parse(text(file)) as unknown;

/** RFC 3339 as the strictest receivers take it: upper-case T and Z, a colon in the offset. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
/** A value that is written as a date and time (whatever its offset looks like). */
const WRITTEN_TIME = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d/;

const fraction = (time: string) => /\.(\d+)/.exec(time)?.[1] ?? '';

/**
 * The event's time is RFC 3339 and is one of the times the source wrote (the
 * same instant, the same fraction digits); it is the receipt time, said so,
 * only where the source wrote none.
 */
function checkTime(e: InfraEvent, written: string[]): void {
  assert.match(e.time, RFC3339, e.id);
  if (e.timeSource === 'receipt') {
    assert.deepEqual(written, [], `${e.id}: the receipt time although the source wrote one`);
    return;
  }
  const source = written.find((w) => Date.parse(w) === Date.parse(e.time));
  assert.ok(source, `${e.id}: ${e.time} is none of ${JSON.stringify(written)}`);
  assert.equal(fraction(e.time), fraction(source), `${e.id}: precision kept`);
}

/** The times an ACI object wrote, in any of its attributes. */
function aciTimes(e: InfraEvent): string[] {
  return Object.values(e.aci!.attributes).filter((v) => WRITTEN_TIME.test(v));
}

const FAULTS = new Set(['faultInst', 'faultDelegate']);

/** Every event of an ACI document: its time, and a fault's code and severity in its summary. */
function checkAci(events: InfraEvent[], objects: number): void {
  assert.equal(events.length, objects);
  for (const e of events) {
    checkTime(e, aciTimes(e));
    if (!FAULTS.has(e.aci!.className)) continue;
    const a = e.aci!.attributes;
    const code = a.code || /fault-([^/]+)$/.exec(e.aci!.dn)![1]!;
    assert.ok(e.summary.includes(code), `${e.summary}: names ${code}`);
    if (a.severity && a.severity !== 'cleared')
      assert.ok(e.summary.startsWith(`${a.severity} fault`), `${e.summary}: names ${a.severity}`);
  }
}

function refused(input: DecodeInput, code: string): void {
  assert.throws(() => decode(input), { code });
}

/**
 * The JSON of each `response:` in an APIC API Inspector log: the author wrapped
 * it over indented lines, ended by a blank one; joined, it is the frame as sent.
 */
function logFrames(log: string): unknown[] {
  const frames: unknown[] = [];
  const lines = log.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i]!.indexOf('response: ');
    if (at < 0) continue;
    let frame = lines[i]!.slice(at + 'response: '.length).trim();
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== '') frame += lines[++i]!.trim();
    frames.push(JSON.parse(frame));
  }
  return frames;
}

describe('payloads real systems wrote', () => {
  describe('APIC', () => {
    const answers = [
      'faultInst-F2421-query-response.json',
      'faultInst-F1123-relation-resolution-title-null.json',
      'aaaModLR-E4211938-deletion-query-response.json',
      'subscribe-response-fvTenant-subscriptionId-string.json',
      'fvCEp-with-fvRsCEpToPathEp-children-trimmed.json',
    ];
    for (const file of answers) {
      it(`${file}: an answer, one event per object`, () => {
        const doc = json(`apic/${file}`) as { imdata: unknown[] };
        checkAci(decode({ payload: text(`apic/${file}`) }).events, doc.imdata.length);
      });
    }

    // An answer's imdata only: refused as it is, read as the answer it came from.
    const imdataOnly = [
      'faultInst-F0467-encap-in-use-modTs-never.json',
      'faultInst-F1527-F1529-raised-soaking.json',
      'faultInst-F0467-untagged-encap-plus0200.json',
      'faultInst-F3073-F3074-trimmed.json',
      'faultInst-F1394-lc-raised-soaking-retaining-trimmed.json',
      'topSystem-controllers.json',
      'fabricNode-full-attributes.json',
      'fvAEPg-with-children.json',
      'ethpmPhysIf-trimmed.json',
      'fvBD-with-fvSubnet-children-trimmed.json',
      'topSystem-with-l1PhysIf-children-trimmed.json',
    ];
    for (const file of imdataOnly) {
      it(`${file}: imdata alone is refused (DECODE_UNKNOWN_FORMAT); as an answer, one event per object`, () => {
        refused({ payload: text(`apic/${file}`) }, 'DECODE_UNKNOWN_FORMAT');
        const imdata = json(`apic/${file}`) as unknown[];
        checkAci(decode({ payload: { totalCount: String(imdata.length), imdata } }).events, imdata.length);
      });
    }

    it('faultDelegate-F0467-trimmed.json: trimmed of its dn in the source, refused with DECODE_WRONG_SHAPE', () => {
      const imdata = json('apic/faultDelegate-F0467-trimmed.json') as unknown[];
      assert.throws(() => decode({ payload: { imdata } }), { code: 'DECODE_WRONG_SHAPE', message: /no dn/ });
    });

    it('healthNodeInst-healthInst-children-fragment.txt: a fragment refused; its children (rn, no dn) too', () => {
      const fragment = text('apic/healthNodeInst-healthInst-children-fragment.txt');
      refused({ payload: fragment }, 'DECODE_UNKNOWN_FORMAT');
      const { children } = JSON.parse(`{${fragment}}`) as { children: unknown[] };
      assert.throws(() => decode({ payload: { imdata: children } }), { code: 'DECODE_WRONG_SHAPE' });
    });

    it('fvTenant-websocket-push-created-pyaci.json: a pushed object without its envelope; with it, a creation', () => {
      const file = 'apic/fvTenant-websocket-push-created-pyaci.json';
      refused({ payload: text(file) }, 'DECODE_UNKNOWN_FORMAT');
      const { events } = decode({ payload: { subscriptionId: ['1'], imdata: [json(file)] } });
      checkAci(events, 1);
      assert.equal(events[0]!.type, 'com.cisco.aci.fvTenant.created');
    });

    for (const [file, objects] of [
      ['push-fvTenant-deleted-4-subscriptionIds-apiinspector-log.txt', [1, 1]],
      ['push-fvTenant-deleted-2-subscriptionIds-apiinspector-log.txt', [1]],
      ['subscribe-response-fabricTopology-subscriptionId-string-apiinspector-log.txt', [1]],
    ] as const) {
      it(`${file}: a log, refused; each frame in it decodes`, () => {
        const log = text(`apic/${file}`);
        refused({ payload: log }, 'DECODE_UNKNOWN_FORMAT');
        const frames = logFrames(log);
        assert.deepEqual(
          frames.map((f) => (f as { imdata: unknown[] }).imdata.length),
          objects,
        );
        for (const frame of frames) checkAci(decode({ payload: frame }).events, 1);
      });
    }
  });

  describe('VCD', () => {
    it('the audit trail writes +0000: every time of a real one reads as RFC 3339, the same instant', () => {
      const file = 'vcd-audit/auditTrail-mode2-timestamps-eventTypes.txt';
      refused({ payload: text(file) }, 'DECODE_UNKNOWN_FORMAT');
      const times = [...text(file).matchAll(/^(\S+) - /gm)].map((m) => m[1]!);
      assert.equal(times.length, 14, 'the 14 lines the capture shows');
      for (const t of times) {
        assert.match(t, /\+0000$/);
        const read = readTime(t)!;
        assert.match(read, RFC3339);
        assert.equal(read, t.replace('+0000', '+00:00'));
        assert.equal(Date.parse(read), Date.parse(t));
      }
    });

    it('a truncated audit page, an invalid JSON example and an annotated envelope are refused as not JSON', () => {
      for (const file of [
        'vcd-audit/auditTrail-mode1-raw-json-truncated.txt',
        'vcd-amqp/doc-example-blockingtask-create-vcd55-guide.json.txt',
        'vcd-mqtt/behavior-invocation-envelope-decoded-annotated.jsonc.txt',
      ])
        refused({ payload: text(file) }, 'DECODE_INVALID_JSON');
    });

    for (const file of [
      'vcd-amqp/notification-blockingtask-create-vappUpdateVm-2011.xml',
      'vcd-amqp/doc-example-blockingtask-create-vcd55-guide.xml.txt',
    ]) {
      it(`${file}: an AMQP notification, its Timestamp kept`, () => {
        const xml = text(file);
        const { format, events } = decode({ payload: xml });
        assert.equal(format, 'vcd-amqp');
        assert.equal(events[0]!.type, 'com.vmware.vcloud.event.blockingtask.create');
        checkTime(events[0]!, [/<vmext:Timestamp>([^<]+)</.exec(xml)![1]!]);
      });
    }
  });

  describe('CloudEvents', () => {
    for (const file of [
      'veba-vsphere-DrsVmPoweredOnEvent-structured.json',
      'veba-legacy-event-router-VmPoweredOffEvent-structured.json',
      'veba-vsphere-VmPoweredOffEvent-structured.json',
      'veba-horizon-vlsi_userloggedin_rest-structured-oneline.json',
    ]) {
      it(`${file}: structured, its time to the source's precision`, () => {
        const ce = json(`cloudevents/${file}`) as { id: string; time: string };
        const { events } = decode({ payload: text(`cloudevents/${file}`) });
        assert.equal(events[0]!.id, ce.id);
        checkTime(events[0]!, [ce.time]);
      });
    }

    it('the headers of a real Knative delivery (binary mode) decode; 7 fraction digits kept', () => {
      const headers = json(
        'cloudevents/sources-for-knative-vsphere-binary-mode-http-headers-vcsim.json',
      ) as Record<string, string[]>;
      const { events } = decode({ payload: undefined, httpHeaders: headers });
      assert.equal(events[0]!.id, '41');
      checkTime(events[0]!, headers['Ce-Time']!);
    });

    it('bodies without their headers, a Sockeye log and a 0.3 event are refused, each with its code', () => {
      refused(
        { payload: text('cloudevents/veba-binary-body-AlarmStatusChangedEvent.json') },
        'DECODE_UNKNOWN_FORMAT',
      );
      refused(
        { payload: text('cloudevents/veba-binary-body-VmPoweredOffEvent-python-repr.json') },
        'DECODE_UNKNOWN_FORMAT',
      );
      refused(
        { payload: text('cloudevents/veba-sockeye-log-DrsVmPoweredOnEvent.txt') },
        'DECODE_UNKNOWN_FORMAT',
      );
      refused({ payload: text('cloudevents/veba-specversion-0.3-hand-edited.json') }, 'DECODE_WRONG_SHAPE');
    });
  });

  it('every file of the folder is read by a test above', () => {
    const self = fs.readFileSync(__filename.replace(/dist[\\/]/, '').replace(/\.js$/, '.ts'), 'utf8');
    for (const dir of fs.readdirSync(DATA).filter((d) => !d.endsWith('.md'))) {
      for (const file of fs.readdirSync(path.join(DATA, dir)))
        assert.ok(self.includes(file), `${dir}/${file}`);
    }
  });
});
