/**
 * The sidebar tab's editor file, checked statically: every label it asks for
 * exists in en-US (every counter and state the runtime sends included), every
 * other language has the same keys, and its colours all come from the
 * editor's theme.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COUNTERS, CONNECTION_STATES } from '../../nodes/common/metrics';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { plugins: Record<string, string> };
};

/** Nested catalogue → dotted keys. */
function keys(catalog: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(catalog).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('the operations plugin (editor side)', () => {
  const [[id, js]] = Object.entries(pkg['node-red'].plugins) as [[string, string]];
  const dir = path.join(ROOT, path.dirname(js).replace(/^dist\//, ''));
  // As it ships: its style and its script (<id>.editor.js) in one file.
  const html = fs.readFileSync(path.join(ROOT, path.dirname(js), `${id}.html`), 'utf8');
  const catalog = (lang: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${id}.json`), 'utf8')) as Record<
      string,
      unknown
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

  it('has a label for every counter and state the runtime sends, and every label it uses, in en-US', () => {
    const en = new Set(keys(catalog('en-US')));
    const used = [...html.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1] as string);
    assert.ok(used.length > 8);
    for (const key of used) assert.ok(en.has(key), `${key} in en-US`);
    for (const c of COUNTERS) assert.ok(en.has(`count.${c}`), `count.${c}`);
    for (const s of [...CONNECTION_STATES, 'bad settings', 'sink gone', 'store down'])
      assert.ok(en.has(`state.${s}`), `state.${s}`);
    for (const p of ['recovering', 'reading']) assert.ok(en.has(`progress.${p}`), `progress.${p}`);
  });

  it('labels every number it shows, and says each thing once', () => {
    const en = catalog('en-US') as { count: Record<string, string>; [k: string]: unknown };
    for (const [key, text] of Object.entries(en.count)) assert.match(text, /^\D+ __n__$/, `count.${key}`);
    for (const key of ['perMinute', 'spool'])
      assert.match(String(en[key]), /^[^_]*[a-z][^_]* .*__\w+__/, `${key}: a word before the number`);
    // The tab's title is short enough for the sidebar's tab; its full name is in the menu and tooltip.
    assert.ok(String(en.label).length <= 10, `label "${String(en.label)}"`);
  });

  it('has the same keys in every other language', () => {
    const en = keys(catalog('en-US')).sort();
    for (const lang of fs.readdirSync(path.join(dir, 'locales')).filter((l) => l !== 'en-US'))
      assert.deepEqual(keys(catalog(lang)).sort(), en, lang);
  });

  it('takes every colour from the editor theme (dark themes included), none fixed', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    assert.ok(style.length > 100);
    assert.doesNotMatch(style, /#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(/i, 'no colour literal');
    const colours = [
      ...style.matchAll(/(?:^|[;{\s])(color|background|stroke|border(?:-\w+)?)\s*:\s*([^;}]+)/g),
    ];
    assert.ok(colours.length > 8);
    for (const [, prop, value] of colours)
      if (!/^(none|\d)/.test((value as string).trim()) || /var\(/.test(value as string))
        assert.match(value as string, /var\(--red-ui-[a-z-]+\)/, `${prop}: ${value}`);
  });
});
