/**
 * APIC objects as real APICs send them: `modTs` is "never" on faults, health
 * scores, audit and event records; the event time, id and summary come from
 * the attributes that carry them (shapes as in public APIC captures).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import path from 'node:path';
import { REPO_ROOT } from '../../sim/nodered';
import { aciEvents, aciObjectEvent, type AciMo } from '../../nodes/events/decode/aci';
import { oneLine } from '../../nodes/events/decode/errors';
import { fromInfraEvent } from '../../nodes/events/cloudevent-model';
import { BOOKKEEPING, digestOf, objectTime } from '../../nodes/events/decode/aci-object';
import { datedDeletion, isNewer, sameState, stampOf, updatedStamp } from '../../nodes/aci/object-facts';
import { MoTree } from '../../sim/apic/tree';
import {
  advanceFault,
  auditRecord,
  raiseFault,
  randomChange,
  seedFabric,
  FAULTS,
} from '../../sim/apic/fabric';
import { seededRandom } from '../../sim/ids';

const FAULT_DN = 'topology/pod-1/node-102/sys/phys-[eth1/3]/fault-F0532';

/** A fault as a class query or a created push returns it. */
function fault(extra: Record<string, string> = {}): AciMo {
  return {
    faultInst: {
      attributes: {
        ack: 'no',
        cause: 'port-down',
        code: 'F0532',
        created: '2026-03-04T09:10:11.123+01:00',
        descr: 'Port is down, reason: sfp-missing',
        dn: FAULT_DN,
        highestSeverity: 'major',
        lastTransition: '2026-03-04T09:12:13.456+01:00',
        lc: 'raised',
        modTs: 'never',
        occur: '1',
        origSeverity: 'major',
        prevSeverity: 'major',
        severity: 'major',
        status: 'created',
        type: 'operational',
        ...extra,
      },
    },
  };
}

const audit: AciMo = {
  aaaModLR: {
    attributes: {
      affected: 'uni/tn-shop/ap-web/epg-front',
      cause: 'transition',
      changeSet: 'prefGrMemb (Old: exclude, New: include)',
      code: 'E4211937',
      created: '2026-03-04T10:00:00.001+00:00',
      descr: 'AEPg front modified',
      dn: 'subj-[uni/tn-shop/ap-web/epg-front]/mod-4295000001',
      id: '4295000001',
      ind: 'modification',
      modTs: 'never',
      severity: 'info',
      status: 'created',
      trig: 'config',
      user: 'alice',
    },
  },
};

