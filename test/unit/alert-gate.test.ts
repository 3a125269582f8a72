import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodedError } from '../../nodes/common/errors';
import type { InfraEvent } from '../../nodes/common/infra-event';
import { metricsFor, retain } from '../../nodes/common/metrics';
import { NodeFiles } from '../../nodes/common/node-files';
import { prometheusRegistry } from '../../nodes/operations/prometheus';
import { AlertGate, type GateOptions, type SharedStore } from '../../nodes/alerts/gate';
import { Journal } from '../../nodes/alerts/journal';
import { kindOf, stormKeyOf } from '../../nodes/alerts/storm-key';
import { STORM_TYPE, clockOf } from '../../nodes/alerts/storms';

const APIC = 'https://apic1.example.com';
const MIN = 60_000;
const T0 = Date.parse('2026-11-22T10:04:00Z');

function vcdEvent(id: string, extra: Partial<InfraEvent> = {}): InfraEvent {
  return {
    id,
    source: 'https://vcd.example.com',
    type: 'com.vmware.vcloud.event.vm.deploy',
    time: '2026-11-22T10:04:00Z',
    subject: 'urn:vcloud:vm:1',
    summary: `vm web-01 deployed: failed (${id})`,
    origin: 'vcd',
    data: {},
    ...extra,
  };
}

/** A faultInst change as aci subscribe reports it: a creation carries everything, a modification what changed. */
function fault(n: number, lc: string, affected = 'uni/tn-prod/BD-bd-app', code = 'F1527'): InfraEvent {
  const dn = `${affected}/fault-${code}`;
  const cleared = lc === 'retaining';
  const attributes: Record<string, string> = {
    dn,
    lc,
    lastTransition: `2026-11-22T10:04:${String(n).padStart(2, '0')}Z`,
  };
  attributes.severity = cleared ? 'cleared' : 'major';
  return {
    id: `modified:${dn}@${attributes.lastTransition}#${n}`,
    source: APIC,
    type: 'com.cisco.aci.faultInst.modified',
    time: attributes.lastTransition as string,
    subject: dn,
    summary: `major fault ${code} ${cleared ? 'cleared' : 'raised'} on ${affected}`,
    origin: 'aci',
    aci: { className: 'faultInst', dn, status: 'modified', attributes },
    data: {},
  };
}

