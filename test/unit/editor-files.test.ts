/**
 * The editor side of every node, checked statically: what the Flow Library and
 * the editor read must be there, or a user sees a raw key or a missing node.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { nodes: Record<string, string> };
};

type Catalog = Record<string, unknown>;

/** The help style guide's section titles in each language a help page is translated to. */
const SECTIONS: Record<string, Record<string, string>> = {
  de: {
    Inputs: 'Eingaben',
    Outputs: 'Ausgaben',
    Properties: 'Eigenschaften',
    Settings: 'Einstellungen',
    Details: 'Details',
    Errors: 'Fehler',
    References: 'Referenzen',
  },
};

/** Sections whose terms are message properties (`payload`, `topic`): the same words in every language. */
const MESSAGE_SECTIONS = new Set([
  'Inputs',
  'Outputs',
  ...Object.values(SECTIONS).flatMap((titles) => [titles.Inputs, titles.Outputs]),
]);

/**
 * What a translated help page keeps of the English one, so that a reader who
 * switches languages finds the same place: its outline (sections, lists and
 * their terms, paragraphs), the message properties' names, and every code and
 * link as they are (a translated setting key or error code is a wrong one).
 */
function helpOutline(help: string) {
  const all = (re: RegExp, text = help) => [...text.matchAll(re)].map((m) => m[1] as string);
  const messageSections = help
    .split('<h3>')
    .filter((section) => MESSAGE_SECTIONS.has(section.slice(0, section.indexOf('</h3>'))));
  return {
    outline: all(/<(h3|dl|dt|ul|ol|li|p)\b/g).join(' '),
    properties: messageSections.flatMap((section) => all(/<dt[^>]*>([^<]*)</g, section)),
    // Lines wrap differently in another language; the browser shows any run of white space as one.
    codes: all(/<code>([^<]*)<\/code>/g)
      .map((code) => code.replace(/\s+/g, ' '))
      .sort(),
    links: all(/<a href="([^"]*)"/g).sort(),
  };
}

function keys(catalog: Catalog, prefix = ''): string[] {
  return Object.entries(catalog).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as Catalog, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('editor files', () => {
  for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
    describe(type, () => {
      const src = path.join(ROOT, path.dirname(js).replace(/^dist\//, ''));
      // What ships: the html with its editor pieces expanded by the build (scripts/editor-pieces.js).
      const html = fs.readFileSync(path.join(ROOT, path.dirname(js), `${type}.html`), 'utf8');
      const locales = path.join(src, 'locales');
      const en = JSON.parse(fs.readFileSync(path.join(locales, 'en-US', `${type}.json`), 'utf8')) as Catalog;
      const enKeys = new Set(keys(en));

      it('registers the type with a literal registerType call (read by the Flow Library)', () => {
        assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\(\\s*'${type}'\\s*,\\s*\\{`));
        assert.match(html, /version:\s*\{\s*value:\s*\d+/, 'a version default for later migrations');
        assert.ok(fs.existsSync(path.join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts'))));
      });

      it('has help in en-US, with the sections of the help style guide, References last', () => {
        const help = fs.readFileSync(path.join(locales, 'en-US', `${type}.html`), 'utf8');
        assert.match(help, new RegExp(`data-help-name="${type}"`));
        const sections = [...help.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1]);
        const config = /category:\s*'config'/.test(html);
        if (!config && /inputs:\s*1/.test(html)) assert.ok(sections.includes('Inputs'), 'Inputs');
        if (!config && !/outputs:\s*0/.test(html)) assert.ok(sections.includes('Outputs'), 'Outputs');
        assert.equal(sections.at(-1), 'References');
        assert.match(help.slice(help.lastIndexOf('<h3>References</h3>')), /<a href="https:\/\/[^"]+">/);
      });

      it('has its help in every language it has labels in, with the outline, codes and links of the English help', () => {
        const en = fs.readFileSync(path.join(locales, 'en-US', `${type}.html`), 'utf8');
        const enSections = [...en.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1] as string);
        for (const lang of fs.readdirSync(locales).filter((l) => l !== 'en-US')) {
          if (!fs.existsSync(path.join(locales, lang, `${type}.json`))) continue;
          const file = path.join(locales, lang, `${type}.html`);
          assert.ok(fs.existsSync(file), `no help in ${lang}: the editor would show the English one`);
          const help = fs.readFileSync(file, 'utf8');
          assert.match(help, new RegExp(`data-help-name="${type}"`));
          assert.deepEqual(helpOutline(help), helpOutline(en), `${lang}`);
          const sections = [...help.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1]);
          const titles = SECTIONS[lang] ?? {};
          enSections.forEach((title, i) => {
            if (titles[title]) assert.equal(sections[i], titles[title], `${lang}: section ${i + 1}`);
          });
        }
      });

      it('names config nodes in the palette and the config sidebar (paletteLabel)', () => {
        if (/category:\s*'config'/.test(html)) assert.match(html, /paletteLabel:\s*'[a-z ]+'/);
      });

      it('takes its colours from the editor theme', () => {
        assert.doesNotMatch(html.replace(/color:\s*'#[0-9A-Fa-f]{6}'/, ''), /#[0-9A-Fa-f]{3,6}\b(?![\w-])/);
      });

      it('defines every label key the dialog uses', () => {
        const used = [
          ...[...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1] as string),
          ...[...html.matchAll(/\b_\('([^']+)'/g)].map((m) => m[1] as string),
        ].filter((k) => !k.includes(' + '));
        assert.ok(used.length > 0);
        for (const key of used) {
          // Keys built at run time (e.g. 'x.category.' + r.category) are checked by their prefix.
          const ok = key.endsWith('.') ? [...enKeys].some((k) => k.startsWith(key)) : enKeys.has(key);
          assert.ok(ok, `${key} is not in locales/en-US/${type}.json`);
        }
      });

      it('has the same keys in every other language', () => {
        for (const lang of fs.readdirSync(locales).filter((l) => l !== 'en-US')) {
          const file = path.join(locales, lang, `${type}.json`);
          if (!fs.existsSync(file)) continue;
          const other = new Set(keys(JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog));
          assert.deepEqual(
            [...enKeys].filter((k) => !other.has(k)),
            [],
            `missing in ${lang}`,
          );
          assert.deepEqual(
            [...other].filter((k) => !enKeys.has(k)),
            [],
            `unknown in ${lang}`,
          );
        }
      });
    });
  }
});