describe('ACI objects as real APICs send them', () => {
  it('a fault with modTs "never" is timed by its last transition, exactly as written', () => {
    const e = aciObjectEvent(fault(), { source: 'https://apic' });
    assert.equal(e.time, '2026-03-04T09:12:13.456+01:00');
    assert.equal(e.id, `created:${FAULT_DN}@2026-03-04T09:12:13.456+01:00`);
    assert.doesNotMatch(e.id, /never/);
    assert.equal(
      e.summary,
      'major fault F0532 raised on topology/pod-1/node-102/sys/phys-[eth1/3]: Port is down, reason: sfp-missing (port-down)',
    );
  });

  it('no event time is ever "never" or another string that is not RFC 3339: the receipt time stands in', () => {
    const counters: AciMo = {
      rmonIfIn: {
        attributes: { dn: 'topology/pod-1/node-101/sys/phys-[eth1/5]/dbgIfIn', modTs: 'never', octets: '42' },
      },
    };
    const e = aciObjectEvent(counters, { receivedAt: '2026-03-04T12:00:00.000Z' });
    assert.equal(e.time, '2026-03-04T12:00:00.000Z');
    const now = aciObjectEvent(counters);
    assert.ok(Math.abs(Date.parse(now.time) - Date.now()) < 5000, now.time);
    // Deterministic all the same (no clock in it), and it changes with what the object says.
    assert.equal(now.id, e.id);
    assert.match(e.id, /^snapshot:topology\/pod-1\/node-101\/sys\/phys-\[eth1\/5\]\/dbgIfIn#[0-9a-f]{8}$/);
    const other = { rmonIfIn: { attributes: { ...counters.rmonIfIn!.attributes, octets: '43' } } };
    assert.notEqual(aciObjectEvent(other).id, e.id);
  });

  it('raised → cleared → raised again: distinct ids; the same push twice: the same id', () => {
    const raised = aciObjectEvent(fault());
    const clearing = aciObjectEvent(
      fault({ status: 'modified', lc: 'raised-clearing', lastTransition: '2026-03-04T09:20:00.000+01:00' }),
    );
    const retaining = aciObjectEvent(
      fault({
        status: 'modified',
        lc: 'retaining',
        severity: 'cleared',
        prevSeverity: 'major',
        lastTransition: '2026-03-04T09:22:00.000+01:00',
      }),
    );
    const again = aciObjectEvent(
      fault({
        status: 'modified',
        lc: 'raised',
        occur: '2',
        lastTransition: '2026-03-04T09:40:00.000+01:00',
      }),
    );
    const ids = [raised, clearing, retaining, again].map((e) => e.id);
    assert.equal(new Set(ids).size, 4, ids.join('\n'));
    assert.equal(aciObjectEvent(fault()).id, raised.id, 'HA pairs and resyncs collapse');
    assert.equal(
      retaining.summary,
      `fault F0532 cleared on topology/pod-1/node-102/sys/phys-[eth1/3]: Port is down, reason: sfp-missing (port-down, retaining)`,
    );
    assert.match(again.summary, /^major fault F0532 raised .*\(port-down, 2 times\)$/);
    // Raised again after the fault was deleted: a new created time, a new id.
    const reborn = aciObjectEvent(
      fault({ created: '2026-03-05T08:00:00.000+01:00', lastTransition: '2026-03-05T08:00:00.000+01:00' }),
    );
    assert.notEqual(reborn.id, raised.id);
  });

  it('a fault deletion carries no time: dated with the last known state, distinct per occurrence', () => {
    const pushed = { dn: FAULT_DN, modTs: 'never', rn: '', status: 'deleted', childAction: '' };
    const first = datedDeletion(pushed, stampOf(fault().faultInst!.attributes as Record<string, string>));
    const second = datedDeletion(
      pushed,
      stampOf(
        fault({ lastTransition: '2026-03-06T00:00:00.000+01:00' }).faultInst!.attributes as Record<
          string,
          string
        >,
      ),
    );
    const a = aciObjectEvent({ faultInst: { attributes: first } });
    const b = aciObjectEvent({ faultInst: { attributes: second } });
    assert.notEqual(a.id, b.id);
    assert.equal(a.time, '2026-03-04T09:12:13.456+01:00');
    assert.equal(a.summary, 'fault F0532 deleted on topology/pod-1/node-102/sys/phys-[eth1/3]');
    // An object whose modTs is a time keeps its own.
    const bd = { dn: 'uni/tn-a/BD-b', modTs: '2026-01-01T00:00:00.000+00:00', status: 'deleted' };
    assert.deepEqual(datedDeletion(bd, { modTs: '2025-01-01T00:00:00.000+00:00' }), bd);
  });

  it('an audit record says who changed what and how, at its created time', () => {
    const e = aciObjectEvent(audit);
    assert.equal(e.time, '2026-03-04T10:00:00.001+00:00');
    assert.equal(
      e.summary,
      'alice modified uni/tn-shop/ap-web/epg-front: prefGrMemb (Old: exclude, New: include)',
    );
    const deletion = {
      aaaModLR: {
        attributes: {
          ...audit.aaaModLR!.attributes,
          ind: 'deletion',
          changeSet: '',
          descr: 'AEPg front deleted',
        },
      },
    };
    assert.equal(
      aciObjectEvent(deletion).summary,
      'alice deleted uni/tn-shop/ap-web/epg-front (AEPg front deleted)',
    );
  });

  it('an event record names the object, what happened and the change, at its created time', () => {
    const e = aciObjectEvent({
      eventRecord: {
        attributes: {
          affected: 'topology/pod-1/node-101/sys/phys-[eth1/7]/phys',
          cause: 'port-up',
          changeSet: 'operSt (New: up)',
          code: 'E4205125',
          created: '2026-03-04T11:00:00.250+00:00',
          descr: 'Port is up',
          dn: 'subj-[topology/pod-1/node-101/sys/phys-[eth1/7]/phys]/rec-4294970000',
          ind: 'state-transition',
          modTs: 'never',
          severity: 'info',
          user: 'internal',
        },
      },
    });
    assert.equal(e.time, '2026-03-04T11:00:00.250+00:00');
    assert.equal(
      e.summary,
      'event E4205125 on topology/pod-1/node-101/sys/phys-[eth1/7]/phys: Port is up (operSt (New: up))',
    );
  });

  it('health scores (healthInst, healthNodeInst) are timed by updTs and say the score, the previous one and the worst fault', () => {
    const [tenant, node] = aciEvents({
      imdata: [
        {
          healthInst: {
            attributes: {
              dn: 'uni/tn-shop/health',
              chng: '-20',
              cur: '80',
              maxSev: 'major',
              modTs: 'never',
              prev: '100',
              twScore: '80',
              updTs: '2026-03-04T12:30:00.000+02:00',
              status: 'modified',
            },
          },
        },
        {
          healthNodeInst: {
            attributes: {
              dn: 'uni/tn-shop/ap-web/epg-front/nodehealth-101',
              cur: '100',
              maxSev: 'cleared',
              modTs: 'never',
              nodeId: '101',
              prev: '90',
              updTs: '2026-03-04T12:31:00.000+02:00',
            },
          },
        },
      ],
    });
    assert.equal(tenant!.time, '2026-03-04T12:30:00.000+02:00');
    assert.equal(tenant!.summary, 'health of uni/tn-shop 80 (was 100, worst fault major)');
    assert.equal(node!.time, '2026-03-04T12:31:00.000+02:00');
    assert.equal(node!.summary, 'health of uni/tn-shop/ap-web/epg-front on node 101 100 (was 90)');
  });

  it('every class the subscribe dialog offers gets a summary that says what happened', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'fvTenant',
        { dn: 'uni/tn-shop', descr: 'web shop' },
        /^fvTenant uni\/tn-shop created \(descr web shop\)$/,
      ],
      [
        'fvBD',
        { dn: 'uni/tn-shop/BD-web', unicastRoute: 'yes', arpFlood: 'no' },
        /unicastRoute yes, arpFlood no/,
      ],
      ['fvAEPg', { dn: 'uni/tn-shop/ap-web/epg-front', pcEnfPref: 'enforced' }, /pcEnfPref enforced/],
      [
        'fvAp',
        { dn: 'uni/tn-shop/ap-web', descr: 'tiers' },
        /fvAp uni\/tn-shop\/ap-web created \(descr tiers\)/,
      ],
      ['fvCtx', { dn: 'uni/tn-shop/ctx-v1', pcEnfPref: 'enforced' }, /fvCtx .* \(pcEnfPref enforced\)/],
      [
        'fvSubnet',
        { dn: 'uni/tn-shop/BD-web/subnet-[10.1.1.1/24]', ip: '10.1.1.1/24', scope: 'public' },
        /ip 10\.1\.1\.1\/24, scope public/,
      ],
      [
        'fvCEp',
        {
          dn: 'uni/tn-shop/ap-web/epg-front/cep-00:50:56:AA:BB:CC',
          mac: '00:50:56:AA:BB:CC',
          ip: '10.1.1.20',
          encap: 'vlan-10',
          lcC: 'learned',
        },
        /mac 00:50:56:AA:BB:CC, ip 10\.1\.1\.20, encap vlan-10, lcC learned/,
      ],
      ['l3extOut', { dn: 'uni/tn-shop/out-core', descr: 'to the core' }, /descr to the core/],
      ['vzBrCP', { dn: 'uni/tn-shop/brc-web', scope: 'context' }, /scope context/],
      ['faultInst', fault().faultInst!.attributes as Record<string, string>, /^major fault F0532 raised on /],
      [
        'aaaActiveUserSession',
        {
          dn: 'uni/usersessext/actsession-Xy==',
          name: 'alice',
          ipAddress: '10.0.0.5',
          loginTime: '2026-03-04T10:00:00.000+00:00',
          modTs: '2026-03-04T10:00:00.000+00:00',
        },
        /^user alice logged in from 10\.0\.0\.5$/,
      ],
      [
        'fabricNode',
        { dn: 'topology/pod-1/node-101', name: 'leaf-101', role: 'leaf', fabricSt: 'active' },
        /name leaf-101, role leaf, fabricSt active/,
      ],
      [
        'topSystem',
        {
          dn: 'topology/pod-1/node-101/sys',
          name: 'leaf-101',
          role: 'leaf',
          state: 'in-service',
          modTs: 'never',
        },
        /state in-service/,
      ],
    ];
    cases.push(
      [
        'healthInst',
        { dn: 'uni/tn-shop/health', cur: '90', prev: '100', maxSev: 'minor', modTs: 'never' },
        /^health of uni\/tn-shop 90 \(was 100, worst fault minor\)$/,
      ],
      [
        'aaaModLR',
        audit.aaaModLR!.attributes as Record<string, string>,
        /^alice modified uni\/tn-shop\/ap-web\/epg-front: /,
      ],
      [
        'eventRecord',
        {
          dn: 'subj-[topology/pod-1/node-101]/rec-1',
          affected: 'topology/pod-1/node-101',
          code: 'E4204938',
          descr: 'Node leaf-101 changed state',
          modTs: 'never',
          created: '2026-03-04T10:00:00.000+00:00',
        },
        /^event E4204938 on topology\/pod-1\/node-101: Node leaf-101 changed state$/,
      ],
      [
        'faultRecord',
        {
          dn: 'subj-[uni/tn-shop/ap-web/epg-front]/rec-4294967299',
          affected: 'uni/tn-shop/ap-web/epg-front',
          code: 'F0467',
          cause: 'configuration-failed',
          severity: 'minor',
          lc: 'raised',
          ind: 'state-transition',
          descr: 'Configuration failed for EPG',
          created: '2026-03-04T10:00:00.000+00:00',
          modTs: 'never',
        },
        /^minor fault F0467 raised on uni\/tn-shop\/ap-web\/epg-front: Configuration failed for EPG \(configuration-failed\)$/,
      ],
    );
    // The classes the dialog offers, read from the editor file itself: none may be left without a case.
    const script = fs.readFileSync(path.join(REPO_ROOT, 'nodes/aci/aci-subscribe.editor.js'), 'utf8');
    const list = /var classes = \[([^\]]*)\]/.exec(script)![1]!;
    const offered = [...list.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    assert.ok(offered.length >= 10, `the dialog offers ${offered.length} classes`);
    assert.deepEqual(
      offered.filter((c) => !cases.some(([name]) => name === c)),
      [],
    );
    for (const lang of ['en-US', 'de']) {
      const file = path.join(REPO_ROOT, 'nodes/aci/locales', lang, 'aci-subscribe.json');
      const described = JSON.parse(fs.readFileSync(file, 'utf8'))['aci-subscribe'].classes as Record<
        string,
        string
      >;
      assert.deepEqual(
        offered.filter((c) => !described[c]),
        [],
        `descriptions in ${lang}`,
      );
    }
    for (const [className, attributes, summary] of cases) {
      const e = aciObjectEvent({ [className]: { attributes: { status: 'created', ...attributes } } });
      assert.match(e.summary, summary, className);
    }
    const modified = aciObjectEvent({
      fabricNode: {
        attributes: {
          dn: 'topology/pod-1/node-101',
          status: 'modified',
          modTs: '2026-03-04T10:00:00.000+00:00',
          fabricSt: 'inactive',
          lastStateModTs: '2026-03-04T10:00:00.000+00:00',
        },
      },
    });
    assert.equal(modified.summary, 'fabricNode topology/pod-1/node-101 modified (fabricSt inactive)');
    const ended = aciObjectEvent({
      aaaActiveUserSession: {
        attributes: {
          dn: 'uni/usersessext/actsession-Xy==',
          status: 'deleted',
          modTs: '2026-03-04T11:00:00.000+00:00',
        },
      },
    });
    assert.equal(ended.summary, 'user session uni/usersessext/actsession-Xy== ended');
  });

  it('every event becomes a valid CloudEvent (time RFC 3339)', () => {
    for (const mo of [fault(), audit, { rmonIfIn: { attributes: { dn: 'x/dbgIfIn', modTs: 'never' } } }]) {
      const ce = fromInfraEvent(aciObjectEvent(mo, { source: 'https://apic.example.com' }));
      assert.ok(ce.time && !ce.time.includes('never'));
    }
  });
});

