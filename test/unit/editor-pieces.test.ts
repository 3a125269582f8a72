/**
 * The editor pieces (nodes/editor) and their expansion at build time: what
 * ships is one static html per node type, and a mistake in an include stops
 * the build with the place it was made.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pieces = require(path.join(ROOT, 'scripts', 'editor-pieces.js')) as {
  expand(source: string, options: { type: string; file?: string; dir?: string }): string;
  withEditorScript(html: string, script: string): string;
  PieceError: new (message: string) => Error;
};
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { nodes: Record<string, string> };
};

describe('editor pieces', () => {
  for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
    it(`${type}: ships one static dialog, its pieces expanded`, () => {
      const shipped = fs.readFileSync(path.join(ROOT, path.dirname(js), `${type}.html`), 'utf8');
      assert.doesNotMatch(shipped, /dce:|<!-- \} -->|\{\{/, 'no include or placeholder left');
      assert.match(shipped, new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`));
      assert.equal(shipped.split(`<script type="text/html" data-template-name="${type}">`).length, 2);
      assert.match(shipped, /<div class="form-row[^"]*"[^>]*>\s*<label/, 'its rows are there');
      assert.match(
        shipped,
        /defaults: \{\n\s*name: \{ value: '' \},[^]*\n\s*version: \{ value: \d+ \},\n\s*\},/,
        'its settings',
      );
    });
  }

  it('expands the pieces of every node html (a missing piece fails the build)', () => {
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const file = path.join(ROOT, path.dirname(js).replace(/^dist\//, ''), `${type}.html`);
      const script = fs.readFileSync(file.replace(/\.html$/, '.editor.js'), 'utf8');
      const source = pieces.withEditorScript(fs.readFileSync(file, 'utf8'), script);
      assert.match(source, /<!-- dce:(?:name|wide-form) /, `${type} has its Name row`);
      assert.doesNotThrow(() => pieces.expand(source, { type }), type);
    }
  });

  describe('expansion', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dce-pieces-'));
      fs.writeFileSync(
        path.join(dir, 'row.html'),
        '<!-- what it is -->\n<div class="form-row{{ class?}}">\n  <input id="{{id}}" type="{{input=text}}" />\n  {{body?}}\n</div>\n',
      );
      fs.writeFileSync(
        path.join(dir, 'list.html'),
        '<select>\n  {{#items}}<option>{{type}}.{{.}}</option>{{/items}}\n</select>\n',
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const expand = (source: string, type = 'x-node'): string => pieces.expand(source, { type, dir });

    it('fills the arguments, the node type and Node-RED id prefix, and keeps the indentation', () => {
      assert.equal(
        expand('  <!-- dce:row field=url class=wide -->'),
        '  <div class="form-row wide">\n    <input id="node-input-url" type="text" />\n  </div>',
      );
      const config = "category: 'config'\n<!-- dce:row field=url input=password -->";
      assert.match(
        expand(config),
        /<div class="form-row">\n {2}<input id="node-config-input-url" type="password" \/>/,
      );
      assert.equal(
        expand('<!-- dce:list items="a b" -->', 't'),
        '<select>\n  <option>t.a</option>\n  <option>t.b</option>\n</select>',
      );
    });

    it('puts a block inside the piece, its own includes expanded', () => {
      const out = expand('<!-- dce:row field=a { -->\n  <b>note</b>\n  <!-- dce:row field=b -->\n<!-- } -->');
      assert.match(
        out,
        /<input id="node-input-a" type="text" \/>\n {2}<b>note<\/b>\n {2}<div class="form-row">\n {4}<input id="node-input-b"/,
      );
    });

    it('takes includes in the script too (// dce:), with blocks closed by // }', () => {
      const out = expand('  f({\n    // dce:row field=a {\n      b: 1,\n    // }\n  });');
      assert.equal(
        out,
        '  f({\n    <div class="form-row">\n      <input id="node-input-a" type="text" />\n      b: 1,\n    </div>\n  });',
      );
      assert.throws(() => expand('// dce:row field=a {\nb: 1,'), /not closed/);
      assert.throws(() => expand('  // }'), /not an include/);
    });

    it('leaves everything else as it is', () => {
      const script = "<script>\n  RED.nodes.registerType('x-node', { defaults: {} });\n</script>";
      assert.equal(expand(script), script);
    });

    it('refuses a missing piece, a missing or unknown argument, an open block, a stray marker', () => {
      const refused = (source: string, says: RegExp): void =>
        assert.throws(
          () => expand(source),
          (e: Error) => e instanceof pieces.PieceError && says.test(e.message),
        );
      refused('\n<!-- dce:nothing -->', /x-node:2: no editor piece "nothing"/);
      refused('<!-- dce:row -->', /needs id=/);
      refused('<!-- dce:row field=a colour=red -->', /takes no colour/);
      refused('<!-- dce:row field=a { -->\n<b></b>', /not closed/);
      refused('<!-- dce:row field=a', /not an include/);
    });
  });
});
