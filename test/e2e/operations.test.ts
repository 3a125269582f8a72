/**
 * The "DC events" sidebar tab in the real editor: every node of this package
 * grouped by flow (configuration nodes apart, each once), its status said once,
 * every number with its label, live over Node-RED's comms; the tab's title
 * whole, the German catalogue in a German browser, the theme's colours; a click
 * reveals the node.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium, showSidebarTab } from '../support/chromium';
import { needPeer } from '../support/peers';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { SinkSimulator } from '../../sim/sink';
import { VcdSimulator } from '../../sim/vcd';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

describe('the "DC events" sidebar tab (Chromium)', function () {
  this.timeout(90_000);
  let sim: VcdSimulator;
  let sink: SinkSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;

  /** The editor with this tab open. */
  async function open(locale: string): Promise<Page> {
    const p = await browser!.newPage({ viewport: { width: 1400, height: 900 }, locale });
    await p.goto(red!.base);
    await showSidebarTab(p, 'dcevents-operations', '.dcevents-ops');
    return p;
  }

  before(async function () {
    needPeer(this, chromiumMissing());
    sim = await VcdSimulator.start({ ratePerSec: 5 });
    sink = await SinkSimulator.start();
    const login = { login: 'login', qos: '1', x: 150, wires: [[]] };
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
        // Used on both flows: listed once, with the configuration nodes.
        {
          id: 'sub',
          type: 'vcd-subscribe',
          z: 'tab1',
          name: 'acme events',
          ...login,
          topic: 'publish/{org}/+',
          output: 'event',
          y: 80,
          wires: [['emit']],
        },
        {
          id: 'emit',
          type: 'cloudevent-emit',
          z: 'tab1',
          name: 'to the sink',
          url: `${sink.url}/events`,
          ca: sink.cert,
          x: 400,
          y: 80,
          wires: [[], []],
        },
        { id: 'decode', type: 'event-decode', z: 'tab1', name: 'decode', x: 400, y: 160, wires: [[], []] },
        {
          id: 'bad',
          type: 'vcd-subscribe',
          z: 'tab2',
          name: 'bad topic',
          ...login,
          topic: 'publish/#/x',
          y: 80,
        },
        {
          id: 'mine',
          type: 'vcd-subscribe',
          z: 'tab2',
          name: 'my events',
          ...login,
          topic: 'publish/{org}/{user}',
          y: 160,
        },
      ],
      credentials: { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
    });
    browser = await launchChromium();
    page = await open('en-US');
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    await sim?.stop();
    await sink?.stop();
  });

  const row = (id: string) => `.dcevents-ops-row[data-id="${id}"]`;
  const text = async (selector: string, p = page) => ((await p.textContent(selector)) ?? '').trim();
  const texts = (selector: string, p = page) =>
    p.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

  it('groups the nodes by flow in the editor\u2019s tab order, configuration nodes last, each node once', async () => {
    await page.waitForFunction(
      `/^events in: [1-9][\\d,]*\\/min$/.test(document.querySelector('${row('sub')} .dcevents-ops-rate')?.textContent ?? '')`,
      undefined,
      { timeout: 30_000 },
    );
    assert.deepEqual(await texts('.dcevents-ops-group-head'), ['events', 'other', 'Configuration nodes']);
    const members = (group: string) =>
      page.$$eval(`.dcevents-ops-group[data-group="${group}"] .dcevents-ops-row`, (els) =>
        els.map((e) => e.getAttribute('data-id')),
      );
    // Within a flow, by name: acme events, decode, to the sink.
    assert.deepEqual(await members('tab1'), ['sub', 'decode', 'emit']);
    assert.deepEqual(await members('tab2'), ['bad', 'mine']);
    assert.deepEqual(await members('config'), ['login']);
    assert.equal((await page.$$(row('login'))).length, 1, 'the login its three users share: once');
  });

  it('says each node\u2019s status once and labels every number', async () => {
    // The status as in the workspace, not the state word beside it ("connected connected · 17").
    assert.match(await text(`${row('sub')} .dcevents-ops-state`), /^connected · \d+$/);
    // A configuration node shows no status: its state, translated, and its dot follows it.
    assert.equal(await text(`${row('login')} .dcevents-ops-state`), 'connected');
    assert.ok(await page.isVisible(`${row('login')} .dcevents-ops-dot.green`));
    assert.equal(await text(`${row('sub')} .dcevents-ops-type`), 'vcd subscribe', 'the palette\u2019s name');
    const loginCounts = await texts(`${row('login')} .dcevents-ops-count`);
    assert.deepEqual(loginCounts.slice(1), ['reconnects 0', 'errors 0']);
    assert.match(loginCounts[0] ?? '', /^logins [1-9]\d*$/);
    await page.waitForFunction(
      `/^delivered [1-9]/.test(document.querySelector('${row('emit')} [data-counter="delivered"]')?.textContent ?? '')`,
      undefined,
      { timeout: 20_000 },
    );
    const emitCounts = await texts(`${row('emit')} .dcevents-ops-counts > span`);
    assert.deepEqual(
      emitCounts.map((t) => t.replace(/\d[\d,]*/g, 'N')),
      ['in N', 'sent N', 'delivered N', 'retries N', 'dead letters N', 'dropped N', 'errors N'],
    );
    // The queue has one name and one number: the status's ("q 3 · sent 12"), not a second one beside it.
    assert.match(await text(`${row('emit')} .dcevents-ops-state`), /^q \d+ · sent \d+$/);
    assert.doesNotMatch(await text(row('emit')), /queue/);
    const points = await page.getAttribute(`${row('sub')} .dcevents-ops-sparkline polyline`, 'points');
    assert.ok(points && points.trim().length > 0, 'a sparkline');
    for (const id of ['sub', 'emit', 'decode', 'bad', 'mine', 'login']) {
      const all = await text(row(id));
      assert.doesNotMatch(all, /\b(\w+)\s+\1\b/i, `${id}: a word twice in a row: ${all}`);
      for (const piece of await texts(`${row(id)} .dcevents-ops-line > span`))
        assert.match(piece, /^\D*[a-z]\D*\d|^\D+$/i, `${id}: a number without a label: "${piece}"`);
    }
  });

  it('shows the last error with its code and time, and a node that cannot work', async () => {
    assert.match(
      await text(`${row('bad')} .dcevents-ops-error`),
      /^last error VCD_TOPIC_INVALID at \d{1,2}:\d{2}:\d{2}/,
    );
    assert.equal(await text(`${row('bad')} .dcevents-ops-state`), 'bad topic');
    assert.ok(await page.isVisible(`${row('bad')} .dcevents-ops-dot.red`));
  });

  /**
   * The tab's title as the sidebar shows it: Node-RED 4.1 writes the label in the tab (is all of it shown?),
   * Node-RED 5 has an icon button whose tooltip and aria-label are the full name.
   */
  const tabTitle = (p: Page) =>
    p.evaluate(`(() => {
      const button = document.querySelector('button[data-tab-id="dcevents-operations"]');
      if (button) return { name: button.getAttribute('aria-label') };
      const a = document.querySelector('#red-ui-tab-dcevents-operations .red-ui-tab-label');
      const label = a.querySelector('span');
      return { label: label.textContent, shown: a.getBoundingClientRect().right >= label.getBoundingClientRect().right };
    })()`) as Promise<{ label?: string; shown?: boolean; name?: string }>;

  it('shows its title whole in the sidebar', async () => {
    const title = await tabTitle(page);
    if (title.name !== undefined) assert.equal(title.name, 'Datacenter events');
    else assert.deepEqual(title, { label: 'DC events', shown: true });
  });

  it('speaks German in a German browser', async () => {
    const de = await open('de-DE');
    try {
      await de.waitForSelector(row('emit'), { timeout: 20_000 });
      assert.deepEqual(await texts('.dcevents-ops-group-head', de), [
        'events',
        'other',
        'Konfigurations-Nodes',
      ]);
      assert.equal(await text(`${row('login')} .dcevents-ops-state`, de), 'verbunden');
      assert.match(await text(`${row('emit')} [data-counter="delivered"]`, de), /^zugestellt \d/);
      assert.match(await text(`${row('sub')} .dcevents-ops-rate`, de), /^Events herein: \d+\/min$/);
      const title = await tabTitle(de);
      assert.equal(title.name ?? title.label, title.name ? 'Rechenzentrums-Events' : 'RZ-Events');
    } finally {
      await de.close();
    }
  });

  it('takes its colours from the editor\u2019s theme, as a dark theme sets them', async () => {
    const dark = {
      '--red-ui-primary-text-color': 'rgb(221, 221, 221)',
      '--red-ui-palette-header-background': 'rgb(34, 34, 34)',
      '--red-ui-text-color-error': 'rgb(255, 102, 102)',
      '--red-ui-node-status-colors-green': 'rgb(0, 170, 0)',
    };
    const styles = await page.evaluate(`(() => {
      for (const [k, v] of Object.entries(${JSON.stringify(dark)})) document.documentElement.style.setProperty(k, v);
      const style = (s) => getComputedStyle(document.querySelector(s));
      return [
        style('.dcevents-ops').color,
        style('.dcevents-ops-group-head').backgroundColor,
        style('.dcevents-ops-error').color,
        style('.dcevents-ops-dot.green').backgroundColor,
      ];
    })()`);
    assert.deepEqual(styles, Object.values(dark));
  });

  it('reveals a node in the workspace when its row is clicked', async () => {
    assert.equal(await page.evaluate('RED.workspaces.active()'), 'tab1');
    await page.click(row('bad'));
    await page.waitForFunction(`RED.workspaces.active() === 'tab2'`, undefined, { timeout: 5000 });
    await page.click(row('sub'));
    await page.waitForFunction(`RED.workspaces.active() === 'tab1'`, undefined, { timeout: 5000 });
  });
});
