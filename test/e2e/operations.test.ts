/**
 * The "datacenter events" sidebar tab in the real editor: every node of this
 * package with its state, events per minute and sparkline, queue, dead letters
 * and last error, live over Node-RED's comms; a click reveals the node.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

describe('the "datacenter events" sidebar tab (Chromium)', function () {
  this.timeout(90_000);
  let sim: VcdSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    if (!hasChromium()) {
      console.log(`      skipped: no Chromium at ${CHROMIUM} (Debian package chromium)`);
      this.skip();
    }
    sim = await VcdSimulator.start({ ratePerSec: 5 });
    red = await runNodeRed({
      flows: [
        { id: 'tab1', type: 'tab', label: 'events' },
        { id: 'tab2', type: 'tab', label: 'other' },
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
          z: 'tab1',
          name: 'acme events',
          login: 'login',
          topic: 'publish/{org}/+',
          qos: '1',
          output: 'event',
          x: 150,
          y: 80,
          wires: [['emit']],
        },
        { id: 'emit', type: 'cloudevent-emit', z: 'tab1', url: '', x: 400, y: 80, wires: [[], []] },
        {
          id: 'bad',
          type: 'vcd-subscribe',
          z: 'tab2',
          name: 'bad topic',
          login: 'login',
          topic: 'publish/#/x',
          x: 150,
          y: 80,
          wires: [[]],
        },
      ],
      credentials: { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // The editor opens the sidebar tab that was open last (kept in the browser's local storage): this one.
    await page.addInitScript(`localStorage.setItem('last-sidebar-tab', 'dcevents-operations')`);
    await page.goto(red.base);
    await page.waitForSelector('.dcevents-ops', { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    await sim?.stop();
  });

  const row = (id: string) => `.dcevents-ops-row[data-id="${id}"]`;

  it('lists every node of the package with its state, live events per minute and a sparkline', async () => {
    await page.waitForSelector(row('sub'), { timeout: 20_000 });
    await page.waitForFunction(
      `/^[1-9]\\d*\\/min$/.test(document.querySelector('${row('sub')} .dcevents-ops-rate')?.textContent ?? '')`,
      undefined,
      { timeout: 20_000 },
    );
    assert.equal(await page.textContent(`${row('sub')} .dcevents-ops-name`), 'acme events');
    assert.equal(await page.textContent(`${row('sub')} .dcevents-ops-state`), 'connected');
    assert.equal(await page.textContent(`${row('login')} .dcevents-ops-state`), 'connected');
    // A config node: its session, not a rate; its dot follows its state.
    assert.match(
      (await page.textContent(`${row('login')} .dcevents-ops-session`)) ?? '',
      /^logins [1-9]\d* · reconnects 0 · refreshes 0$/,
    );
    assert.ok(await page.isVisible(`${row('login')} .dcevents-ops-dot.green`));
    const points = await page.getAttribute(`${row('sub')} .dcevents-ops-sparkline polyline`, 'points');
    assert.ok(points && points.trim().length > 0, 'a sparkline');
    assert.match(
      (await page.textContent(`${row('emit')} .dcevents-ops-queue`)) ?? '',
      /^queue \d+ · spool 0$/,
    );
    assert.equal(await page.textContent(`${row('emit')} .dcevents-ops-dead`), 'dead letters 0');
  });

  it('shows the last error with its code and time', async () => {
    const text = await page.textContent(`${row('bad')} .dcevents-ops-error`);
    assert.match(text ?? '', /^last error VCD_TOPIC_INVALID at \d{1,2}:\d{2}:\d{2}/);
    assert.equal(await page.textContent(`${row('bad')} .dcevents-ops-state`), 'bad settings');
  });

  it('reveals a node in the workspace when its row is clicked', async () => {
    assert.equal(await page.evaluate('RED.workspaces.active()'), 'tab1');
    await page.click(row('bad'));
    await page.waitForFunction(`RED.workspaces.active() === 'tab2'`, undefined, { timeout: 5000 });
    await page.click(row('sub'));
    await page.waitForFunction(`RED.workspaces.active() === 'tab1'`, undefined, { timeout: 5000 });
  });
});