describe('alert gate', () => {
  let userDir: string;
  let files: NodeFiles;
  const gateOf = (options: GateOptions, now = T0, id = 'gate-1') =>
    new AlertGate(new Journal(files, id), options, now);
  const doubles = { windowMs: 60 * MIN, maxEntries: 1000 };
  const storms = { windowMs: 5 * MIN, maxStorms: 100, passClears: false };
  const key = (e: InfraEvent) => stormKeyOf(e, 'subject');

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
    files = new NodeFiles(userDir, 'alert-gate');
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  describe('doubles', () => {
    it('drops an event whose source and id passed within the window, and lets it pass again after', async () => {
      const gate = gateOf({ doubles });
      assert.equal((await gate.take(vcdEvent('e1'), undefined, T0)).verdict, 'passed');
      assert.equal((await gate.take(vcdEvent('e1'), undefined, T0 + 59 * MIN)).verdict, 'double');
      assert.equal(
        (await gate.take(vcdEvent('e1', { source: 'https://other' }), undefined, T0)).verdict,
        'passed',
      );
      assert.equal((await gate.take(vcdEvent('e2'), undefined, T0)).verdict, 'passed');
      assert.equal(
        (await gate.take(vcdEvent('e1'), undefined, T0 + 60 * MIN)).verdict,
        'passed',
        'window over',
      );
    });

    it('remembers across a restart, from the file only what was flushed: a crash lets a copy through once, never drops one', async () => {
      const a = gateOf({ doubles });
      await a.take(vcdEvent('flushed'), undefined, T0);
      a.flush(T0);
      await a.take(vcdEvent('sent, then the crash'), undefined, T0);
      // No flush: the process died after sending.
      const b = gateOf({ doubles });
      assert.equal((await b.take(vcdEvent('flushed'), undefined, T0 + MIN)).verdict, 'double');
      assert.equal((await b.take(vcdEvent('sent, then the crash'), undefined, T0 + MIN)).verdict, 'passed');
      b.flush(T0 + MIN);
      const c = gateOf({ doubles });
      assert.equal((await c.take(vcdEvent('sent, then the crash'), undefined, T0 + MIN)).verdict, 'double');
      assert.equal(c.sizes.seen, 2);
    });

    it('nothing of an event reaches the disk: a fixed-size hash of its source and id', async () => {
      const gate = gateOf({ doubles });
      await gate.take(vcdEvent('urn:vcloud:event:secret-looking-id'), undefined, T0);
      gate.flush(T0);
      const text = fs.readFileSync(files.pathOf('gate-1', '.journal'), 'utf8');
      assert.doesNotMatch(text, /secret|vcd\.example|vcloud/);
      assert.match(text, /^\["seen","[\w-]{22}",\d+\]\n$/);
    });
  });

  describe('storms', () => {
    it('a fault flapping 50 times in a minute: one alert, then one summary at the window end saying what was held', async () => {
      const gate = gateOf({ doubles, storms });
      const verdicts: string[] = [];
      for (let i = 0; i < 50; i++) {
        const e = fault(i, i % 2 === 0 ? 'raised' : 'retaining');
        verdicts.push((await gate.take(e, key(e), T0 + i * 1000)).verdict);
      }
      assert.deepEqual(verdicts, ['passed', ...Array<string>(49).fill('held')]);
      assert.deepEqual((await gate.due(T0 + 5 * MIN - 1)).summaries, [], 'not before the window ends');
      const { summaries } = await gate.due(T0 + 5 * MIN);
      assert.equal(summaries.length, 1);
      const s = summaries[0]!;
      assert.equal(s.type, STORM_TYPE);
      assert.equal(s.source, APIC);
      assert.equal(s.subject, 'uni/tn-prod/BD-bd-app/fault-F1527');
      assert.equal(s.id, `storm:${fault(0, 'raised').id}#1`);
      assert.equal(
        s.summary,
        `49 more since ${clockOf(T0, T0 + 5 * MIN)}: cleared 25, raised 24 · major fault F1527 cleared on uni/tn-prod/BD-bd-app`,
      );
      assert.deepEqual((s.data as { counts: unknown }).counts, { cleared: 25, raised: 24 });
      // Quiet for a whole window: the storm is over, nothing more is said, and the next flap is news again.
      assert.deepEqual((await gate.due(T0 + 10 * MIN)).summaries, []);
      const again = fault(60, 'raised');
      assert.equal((await gate.take(again, key(again), T0 + 11 * MIN)).verdict, 'passed');
    });

    it('a storm that goes on gets one summary per window, numbered', async () => {
      const gate = gateOf({ doubles, storms });
      let n = 0;
      const flap = (at: number) => {
        const e = fault(n++, 'raised');
        return gate.take(e, key(e), at);
      };
      await flap(T0);
      await flap(T0 + MIN);
      assert.equal((await gate.due(T0 + 5 * MIN)).summaries[0]?.id, `storm:${fault(0, 'raised').id}#1`);
      assert.equal((await flap(T0 + 6 * MIN)).verdict, 'held', 'still the storm');
      const second = (await gate.due(T0 + 10 * MIN)).summaries;
      assert.equal(second.length, 1);
      assert.equal(second[0]!.id, `storm:${fault(0, 'raised').id}#2`);
      assert.match(second[0]!.summary, /^1 more since /);
    });

    it('an event after the window, before the timer saw it, is held in the next window and the summary still comes', async () => {
      const gate = gateOf({ doubles, storms });
      const [a, b, c] = [fault(1, 'raised'), fault(2, 'raised'), fault(3, 'raised')];
      await gate.take(a, key(a), T0);
      await gate.take(b, key(b), T0 + MIN);
      assert.equal((await gate.take(c, key(c), T0 + 6 * MIN)).verdict, 'held');
      const { summaries } = await gate.due(T0 + 6 * MIN);
      assert.deepEqual(
        summaries.map((s) => s.summary.slice(0, s.summary.indexOf(': '))),
        [`1 more since ${clockOf(T0, T0 + 6 * MIN)}`],
      );
    });

    it('with "clearing passes at once", the first clear passes; a clear after a clear, and raises, are held', async () => {
      const gate = gateOf({ doubles, storms: { ...storms, passClears: true } });
      const steps = ['raised', 'retaining', 'raised', 'retaining', 'raised'];
      const verdicts = [];
      for (const [i, lc] of steps.entries()) {
        const e = fault(i, lc);
        verdicts.push((await gate.take(e, key(e), T0 + i * 1000)).verdict);
      }
      assert.deepEqual(verdicts, ['passed', 'passed', 'held', 'held', 'held']);
      assert.match(
        (await gate.due(T0 + 5 * MIN)).summaries[0]!.summary,
        /^3 more since \S+: raised 2, cleared 1/,
      );
    });

    it('a fault that gets worse passes at once: news, not a repeat', async () => {
      const gate = gateOf({ doubles, storms });
      const severities = ['major', 'major', 'critical', 'major', 'critical', 'cleared'];
      const verdicts = [];
      for (const [i, severity] of severities.entries()) {
        const base = fault(i, 'raised');
        const e = { ...base, aci: { ...base.aci!, attributes: { ...base.aci!.attributes, severity } } };
        verdicts.push((await gate.take(e, key(e), T0 + i)).verdict);
      }
      assert.deepEqual(verdicts, ['passed', 'held', 'passed', 'held', 'held', 'held']);
    });

    it('keys: an ACI fault by object and code (creation and modifications alike), faultRecords by affected and code, others by source and subject', () => {
      const created: InfraEvent = {
        ...fault(0, 'soaking'),
        aci: {
          className: 'faultInst',
          dn: 'topology/pod-1/node-105/sys/phys-[eth1/53]/phys/fault-F1394',
          status: 'created',
          attributes: { code: 'F1394', lc: 'soaking' },
        },
      };
      const modified: InfraEvent = {
        ...created,
        aci: { ...created.aci!, status: 'modified', attributes: { lc: 'raised' } },
      };
      const record = (n: number): InfraEvent => ({
        ...created,
        aci: {
          className: 'faultRecord',
          dn: `subj-[topology/pod-1/node-105/sys/phys-[eth1/53]/phys]/fr-${n}`,
          status: 'created',
          attributes: { affected: 'topology/pod-1/node-105/sys/phys-[eth1/53]/phys', code: 'F1394' },
        },
      });
      assert.equal(stormKeyOf(created, 'subject'), stormKeyOf(modified, 'subject'));
      assert.equal(stormKeyOf(record(1), 'subject'), stormKeyOf(record(2), 'subject'));
      assert.equal(stormKeyOf(record(1), 'subject'), stormKeyOf(created, 'subject'));
      assert.notEqual(
        stormKeyOf(fault(0, 'raised'), 'subject'),
        stormKeyOf(fault(0, 'raised', undefined, 'F0103'), 'subject'),
      );
      assert.notEqual(
        stormKeyOf(vcdEvent('a'), 'subject'),
        stormKeyOf(vcdEvent('a', { source: 'https://vcd2' }), 'subject'),
      );
      assert.equal(
        stormKeyOf(vcdEvent('a'), 'subject'),
        stormKeyOf(vcdEvent('b', { type: 'x.y.other' }), 'subject'),
      );
      assert.notEqual(
        stormKeyOf(vcdEvent('a'), 'type'),
        stormKeyOf(vcdEvent('b', { type: 'x.y.other' }), 'type'),
      );
      assert.equal(
        stormKeyOf(vcdEvent('a'), 'property', 'room-1'),
        stormKeyOf(vcdEvent('b'), 'property', 'room-1'),
      );
      assert.equal(stormKeyOf(vcdEvent('a'), 'property', undefined), undefined);
      assert.equal(stormKeyOf(vcdEvent('a'), 'property', { an: 'object' }), undefined);
    });

    it('kinds: faults raised or cleared as APIC says it, other events by the end of their type', () => {
      assert.equal(kindOf(fault(0, 'raised')), 'raised');
      assert.equal(kindOf(fault(0, 'soaking')), 'raised');
      assert.equal(kindOf(fault(0, 'retaining')), 'cleared');
      const clearing = fault(0, 'raised-clearing');
      assert.equal(kindOf(clearing), 'cleared');
      assert.equal(
        kindOf({ ...clearing, aci: { ...clearing.aci!, status: 'deleted', attributes: {} } }),
        'cleared',
      );
      assert.equal(kindOf(vcdEvent('a')), 'deploy');
      assert.equal(kindOf(vcdEvent('a', { type: 'com.cisco.aci.fvBD.deleted' })), 'deleted');
    });

    it('is bounded: one storm too many ends the oldest early, with its summary', async () => {
      const gate = gateOf({ doubles, storms: { ...storms, maxStorms: 3 } });
      for (const bd of ['a', 'b', 'c']) {
        for (let i = 0; i < 2; i++) {
          const e = fault(i, 'raised', `uni/tn-prod/BD-${bd}`);
          await gate.take(e, key(e), T0 + i);
        }
      }
      const d = fault(0, 'raised', 'uni/tn-prod/BD-d');
      assert.equal((await gate.take(d, key(d), T0 + 10)).verdict, 'passed');
      assert.equal(gate.sizes.storms, 3);
      const { summaries } = await gate.due(T0 + 20);
      assert.deepEqual(
        summaries.map((s) => s.subject),
        ['uni/tn-prod/BD-a/fault-F1527'],
        'the oldest, at once',
      );
    });

    it('a storm goes on across a restart: what it held before is in the summary after', async () => {
      const a = gateOf({ doubles, storms });
      for (let i = 0; i < 4; i++) {
        const e = fault(i, 'raised');
        await a.take(e, key(e), T0 + i);
      }
      a.flush(T0);
      const b = gateOf({ doubles, storms }, T0 + MIN);
      const e = fault(9, 'raised');
      assert.equal((await b.take(e, key(e), T0 + MIN)).verdict, 'held');
      assert.match((await b.due(T0 + 5 * MIN)).summaries[0]!.summary, /^4 more since /);
    });

    it('a summary is written as sent only after it left: a crash before the flush sends it again, once', async () => {
      const a = gateOf({ doubles, storms });
      for (let i = 0; i < 3; i++) {
        const e = fault(i, 'raised');
        await a.take(e, key(e), T0 + i);
      }
      a.flush(T0);
      assert.equal((await a.due(T0 + 5 * MIN)).summaries.length, 1);
      // Crash: no flush after the summary was sent.
      const b = gateOf({ doubles, storms }, T0 + 5 * MIN);
      assert.equal((await b.due(T0 + 5 * MIN)).summaries.length, 1);
      b.flush(T0 + 5 * MIN);
      const c = gateOf({ doubles, storms }, T0 + 5 * MIN);
      assert.equal((await c.due(T0 + 5 * MIN + 1)).summaries.length, 0);
    });
  });

  describe('an HA pair with a shared store', () => {
    /** What Redis's SET NX PX does, in memory. */
    class SharedMap implements SharedStore {
      readonly keys = new Map<string, number>();
      now = T0;
      down = false;
      async claim(k: string, ttlMs: number): Promise<boolean> {
        if (this.down) throw new CodedError('ALERT_STORE_DOWN', 'down');
        const until = this.keys.get(k);
        if (until !== undefined && until > this.now) return false;
        this.keys.set(k, this.now + ttlMs);
        return true;
      }
    }

    it('two gates fed the same events send each event once and each summary once, whichever is faster', async () => {
      const shared = new SharedMap();
      const options = { doubles, storms, shared };
      const a = gateOf(options, T0, 'a');
      const b = gateOf(options, T0, 'b');
      const events = [vcdEvent('e1'), vcdEvent('e2', { subject: 'urn:vcloud:vm:2' })];
      for (let i = 0; i < 10; i++) events.push(fault(i, i % 2 ? 'retaining' : 'raised'));
      const passed: string[] = [];
      for (const [i, e] of events.entries()) {
        // Now one, now the other sees it first.
        const [first, second] = i % 2 ? [a, b] : [b, a];
        for (const g of [first, second]) {
          const d = await g.take(e, key(e), T0 + i);
          if (d.verdict === 'passed') passed.push(e.id);
          else if (d.verdict === 'double') assert.equal(d.partner, true);
        }
      }
      assert.deepEqual(passed, [events[0]!.id, events[1]!.id, events[2]!.id]);
      const summaries = [...(await a.due(T0 + 6 * MIN)).summaries, ...(await b.due(T0 + 6 * MIN)).summaries];
      assert.equal(summaries.length, 1);
      assert.match(summaries[0]!.summary, /^9 more since /);
    });

    it('fails open when the store is down: the event passes with the error, and this node still drops its own doubles', async () => {
      const shared = new SharedMap();
      shared.down = true;
      const gate = gateOf({ doubles, shared });
      const d = await gate.take(vcdEvent('e1'), undefined, T0);
      assert.equal(d.verdict, 'passed');
      assert.equal(d.storeError?.code, 'ALERT_STORE_DOWN');
      assert.equal((await gate.take(vcdEvent('e1'), undefined, T0)).verdict, 'double');
    });

    it('writes nothing of an event while it waits for its claim: a flush meanwhile, then a crash, and its next copy passes', async () => {
      let release: (v: boolean) => void = () => undefined;
      const slow: SharedStore = { claim: () => new Promise((r) => (release = r)) };
      const a = gateOf({ doubles, storms, shared: slow });
      const e = fault(1, 'raised');
      const pending = a.take(e, key(e), T0);
      a.flush(T0); // another event's flush, in another turn
      // Crash before the claim answered: the event never left.
      const b = gateOf({ doubles, storms });
      assert.equal((await b.take(e, key(e), T0 + 1000)).verdict, 'passed', 'neither a double nor held');
      release(true);
      await pending;
    });

    it('a copy that comes while the first is being claimed is a double', async () => {
      let release: (v: boolean) => void = () => undefined;
      const slow: SharedStore = { claim: () => new Promise((r) => (release = r)) };
      const gate = gateOf({ doubles, shared: slow });
      const first = gate.take(vcdEvent('e1'), undefined, T0);
      assert.equal((await gate.take(vcdEvent('e1'), undefined, T0)).verdict, 'double');
      release(true);
      assert.equal((await first).verdict, 'passed');
    });
  });
});

describe('alert gate counters', () => {
  it('reach Prometheus as passed, doubles dropped, held and storm summaries, per node', async () => {
    const m = metricsFor({ id: 'g1', type: 'alert-gate', name: 'gate' });
    Object.assign(m, { passed: 7, doubles: 3, held: 49, summaries: 1 });
    try {
      const text = await prometheusRegistry().metrics();
      const labels = '{node_id="g1",type="alert-gate"}';
      for (const [name, value] of [
        ['gate_passed_events', 7],
        ['gate_dropped_doubles', 3],
        ['gate_held_events', 49],
        ['gate_storm_summaries', 1],
      ] as const) {
        assert.ok(text.includes(`dcevents_${name}_total${labels} ${value}\n`), `${name} ${value}`);
      }
      const { counts } = m.snapshot();
      assert.deepEqual(
        [counts.passed, counts.doubles, counts.held, counts.summaries],
        [7, 3, 49, 1],
        'what the sidebar tab gets',
      );
    } finally {
      retain(() => false);
    }
  });
});
