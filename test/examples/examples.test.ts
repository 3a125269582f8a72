/**
 * The example flows, as shipped in examples/, run in a real Node-RED against
 * the simulators and local stand-ins for Webex (HTTP) and a mail server
 * (Debian's python3-aiosmtpd): what a user imports is what works.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApicSimulator } from '../../sim/apic';
import { exampleCredentials, exampleEnv, exampleFlow, type FlowNode } from '../../sim/nodered';
import { VcdSimulator } from '../../sim/vcd';
import { SinkSimulator } from '../../sim/sink';
import { freePort, runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import path from 'node:path';
import { mailRelayMissing, needPeer, SYSTEM_PYTHON } from '../support/peers';
import { waitFor } from '../support/wait';

const SMTP_SERVER = path.resolve(__dirname, '../../../test/support/smtp_server.py');

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
    let vcd: VcdSimulator | undefined;
    let apic: ApicSimulator | undefined;
    let smtp: ChildProcess | undefined;
    let webex: http.Server | undefined;
    let posts: { authorization?: string; body: { roomId: string; markdown: string } }[] = [];
    let mail = '';
    /** The messages the relay got, quoted-printable bodies decoded (long lines come folded). */
    const mails = () =>
      mail
        .split('END MESSAGE')
        .slice(0, -1)
        .map((m) =>
          m
            .replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        );

    before(function () {
      needPeer(this, mailRelayMissing());
    });

    afterEach(async () => {
      smtp?.kill();
      webex?.close();
      await vcd?.stop();
      await apic?.stop();
      smtp = webex = vcd = apic = undefined;
    });

    /** A mail relay on loopback (test/support/smtp_server.py); with `login`, it requires AUTH. */
    async function startRelay(login?: { user: string; password: string }): Promise<number> {
      const port = await freePort();
      mail = '';
      const args = [SMTP_SERVER, String(port), ...(login ? [login.user, login.password] : [])];
      smtp = spawn(SYSTEM_PYTHON, args);
      smtp.stdout!.on('data', (d: Buffer) => (mail += d.toString()));
      smtp.stderr!.on('data', (d: Buffer) => (mail += d.toString()));
      // Python starts slowly on a busy machine: a mail sent before it listens would be lost.
      await waitFor(() => mail.includes('LISTENING'), 'the mail server to listen', 20_000);
      return port;
    }

    /**
     * Runs the example as shipped, with the e-mail node set up the way the
     * example's description says for this relay.
     */
    async function runExample(
      email: Partial<FlowNode>,
      credentials: Record<string, string>,
      env: Record<string, string>,
    ): Promise<void> {
      vcd = await VcdSimulator.start();
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      posts = [];
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
      await new Promise<void>((r) => webex!.listen(0, '127.0.0.1', () => r()));
      const flow = toConsole(exampleFlow('events-to-webex-and-email.json')).map((n) => {
        if (n.type === 'http request')
          return { ...n, url: `http://127.0.0.1:${(webex!.address() as AddressInfo).port}/v1/messages` };
        if (n.type === 'e-mail') return { ...n, ...email };
        // Storm summaries within the test's time (the example waits 5 minutes).
        if (n.type === 'alert-gate') return { ...n, stormWindow: 0.1 };
        return n;
      });
      const id = (type: string) => flow.find((n) => n.type === type)!.id;
      red = await runNodeRed({
        flows: flow,
        credentials: {
          ...exampleCredentials(),
          [id('http request')]: { user: '', password: 'webex-bot-t0ken' },
          [id('e-mail')]: credentials,
        },
        modules: ['node-red-node-email'],
        env: {
          ...exampleEnv({ vcd: vcd.url, apicHosts: apic.hosts, cert: vcd.cert }),
          WEBEX_ROOM_ID: 'room-123',
          ...env,
        },
      });
      await waitFor(
        () => vcd!.subscriptions.length === 1 && apic!.liveSubscriptions.length === 3,
        'VCD and the three ACI entries subscribed',
        20_000,
      );
    }

    async function expectMessages(n: number): Promise<void> {
      await waitFor(
        () => posts.length >= n && mails().length >= n,
        `${n} posts and ${n} mails`,
        20_000,
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}: ${posts.length} posts, ${mails().length} mails\n${mail}\n${red!.log()}`,
        );
      });
      await new Promise((r) => setTimeout(r, 1000)); // anything filtered wrongly would arrive now
      assert.equal(posts.length, n, posts.map((p) => p.body.markdown).join('\n'));
      assert.equal(mails().length, n, mail);
    }

    it('relay without login: failed VCD operations, major faults through their life cycle (a storm summed up), low health and audit deletions reach Webex and e-mail, with real times and an id per occurrence', async () => {
      const port = await startRelay();
      await runExample(
        { server: '127.0.0.1', port: String(port), authtype: 'NONE', secure: false },
        {},
        { MAIL_FROM: 'aci-alerts@example.com' },
      );
      vcd!.publishEvent({
        actor: 'acmeuser@acme',
        envelopeType: 'EVENT',
        event: { operationSuccess: true, entityName: 'fine-vm' },
      });
      const failed = vcd!.publishEvent({
        actor: 'acmeuser@acme',
        envelopeType: 'EVENT',
        event: {
          operationSuccess: false,
          entityType: 'vm',
          entityName: 'broken-vm',
          type: 'com/vmware/vcloud/event/vm/deploy',
        },
      });
      const sim = apic!;
      sim.raiseFault('uni/tn-prod/BD-bd-web', 'F0467', 'raised'); // minor; health 90: neither is sent
      const fault = sim.raiseFault('uni/tn-prod/BD-bd-app', 'F1527', 'raised'); // major: sent; health 80
      sim.advanceFault(fault, 'critical'); // sent; health 60: sent
      sim.advanceFault(fault, 'retaining'); // cleared: not sent; health 100
      sim.advanceFault(fault, 'raised'); // major again, a new occurrence: held in the fault's storm, summed up
      sim.modify('uni/tn-prod/BD-bd-db', { descr: 'not sent' }, 'alice');
      sim.remove('uni/tn-prod/BD-bd-db', 'alice'); // the audit record of a deletion: sent
      await expectMessages(6);

      assert.ok(
        posts.every((p) => p.authorization === 'Bearer webex-bot-t0ken' && p.body.roomId === 'room-123'),
      );
      const markdown = posts.map((p) => p.body.markdown).join('\n');
      assert.match(markdown, /\*\*vm broken-vm deployed by acmeuser in acme: failed\*\*/);
      assert.match(
        markdown,
        /\*\*major fault F1527 raised on uni\/tn-prod\/BD-bd-app: Storage unit usage above 75% \(threshold-crossed\)\*\*/,
      );
      assert.match(markdown, /\*\*critical fault F1527 raised on uni\/tn-prod\/BD-bd-app: .*\*\*/);
      assert.match(markdown, /\*\*health of uni\/tn-prod\/BD-bd-app 60 \(was 80, worst fault critical\)\*\*/);
      assert.match(
        markdown,
        /\*\*1 more since \d\d:\d\d: raised 1 · major fault F1527 raised on .*\(threshold-crossed, 2 times\)\*\*/,
      );
      assert.match(markdown, /\*\*alice deleted uni\/tn-prod\/BD-bd-db/);
      assert.doesNotMatch(markdown, /fine-vm|F0467|not sent|never/);
      // Each line names the event's time: RFC 3339, the APIC's own.
      const times = [...markdown.matchAll(/` · (\S+) · /g)].map((m) => m[1] as string);
      assert.equal(times.length, 6);
      for (const t of times) assert.ok(!Number.isNaN(Date.parse(t)), t);

      assert.match(mail, /Subject: \[VCD\] vm broken-vm deployed by acmeuser in acme: failed/);
      assert.match(mail, /Subject: \[ACI\] major fault F1527/);
      assert.match(mail, new RegExp(`id: +${failed.event.eventId}`));
      assert.doesNotMatch(mail, /time: +never|@never/);
      assert.ok(
        mails().every((m) => /MAIL FROM: aci-alerts@example\.com/.test(m) && /AUTH LOGIN: -/.test(m)),
        mail,
      );
      const faultIds = mails()
        .filter((m) => m.includes(`subject: ${fault}`))
        .map((m) => /id: +(\S+)/.exec(m)?.[1]);
      // Raised, made critical (worse: at once), and the storm's summary of the raise after its clear.
      assert.equal(faultIds.length, 3);
      assert.equal(new Set(faultIds).size, 3, `one id per occurrence: ${faultIds.join(', ')}`);
      assert.equal(faultIds.filter((id) => id?.startsWith('storm:')).length, 1);
    });

    it('relay with login: the Userid logs in and is the sender', async () => {
      const port = await startRelay({ user: 'noc-alerts@example.com', password: 'relay-pa55' });
      await runExample(
        { server: '127.0.0.1', port: String(port), authtype: 'BASIC', secure: false },
        { userid: 'noc-alerts@example.com', password: 'relay-pa55' },
        {},
      );
      apic!.raiseFault('uni/tn-prod/BD-bd-app', 'F0103', 'raised'); // critical, and the health score falls to 60
      await expectMessages(2);
      assert.match(mail, /AUTH LOGIN: noc-alerts@example\.com/);
      assert.match(mail, /MAIL FROM: noc-alerts@example\.com/);
      assert.match(mail, /From: noc-alerts@example\.com/);
      assert.match(mail, /To: noc@example\.com/);
      assert.match(mail, /Subject: \[ACI\] critical fault F0103 raised on uni\/tn-prod\/BD-bd-app/);
      assert.doesNotMatch(red!.log(), /relay-pa55/);
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

    it('VCD events through event decode and ACI events from aci subscribe arrive at the sink as valid CloudEvents', async () => {
      vcd = await VcdSimulator.start();
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      sink = await SinkSimulator.start();
      red = await runNodeRed({
        flows: toConsole(exampleFlow('infra-events-to-cloudevents.json')),
        credentials: exampleCredentials(),
        env: exampleEnv({ vcd: vcd.url, apicHosts: apic.hosts, sink: `${sink.url}/events`, cert: sink.cert }),
      });
      await waitFor(
        () => vcd.subscriptions.length === 1 && apic.liveSubscriptions.length === 4,
        'VCD and the four ACI entries subscribed',
        20_000,
      );
      // With Missed events on, vcd subscribe first reads the newest audit record as its mark; an event
      // published before that answer counts as "before this node started".
      await waitFor(() => vcd.stats.auditReads >= 1, 'the missed-events mark');
      const published = vcd.publishEvent({ actor: 'acmeuser@acme', envelopeType: 'EVENT' });
      // As a real APIC sends them: modTs "never", times in lastTransition, updTs and created.
      const fault = apic.raiseFault('uni/tn-prod/BD-bd-app', 'F1527'); // soaking; health unchanged
      apic.advanceFault(fault, 'raised'); // health 80
      apic.advanceFault(fault, 'retaining'); // health 100
      apic.advanceFault(fault, 'raised'); // a new occurrence; health 80
      apic.modify('uni/tn-prod/BD-bd-db', { arpFlood: 'yes' }, 'alice'); // fvBD and its audit record
      const expected = 1 + 4 + 3 + 2;
      await waitFor(() => sink.received.length >= expected, `${expected} events at the sink`, 20_000).catch(
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
      const aci = sink.received
        .map((r) => r.event)
        .filter((e) => String(e.type).startsWith('com.cisco.aci.'));
      const types = aci.map((e) => String(e.type)).sort();
      assert.deepEqual(types, [
        'com.cisco.aci.aaaModLR.created',
        'com.cisco.aci.faultInst.created',
        'com.cisco.aci.faultInst.modified',
        'com.cisco.aci.faultInst.modified',
        'com.cisco.aci.faultInst.modified',
        'com.cisco.aci.fvBD.modified',
        'com.cisco.aci.healthInst.modified',
        'com.cisco.aci.healthInst.modified',
        'com.cisco.aci.healthInst.modified',
      ]);
      for (const e of aci) assert.ok(!Number.isNaN(Date.parse(String(e.time))), `${e.type} at ${e.time}`);
      assert.equal(new Set(aci.map((e) => e.id)).size, aci.length, 'one id per occurrence');
      const faultTimes = aci.filter((e) => e.subject === fault).map((e) => e.time);
      assert.equal(new Set(faultTimes).size, 4, 'each step of the fault at its own transition time');
      assert.doesNotMatch(red.log(), /\[error\]/);
    });
  });

  describe('aci-changes-to-debug', () => {
    let apic: ApicSimulator | undefined;

    after(async () => {
      await apic?.stop();
    });

    it('shows faults (modTs "never", with their transition times), BDs and tenants as APIC sends them', async () => {
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      red = await runNodeRed({
        flows: toConsole(exampleFlow('aci-changes-to-debug.json')),
        credentials: exampleCredentials(),
        env: exampleEnv({ apicHosts: apic.hosts, cert: apic.cert }),
      });
      await waitFor(() => apic!.liveSubscriptions.length === 4, 'the four entries subscribed', 20_000);
      const fault = apic.raiseFault('uni/tn-prod/BD-bd-app', 'F1527', 'raised');
      apic.advanceFault(fault, 'retaining');
      apic.modify('uni/tn-prod/BD-bd-web', { descr: 'seen in the debug output' });
      await waitFor(
        () =>
          red!.log().includes('seen in the debug output') &&
          (red!.log().match(/retaining/g) ?? []).length >= 1,
        'the BD and both fault changes in the debug output',
        20_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${red!.log()}`);
      });
      const log = red.log();
      assert.match(log, /fault-F1527/);
      assert.match(log, /lastTransition/);
      assert.doesNotMatch(log, /\[error\]/);
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
