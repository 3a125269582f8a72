/**
 * The sidebar tab's editor file, checked statically: every label it asks for
 * exists in en-US, and every other language has the same keys.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { plugins: Record<string, string> };
};

describe('the operations plugin (editor side)', () => {
  const [[id, js]] = Object.entries(pkg['node-red'].plugins) as [[string, string]];
  const dir = path.join(ROOT, path.dirname(js).replace(/^dist\//, ''));
  const html = fs.readFileSync(path.join(dir, `${id}.html`), 'utf8');
  const catalog = (lang: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${id}.json`), 'utf8')) as Record<
      string,
      string
    >;

  it('registers the plugin and the sidebar tab, and listens on the comms topic the runtime publishes', () => {
    assert.match(html, new RegExp(`RED\\.plugins\\.registerPlugin\\('${id}'`));
    assert.match(html, /RED\.sidebar\.addTab\(/);
    const runtime = fs.readFileSync(
      path.join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts')),
      'utf8',
    );
    const topic = /const TOPIC = '([^']+)'/.exec(runtime)?.[1];
    assert.ok(topic);
    assert.ok(html.includes(`const TOPIC = '${topic}'`));
  });

  it('has every label it uses in en-US, and the same keys in every other language', () => {
    const used = [...html.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1] as string);
    assert.ok(used.length > 5);
    const en = catalog('en-US');
    for (const key of used) assert.ok(key in en, `${key} in en-US`);
    for (const lang of fs.readdirSync(path.join(dir, 'locales')).filter((l) => l !== 'en-US'))
      assert.deepEqual(Object.keys(catalog(lang)).sort(), Object.keys(en).sort(), lang);
  });
});