describe('what an APIC object says about itself (aci-object, and the stamps of object-facts)', () => {
  it("takes modTs only when it is a time, else the class's own time attribute", () => {
    assert.equal(
      objectTime({ modTs: 'never', lastTransition: 'never', created: '2026-01-01T00:00:00Z' }),
      '2026-01-01T00:00:00Z',
    );
    assert.equal(
      objectTime({ modTs: '2026-01-02T00:00:00.123456+05:30' }),
      '2026-01-02T00:00:00.123456+05:30',
    );
    assert.equal(
      objectTime({ modTs: 'never', upTS: '2026-01-03T00:00:00.000+02:00' }),
      '2026-01-03T00:00:00.000+02:00',
    );
    assert.equal(objectTime({ modTs: 'never' }), undefined);
  });

  it("tells a held push from the state just read by the object's time, not modTs", () => {
    const read = stampOf(fault().faultInst!.attributes as Record<string, string>);
    assert.equal(isNewer({ modTs: 'never', lastTransition: '2026-03-04T09:12:13.456+01:00' }, read), false);
    assert.equal(isNewer({ modTs: 'never', lastTransition: '2026-03-04T09:30:00.000+01:00' }, read), true);
    assert.equal(isNewer({ modTs: 'never' }, read), true, 'without a time it is news');
  });

  it('a fault that changed during a gap is a different state, though modTs stays "never"', () => {
    const before = stampOf(fault().faultInst!.attributes as Record<string, string>);
    const after = stampOf(
      fault({ lc: 'retaining', severity: 'cleared', lastTransition: '2026-03-04T10:00:00.000+01:00' })
        .faultInst!.attributes as Record<string, string>,
    );
    assert.equal(sameState(before, after), false);
    // A modification push carries only what changed: the stamp follows it.
    const pushed = {
      lc: 'retaining',
      severity: 'cleared',
      lastTransition: '2026-03-04T10:00:00.000+01:00',
      modTs: 'never',
    };
    assert.equal(sameState(updatedStamp(before, pushed), after), true);
  });

  it('summaries are one line: every kind of whitespace run becomes one space', () => {
    const unit = fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2028', '\ufeff', 'a', 'é', '-');
    fc.assert(
      fc.property(fc.string({ unit }), (text) => oneLine(text) === text.replace(/\s+/g, ' ').trim()),
      { numRuns: 2000, seed: 20261202 },
    );
  });

  it('every kind of summary is one line, whatever the attributes hold (line breaks, runs of spaces, blanks)', () => {
    const unit = fc.constantFrom(
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      '\u00a0',
      '\u2028',
      'a',
      'é',
      '-',
      '/',
      '[',
      ']',
    );
    const value = fc.oneof(fc.constant(''), fc.constant(' '), fc.string({ unit, maxLength: 12 }));
    const names = [
      'code',
      'lc',
      'severity',
      'descr',
      'cause',
      'occur',
      'affected',
      'ind',
      'user',
      'changeSet',
    ];
    const more = [
      'prev',
      'maxSev',
      'cur',
      'nodeId',
      'name',
      'userName',
      'ipAddress',
      'fabricSt',
      ' odd\nname ',
    ];
    const attributes = fc.record(Object.fromEntries([...names, ...more].map((n) => [n, value])), {
      requiredKeys: [],
    });
    const classes = [
      'faultInst',
      'aaaModLR',
      'eventRecord',
      'healthInst',
      'aaaActiveUserSession',
      'fabricNode',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...classes),
        fc.constantFrom('created', 'modified', 'deleted', ' modified\n'),
        fc.constantFrom('topology/pod-1/node-101/fault-F0532', ' uni/tn-a\n b ', 'uni/tn-x/BD-[a b]'),
        fc.constantFrom('', '2', 'creation', 'constructor', 'toString'),
        attributes,
        (className, status, dn, word, a) => {
          const attrs = { ...a, ind: a.ind ?? word, occur: a.occur ?? word, dn, status };
          const { summary } = aciObjectEvent({ [className]: { attributes: attrs } });
          assert.equal(summary, summary.replace(/\s+/g, ' ').trim(), JSON.stringify(attrs));
        },
      ),
      { numRuns: 3000, seed: 20261203 },
    );
  });

  it('digests attributes the same in every version (ids and saved state survive an upgrade), order aside', () => {
    // The digest is part of modification ids: an HA pair mid-upgrade must name a change alike. These are frozen.
    const vectors: [Record<string, string>, string][] = [
      [{}, '811c9dc5'],
      [
        { dn: 'uni/tn-prod/BD-web', modTs: '2026-12-02T10:28:25.721+00:00', descr: 'a "quoted"\tone' },
        '16886195',
      ],
      [
        { descr: 'flood 1', dn: 'uni/tn-t0/BD-bd0', rn: 'BD-bd0', status: 'modified', childAction: '' },
        '28a0d861',
      ],
      [{ severity: 'major', lc: 'raised', code: 'F0532', occur: '2', descr: 'Port is down' }, 'c5253aea'],
      [{ name: 'écho ☃ \ud83d\ude00', lone: '\ud800' }, '0e3d126d'],
      [{ ab: 'c' }, '2b522176'],
      [{ a: 'bc' }, '00498c1c'],
    ];
    for (const [attributes, digest] of vectors)
      assert.equal(digestOf(attributes), digest, JSON.stringify(attributes));
    // Any UTF-16 unit, lone surrogates included.
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('"', '\\', '\n', '\u0000', '\ud800', '\udfff'),
    );
    const text = fc.oneof(fc.string(), fc.string({ unit }));
    const bookkeeping = fc.record(
      { dn: text, modTs: text, status: text, rn: text, childAction: text },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.dictionary(text, text, { minKeys: 1 }), bookkeeping, text, (a, where, other) => {
        const own = Object.fromEntries(Object.entries(a).filter(([k]) => !BOOKKEEPING.has(k)));
        const digest = digestOf(own);
        // The order of the attributes, and where and when, say nothing of what changed.
        assert.equal(digestOf(Object.fromEntries(Object.entries(own).reverse())), digest);
        assert.equal(digestOf({ ...where, ...own }), digest);
        // Another value of any of them is another state.
        for (const name of Object.keys(own)) {
          if (own[name] === other) continue;
          assert.notEqual(digestOf({ ...own, [name]: other }), digest, name);
        }
      }),
      { numRuns: 2000, seed: 20261203 },
    );
  });
});

