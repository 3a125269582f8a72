import assert from 'node:assert/strict';
import { entryUrl, parseEntries, parseEntry } from '../../nodes/aci/entries';
import { normalizePem, parseHosts, versionAtLeast } from '../../nodes/aci/session';

describe('ACI entries', () => {
  it('reads classes and DNs, with allow-listed options, in a canonical form', () => {
    const bd = parseEntry('fvBD');
    assert.deepEqual(
      { kind: bd.kind, target: bd.target, key: bd.key },
      { kind: 'class', target: 'fvBD', key: 'fvBD' },
    );
    const dn = parseEntry(' uni/tn-prod?target-subtree-class=fvBD,fvAEPg&query-target=subtree ');
    assert.equal(dn.kind, 'dn');
    assert.equal(
      dn.key,
      'uni/tn-prod?query-target=subtree&target-subtree-class=fvBD,fvAEPg',
      'options sorted',
    );
    assert.equal(parseEntry('topology/pod-1/node-101/sys/phys-[eth1/1]').kind, 'dn');
  });

  it('builds one well-formed URL: one "?", the node\'s own parameters, nothing else', () => {
    const url = entryUrl('https://apic1', parseEntry('uni/tn-prod?query-target=subtree'), {
      subscription: 'yes',
      'refresh-timeout': '900',
    });
    assert.equal(
      url.toString(),
      'https://apic1/api/mo/uni/tn-prod.json?query-target=subtree&subscription=yes&refresh-timeout=900',
    );
    const filter = entryUrl('https://apic1', parseEntry('fvBD?query-target-filter=eq(fvBD.name,"web 1")'));
    assert.equal(filter.search, '?query-target-filter=eq%28fvBD.name%2C%22web%201%22%29');
    assert.equal(filter.pathname, '/api/class/fvBD.json');
  });

  it('takes & and a lone % inside a quoted filter text literally; they cannot add parameters', () => {
    const rd = parseEntry('fvBD?query-target-filter=wcard(fvBD.descr,"R&D")&query-target=self');
    assert.deepEqual(rd.options, [
      ['query-target', 'self'],
      ['query-target-filter', 'wcard(fvBD.descr,"R&D")'],
    ]);
    const pct = parseEntry('fvBD?query-target-filter=and(eq(fvBD.descr,"100%"),eq(fvBD.name,"%41"))');
    assert.equal(pct.options[0]![1], 'and(eq(fvBD.descr,"100%"),eq(fvBD.name,"A"))', '%XX is still decoded');
    for (const entry of [rd, pct]) {
      const url = entryUrl('https://apic1', entry, { subscription: 'yes' });
      const names = [...url.searchParams.keys()].sort();
      assert.deepEqual(names, [...entry.options.map(([k]) => k), 'subscription'].sort());
      assert.deepEqual(
        entry.options.map(([k]) => url.searchParams.get(k)),
        entry.options.map(([, v]) => v),
      );
    }
    assert.match(entryUrl('https://apic1', rd).search, /R%26D/);
  });

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['fvBD?subscription=no', /set by the node/],
    ['fvBD?refresh-timeout=1', /set by the node/],
    ['fvBD?page-size=1', /set by the node/],
    ['fvBD?evil=1', /unknown option/],
    ['fvBD?query-target=everything', /query-target/],
    ['fvBD?query-target=subtree&query-target=self', /twice/],
    ['fvBD?query-target-filter=eq(fvBD.name,"x)', /parentheses or quotes/],
    ['fvBD?query-target-filter=fvBD.name', /as a function/],
    ['fvBD?rsp-subtree-class=bd', /class names/],
    ['/api/class/fvBD.json', /not an \/api/],
    ['uni/tn-prod/../../api/aaaLogout', /\.\./],
    ['uni/tn-prod.json', /leave out \.json/],
    ['uni/tn prod', /letters, digits/],
    ['uni/tn-%2e%2e', /letters, digits/],
    ['uni/phys-[eth1/1', /brackets/],
    ['fvBD?query-target=%zz', /%-escape/],
    ['fvBD?query-target-filter=eq(fvBD.name,"x")&subscription=no', /set by the node/],
    ['fvBD?query-target=self"&subscription=no"', /query-target/],
    ['fvBD?query-target-filter=eq(fvBD.descr,100%)', /%-escape/],
  ];
  for (const [entry, why] of bad) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      assert.throws(
        () => parseEntry(entry),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'APIC_ENTRY_INVALID');
          assert.match(err.message, why);
          return true;
        },
      );
    });
  }

  it('reads a list, skipping blank and # lines and repeats, naming every bad line at once', () => {
    assert.deepEqual(
      parseEntries('fvBD\n\n# faults later\nfvTenant\nfvBD').map((e) => e.key),
      ['fvBD', 'fvTenant'],
    );
    assert.deepEqual(
      parseEntries(['fvBD', 'uni/tn-a']).map((e) => e.kind),
      ['class', 'dn'],
    );
    assert.throws(
      () => parseEntries('fvBD\nbad entry\nfvX?nope=1'),
      (err: Error) => /line 2.*line 3/.test(err.message),
    );
    assert.throws(() => parseEntries(42), { code: 'APIC_ENTRY_INVALID' });
    assert.throws(() => parseEntries([null, 42]), { code: 'APIC_ENTRY_INVALID', message: /Item 1.*null/ });
    assert.throws(() => parseEntries(['fvBD', 42]), { code: 'APIC_ENTRY_INVALID', message: /Item 2/ });
  });
});

describe('ACI session details', () => {
  it('reads the cluster addresses', () => {
    assert.deepEqual(parseHosts('apic1, apic2:8443 https://apic3 apic1'), [
      'https://apic1',
      'https://apic2:8443',
      'https://apic3',
    ]);
    assert.throws(() => parseHosts('apic1/api'), { code: 'APIC_CONFIG_INVALID' });
    assert.throws(() => parseHosts(' , '), { code: 'APIC_CONFIG_INVALID' });
    assert.throws(() => parseHosts('ftp://apic1'), { code: 'APIC_CONFIG_INVALID' });
    const many = Array.from({ length: 10 }, (_, i) => `apic${i}`);
    assert.equal(parseHosts(many.slice(0, 9)).length, 9);
    assert.throws(
      () => parseHosts(many),
      { code: 'APIC_CONFIG_INVALID' },
      'a request cannot make it probe any number of hosts',
    );
  });

  it('compares APIC versions by their numbers', () => {
    assert.equal(versionAtLeast('3.2(3n)', [3, 2, 3]), true);
    assert.equal(versionAtLeast('3.2(2l)', [3, 2, 3]), false);
    assert.equal(versionAtLeast('5.2(7f)', [3, 2, 3]), true);
    assert.equal(versionAtLeast('3.10(1a)', [3, 2, 3]), true);
  });

  it('rebuilds a PEM key pasted into one line', () => {
    const body = 'A'.repeat(100);
    const flat = `-----BEGIN PRIVATE KEY----- ${body} -----END PRIVATE KEY-----`;
    assert.equal(
      normalizePem(flat),
      `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n${'A'.repeat(36)}\n-----END PRIVATE KEY-----\n`,
    );
  });
});
