import assert from 'node:assert/strict';
import { parseEntries, parseEntry } from '../../nodes/aci/entries';

/** The error an entry is refused with: code, message, details. */
function refusal(f: () => unknown): { message: string; details?: Record<string, unknown> } {
  try {
    f();
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'APIC_ENTRY_INVALID');
    return err as { message: string; details?: Record<string, unknown> };
  }
  assert.fail('accepted');
}

const filterOf = (text: string) => parseEntry(text).options.find(([k]) => k === 'query-target-filter')?.[1];

describe('ACI entries: the bounds and checks of what may be watched', () => {
  it('takes an entry of up to 2048 characters, naming a longer one by its start', () => {
    const longest = 'fv' + 'B'.repeat(2046);
    assert.equal(parseEntry(longest).kind, 'class');
    const err = refusal(() => parseEntry(longest + 'B'));
    assert.equal(err.message, `"fv${'B'.repeat(38)}…" is not a valid subscription: it is too long.`);
    assert.deepEqual(err.details, { entry: `fv${'B'.repeat(38)}…` });
  });

  it('takes a DN of up to 512 characters', () => {
    const dn = (n: number) => 'uni/tn-' + 'a'.repeat(n - 7);
    assert.equal(parseEntry(dn(512)).kind, 'dn');
    assert.match(refusal(() => parseEntry(dn(513))).message, /: it is too long\.$/);
    assert.match(
      refusal(() => parseEntry('a'.repeat(513))).message,
      /a{5} is neither a class name \(fvBD\) nor a DN/,
    );
  });

  it('takes a filter of up to 1024 characters', () => {
    const filter = (n: number) => `eq(fvBD.name,"${'a'.repeat(n - 16)}")`;
    assert.equal(filterOf(`fvBD?query-target-filter=${filter(1024)}`)?.length, 1024);
    assert.match(
      refusal(() => parseEntry(`fvBD?query-target-filter=${filter(1025)}`)).message,
      /query-target-filter: it is too long\.$/,
    );
  });

  it('refuses control characters in a filter, even inside its quotes', () => {
    for (const c of ['\u0001', '\u001f', '\u007f']) {
      assert.match(
        refusal(() => parseEntry(`fvBD?query-target-filter=eq(fvBD.name,"a${c}b")`)).message,
        /query-target-filter: it holds control characters/,
      );
    }
    assert.equal(filterOf('fvBD?query-target-filter=eq(fvBD.name,"a b~")'), 'eq(fvBD.name,"a b~")');
  });

  it('takes a filter only as a whole function with matching parentheses and quotes', () => {
    for (const bad of [
      '1eq(fvBD.name,"a")',
      'eq(fvBD.name,"a")x',
      'and(eq(fvBD.name,"a")',
      'eq(fvBD.name,"a")),eq(fvBD.name,"b")',
      'eq(fvBD.name,"a")")',
    ]) {
      const why = refusal(() => parseEntry(`fvBD?query-target-filter=${bad}`)).message;
      assert.match(why, /write it as a function|parentheses or quotes do not match/, bad);
    }
    const nested = 'and(eq(fvBD.name,")("),ne(fvBD.descr,"x"))';
    assert.equal(filterOf(`fvBD?query-target-filter=${nested}`), nested);
  });

  it('decodes a lone % in a filter only inside quotes, and in no other option', () => {
    for (const bad of ['eq(fvBD.descr,1%)', 'eq(fvBD.descr,10%)']) {
      assert.match(refusal(() => parseEntry(`fvBD?query-target-filter=${bad}`)).message, /%-escape/, bad);
    }
    assert.match(refusal(() => parseEntry('fvBD?query-target="100%"')).message, /%-escape/);
  });

  it('takes rsp-subtree-include as lower-case words separated by commas', () => {
    for (const good of ['faults', 'faults,health', 'faults,health,relations-with-parent']) {
      assert.deepEqual(parseEntry(`fvBD?rsp-subtree-include=${good}`).options, [
        ['rsp-subtree-include', good],
      ]);
    }
    for (const bad of ['1faults', 'faults;x', 'Faults', 'faults,', ',faults', 'faults,1']) {
      assert.match(
        refusal(() => parseEntry(`fvBD?rsp-subtree-include=${bad}`)).message,
        /rsp-subtree-include: give words separated by commas \(e\.g\. faults,health\)/,
        bad,
      );
    }
    assert.match(
      refusal(() => parseEntry('fvBD?target-subtree-class=bd')).message,
      /target-subtree-class: give class names separated by commas/,
    );
    assert.match(
      refusal(() => parseEntry('fvBD?query-target=all')).message,
      /query-target: use one of self, children, subtree\.$/,
    );
  });

  it('refuses /api URLs and file suffixes at the ends only, and empty or . parts', () => {
    assert.match(refusal(() => parseEntry('api/mo/uni/tn-a')).message, /not an \/api\/\.\.\. URL/);
    for (const dn of ['uni/tn-api/ap-web', 'uni/tn-web.xml-prod', 'uni/tn-a.b/BD-c.json-old']) {
      assert.equal(parseEntry(dn).kind, 'dn', dn);
    }
    for (const dn of ['uni//tn-a', 'uni/./tn-a', 'uni/tn-a/', '/uni/tn-a']) {
      assert.match(refusal(() => parseEntry(dn)).message, /it has an empty, \. or \.\. part/, dn);
    }
  });

  it('matches brackets in order', () => {
    assert.equal(parseEntry('topology/pod-1/node-101/sys/phys-[eth1/1]').kind, 'dn');
    for (const dn of ['topology/pod-1/node-101/sys/phys-]eth1/1[', 'sys/phys-[eth1/1][x', '[[']) {
      assert.match(refusal(() => parseEntry(dn)).message, /its brackets do not match/, dn);
    }
  });

  it('reads option names and values trimmed, skipping empty ones, and names an option without a value', () => {
    assert.deepEqual(parseEntry('fvBD?&query-target =subtree&& rsp-subtree= full &').options, [
      ['query-target', 'subtree'],
      ['rsp-subtree', 'full'],
    ]);
    assert.equal(parseEntry('fvBD?').key, 'fvBD');
    assert.match(refusal(() => parseEntry('fvBD?query-target')).message, /query-target has no value\.$/);
    assert.match(refusal(() => parseEntry('fvBD?query-target=')).message, /query-target has no value\.$/);
    assert.match(
      refusal(() => parseEntry('fvBD?depth=1')).message,
      /unknown option "depth" \(allowed: query-target, target-subtree-class, query-target-filter, rsp-subtree,/,
    );
  });

  it('reads a list: lines in a list item, comments and blanks with spaces before them', () => {
    assert.deepEqual(
      parseEntries(['fvBD\r\nfvTenant', '  # later: faultInst', '   ', 'fvAp\nfvBD']).map((e) => e.key),
      ['fvBD', 'fvTenant', 'fvAp'],
    );
  });

  it('says which line is bad only in a list of several, and hands every problem on', () => {
    assert.equal(
      refusal(() => parseEntries('bad entry')).message,
      refusal(() => parseEntry('bad entry')).message,
    );
    const err = refusal(() => parseEntries('fvBD\nbad entry\nfvX?nope=1'));
    assert.match(err.message, /^line 2: "bad entry" [^]*\. line 3: "fvX\?nope=1" /);
    assert.deepEqual(
      (err.details?.problems as string[]).map((p) => p.slice(0, 7)),
      ['line 2:', 'line 3:'],
    );
  });

  it('says what a list item is when it is not a string, and what input it takes', () => {
    assert.equal(
      refusal(() => parseEntries(['fvBD', 42])).message,
      'Item 2 of the list is not a string (number); give each class or DN as a string.',
    );
    assert.match(refusal(() => parseEntries([null])).message, /\(null\)/);
    assert.equal(
      refusal(() => parseEntries({})).message,
      'Give a class or DN as a string, or a list of them.',
    );
  });
});
