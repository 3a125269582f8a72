/**
 * The "Events → Webex and e-mail" example as shipped, in real Node-RED
 * processes, through what makes doubles: a SIGKILL and a restart on the same
 * user directory, a full redeploy, a VCD broker restart, and an HA pair with
 * the shared store (Redis). Each alert is posted to Webex and mailed exactly
 * once; a fault flapping 50 times gives one alert and one summary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { exampleCredentials, exampleEnv, exampleFlow, type FlowNode } from '../../sim/nodered';
import { Notifiers } from '../support/notifiers';
import { mailRelayMissing, needPeer } from '../support/peers';
import { TestRedis, needRedis } from '../support/redis';
import { delay, waitFor } from '../support/wait';
import { Instance, escapes, startSims, type Sims } from './pipeline';

/** The gate's storm window in the tests (minutes): longer than a flapping burst, short enough to wait for. */
const STORM_WINDOW = 0.4;

describe('Events → Webex and e-mail through faults: each alert exactly once', function () {
  this.timeout(300_000);
  let sims: Sims;
  let notifiers: Notifiers;
  const instances: Instance[] = [];
  let failures = 0;

  before(async function () {
    needPeer(this, mailRelayMissing());
    sims = await startSims();
    sims.apic.setRate(0);
    notifiers = await Notifiers.start();
  });
  after(async () => {
    for (const i of instances) await i.remove();
    notifiers?.stop();
    await sims?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const i of instances) console.log(`--- Node-RED ${i.name}\n${i.log().slice(-6000)}`);
    console.log(`--- posts\n${notifiers.posts.join('\n')}`);
  });

  /** The example, pointed at the simulators and the stand-ins; with `redis`, its gate uses the shared store. */
  function example(name: string, redis?: TestRedis): Instance {
    const shipped = exampleFlow('events-to-webex-and-email.json');
    const id = (type: string) => shipped.find((n) => n.type === type)!.id;
    const flows = shipped.map((n): FlowNode => {
      switch (n.type) {
        case 'http request':
          return { ...n, url: notifiers.webexUrl };
        case 'e-mail':
          return {
            ...n,
            server: '127.0.0.1',
            port: String(notifiers.smtpPort),
            authtype: 'NONE',
            secure: false,
          };
        case 'alert-gate':
          return { ...n, stormWindow: STORM_WINDOW, store: redis ? id('alert-store') : '' };
        case 'alert-store':
          return { ...n, url: redis?.url ?? n.url };
        default:
          return n;
      }
    });
    const instance = new Instance(name, {
      flows,
      credentials: {
        ...exampleCredentials(),
        [id('http request')]: { user: '', password: 'webex-bot-t0ken' },
        [id('alert-store')]: { password: 'redis-pa55' },
      },
      modules: ['node-red-node-email'],
      env: {
        ...exampleEnv({ vcd: sims.vcd.url, apicHosts: sims.apic.hosts, cert: sims.vcd.cert }),
        WEBEX_ROOM_ID: 'room-1',
        MAIL_FROM: 'alerts@example.com',
      },
    });
    instances.push(instance);
    return instance;
  }

  /** A failed VCD operation on a VM of its own (one storm each); returns the VM's name. */
  function failVm(): string {
    const name = `vm-${++failures}-${randomUUID().slice(0, 8)}`;
    sims.vcd.publishEvent({
      actor: 'acmeuser@acme',
      envelopeType: 'EVENT',
      event: {
        operationSuccess: false,
        entity: `urn:vcloud:vm:${randomUUID()}`,
        entityType: 'vm',
        entityName: name,
        type: 'com/vmware/vcloud/event/vm/deploy',
      },
    });
    return name;
  }

  const postsAbout = (text: string) => notifiers.posts.filter((p) => p.includes(text)).length;
  const mailsAbout = (text: string) => notifiers.mails().filter((m) => m.includes(text)).length;

  /** Every VM's failure posted and mailed once (waits for the last ones, then for stragglers). */
  async function eachOnce(vms: string[]): Promise<void> {
    await waitFor(
      () => vms.every((vm) => postsAbout(` ${vm} `) >= 1 && mailsAbout(` ${vm} `) >= 1),
      `${vms.length} alerts posted and mailed`,
      60_000,
    );
    await delay(3000);
    for (const vm of vms) {
      assert.equal(postsAbout(` ${vm} `), 1, `${vm} posted once`);
      assert.equal(mailsAbout(` ${vm} `), 1, `${vm} mailed once`);
    }
  }

  /** A major fault raised and cleared `times` times in all, 200 ms apart; its object's dn. */
  async function flap(bd: string, times: number): Promise<string> {
    const affected = `uni/tn-prod/BD-${bd}`;
    sims.apic.create('fvBD', affected, { name: bd });
    const fault = sims.apic.raiseFault(affected, 'F1527', 'raised');
    for (let i = 1; i < times; i++) {
      await delay(200);
      sims.apic.advanceFault(fault, i % 2 ? 'retaining' : 'raised');
    }
    return affected;
  }

  /** One alert for the fault, then one storm summary, and nothing more. */
  async function oneAlertAndOneSummary(affected: string): Promise<void> {
    const about = (p: string) => p.includes(`F1527`) && p.includes(affected);
    await waitFor(
      () => notifiers.posts.some((p) => about(p) && / more since /.test(p)),
      'the storm summary',
      STORM_WINDOW * 60_000 + 30_000,
    );
    await delay(3000);
    const posts = notifiers.posts.filter(about);
    assert.equal(posts.length, 2, posts.join('\n'));
    assert.match(posts[0]!, /^\*\*major fault F1527 raised on /);
    assert.match(posts[1]!, /^\*\*\d+ more since \d\d:\d\d: raised \d+ · major fault F1527 raised on /);
    assert.equal(notifiers.mails().filter((m) => m.includes(affected)).length, 2);
  }

  it('one Node-RED: SIGKILL and restart, full redeploy, broker restart', async () => {
    const red = example('alerts');
    await red.start();
    await waitFor(
      () => sims.vcd.subscriptions.length === 1 && sims.apic.liveSubscriptions.length === 3,
      'subscribed',
      30_000,
    );
    await waitFor(() => sims.vcd.stats.auditReads >= 1, 'the missed-events mark');
    const vms = [failVm(), failVm(), failVm()];
    await eachOnce(vms);

    // Killed: the next start reads the audit trail from a mark that lags (an overlap), and what came meanwhile.
    await red.kill();
    vms.push(failVm(), failVm());
    await red.start();
    vms.push(failVm());
    await eachOnce(vms);

    await red.redeploy();
    await delay(2000);
    vms.push(failVm());
    await eachOnce(vms);

    sims.vcd.restartBroker(2000);
    await waitFor(() => sims.vcd.subscriptions.length === 0, 'the broker down');
    vms.push(failVm(), failVm());
    await eachOnce(vms);

    await oneAlertAndOneSummary(await flap('bd-flap', 50));
    assert.deepEqual(escapes(red.log()), []);
    await red.remove();
    instances.splice(instances.indexOf(red), 1);
  });

  it('an HA pair with the shared store: each alert once from the two, through a SIGKILL of one', async function () {
    needRedis(this);
    const redis = await TestRedis.start({ password: 'redis-pa55' });
    try {
      const [a, b] = [example('ha-a', redis), example('ha-b', redis)];
      const reads = sims.vcd.stats.auditReads;
      await Promise.all([a.start(), b.start()]);
      await waitFor(
        () => sims.vcd.subscriptions.length === 2 && sims.apic.liveSubscriptions.length >= 6,
        'both subscribed',
        30_000,
      );
      await waitFor(() => sims.vcd.stats.auditReads >= reads + 2, 'both marks');
      const vms = [failVm(), failVm(), failVm()];
      await eachOnce(vms);
      await a.kill();
      vms.push(failVm());
      await a.start();
      vms.push(failVm());
      await eachOnce(vms);
      await oneAlertAndOneSummary(await flap('bd-flap-ha', 50));
      for (const i of [a, b]) assert.deepEqual(escapes(i.log()), []);
    } finally {
      await redis.stop();
    }
  });
});
