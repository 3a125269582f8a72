/**
 * No regex of the package backtracks on outside input: every regex literal in
 * nodes/ (found in the sources, so a new one is tried as soon as it is written)
 * runs over the texts that make a backtracking regex slow, derived from the
 * regex itself, at the decode limit (1 MiB), within 100 ms each. The lint rule
 * (eslint-plugin-regexp) finds single-character attacks; this finds the longer
 * ones, such as "fault-a" pumped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_BYTES } from '../../nodes/events/decode';
import { attacks, regexLiterals, run } from '../support/regex-attacks';
import { ROOT, sourceFiles } from '../support/source-files';
import { slowest, steps } from '../support/time-bound';

const BOUND_MS = 100;

describe('security: no regex backtracks on 1 MiB of adversarial text', function () {
  this.timeout(120_000);
  const files = sourceFiles('nodes');
  const literals = files.flatMap((file) =>
    regexLiterals(path.relative(ROOT, file), fs.readFileSync(file, 'utf8')),
  );

  it('finds the regexes of nodes/; one built at run time is made of constants of its file, so it is tried too', () => {
    assert.ok(literals.length > 30, `${literals.length} regexes`);
    const unknown = literals.filter((r) => r.source === undefined).map((r) => `${r.file}:${r.line}`);
    assert.deepEqual(unknown, []);
    // Every RegExp( of the sources was found: the finder misses none.
    const written = files.map((file) => fs.readFileSync(file, 'utf8').match(/\bRegExp\(/g)?.length ?? 0);
    assert.equal(
      literals.filter((r) => r.built).length,
      written.reduce((a, b) => a + b, 0),
    );
  });

  it('derives the attack on the fault code of an ACI summary that took a minute at 512 KB', () => {
    const texts = attacks('fault-([^/]+)$', '', 64);
    assert.ok(texts.includes(`${'fault-a'.repeat(9)}/`), texts.join('\n'));
    // ...and it is slow where it was: the check below would catch it.
    const regex = /fault-([^/]+)$/;
    const { ms } = slowest(
      [128 * 1024],
      (size) => attacks(regex.source, '', size),
      (text) => run(regex, text),
      BOUND_MS,
    );
    assert.ok(ms > BOUND_MS, `${ms} ms`);
  });

  for (const { file, line, source = '', flags } of literals) {
    it(`${file}:${line} /${source}/${flags}`, () => {
      const regex = new RegExp(source, flags);
      const { ms, input, size } = slowest(
        steps(DEFAULT_MAX_BYTES),
        (n) => attacks(source, flags, n),
        (text) => run(regex, text),
        BOUND_MS,
      );
      assert.ok(
        ms < BOUND_MS,
        `${Math.round(ms)} ms on ${size} characters: ${JSON.stringify(input?.slice(0, 40))}…`,
      );
    });
  }
});
