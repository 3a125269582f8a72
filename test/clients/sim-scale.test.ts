/**
 * The simulators at the sizes of a large fabric and a busy cloud: what the
 * scale benchmark and the scale tests stand on. Hundreds of thousands of APIC
 * objects served page by page in dn order with a real APIC's answer limit,
 * logs read from a time, and a VCD audit trail paged from a time.
 */
import assert from 'node:assert/strict';
import { HttpClient } from '../../nodes/common/http';
import { ApicSimulator, DEFAULT_APIC_PASSWORD, MAX_ANSWER } from '../../sim/apic';
import { parseFilter } from '../../sim/apic/filter';
import { AuditTrail, auditTimestamp, type AuditRecord } from '../../sim/vcd/audit';

const byDn = { orderBy: [{ className: 'fvCEp', property: 'dn', desc: false }] };

describe('simulators at scale', function () {
  this.timeout(60_000);
  let sim: ApicSimulator | undefined;
  let http: HttpClient | undefined;
  afterEach(async () => {
    await http?.close();
    await sim?.stop();
    sim = http = undefined;
  });

  it('serves 250,000 endpoints page by page in dn order, each once, counted', async () => {
    sim = await ApicSimulator.start({ ports: [0], populations: { fvCEp: 250_000 } });
    const pop = sim.tree.population('fvCEp')!;
    assert.equal(pop.size, 250_000);
    let previous = '';
    let seen = 0;
    for (const from of [0, 1000, 124_000, 249_000]) {
      const page = sim.tree.page('class', 'fvCEp', byDn, from, 1000);
      assert.equal(page.total, 250_000);
      assert.equal(page.mos.length, 1000);
      for (const mo of page.mos) {
        assert.ok(mo.dn > previous, `${mo.dn} after ${previous}`);
        assert.equal(mo.className, 'fvCEp');
        assert.equal(mo.attributes.dn, mo.dn);
        assert.match(mo.attributes.mac!, /^00:50:56:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$/);
        assert.ok(mo.dn.endsWith(`/cep-${mo.attributes.mac}`));
        previous = mo.dn;
        seen++;
      }
    }
    assert.equal(seen, 4000);
    assert.equal(sim.tree.page('class', 'fvCEp', byDn, 250_000, 1000).mos.length, 0, 'past the end');
  });

  it('keeps pages whole across deletions, creations and modifications', async () => {
    sim = await ApicSimulator.start({ ports: [0], populations: { fvCEp: 3000 } });
    const all = () => sim!.tree.page('class', 'fvCEp', byDn, 0, 10_000).mos;
    const before = all();
    sim.remove(before[10]!.dn);
    sim.remove(before[2999]!.dn);
    sim.modify(before[11]!.dn, { ip: '192.0.2.1' });
    const created = sim.tree.grow('fvCEp');
    const paged = [0, 1000, 2000].flatMap((from) => sim!.tree.page('class', 'fvCEp', byDn, from, 1000).mos);
    const dns = paged.map((mo) => mo.dn);
    assert.equal(dns.length, 3000 - 2 + 1);
    assert.equal(new Set(dns).size, dns.length, 'each once');
    assert.ok(!dns.includes(before[10]!.dn) && !dns.includes(before[2999]!.dn), 'deleted ones gone');
    assert.equal(dns[dns.length - 1], created.dn, 'a new one sorts last');
    assert.equal(paged.find((mo) => mo.dn === before[11]!.dn)!.attributes.ip, '192.0.2.1');
    assert.deepEqual(dns, [...dns].sort());
  });

  it(`refuses an answer of more than ${MAX_ANSWER} objects as a real APIC does, and answers pages of up to that`, async () => {
    sim = await ApicSimulator.start({ ports: [0], populations: { fvCEp: MAX_ANSWER + 1 } });
    // A whole page of 100,000 endpoints is about 90 MB of JSON.
    http = new HttpClient({ tls: { ca: sim.cert }, timeoutMs: 60_000, maxBodyBytes: 256 * 1024 * 1024 });
    const login = await http.send('POST', `${sim.url}/api/aaaLogin.json`, {
      body: JSON.stringify({ aaaUser: { attributes: { name: 'admin', pwd: DEFAULT_APIC_PASSWORD } } }),
    });
    const cookie = /APIC-cookie=[^;]+/.exec(String(login.headers['set-cookie']))![0];
    const get = (query: string) =>
      http!.send('GET', `${sim!.url}/api/class/fvCEp.json${query}`, { headers: { cookie } });
    const whole = await get('');
    assert.equal(whole.status, 400);
    assert.match(whole.text, /Unable to process the query, result dataset is too big/);
    const first = await get(`?page=0&page-size=${MAX_ANSWER}`);
    assert.equal(first.status, 200);
    const body = JSON.parse(first.text) as { totalCount: string; imdata: unknown[] };
    assert.equal(body.totalCount, String(MAX_ANSWER + 1));
    assert.equal(body.imdata.length, MAX_ANSWER);
    const last = JSON.parse((await get(`?page=1&page-size=${MAX_ANSWER}`)).text) as { imdata: unknown[] };
    assert.equal(last.imdata.length, 1);
    assert.equal((await get(`?page=0&page-size=${MAX_ANSWER + 1}`)).status, 400);
  });

  it('reads a log from a time: only records created at or after it, whatever offset the time is written in', async () => {
    sim = await ApicSimulator.start({ ports: [0], populations: { aaaModLR: 200_000 } });
    const pop = sim.tree.population('aaaModLR')!;
    const created = (i: number) => pop.object(i).attributes.created!;
    const floor = created(199_990);
    // The same instant as an APIC in another zone writes it: the wall time two hours on, and +02:00.
    const inZone = new Date(Date.parse(floor) + 7200_000).toISOString().replace('Z', '+02:00');
    for (const [text, expected] of [
      [`ge(aaaModLR.created,"${floor}")`, 10],
      [`gt(aaaModLR.created,"${floor}")`, 9],
      [`and(ge(aaaModLR.created,"${floor}"),eq(aaaModLR.user,"admin"))`, 3], // 199992, 199995, 199998
    ] as const) {
      const answer = sim.tree.page('class', 'aaaModLR', { filter: parseFilter(text) }, 0, 1000);
      assert.equal(answer.total, expected, text);
      for (const mo of answer.mos) assert.ok(Date.parse(mo.attributes.created!) >= Date.parse(floor));
    }
    const zoned = sim.tree.page(
      'class',
      'aaaModLR',
      { filter: parseFilter(`ge(aaaModLR.created,"${inZone}")`) },
      0,
      10,
    );
    assert.equal(zoned.total, 10, 'the same instant in +02:00');
    const fresh = sim.tree.grow('aaaModLR');
    const after = sim.tree.page(
      'class',
      'aaaModLR',
      { filter: parseFilter(`ge(aaaModLR.created,"${floor}")`) },
      0,
      1000,
    );
    assert.equal(after.total, 11);
    assert.equal(after.mos[10]!.dn, fresh.dn, 'a new record comes last');
    assert.ok(Date.parse(fresh.full.created!) > Date.parse(created(199_999)));
  });

  it('pages an audit trail of 150,000 records from a time, 128 at most, per organization', () => {
    const trail = new AuditTrail();
    const start = Date.parse('2026-01-01T00:00:00Z');
    const record = (i: number, org: string): AuditRecord => ({
      eventId: `urn:vcloud:audit:${i}`,
      eventType: 'com/vmware/vcloud/event/vm/create',
      eventStatus: 'SUCCESS',
      timestamp: auditTimestamp(start + i * 10),
      operatingOrg: { name: org, id: `urn:vcloud:org:${org}` },
      user: { name: 'u', id: 'urn:vcloud:user:u' },
      eventEntity: { name: 'vm', id: 'urn:vcloud:vm:v' },
      description: 'vm created',
      additionalProperties: {},
    });
    for (let i = 0; i < 150_000; i++) trail.add(record(i, i % 3 ? 'acme' : 'globex'));
    const read = (params: Record<string, string>, org?: string) =>
      trail.read(new URLSearchParams(params), org).body as {
        resultTotal: number;
        pageCount: number;
        values: AuditRecord[];
      };
    const from = new Date(start + 100_000 * 10).toISOString();
    const all = read({ filter: `timestamp=ge=${from}`, sortAsc: 'timestamp', page: '1', pageSize: '500' });
    assert.equal(all.resultTotal, 50_000);
    assert.equal(all.values.length, 128, 'pageSize is at most 128');
    assert.equal(all.values[0]!.eventId, 'urn:vcloud:audit:100000');
    const last = read({ filter: `timestamp=gt=${from}`, page: String(all.pageCount), pageSize: '128' });
    assert.equal(last.values[last.values.length - 1]!.eventId, 'urn:vcloud:audit:149999');
    const globex = read({ filter: `timestamp=ge=${from}`, page: '1', pageSize: '128' }, 'globex');
    assert.equal(globex.resultTotal, 16_666, 'every third record from 100,002 to 149,997');
    assert.ok(globex.values.every((r) => r.operatingOrg.name === 'globex'));
    const newest = read({ sortDesc: 'timestamp', page: '1', pageSize: '1' });
    assert.equal(newest.values[0]!.eventId, 'urn:vcloud:audit:149999');
  });
});
