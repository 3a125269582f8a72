/**
 * The dashboard approvals example (FlowFuse Dashboard 2.0) in Chromium, fed
 * by the VCD simulator: a tenant's VM change appears with what an approver
 * needs and a countdown; the Resume button lets it go on, Abort ends it, and
 * what became of each is listed.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { exampleCredentials, exampleEnv, exampleFlow } from '../../sim/nodered';
import { VcdSimulator } from '../../sim/vcd';
import { chromiumMissing, launchChromium } from '../support/chromium';
import { needPeer } from '../support/peers';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

describe('the approvals example (FlowFuse Dashboard 2.0, Chromium)', function () {
  this.timeout(120_000);
  let vcd: VcdSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;

  before(async function () {
    needPeer(this, chromiumMissing());
    vcd = await VcdSimulator.start();
    Object.assign(vcd.blocking.settings, { timeoutMs: 300_000, timeoutAction: 'abort' });
    const flow = exampleFlow('approve-vm-changes-dashboard.json');
    red = await runNodeRed({
      flows: flow,
      modules: ['@flowfuse/node-red-dashboard'],
      credentials: exampleCredentials(),
      env: exampleEnv({ vcd: vcd.url, cert: vcd.cert }),
    });
    await waitFor(() => vcd.subscriptions.includes('publish/#'), 'the subscription', 20_000);
    const button = flow.find((n) => n.type === 'inject')!.id;
    assert.equal((await fetch(`${red.base}/inject/${button}`, { method: 'POST' })).status, 200);
    await waitFor(() => vcd.blocking.settings.operations.has('vappUpdateVm'), 'vappUpdateVm to block');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (red?.log().includes('[error]')) console.log(red.log());
    await red?.stop();
    await vcd?.stop();
  });

  /** The card of the change to a VM, once it is shown. */
  const card = (page: Page, vm: string) =>
    page.locator('.v-card', { hasText: `vappUpdateVm on ${vm}` }).first();

  it('shows each waiting change with what an approver needs; Resume and Abort answer it', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${red!.base}/dashboard/approvals`);
    await page.getByText('No VM change waits for approval.').waitFor({ timeout: 40_000 });

    vcd.reconfigureVm('acmeuser@acme', 'web-01', 'web-01-bigger');
    const web = card(page, 'web-01');
    await web.waitFor({ timeout: 30_000 });
    const text = await web.innerText();
    assert.match(text, /Owner: acmeuser · asked by acmeuser in acme/);
    assert.match(text, /Change: Updating Virtual Machine web-01\(/);
    assert.match(text, /[45]:\d\d left, then VCD will abort it\./);
    const first = /(\d:\d\d) left/.exec(text)![1];
    // The countdown moves on in the page.
    await page.waitForFunction(
      `!document.querySelector('.vcd-left')?.textContent?.includes(${JSON.stringify(first)})`,
      undefined,
      {
        timeout: 10_000,
      },
    );

    await web.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('web-01: resumed (decided on the dashboard)').waitFor({ timeout: 30_000 });
    await waitFor(() => vcd.inventory.vmNamed('acme', 'web-01-bigger'), 'the change to be made');
    assert.equal(await card(page, 'web-01').count(), 0, 'answered: no longer listed');

    vcd.reconfigureVm('acmeadmin@acme', 'db-01', 'db-01-renamed');
    const db = card(page, 'db-01');
    await db.waitFor({ timeout: 30_000 });
    assert.match(await db.innerText(), /Owner: acmeadmin/);
    await db.getByRole('button', { name: 'Abort' }).click();
    await page.getByText('db-01: aborted (decided on the dashboard)').waitFor({ timeout: 30_000 });
    assert.equal(vcd.inventory.vmNamed('acme', 'db-01-renamed'), undefined);
    assert.doesNotMatch(red!.log(), /\[error\]/);
    await page.close();
  });
});