describe('the simulated APIC models real data', () => {
  it('faults go through their life cycle with modTs "never"; every change decodes with a real time and its own id', () => {
    const tree = new MoTree();
    seedFabric(tree);
    const random = seededRandom(7);
    const epg = 'uni/tn-prod/ap-prod-app/epg-web';
    const steps = [
      ...raiseFault(tree, epg, FAULTS[2]!),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'raised'),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'critical'),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'raised-clearing'),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'retaining'),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'raised'),
      ...advanceFault(tree, `${epg}/fault-F1527`, random, 'deleted'),
    ];
    const faults = steps.filter((c) => c.className === 'faultInst');
    assert.deepEqual(
      faults.map((c) => c.attributes.lc ?? c.status),
      ['soaking', 'raised', 'raised', 'raised-clearing', 'retaining', 'raised', 'deleted'],
    );
    assert.ok(faults.every((c) => c.attributes.modTs === 'never'));
    assert.equal(faults[5]!.attributes.occur, '2');
    assert.equal(faults[2]!.attributes.severity, 'critical');
    assert.equal(faults[4]!.attributes.severity, 'cleared');
    const health = steps.filter((c) => c.className === 'healthInst');
    assert.ok(health.length >= 3, "the EPG's health score follows its fault");
    assert.ok(health.every((c) => c.attributes.modTs === 'never' && c.attributes.updTs));
    const events = steps.map((c) => aciObjectEvent({ [c.className]: { attributes: c.attributes } }));
    // The deletion is dated the way the subscriber dates it: with the last known state.
    for (const e of events) {
      assert.doesNotMatch(e.time, /never/);
      assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
    }
    const ids = events
      .filter((e) => e.aci!.className === 'faultInst' && e.aci!.status !== 'deleted')
      .map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, ids.join('\n'));
  });

  it('whatever the change generator does, every change decodes with a real time, and faults and records keep modTs "never"', () => {
    const tree = new MoTree();
    seedFabric(tree);
    const random = seededRandom(42);
    const counter = { n: 0 };
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const c of randomChange(tree, random, counter)) {
        seen.add(c.className);
        if (['faultInst', 'healthInst', 'aaaModLR', 'eventRecord'].includes(c.className)) {
          assert.equal(c.attributes.modTs, 'never', c.className);
        }
        const e = aciObjectEvent({ [c.className]: { attributes: c.attributes } });
        assert.ok(!Number.isNaN(Date.parse(e.time)), `${c.className} ${c.status}: ${e.time}`);
        assert.doesNotMatch(e.id, /never/);
      }
    }
    for (const cls of [
      'faultInst',
      'healthInst',
      'aaaModLR',
      'eventRecord',
      'fvBD',
      'fvAEPg',
      'fabricNode',
    ]) {
      assert.ok(seen.has(cls), `the generator changes ${cls}`);
    }
    const lcs = new Set(
      tree
        .all()
        .filter((m) => m.className === 'faultInst')
        .map((m) => m.attributes.lc),
    );
    assert.ok(lcs.size >= 2, `faults in several states: ${[...lcs].join(', ')}`);
  });

  it("a user's change leaves an audit record with the user and what changed", () => {
    const tree = new MoTree();
    seedFabric(tree);
    const dn = 'uni/tn-prod/BD-bd-web';
    const before = { ...tree.get(dn)!.attributes };
    const change = tree.modify(dn, { arpFlood: 'yes' });
    const record = auditRecord(tree, change, 'alice', before, { n: 0 });
    assert.equal(record.className, 'aaaModLR');
    assert.equal(record.attributes.modTs, 'never');
    assert.equal(record.attributes.user, 'alice');
    assert.equal(record.attributes.ind, 'modification');
    assert.match(record.attributes.changeSet!, /arpFlood \(Old: no, New: yes\)/);
    const e = aciObjectEvent({ aaaModLR: { attributes: record.attributes } });
    assert.equal(e.time, record.attributes.created);
    assert.match(e.summary, /^alice modified uni\/tn-prod\/BD-bd-web: arpFlood \(Old: no, New: yes\)/);
  });
});
