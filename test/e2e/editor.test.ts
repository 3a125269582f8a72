/**
 * The real editor in headless Chromium: our nodes in the palette, their dialogs
 * and help, the "test connection" button, and live status from a deployed flow.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the editor (Chromium)', function () {
  let sim: VcdSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`      skipped: no Chromium at ${CHROMIUM} (Debian package chromium)`);
      this.skip();
    }
    sim = await VcdSimulator.start({ ratePerSec: 5 });
    red = await runNodeRed({
      flows: [
        { id: 'tab', type: 'tab', label: 'e2e' },
        {
          id: 'login',
          type: 'vcd-login',
          name: 'sim',
          url: sim.url,
          org: 'acme',
          authType: 'password',
          ca: sim.cert,
        },
        {
          id: 'sub',
          type: 'vcd-subscribe',
          z: 'tab',
          login: 'login',
          topic: 'publish/{org}/+',
          qos: '1',
          output: 'envelope',
          x: 150,
          y: 80,
          wires: [[]],
        },
      ],
      credentials: { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
    });
    base = red.base;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(base);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="vcd-subscribe"]', {
      timeout: 30_000,
    });
  });

  after(async () => {
    await browser?.close();
    if (red?.log().includes('[error]')) console.log(red.log());
    await red?.stop();
    await sim?.stop();
  });

  it('lists our nodes in the palette under "datacenter events"', async () => {
    const label = await page.textContent(
      '.red-ui-palette-node[data-palette-type="vcd-subscribe"] .red-ui-palette-label',
    );
    assert.equal(label?.replace(/\s+/g, ' ').trim(), 'vcd subscribe');
    const category = await page
      .locator('.red-ui-palette-category', { has: page.locator('[data-palette-type="vcd-subscribe"]') })
      .locator('.red-ui-palette-header')
      .textContent();
    assert.match(category ?? '', /datacenter events/);
  });

  it('shows the deployed node connected, with a running count', async () => {
    // Browser-side code as text: the project's types describe Node, not the DOM.
    await page.waitForFunction(
      `[...document.querySelectorAll('.red-ui-flow-node-status-label')].some((e) => /connected · \\d+/.test(e.textContent))`,
      undefined,
      { timeout: 20_000 },
    );
  });

  async function openSubscribeDialog(): Promise<void> {
    await page.dblclick('#red-ui-workspace g.red-ui-flow-node-group');
    await page.waitForSelector('#node-input-topic', { state: 'visible' });
  }

  it('opens the subscribe dialog with translated labels and the topic presets', async () => {
    await openSubscribeDialog();
    assert.equal(await page.inputValue('#node-input-topic'), 'publish/{org}/+');
    assert.equal(await page.inputValue('#vcd-subscribe-preset'), 'org');
    assert.match((await page.textContent('label[for="node-input-topic"]')) ?? '', /Topic/);
    await page.selectOption('#vcd-subscribe-preset', 'mine');
    assert.equal(await page.inputValue('#node-input-topic'), 'publish/{org}/{user}');
    assert.equal(await page.getAttribute('#node-input-topic', 'readonly'), '');
    await page.click('#node-dialog-cancel');
  });

  it('tests the connection from the login dialog and says what failed', async () => {
    await openSubscribeDialog();
    await page.click('#node-input-btn-login-edit');
    await page.waitForSelector('#node-config-input-url', { state: 'visible' });
    assert.equal(await page.inputValue('#node-config-input-url'), sim.url);
    // The insecure checkbox shows its warning.
    assert.equal(await page.isVisible('#vcd-login-insecure-warning'), false);
    await page.check('#node-config-input-tlsInsecure');
    assert.equal(await page.isVisible('#vcd-login-insecure-warning'), true);
    await page.uncheck('#node-config-input-tlsInsecure');
    // API token auth swaps the credential rows.
    await page.selectOption('#node-config-input-authType', 'apiToken');
    assert.equal(await page.isVisible('#node-config-input-apiToken'), true);
    assert.equal(await page.isVisible('#node-config-input-password'), false);
    await page.selectOption('#node-config-input-authType', 'password');

    // The stored password (the dialog shows a placeholder for it) logs in.
    await page.click('#vcd-login-test');
    await page.waitForSelector('#vcd-login-test-result.vcd-ok', { timeout: 20_000 });
    const ok = (await page.textContent('#vcd-login-test-result')) ?? '';
    assert.match(ok, /acmeadmin in acme \(API 39\.1\)/);
    assert.match(ok, /Organization Administrator/);

    await page.fill('#node-config-input-password', 'definitely-wrong');
    await page.click('#vcd-login-test');
    await page.waitForSelector('#vcd-login-test-result.vcd-fail', { timeout: 20_000 });
    assert.match(
      (await page.textContent('#vcd-login-test-result')) ?? '',
      /Credentials refused.*VCD_AUTH_FAILED/,
    );
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });

  it('shows the help text in the sidebar', async () => {
    await page.click('#red-ui-workspace g.red-ui-flow-node-group');
    await page.evaluate(`RED.sidebar.show('help')`);
    await page.waitForFunction(`document.body.textContent.includes('pushed over VCD')`, undefined, {
      timeout: 10_000,
    });
  });
});
