/**
 * The example flows, as shipped in examples/, run in a real Node-RED against
 * the simulators and local stand-ins for Webex (HTTP) and a mail server
 * (Debian's python3-aiosmtpd): what a user imports is what works.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { exampleFlow, type FlowNode } from '../../sim/nodered';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { SinkSimulator } from '../../sim/sink';
import { freePort, listening, runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { SYSTEM_PYTHON } from '../support/seed-vcd-client';
import { waitFor } from '../support/wait';

/** Debug nodes print to the console instead of the editor sidebar, so the test can read them. */
const toConsole = (flow: FlowNode[]) =>
  flow.map((n) => (n.type === 'debug' ? { ...n, active: true, tosidebar: false, console: true } : n));

describe('example flows in a real Node-RED', function () {
  this.timeout(60_000);
  let red: RunningNodeRed | undefined;

  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });

  describe('events-to-webex-and-email', () => {
    let vcd: VcdSimulator;
    let apic: ApicSimulator;
    let smtp: ChildProcess | undefined;
    let webex: http.Server;
    const posts: { authorization?: string; body: { roomId: string; markdown: string } }[] = [];
    let mail = '';

    before(function () {
      if (spawnSync(SYSTEM_PYTHON, ['-c', 'import aiosmtpd']).status !== 0) {
        console.log('      skipped: python3-aiosmtpd is not installed (Debian package)');
        this.skip();
      }
    });

    after(async () => {
      smtp?.kill();
      webex?.close();
      await vcd?.stop();
      await apic?.stop();
    });

    it('posts failed VCD operations and major ACI faults to Webex and by e-mail, and nothing else', async () => {
      vcd = await VcdSimulator.start();
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      webex = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          posts.push({
            authorization: req.headers.authorization,
            body: JSON.parse(body) as (typeof posts)[0]['body'],
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"msg-1"}');
        });
      });
      await new Promise<void>((r) => webex.listen(0, '127.0.0.1', () => r()));
      const smtpPort = await freePort();
      smtp = spawn(SYSTEM_PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`]);
      smtp.stdout!.on('data', (d: Buffer) => (mail += d.toString()));
      // Python starts slowly on a busy machine: a mail sent before it listens would be lost.
      await waitFor(() => listening(smtpPort), 'the mail server to listen', 20_000);

      const flow = toConsole(exampleFlow('events-to-webex-and-email.json')).map((n) => {
        if (n.type === 'vcd-login') return { ...n, url: vcd.url, ca: vcd.cert };
        if (n.type === 'aci-controller') return { ...n, hosts: apic.hosts, ca: apic.cert };
        if (n.type === 'http request')
          return { ...n, url: `http://127.0.0.1:${(webex.address() as AddressInfo).port}/v1/messages` };
        if (n.type === 'e-mail')
          return { ...n, server: '127.0.0.1', port: String(smtpPort), authtype: 'NONE', secure: false };
        return n;
      });
      const id = (type: string) => flow.find((n) => n.type === type)!.id;
      red = await runNodeRed({
        flows: flow,
        credentials: {
          [id('vcd-login')]: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
          [id('aci-controller')]: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
          [id('http request')]: { user: '', password: 'webex-bot-t0ken' },
          [id('e-mail')]: { userid: 'node-red@example.com' },
        },
        modules: ['node-red-node-email'],
        env: { WEBEX_ROOM_ID: 'room-123' },
      });
      await waitFor(
        () => vcd.subscriptions.length === 1 && apic.liveSubscriptions.length === 1,
        'both subscribed',
        20_000,
      );

      vcd.publishEvent({
        actor: 'acmeuser@acme',
        envelopeType: 'EVENT',
        event: { operationSuccess: true, entityName: 'fine-vm' },
      });
      const failed = vcd.publishEvent({
        actor: 'acmeuser@acme',
        envelopeType: 'EVENT',
        event: {
          operationSuccess: false,
          entityType: 'vm',
          entityName: 'broken-vm',
          type: 'com/vmware/vcloud/event/vm/deploy',
        },
      });
      apic.create('faultInst', 'uni/tn-prod/BD-bd-web/fault-F0103', {
        code: 'F0103',
        severity: 'minor',
        lc: 'raised',
        descr: 'a minor one',
      });
      apic.create('faultInst', 'uni/tn-prod/BD-bd-app/fault-F1527', {
        code: 'F1527',
        severity: 'major',
        lc: 'raised',
        descr: 'Storage above 75%',
      });

      await waitFor(
        () => posts.length >= 2 && (mail.match(/END MESSAGE/g) ?? []).length >= 2,
        'two posts and two mails',
        20_000,
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}: ${posts.length} posts, ${(mail.match(/END MESSAGE/g) ?? []).length} mails\n${red!.log()}`,
        );
      });
      await new Promise((r) => setTimeout(r, 1000)); // anything filtered wrongly would arrive now
      assert.equal(posts.length, 2, red.log());
      assert.ok(
        posts.every((p) => p.authorization === 'Bearer webex-bot-t0ken' && p.body.roomId === 'room-123'),
      );
      const markdown = posts.map((p) => p.body.markdown).join('\n');
      assert.match(markdown, /\*\*vm broken-vm deployed by acmeuser in acme: failed\*\*/);
      assert.match(markdown, /\*\*major F1527 on uni\/tn-prod\/BD-bd-app: Storage above 75% \(raised\)\*\*/);
      assert.doesNotMatch(markdown, /fine-vm|a minor one/);
      assert.match(mail, /Subject: \[VCD\] vm broken-vm deployed by acmeuser in acme: failed/);
      assert.match(mail, /Subject: \[ACI\] major F1527/);
      assert.match(mail, new RegExp(`id: +${failed.event.eventId}`));
      assert.equal((mail.match(/END MESSAGE/g) ?? []).length, 2);
    });
  });

  describe('infra-events-to-cloudevents', () => {
    let vcd: VcdSimulator;
    let apic: ApicSimulator;
    let sink: SinkSimulator;

    after(async () => {
      await vcd?.stop();
      await apic?.stop();
      await sink?.stop();
    });

    it('VCD and ACI events go subscribe → event decode → cloudevent emit and arrive as valid CloudEvents', async () => {
      vcd = await VcdSimulator.start();
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      sink = await SinkSimulator.start();
      const flow = toConsole(exampleFlow('infra-events-to-cloudevents.json')).map((n) => {
        if (n.type === 'vcd-login') return { ...n, url: vcd.url, ca: vcd.cert };
        if (n.type === 'aci-controller') return { ...n, hosts: apic.hosts, ca: apic.cert };
        if (n.type === 'cloudevent-emit') return { ...n, url: `${sink.url}/events`, ca: sink.cert };
        if (n.type === 'event-decode')
          return { ...n, source: String(n.source).endsWith(':8443') ? vcd.url : apic.urls[0] };
        return n;
      });
      const id = (type: string) => flow.find((n) => n.type === type)!.id;
      red = await runNodeRed({
        flows: flow,
        credentials: {
          [id('vcd-login')]: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
          [id('aci-controller')]: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
        },
      });
      await waitFor(
        () => vcd.subscriptions.length === 1 && apic.liveSubscriptions.length >= 1,
        'both subscribed',
        20_000,
      );
      // With Missed events on, vcd subscribe first reads the newest audit record as its mark; an event
      // published before that answer counts as "before this node started".
      await waitFor(() => vcd.stats.auditReads >= 1, 'the missed-events mark');
      const published = vcd.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' });
      apic.create('faultInst', 'uni/tn-prod/BD-bd-app/fault-F1527', {
        code: 'F1527',
        severity: 'major',
        lc: 'raised',
        descr: 'Storage above 75%',
      });
      await waitFor(() => sink.received.length >= 2, 'both events at the sink', 20_000).catch(
        (err: Error) => {
          const got = sink.received.map((r) => String(r.event.type)).join(', ');
          throw new Error(`${err.message}; the sink got: [${got}]\n${red!.log()}`);
        },
      );
      assert.deepEqual(sink.rejected, []);
      const fromVcd = sink.received.find((r) => r.event.id === published.event.eventId)?.event;
      assert.ok(fromVcd, red.log());
      assert.equal(fromVcd.source, vcd.url, 'the same source as vcd subscribe would give');
      assert.equal(fromVcd.vcdorg, 'acme');
      const fromAci = sink.received.find((r) => r.event.type === 'com.cisco.aci.faultInst.created')?.event;
      assert.ok(fromAci, red.log());
      assert.equal(fromAci.source, apic.urls[0]);
      assert.equal(fromAci.subject, 'uni/tn-prod/BD-bd-app/fault-F1527');
      assert.doesNotMatch(red.log(), /\[error\]/);
    });
  });

  describe('cloudevents-in', () => {
    it('answers 202 once per request, decodes binary and batch CloudEvents, and answers 400 to what is not one', async () => {
      red = await runNodeRed({ flows: toConsole(exampleFlow('cloudevents-in.json')) });
      const post = (headers: Record<string, string>, body: string) =>
        fetch(`${red!.base}/cloudevents`, { method: 'POST', headers, body });

      const veba = await post(
        {
          'ce-id': '08179137-b8e0-4973-b05f-8f212bf5003b',
          'ce-source': 'https://vcenter-01:443/sdk',
          'ce-specversion': '1.0',
          'ce-type': 'com.vmware.vsphere.DrsVmPoweredOnEvent.v0',
          'ce-time': '2021-09-27T19:02:54.063Z',
          'content-type': 'application/json',
        },
        JSON.stringify({
          FullFormattedMessage: 'DRS powered on workload1 on esxi02.jarvis.lab in jarvis-lab',
        }),
      );
      assert.equal(veba.status, 202);

      const one = (id: string) => ({
        specversion: '1.0',
        id,
        source: '/fn',
        type: 'com.example.done',
        data: { ok: true },
      });
      const batch = await post(
        { 'content-type': 'application/cloudevents-batch+json' },
        JSON.stringify([one('b-1'), one('b-2')]),
      );
      assert.equal(batch.status, 202);

      const bad = await post({ 'content-type': 'application/json' }, '{"hello":"world"}');
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /DECODE_WRONG_SHAPE/);

      await waitFor(
        () => red!.log().includes('DRS powered on workload1'),
        'the vCenter event in the debug output',
      );
      await waitFor(
        () => (red!.log().match(/com\.example\.done from \/fn/g) ?? []).length === 2,
        'both batch events',
      );
      assert.doesNotMatch(red.log(), /\[error\]/);
    });
  });
});
