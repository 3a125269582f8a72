// Copies what Node-RED loads beside each compiled node: the editor html, the
// locales folder and the icons (the registry only looks in <node dir>/icons).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');

for (const system of fs.readdirSync(src, { withFileTypes: true })) {
  if (!system.isDirectory() || system.name === 'common') continue;
  const from = path.join(src, system.name);
  const to = path.join(out, system.name);
  fs.mkdirSync(to, { recursive: true });
  for (const file of fs.readdirSync(from)) {
    if (file.endsWith('.html')) fs.copyFileSync(path.join(from, file), path.join(to, file));
  }
  const locales = path.join(from, 'locales');
  if (fs.existsSync(locales)) fs.cpSync(locales, path.join(to, 'locales'), { recursive: true });
  fs.cpSync(path.join(root, 'icons'), path.join(to, 'icons'), { recursive: true });
}
