/**
 * Importing several examples through the editor's Import → Examples, as a user
 * does: each finds the VCD login, APIC controller or sink it shares already
 * there; answered View nodes… → Import selected (or Import copy, once every
 * shared node exists), the editor's "already exist" notice leaves one
 * configuration node per system, used by every example. Ten seconds: six
 * imports through the dialog.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium';
import { EXAMPLE_CONFIG } from '../../sim/nodered';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { needPeer } from '../support/peers';

const PACKAGE = '@dcevents/node-red-vcd-aci';

describe('importing examples in the editor (Chromium)', function () {
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    needPeer(this, chromiumMissing());
    red = await runNodeRed({ flows: [{ id: 'start', type: 'tab', label: 'start' }] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(red.base);
    await page.waitForFunction('Boolean(RED.workspaces.active())', undefined, { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    if (red?.log().includes('[error]')) console.log(red.log());
    await red?.stop();
  });

  /** Import → Examples → this package → `name` → Import. */
  async function importExample(name: string): Promise<void> {
    await page.evaluate("RED.actions.invoke('core:show-examples-import-dialog')");
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await tree.locator('.red-ui-treeList-label', { hasText: PACKAGE }).first().click();
    await tree.locator('.red-ui-treeList-label', { hasText: name }).first().click();
    await page.click('#red-ui-clipboard-dialog-ok');
  }

  /** The editor's configuration nodes, counted by type, and what our nodes refer to. */
  const workspace = () =>
    page.evaluate(`(() => {
      const configs = {};
      RED.nodes.eachConfig((n) => { (configs[n.type] = configs[n.type] || []).push(n.id); });
      const refs = [];
      RED.nodes.eachNode((n) => { if (n.login || n.controller || n.sink) refs.push(n.login || n.controller || n.sink); });
      return { configs, refs, tabs: RED.nodes.getWorkspaceOrder().length };
    })()`) as Promise<{ configs: Record<string, string[]>; refs: string[]; tabs: number }>;

  /** The editor's notice that some nodes already exist: answered with `button`. */
  async function answerConflict(button: 'Import copy' | 'View nodes...'): Promise<void> {
    const notice = page.locator('.red-ui-notification', { hasText: 'already exist' }).last();
    await notice.getByRole('button', { name: button }).click();
    if (button === 'View nodes...') await page.click('#red-ui-clipboard-dialog-import-conflict');
  }

  const flowsInWorkspace = (n: number) =>
    page.waitForFunction(`RED.nodes.getWorkspaceOrder().length === ${n}`, undefined, { timeout: 10_000 });

  it('keeps one VCD login, one APIC controller and one sink, used by every imported example', async () => {
    // The first finds nothing: no notice. Then View nodes… lists the configuration nodes that exist unticked
    // (not imported) and the rest ticked, with their own ids, so the next example finds them; Import copy gives
    // every node a new id but keeps using a global configuration node that exists.
    const imports: [string, ('View nodes...' | 'Import copy')?][] = [
      ['vcd-events-to-debug'],
      ['infra-events-to-cloudevents', 'View nodes...'],
      ['aci-changes-to-debug', 'View nodes...'],
      ['one-sink-many-emits', 'View nodes...'],
      ['vcd-events-to-debug', 'Import copy'],
    ];
    for (const [i, [example, answer]] of imports.entries()) {
      await importExample(example);
      if (answer) await answerConflict(answer);
      await flowsInWorkspace(i + 2); // the start tab and one per import
    }

    const { configs, refs } = await workspace();
    assert.deepEqual(configs['vcd-login'], [EXAMPLE_CONFIG.vcd]);
    assert.deepEqual(configs['aci-controller'], [EXAMPLE_CONFIG.apic]);
    assert.deepEqual(configs['cloudevent-sink'], [EXAMPLE_CONFIG.sink]);
    // vcd-events-to-debug twice, infra-events-to-cloudevents 3, aci-changes-to-debug 1, one-sink-many-emits 2.
    assert.equal(refs.length, 8, refs.join(', '));
    const shared = new Set<string>(Object.values(EXAMPLE_CONFIG));
    for (const ref of refs) assert.ok(shared.has(ref), ref);
  });
});
