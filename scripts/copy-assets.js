// Copies what Node-RED loads beside each compiled node: the editor html (its
// script, <type>.editor.js, put back in it, and the shared editor pieces of
// nodes/editor expanded: scripts/editor-pieces.js), the locales folder and the
// icons (the registry only looks in <node dir>/icons).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { expand, withEditorScript } = require('./editor-pieces');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');
// Not a system: common is TypeScript only, editor the pieces the html names.
const SKIP = new Set(['common', 'editor']);

for (const system of fs.readdirSync(src, { withFileTypes: true })) {
  if (!system.isDirectory() || SKIP.has(system.name)) continue;
  const from = path.join(src, system.name);
  const to = path.join(out, system.name);
  fs.mkdirSync(to, { recursive: true });
  for (const file of fs.readdirSync(from)) {
    if (!file.endsWith('.html')) continue;
    const type = path.basename(file, '.html');
    const script = path.join(from, `${type}.editor.js`);
    const source = withEditorScript(
      fs.readFileSync(path.join(from, file), 'utf8'),
      fs.existsSync(script) ? fs.readFileSync(script, 'utf8') : '',
    );
    fs.writeFileSync(
      path.join(to, file),
      expand(source, { type, file: path.join('nodes', system.name, file) }),
    );
  }
  const locales = path.join(from, 'locales');
  if (fs.existsSync(locales)) fs.cpSync(locales, path.join(to, 'locales'), { recursive: true });
  fs.cpSync(path.join(root, 'icons'), path.join(to, 'icons'), { recursive: true });
}
