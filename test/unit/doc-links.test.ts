/**
 * The links between the project's documents: every relative link names a file
 * that exists, and every #anchor a heading of its target (as GitHub makes
 * anchors), so moving a section cannot leave a reader at a dead link.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../sim/nodered';

const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'CHANGELOG.md',
  ...fs
    .readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].filter((f) => fs.existsSync(path.join(REPO_ROOT, f)));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of text.matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown text (not inside code blocks). */
function links(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
}

describe('links between the documents', () => {
  it('makes anchors as GitHub does', () => {
    assert.deepEqual(
      [...anchors('# A\n## vcd login (config)\n### Try it: `npm start`\n## A\n```\n# not a heading\n```')],
      ['a', 'vcd-login-config', 'try-it-npm-start', 'a-1'],
    );
  });

  for (const doc of DOCUMENTS) {
    it(`${doc}: every relative link and anchor leads somewhere`, () => {
      const own = fs.readFileSync(path.join(REPO_ROOT, doc), 'utf8');
      const dead: string[] = [];
      for (const link of links(own)) {
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file ? path.join(REPO_ROOT, path.dirname(doc), file) : path.join(REPO_ROOT, doc);
        if (!fs.existsSync(target)) {
          dead.push(`${link} (no such file)`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !anchors(fs.readFileSync(target, 'utf8')).has(anchor)) {
          dead.push(`${link} (no such heading)`);
        }
      }
      assert.deepEqual(dead, []);
    });
  }
});
