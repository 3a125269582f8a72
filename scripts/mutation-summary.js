// Summarises Stryker JSON reports (reports/mutation/mutation.json, or the files named): the score of each
// file and of all, and every survivor with its line and change, as Markdown for docs/testing.md. A
// `.partial.jsonl` file (test/mutation/mutant-log.mjs, one line per mutant as it was tested) is read the same
// way, so a run stopped halfway still counts what it measured.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function summarise(reports) {
  const files = new Map();
  for (const report of reports) {
    for (const [file, { source, mutants }] of Object.entries(report.files)) {
      files.set(file, { lines: source.split('\n'), mutants });
    }
  }
  return [...files.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function count(mutants, statuses) {
  return mutants.filter((m) => statuses.has(m.status)).length;
}

function score(mutants) {
  const detected = count(mutants, DETECTED);
  const valid = detected + count(mutants, UNDETECTED);
  return valid ? (100 * detected) / valid : 100;
}

function table(files) {
  const rows = [
    '| file | score | killed | timed out | survived | no coverage |',
    '| --- | --: | --: | --: | --: | --: |',
  ];
  const all = [];
  for (const [file, { mutants }] of files) {
    all.push(...mutants);
    const n = (s) => mutants.filter((m) => m.status === s).length;
    rows.push(
      `| ${file} | ${score(mutants).toFixed(1)}% | ${n('Killed')} | ${n('Timeout')} | ${n('Survived')} | ${n('NoCoverage')} |`,
    );
  }
  const n = (s) => all.filter((m) => m.status === s).length;
  rows.push(
    `| **all** | **${score(all).toFixed(1)}%** | ${n('Killed')} | ${n('Timeout')} | ${n('Survived')} | ${n('NoCoverage')} |`,
  );
  return rows.join('\n');
}

function survivors(files) {
  const out = [];
  for (const [file, { lines, mutants }] of files) {
    const left = mutants
      .filter((m) => UNDETECTED.has(m.status))
      .sort((a, b) => a.location.start.line - b.location.start.line);
    if (!left.length) continue;
    out.push(`\n### ${file}\n`);
    for (const m of left) {
      const line = m.location.start.line;
      const code = (lines[line - 1] || '').trim().slice(0, 100);
      const change = String(m.replacement ?? '')
        .replace(/\s+/g, ' ')
        .slice(0, 60);
      const how = m.status === 'NoCoverage' ? 'no test reaches it' : 'survived';
      out.push(`- ${line}: ${m.mutatorName} → \`${change}\` (${how}) — \`${code}\``);
    }
  }
  return out.join('\n');
}

// A mutant log holds results only; the source is read from the working tree, as the run saw it.
function fromMutantLog(text) {
  const files = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const mutant = JSON.parse(line);
    files[mutant.fileName] ??= { source: fs.readFileSync(mutant.fileName, 'utf8'), mutants: [] };
    files[mutant.fileName].mutants.push(mutant);
  }
  return { files };
}

function readReport(file) {
  const text = fs.readFileSync(file, 'utf8');
  return file.endsWith('.jsonl') ? fromMutantLog(text) : JSON.parse(text);
}

const args = process.argv.slice(2);
const listOnly = args.includes('--table');
const named = args.filter((a) => !a.startsWith('--'));
const paths = named.length ? named : [path.join('reports', 'mutation', 'mutation.json')];
const files = summarise(paths.map(readReport));
console.log(table(files));
if (!listOnly) console.log(survivors(files));
