/**
 * The real editor in headless Chromium: our nodes in the palette, their dialogs
 * and help, the "test connection" button, and live status from a deployed flow.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium';
import { needPeer } from '../support/peers';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { FORMATS } from '../../nodes/events/decode';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

describe('the editor (Chromium)', function () {
  let sim: VcdSimulator;
  let apic: ApicSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;

  before(async function () {
    needPeer(this, chromiumMissing());
    sim = await VcdSimulator.start({ ratePerSec: 5 });
    apic = await ApicSimulator.start({ ratePerSec: 0, ports: [0, 0] });
    await apic.stopApic(1); // a cluster member that does not answer, for the connection test
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
        { id: 'ctrl', type: 'aci-controller', hosts: apic.hosts, authType: 'password', ca: apic.cert },
        {
          id: 'asub',
          type: 'aci-subscribe',
          z: 'tab',
          controller: 'ctrl',
          subscriptions: 'fvBD',
          refreshTimeout: 900,
          initial: 'skip',
          output: 'object',
          x: 150,
          y: 180,
          wires: [[]],
        },
        {
          id: 'decode',
          type: 'event-decode',
          z: 'tab',
          // As a flow of version 1 saved it: the format's former name.
          format: 'vcd',
          errors: 'catch',
          x: 450,
          y: 180,
          wires: [[]],
        },
        {
          id: 'emit',
          type: 'cloudevent-emit',
          z: 'tab',
          url: '',
          mode: 'binary',
          x: 450,
          y: 80,
          wires: [[], []],
        },
      ],
      credentials: {
        login: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
        ctrl: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
      },
    });
    base = red.base;
    browser = await launchChromium();
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
    await apic?.stop();
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

  /** Opens the edit dialog of a node of the flow and waits for one of its fields. */
  async function openDialog(id: string, field: string): Promise<void> {
    await page.dblclick(`#red-ui-workspace g.red-ui-flow-node-group[id="${id}"]`);
    await page.waitForSelector(field, { state: 'visible' });
  }
  const openSubscribeDialog = () => openDialog('sub', '#node-input-topic');

  it('opens the subscribe dialog with translated labels and the topic presets', async () => {
    await openSubscribeDialog();
    assert.equal(await page.inputValue('#node-input-topic'), 'publish/{org}/+');
    assert.equal(await page.inputValue('#vcd-subscribe-preset'), 'org');
    assert.match((await page.textContent('label[for="node-input-topic"]')) ?? '', /Topic/);
    await page.selectOption('#vcd-subscribe-preset', 'mine');
    assert.equal(await page.inputValue('#node-input-topic'), 'publish/{org}/{user}');
    assert.equal(await page.getAttribute('#node-input-topic', 'readonly'), '');
    // Topics set by messages: no topic of its own, and so no missed events to recover for it.
    await page.selectOption('#vcd-subscribe-preset', 'dynamic');
    assert.equal(await page.isVisible('#node-input-topic'), false);
    assert.equal(await page.isVisible('#node-input-catchUp'), false);
    assert.equal(await page.isChecked('#node-input-dynamic'), true);
    await page.selectOption('#vcd-subscribe-preset', 'org');
    assert.equal(await page.isVisible('#node-input-topic'), true);
    assert.equal(await page.isChecked('#node-input-dynamic'), false);
    await page.click('#node-dialog-cancel');
    // Its input takes msg.action.
    assert.equal(await page.locator('g.red-ui-flow-node-group[id="sub"] .red-ui-flow-port-input').count(), 1);
  });

  it('tests the connection from the login dialog and says what failed', async () => {
    await openSubscribeDialog();
    await page.click('#node-input-btn-login-edit');
    await page.waitForSelector('#node-config-input-url', { state: 'visible' });
    assert.equal(await page.inputValue('#node-config-input-url'), sim.url);
    // Saved with its own CA (version 1): the dialog says it still applies, until a TLS configuration is chosen.
    assert.equal(await page.isVisible('#vcd-login-legacy-tls'), true);
    assert.equal(await page.isVisible('#vcd-login-insecure-warning'), false);
    // API token auth swaps the credential rows.
    await page.selectOption('#node-config-input-authType', 'apiToken');
    assert.equal(await page.isVisible('#node-config-input-apiToken'), true);
    assert.equal(await page.isVisible('#node-config-input-password'), false);
    await page.selectOption('#node-config-input-authType', 'password');

    // The stored password (the dialog shows a placeholder for it) logs in.
    await page.click('#vcd-login-test');
    await page.waitForSelector('#vcd-login-test-result.dce-ok', { timeout: 20_000 });
    const ok = (await page.textContent('#vcd-login-test-result')) ?? '';
    assert.match(ok, /acmeadmin in acme \(API 39\.1\)/);
    assert.match(ok, /Organization Administrator/);

    // Another address: the stored password is withheld, and plain http:// draws a note under the field.
    assert.equal(await page.isVisible('#vcd-login-cleartext-warning'), false);
    await page.fill('#node-config-input-url', 'http://127.0.0.1:9');
    assert.equal(await page.isVisible('#vcd-login-cleartext-warning'), true);
    await page.click('#vcd-login-test');
    await page.waitForSelector('#vcd-login-test-result.dce-fail', { timeout: 20_000 });
    assert.match(
      (await page.textContent('#vcd-login-test-result')) ?? '',
      /Stored secret withheld: Type the password again.*ADMIN_SECRET_RETYPE/,
    );
    await page.fill('#node-config-input-url', sim.url);

    await page.fill('#node-config-input-password', 'definitely-wrong');
    await page.click('#vcd-login-test');
    await page.waitForSelector('#vcd-login-test-result.dce-fail', { timeout: 20_000 });
    assert.match(
      (await page.textContent('#vcd-login-test-result')) ?? '',
      /Credentials refused.*VCD_AUTH_FAILED/,
    );
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });

  it('shows the help text in the sidebar', async () => {
    await page.click('#red-ui-workspace g.red-ui-flow-node-group[id="sub"]');
    await page.evaluate(`RED.sidebar.show('help')`);
    await page.waitForFunction(`document.body.textContent.includes('pushed over VCD')`, undefined, {
      timeout: 10_000,
    });
  });
  it('shows the APIC in use on the deployed aci subscribe node', async () => {
    await page.waitForFunction(
      `[...document.querySelectorAll('[id="asub"] .red-ui-flow-node-status-label')].some((e) => e.textContent.trim() === '127.0.0.1 · 0')`,
      undefined,
      { timeout: 20_000 },
    );
  });

  it('adds a common class from the aci subscribe dialog once, with its description', async () => {
    await openDialog('asub', '#node-input-subscriptions');
    const option = await page.textContent('#aci-subscribe-common option[value="faultInst"]');
    assert.match(option ?? '', /^faultInst: \S/);
    await page.selectOption('#aci-subscribe-common', 'faultInst');
    await page.click('#aci-subscribe-add');
    await page.click('#aci-subscribe-add');
    assert.equal(await page.inputValue('#node-input-subscriptions'), 'fvBD\nfaultInst');
    await page.click('#node-dialog-cancel');
  });

  it('tests every APIC of the cluster from the controller dialog', async () => {
    await openDialog('asub', '#node-input-subscriptions');
    await page.click('#node-input-btn-controller-edit');
    await page.waitForSelector('#node-config-input-hosts', { state: 'visible' });
    // Certificate auth swaps the credential rows.
    await page.selectOption('#node-config-input-authType', 'certificate');
    assert.equal(await page.isVisible('#node-config-input-privateKey'), true);
    assert.equal(await page.isVisible('#node-config-input-password'), false);
    await page.selectOption('#node-config-input-authType', 'password');

    // The stored password logs in on the first APIC; the stopped one is named as failing.
    const [up, down] = apic.urls;
    await page.click('#aci-controller-test');
    await page.waitForSelector('#aci-controller-test-result.dce-ok', { timeout: 20_000 });
    const ok = (await page.textContent('#aci-controller-test-result')) ?? '';
    assert.match(ok, /Logged in as admin/);
    assert.ok(ok.includes(`✓ ${up}: APIC`), ok);
    assert.ok(ok.includes(`✗ ${down}: Connection`), ok);

    await page.fill('#node-config-input-password', 'definitely-wrong');
    await page.click('#aci-controller-test');
    await page.waitForSelector('#aci-controller-test-result.dce-fail', { timeout: 20_000 });
    assert.match((await page.textContent('#aci-controller-test-result')) ?? '', /Credentials refused/);
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });

  it('opens cloudevent emit in tabs, Sink first; batch and spool settings show when they apply', async () => {
    await openDialog('emit', '#node-input-sink');
    const tabs = await page.locator('#ce-emit-tabs .red-ui-tab-label').allTextContents();
    assert.deepEqual(
      tabs.map((t) => t.trim()),
      ['Sink', 'Event', 'Delivery', 'Spool'],
    );
    // Without a sink the node only builds the event: the dialog says so.
    assert.equal(await page.isVisible('#ce-emit-tab-sink .ce-emit-no-sink'), true);
    assert.equal(await page.isVisible('#node-input-ceType'), false);
    assert.equal(await page.isVisible('#node-input-batchSize'), false);
    await page.selectOption('#node-input-mode', 'batch');
    assert.equal(await page.isVisible('#node-input-batchSize'), true);
    // Two clicks on tabs within 400 ms are a double click to the editor: one at a time, as a person clicks.
    await page.waitForTimeout(450);
    await page.click('#ce-emit-tabs a[href="#ce-emit-tab-event"]');
    assert.equal(await page.isVisible('#node-input-ceType'), true);
    assert.equal(await page.isVisible('#node-input-sink'), false);
    // The spool's limit matters only on disk.
    await page.waitForTimeout(450);
    await page.click('#ce-emit-tabs a[href="#ce-emit-tab-spool"]');
    assert.equal(await page.inputValue('#node-input-spool'), 'memory');
    assert.equal(await page.isVisible('#node-input-spoolLimit'), false);
    await page.selectOption('#node-input-spool', 'disk');
    assert.equal(await page.isVisible('#node-input-spoolLimit'), true);
    await page.click('#node-dialog-cancel');
  });

  it('lists the decoders table in the event decode dialog, a former format name under its new one', async () => {
    await openDialog('decode', '#node-input-format');
    assert.equal(await page.inputValue('#node-input-format'), 'vcd-envelope');
    const options = (await page.evaluate(
      `[...document.querySelectorAll('#node-input-format option')].map((o) => [o.value, o.textContent])`,
    )) as [string, string][];
    assert.deepEqual(options.map(([value]) => value).sort(), [...FORMATS].sort());
    for (const [value, label] of options) assert.ok(label && !label.includes('event-decode.'), value);
    await page.click('#node-dialog-cancel');
  });

  it('gives event decode a second output when errors go to an output', async () => {
    await openDialog('decode', '#node-input-errors');
    await page.selectOption('#node-input-errors', 'output');
    await page.click('#node-dialog-ok');
    // The node on the canvas grows a second port.
    await page.waitForFunction(
      `document.querySelectorAll('[id="decode"] .red-ui-flow-port-output').length === 2`,
      undefined,
      { timeout: 5_000 },
    );
  });

  it('keeps credentials out of an exported flow', async () => {
    const exported = String(await page.evaluate(`JSON.stringify(RED.nodes.createCompleteNodeSet())`));
    assert.match(exported, /"type":"aci-controller"/);
    assert.ok(!exported.includes(DEFAULT_PASSWORD) && !exported.includes(DEFAULT_APIC_PASSWORD));
  });
});
