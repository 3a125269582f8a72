/**
 * The dialogs as a user meets them, in English and in German: cloudevent emit
 * in tabs with the sink first, nothing cut off, no text that is not from the
 * node's catalogue, port labels translated, the theme's colours; an emit saved
 * by the previous version says what still applies and, saved with a sink, loses
 * its own settings and secrets; the config dialogs pick the core TLS
 * configuration and proxy; each node's help is the page in the editor's language.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { SinkSimulator } from '../../sim/sink';
import { chromiumMissing, launchChromium } from '../support/chromium';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { needPeer } from '../support/peers';
import { ROOT } from '../support/source-files';

type Catalog = { [key: string]: string | Catalog };

/** Every text of a node's catalogue in a language. */
function catalogTexts(dir: string, type: string, lang: string): string[] {
  const file = path.join(ROOT, dir, 'locales', lang, `${type}.json`);
  const walk = (c: Catalog): string[] =>
    Object.values(c).flatMap((v) => (typeof v === 'string' ? [v] : walk(v)));
  return walk(JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog);
}

/** Every node type of the package and its source folder (`nodes/<system>`). */
const DIRS: Record<string, string> = Object.fromEntries(
  Object.entries(
    (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        'node-red': { nodes: Record<string, string> };
      }
    )['node-red'].nodes,
  ).map(([type, js]) => [type, path.dirname(js).replace(/^dist\//, '')]),
);

/** The section titles of a node's help page in a language, as written. */
function helpSections(type: string, lang: string): string[] {
  const help = fs.readFileSync(path.join(ROOT, DIRS[type]!, 'locales', lang, `${type}.html`), 'utf8');
  return [...help.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1] as string);
}

/** Browser-side: the section titles the help sidebar shows. */
const SHOWN_SECTIONS = `[...document.querySelectorAll('.red-ui-help .red-ui-help h3')].map((h) => h.textContent.trim())`;

/**
 * Browser-side (as text: the project's types describe Node, not the DOM): the
 * texts the open dialog shows that are not in `allowed` (its catalogue), and
 * the texts that do not fit their box. Config pickers list config nodes (user
 * data) and are left out; a placeholder counts when it has words.
 */
const INSPECT = `(allowed) => {
  const form = [...document.querySelectorAll('.red-ui-tray')].pop().querySelector('form');
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const shown = [];
  const walker = document.createTreeWalker(form, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (text && visible(el) && !el.closest('select, textarea')) shown.push(text);
  }
  const canvas = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const select of form.querySelectorAll('select')) {
    if (!visible(select) || [...select.options].some((o) => o.value === '_ADD_')) continue;
    const style = getComputedStyle(select);
    canvas.font = style.fontSize + ' ' + style.fontFamily;
    for (const o of select.options) {
      shown.push(o.textContent.trim());
      // The text, the padding and the arrow must fit.
      if (canvas.measureText(o.textContent).width + 30 > select.clientWidth) cut.push(o.textContent);
    }
  }
  for (const label of form.querySelectorAll('label, .red-ui-tab-label')) {
    if (visible(label) && label.scrollWidth > label.clientWidth + 1) cut.push(label.textContent.trim());
  }
  for (const input of form.querySelectorAll('[placeholder]')) {
    if (visible(input) && /\\s/.test(input.placeholder)) shown.push(input.placeholder);
  }
  return { untranslated: shown.filter((t) => !allowed.includes(t)), cut };
}`;

describe('the dialogs in English and German (Chromium)', function () {
  let sink: SinkSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  const pages: Record<'en-US' | 'de', Page> = {} as never;

  before(async function () {
    needPeer(this, chromiumMissing());
    sink = await SinkSimulator.start({ tls: false });
    red = await runNodeRed({
      flows: [
        { id: 'tab', type: 'tab', label: 'dialogs' },
        { id: 'tls', type: 'tls-config', name: 'lab CA', cert: '', key: '', ca: '', verifyservercert: true },
        {
          id: 'noverify',
          type: 'tls-config',
          name: 'no checks',
          cert: '',
          key: '',
          ca: '',
          verifyservercert: false,
        },
        { id: 'proxy', type: 'http proxy', name: 'dc proxy', url: 'http://proxy.example:3128', noproxy: [] },
        {
          id: 'sinkcfg',
          type: 'cloudevent-sink',
          name: 'broker',
          url: `${sink.url}/events`,
          authType: 'bearer',
        },
        {
          id: 'emit',
          type: 'cloudevent-emit',
          z: 'tab',
          sink: 'sinkcfg',
          mode: 'binary',
          x: 200,
          y: 80,
          wires: [[], []],
        },
        {
          // As the previous version saved it: its own URL, token and headers.
          id: 'old',
          type: 'cloudevent-emit',
          z: 'tab',
          url: `${sink.url}/events`,
          mode: 'binary',
          authType: 'bearer',
          headers: 'X-Tenant: acme',
          timeout: 10,
          spool: 'memory',
          spoolLimit: 100,
          version: 2,
          x: 200,
          y: 180,
          wires: [[], []],
        },
        {
          id: 'login',
          type: 'vcd-login',
          url: 'https://vcd.example.com',
          org: 'acme',
          authType: 'password',
          ca: '-----BEGIN CERTIFICATE-----',
        },
        { id: 'ctrl', type: 'aci-controller', hosts: 'apic1.example.com', authType: 'password' },
      ],
      credentials: { sinkcfg: { token: 'Sink-T0ken' }, old: { token: 'Old-T0ken' } },
    });
    browser = await launchChromium();
    for (const lang of ['en-US', 'de'] as const) {
      const context = await browser.newContext({ locale: lang === 'de' ? 'de-DE' : 'en-US' });
      const page = (pages[lang] = await context.newPage());
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(red.base);
      await page.waitForSelector('.red-ui-palette-node[data-palette-type="cloudevent-emit"]', {
        timeout: 30_000,
      });
    }
  });

  after(async () => {
    await browser?.close();
    if (red?.log().includes('[error]')) console.log(red.log());
    await red?.stop();
    await sink?.stop();
  });

  async function openNode(page: Page, id: string, field: string): Promise<void> {
    await page.dblclick(`#red-ui-workspace g.red-ui-flow-node-group[id="${id}"]`);
    await page.waitForSelector(field, { state: 'visible' });
  }

  async function openConfig(page: Page, type: string, id: string, field: string): Promise<void> {
    await page.evaluate(`RED.editor.editConfig('', '${type}', '${id}')`);
    await page.waitForSelector(field, { state: 'visible' });
  }

  async function inspect(
    page: Page,
    type: string,
    lang: string,
  ): Promise<{ untranslated: string[]; cut: string[] }> {
    return (await page.evaluate(
      `(${INSPECT})(${JSON.stringify(catalogTexts(DIRS[type]!, type, lang))})`,
    )) as {
      untranslated: string[];
      cut: string[];
    };
  }

  const cancel = (page: Page, config = false) =>
    page.click(config ? '#node-config-dialog-cancel' : '#node-dialog-cancel');

  for (const lang of ['en-US', 'de'] as const) {
    describe(lang, () => {
      const tabsIn = {
        'en-US': ['Sink', 'Event', 'Delivery', 'Spool'],
        de: ['Ziel', 'Ereignis', 'Zustellung', 'Spool'],
      };

      it('cloudevent emit: four tabs, Sink first and open; every text from the catalogue, none cut off', async () => {
        const page = pages[lang];
        await openNode(page, 'emit', '#node-input-sink');
        const tabs = (await page.locator('#ce-emit-tabs .red-ui-tab-label').allTextContents()).map((t) =>
          t.trim(),
        );
        assert.deepEqual(tabs, tabsIn[lang]);
        assert.equal(await page.isVisible('#node-input-ceType'), false, 'only the Sink tab is open');
        await page.selectOption('#node-input-mode', 'batch');
        const found: { tab?: string; untranslated: string[]; cut: string[] }[] = [];
        for (const [i, name] of ['sink', 'event', 'delivery', 'spool'].entries()) {
          const tab = tabs[i];
          // Two clicks on tabs within 400 ms are a double click to the editor: one at a time, as a person clicks.
          await page.waitForTimeout(450);
          await page.click(`#ce-emit-tabs a[href="#ce-emit-tab-${name}"]`);
          if (name === 'spool') await page.selectOption('#node-input-spool', 'disk');
          found.push({ tab, ...(await inspect(page, 'cloudevent-emit', lang)) });
        }
        await cancel(page);
        for (const { tab, untranslated, cut } of found) {
          assert.deepEqual(untranslated, [], `${tab}: texts not from the catalogue`);
          assert.deepEqual(cut, [], `${tab}: texts cut off`);
        }
      });

      it('cloudevent emit: port labels from the catalogue', async () => {
        const labels = await pages[lang].evaluate(
          `(() => { const n = RED.nodes.node('emit'); return [n._def.inputLabels.call(n, 0), n._def.outputLabels.call(n, 0), n._def.outputLabels.call(n, 1)]; })()`,
        );
        const expected = {
          'en-US': [
            'event (InfraEvent or any message)',
            'result (without a sink: the event)',
            'failed events',
          ],
          de: [
            'Ereignis (InfraEvent oder jede Nachricht)',
            'Ergebnis (ohne Ziel: das Ereignis)',
            'fehlgeschlagene Ereignisse',
          ],
        };
        assert.deepEqual(labels, expected[lang]);
      });

      it("a node's help (Show help on the canvas, and every type's from the palette) is the page in the editor's language", async () => {
        const page = pages[lang];
        await page.click('#red-ui-workspace g.red-ui-flow-node-group[id="emit"]');
        await page.evaluate(`RED.actions.invoke('core:show-node-help')`);
        await page.waitForSelector('.red-ui-help .red-ui-help h3', { state: 'visible' });
        assert.deepEqual(await page.evaluate(SHOWN_SECTIONS), helpSections('cloudevent-emit', lang));
        for (const type of Object.keys(DIRS)) {
          await page.evaluate(`RED.sidebar.help.show('${type}')`);
          assert.deepEqual(await page.evaluate(SHOWN_SECTIONS), helpSections(type, lang), type);
        }
      });

      it('the sink, vcd login and aci controller dialogs: every text from the catalogue, none cut off', async () => {
        const page = pages[lang];
        for (const [type, id, field] of [
          ['cloudevent-sink', 'sinkcfg', '#node-config-input-url'],
          ['vcd-login', 'login', '#node-config-input-org'],
          ['aci-controller', 'ctrl', '#node-config-input-hosts'],
        ] as const) {
          await openConfig(page, type, id, field);
          const { untranslated, cut } = await inspect(page, type, lang);
          await cancel(page, true);
          assert.deepEqual(untranslated, [], `${type}: texts not from the catalogue`);
          assert.deepEqual(cut, [], `${type}: texts cut off`);
        }
      });
    });
  }

  describe('the previous version, config pickers, the theme', () => {
    it('a vcd login saved with its own CA says it still applies until a TLS configuration is chosen; one that does not verify warns', async () => {
      const page = pages['en-US'];
      await openConfig(page, 'vcd-login', 'login', '#node-config-input-tls');
      assert.equal(await page.isVisible('#vcd-login-legacy-tls'), true);
      await page.selectOption('#node-config-input-tls', 'tls');
      assert.equal(await page.isVisible('#vcd-login-legacy-tls'), false);
      assert.equal(await page.isVisible('#vcd-login-insecure-warning'), false);
      await page.selectOption('#node-config-input-tls', 'noverify');
      assert.equal(await page.isVisible('#vcd-login-insecure-warning'), true);
      await page.selectOption('#node-config-input-proxy', 'proxy');
      await cancel(page, true);
    });

    it("warnings take the theme's colours", async () => {
      const page = pages['en-US'];
      await page.evaluate(
        `document.documentElement.style.setProperty('--red-ui-text-color-error', 'rgb(1, 2, 3)')`,
      );
      await openConfig(page, 'cloudevent-sink', 'sinkcfg', '#node-config-input-url');
      // A token over plain http:// draws the warning.
      await page.waitForSelector('#cloudevent-sink-cleartext-warning', { state: 'visible' });
      const colour = await page.evaluate(
        `getComputedStyle(document.querySelector('#cloudevent-sink-cleartext-warning')).color`,
      );
      assert.equal(colour, 'rgb(1, 2, 3)');
      await cancel(page, true);
      await page.evaluate(`document.documentElement.style.removeProperty('--red-ui-text-color-error')`);
    });

    it('an emit of the previous version says what still applies; saved with a sink, its own settings and secrets go', async () => {
      const page = pages['en-US'];
      await openNode(page, 'old', '#node-input-sink');
      assert.equal(await page.isVisible('#ce-emit-legacy'), true);
      assert.match(
        (await page.textContent('#ce-emit-legacy')) ?? '',
        new RegExp(`sends to ${sink.url}/events`),
      );
      await page.selectOption('#node-input-sink', 'sinkcfg');
      assert.equal(await page.isVisible('#ce-emit-legacy'), false);
      await page.click('#node-dialog-ok');
      await page.click('#red-ui-header-button-deploy');
      const saved = async () =>
        (await page.evaluate(
          `Promise.all([$.getJSON('flows'), $.getJSON('credentials/cloudevent-emit/old')])`,
        )) as [Record<string, unknown>[], Record<string, unknown>];
      for (let i = 0; ; i++) {
        const [answer, creds] = await saved();
        // The editor asks for the flows in API v2: { flows, rev }.
        const flows = Array.isArray(answer) ? answer : (answer as { flows: Record<string, unknown>[] }).flows;
        const old = flows.find((n) => n.id === 'old')!;
        if (old.sink === 'sinkcfg') {
          assert.deepEqual([old.url, old.authType, old.headers], ['', 'none', '']);
          assert.equal(creds.has_token, false, 'the secret the node kept itself is gone');
          break;
        }
        assert.ok(i < 50, 'the deploy');
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  });
});
