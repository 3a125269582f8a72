/**
 * The dashboard example (FlowFuse Dashboard 2.0) in Chromium, fed by the
 * simulators: the table of latest events fills, and the chart of events per
 * type per minute draws its series.
 */
import assert from 'node:assert/strict';
import { type Browser } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium';
import { needPeer } from '../support/peers';
import { ApicSimulator } from '../../sim/apic';
import { exampleCredentials, exampleEnv, exampleFlow } from '../../sim/nodered';
import { VcdSimulator } from '../../sim/vcd';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

const DASHBOARD = '@flowfuse/node-red-dashboard';

describe('the dashboard example (FlowFuse Dashboard 2.0, Chromium)', function () {
  this.timeout(120_000);
  let vcd: VcdSimulator;
  let apic: ApicSimulator;
  let red: RunningNodeRed | undefined;
  let browser: Browser | undefined;

  before(async function () {
    needPeer(this, chromiumMissing());
    vcd = await VcdSimulator.start({ ratePerSec: 3 });
    apic = await ApicSimulator.start({ ratePerSec: 2 });
    red = await runNodeRed({
      flows: exampleFlow('dashboard-live-events.json'),
      modules: [DASHBOARD],
      credentials: exampleCredentials(),
      env: exampleEnv({ vcd: vcd.url, apicHosts: apic.hosts, cert: vcd.cert }),
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (red?.log().includes('[error]')) console.log(red.log());
    await red?.stop();
    await vcd?.stop();
    await apic?.stop();
  });

  it('shows the latest VCD and ACI events in a table and draws events per type per minute', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${red!.base}/dashboard/events`);
    // Rows of both systems: time, system, type, summary.
    await page.waitForFunction(
      `(() => {
        const rows = [...document.querySelectorAll('table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()));
        return rows.some((r) => r[1] === 'VCD' && r[2].startsWith('com.vmware.vcloud.') && /^\\d{2}:\\d{2}:\\d{2}$/.test(r[0]) && r[3].length > 0)
          && rows.some((r) => r[1] === 'ACI' && r[2].startsWith('com.cisco.aci.'));
      })()`,
      undefined,
      { timeout: 40_000 },
    );
    // The chart draws its first series in the first colour of the palette (#0095ff) once points arrive.
    await page.waitForFunction(
      `(() => {
        for (const canvas of document.querySelectorAll('canvas')) {
          if (canvas.width < 100 || canvas.height < 100) continue;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let blue = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - 0x00) < 20 && Math.abs(data[i + 1] - 0x95) < 20 && Math.abs(data[i + 2] - 0xff) < 20) blue++;
          }
          if (blue > 20) return true;
        }
        return false;
      })()`,
      undefined,
      { timeout: 40_000, polling: 1000 },
    );
    assert.doesNotMatch(red!.log(), /\[error\]/);
    await page.close();
  });
});
