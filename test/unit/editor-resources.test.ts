/**
 * The editor code the dialogs share (resources/): each dialog that uses it
 * loads it from the path Node-RED serves, it ships in the package, and the
 * labels it reads exist for every node that calls it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  files: string[];
  'node-red': { nodes: Record<string, string> };
};
const SCRIPT = 'config-dialog.js';
const shared = fs.readFileSync(path.join(ROOT, 'resources', SCRIPT), 'utf8');

/** Label keys (after `<type>.`) that each shared function reads from the calling node's catalog. */
const LABELS: Record<string, string[]> = {
  testConnection: [
    'test.running',
    'test.failed',
    'test.category.other',
    'test.category.retype',
    'test.category.environment',
  ],
  failure: ['test.category.other'],
};

function catalogHas(catalog: Record<string, unknown>, key: string): boolean {
  let at: unknown = catalog;
  for (const part of key.split('.')) at = (at as Record<string, unknown> | undefined)?.[part];
  return typeof at === 'string';
}

describe('shared editor code', () => {
  it('ships in the package and is served under the package name', () => {
    assert.ok(pkg.files.includes('resources'));
    const users = Object.entries(pkg['node-red'].nodes).filter(([type, js]) =>
      fs.readFileSync(path.join(ROOT, path.dirname(js), `${type}.html`), 'utf8').includes(SCRIPT),
    );
    assert.ok(users.length >= 2, 'the config dialogs use it');
    // Every dialog that calls it or is laid out by its styles loads it (the build adds it to those).
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const html = fs.readFileSync(path.join(ROOT, path.dirname(js), `${type}.html`), 'utf8');
      const needs = /DcEventsDialog|class="dce-form"/.test(html);
      assert.equal(html.includes(SCRIPT), needs, `${type} loads the shared dialog code when it uses it`);
    }
    for (const [type, js] of users) {
      const html = fs.readFileSync(path.join(ROOT, path.dirname(js), `${type}.html`), 'utf8');
      // Relative, so Node-RED prefixes its admin root; the registry serves <package>/resources/ there.
      assert.ok(
        html.includes(`<script type="text/javascript" src="resources/${pkg.name}/${SCRIPT}"></script>`),
        type,
      );
    }
  });

  it('styles the dialogs with the colours of the editor theme (dark themes too), none of its own', () => {
    assert.match(shared, /var\(--red-ui-text-color-error\)/);
    assert.doesNotMatch(shared, /#[0-9A-Fa-f]{3,6}\b|rgb\(/);
  });

  it('defines itself once however many dialogs include it', () => {
    assert.match(shared, /if \(window\.DcEventsDialog\) return;/);
  });

  it("finds the labels it reads in each calling node's catalog (en-US and de)", () => {
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const dir = path.join(ROOT, path.dirname(js));
      const html = fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
      const called = Object.keys(LABELS).filter((fn) => new RegExp(`\\.${fn}\\(`).test(html));
      for (const lang of ['en-US', 'de']) {
        const catalog = JSON.parse(
          fs.readFileSync(path.join(dir, 'locales', lang, `${type}.json`), 'utf8'),
        ) as Record<string, unknown>;
        for (const key of called.flatMap((fn) => LABELS[fn]!)) {
          assert.ok(catalogHas(catalog, `${type}.${key}`), `${lang} ${type}.${key}`);
        }
      }
    }
  });
});
