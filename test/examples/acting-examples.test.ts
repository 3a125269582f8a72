/**
 * The examples that act on what happened, as shipped in examples/, in a real
 * Node-RED against the simulators: VM changes approved or rejected from Webex
 * (a local stand-in for its API), and ACI faults sent by e-mail with what is
 * around them, then acknowledged (a local mail relay).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApicSimulator } from '../../sim/apic';
import { exampleCredentials, exampleEnv, exampleFlow, type FlowNode } from '../../sim/nodered';
import { VcdSimulator } from '../../sim/vcd';
import { MailRelay } from '../support/mail-relay';
import { mailRelayMissing, needPeer } from '../support/peers';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

/** Webex's messages API as the example uses it: posts are kept, replies are read back by id. */
class WebexStandIn {
  readonly posts: { authorization?: string; roomId: string; markdown: string }[] = [];
  readonly replies = new Map<string, Record<string, string>>();
  readonly reads: { authorization?: string; id: string }[] = [];
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): void {
    this.server.close();
  }

  markdown(): string {
    return this.posts.map((p) => p.markdown).join('\n');
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const authorization = req.headers.authorization;
      const read = /^\/v1\/messages\/([\w-]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && read) {
        this.reads.push({ authorization, id: read[1]! });
        const reply = this.replies.get(read[1]!);
        res
          .writeHead(reply ? 200 : 404, { 'content-type': 'application/json' })
          .end(JSON.stringify(reply ?? {}));
        return;
      }
      this.posts.push({ authorization, ...(JSON.parse(body) as { roomId: string; markdown: string }) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"m-${this.posts.length}"}`);
    });
  }
}

describe('examples that act', function () {
  this.timeout(90_000);
  let red: RunningNodeRed | undefined;

  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });

  describe('approve-vm-changes-webex', () => {
    let vcd: VcdSimulator;
    let webex: WebexStandIn;

    afterEach(async () => {
      webex?.stop();
      await vcd?.stop();
    });

    async function run(): Promise<void> {
      vcd = await VcdSimulator.start();
      Object.assign(vcd.blocking.settings, { timeoutMs: 60_000, timeoutAction: 'abort' });
      webex = new WebexStandIn();
      const base = await webex.start();
      const flow = exampleFlow('approve-vm-changes-webex.json').map((n): FlowNode => {
        if (n.type === 'http request')
          return { ...n, url: String(n.url).replace('https://webexapis.com', base) };
        return n;
      });
      const ids = (type: string) => flow.filter((n) => n.type === type).map((n) => n.id);
      const bot = { user: '', password: 'webex-bot-t0ken' };
      red = await runNodeRed({
        flows: flow,
        credentials: {
          ...exampleCredentials(),
          ...Object.fromEntries(ids('http request').map((id) => [id, bot])),
        },
        env: {
          ...exampleEnv({ vcd: vcd.url, cert: vcd.cert }),
          WEBEX_ROOM_ID: 'room-approvers',
          APPROVERS: 'alice@example.com, bob@example.com',
        },
      });
      await waitFor(
        () => vcd.subscriptions.includes('publish/#'),
        "the system administrator's subscription",
        20_000,
      );
      // The example's own button makes VM changes wait: a vcd request node PUTs the blocking operations.
      const button = flow.find((n) => n.type === 'inject')!.id;
      assert.equal((await fetch(`${red.base}/inject/${button}`, { method: 'POST' })).status, 200);
      await waitFor(() => vcd.blocking.settings.operations.has('vappUpdateVm'), 'vappUpdateVm to block');
    }

    /** A tenant changes a VM; the approval request posted to Webex, and its reference. */
    async function held(vm: string, rename: string): Promise<string> {
      const before = webex.posts.length;
      vcd.reconfigureVm('acmeuser@acme', vm, rename);
      const post = await waitFor(
        () => webex.posts.slice(before).find((p) => p.markdown.includes(`on ${vm}?`)),
        `the request for ${vm}`,
        20_000,
      );
      return /ref `([0-9a-f]{8})`/.exec(post.markdown)![1]!;
    }

    /** Someone writes in a Webex room; Webex calls the flow's webhook with the message's id. */
    async function reply(
      id: string,
      personEmail: string,
      text: string,
      roomId = 'room-approvers',
    ): Promise<void> {
      webex.replies.set(id, { id, roomId, personEmail, text });
      const res = await fetch(`${red!.base}/webex/approvals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resource: 'messages', event: 'created', data: { id } }),
      });
      assert.equal(res.status, 200);
    }

    const posted = (pattern: RegExp, what: string) =>
      waitFor(() => pattern.test(webex.markdown()), what, 20_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${webex.markdown()}\n${red!.log()}`);
      });

    it("asks the room with the VM, its owner, who asked, the change and the time left; an approver's reply resumes it", async () => {
      await run();
      const ref = await held('web-01', 'web-01-bigger');
      const ask = webex.posts[0]!;
      assert.equal(ask.roomId, 'room-approvers');
      assert.equal(ask.authorization, 'Bearer webex-bot-t0ken');
      assert.match(ask.markdown, /\*\*Approve vappUpdateVm on web-01\?\*\*/);
      assert.match(ask.markdown, /Owner: acmeuser · asked by acmeuser in acme/);
      assert.match(ask.markdown, /Change: Updating Virtual Machine web-01\(/);
      assert.match(ask.markdown, /(0:5\d|1:00) left, then VCD will \*\*abort\*\* it\./);

      await reply('r-1', 'mallory@example.com', `approve ${ref}`); // not an approver: nothing happens
      await reply('r-2', 'alice@example.com', `approve ${ref}`, 'another-room'); // not the approvers' room
      await reply('r-3', 'Alice@example.com', `approve ${ref} ticket CHG-7`);
      await posted(
        new RegExp(
          `✅ vappUpdateVm on web-01 \\(ref \`${ref}\`\\) approved: Alice@example.com via Webex: ticket CHG-7`,
        ),
        'the approval',
      );
      await waitFor(() => vcd.inventory.vmNamed('acme', 'web-01-bigger'), 'the change to be made');
      assert.deepEqual(
        webex.reads.map((r) => r.id),
        ['r-1', 'r-2', 'r-3'],
        'every reply read back from Webex',
      );
      assert.ok(webex.reads.every((r) => r.authorization === 'Bearer webex-bot-t0ken'));
      assert.match(red!.log(), /mallory@example\.com is not among the approvers/);
      assert.equal((webex.markdown().match(/approved/g) ?? []).length, 1);
    });

    it('a rejection aborts it; a reply after that is answered too late; no answer in time shows the default action', async () => {
      await run();
      const ref = await held('db-01', 'db-01-renamed');
      await reply('r-1', 'bob@example.com', `reject ${ref} not in a change window`);
      await posted(
        /⛔ vappUpdateVm on db-01 .* rejected: bob@example.com via Webex: not in a change window/,
        'the rejection',
      );
      await reply('r-2', 'alice@example.com', `approve ${ref}`);
      await posted(
        new RegExp(
          `⏱️ Too late for vappUpdateVm on db-01 \\(ref \`${ref}\`\\): it had already ended \\(aborted; the task is aborted\\)`,
        ),
        'too late',
      );
      assert.equal(vcd.inventory.vmNamed('acme', 'db-01-renamed'), undefined);

      vcd.blocking.settings.timeoutMs = 2500;
      const slow = await held('app-01', 'app-01-renamed');
      await posted(
        new RegExp(
          `⌛ No decision on vappUpdateVm on app-01 \\(ref \`${slow}\`\\) in time: VCD applied its default action \\*\\*abort\\*\\* \\(the task is aborted\\)`,
        ),
        'the default action',
      );
      assert.doesNotMatch(red!.log(), /\[error\]/);
    });
  });

  describe('aci-fault-context-to-email', () => {
    let apic: ApicSimulator;
    let relay: MailRelay | undefined;

    before(function () {
      needPeer(this, mailRelayMissing());
    });

    afterEach(async () => {
      relay?.stop();
      await apic?.stop();
    });

    it('mails each major fault with the EPGs of its bridge domain or the interface behind a port, and acknowledges it', async () => {
      apic = await ApicSimulator.start({ ratePerSec: 0 });
      relay = await MailRelay.start();
      const flow = exampleFlow('aci-fault-context-to-email.json').map((n): FlowNode => {
        if (n.type === 'e-mail')
          return {
            ...n,
            server: '127.0.0.1',
            port: String(relay!.port),
            authtype: 'NONE',
            secure: false,
            tls: false,
          };
        return n;
      });
      const id = (type: string) => flow.find((n) => n.type === type)!.id;
      red = await runNodeRed({
        flows: flow,
        credentials: {
          ...exampleCredentials(),
          [id('e-mail')]: {},
        },
        modules: ['node-red-node-email'],
        env: {
          ...exampleEnv({ apicHosts: apic.hosts, cert: apic.cert }),
          MAIL_FROM: 'aci-alerts@example.com',
        },
      });
      await waitFor(() => apic.liveSubscriptions.length === 1, 'the fault subscription', 20_000);
      apic.raiseFault('uni/tn-prod/BD-bd-db', 'F0467', 'raised'); // minor: not mailed
      const bdFault = apic.raiseFault('uni/tn-prod/BD-bd-web', 'F1527', 'raised'); // major
      const portFault = apic.raiseFault('topology/pod-1/node-101/sys/phys-[eth1/1]/phys', 'F0103', 'raised'); // critical
      await waitFor(() => relay!.messages().length >= 2, 'two mails', 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${red!.log()}`);
      });
      await waitFor(
        () =>
          apic.tree.get(bdFault)?.attributes.ack === 'yes' &&
          apic.tree.get(portFault)?.attributes.ack === 'yes',
        'both faults acknowledged',
      );
      await new Promise((r) => setTimeout(r, 1500)); // an acknowledged fault's own push must not mail again
      const mails = relay.messages();
      assert.equal(mails.length, 2, mails.join('\n----\n'));
      const bd = mails.find((m) => m.includes('BD-bd-web'))!;
      assert.match(bd, /Subject: \[ACI\] major fault F1527 raised on uni\/tn-prod\/BD-bd-web/);
      assert.match(bd, /EPGs of bridge domain bd-web:\s+- fvAEPg uni\/tn-prod\/ap-prod-app\/epg-web/);
      assert.match(bd, /MAIL FROM: aci-alerts@example\.com/);
      const port = mails.find((m) => m.includes('phys-[eth1/1]'))!;
      assert.match(
        port,
        /the interface:\s+- l1PhysIf topology\/pod-1\/node-101\/sys\/phys-\[eth1\/1\] \(esx-01 vmnic0\), admin up/,
      );
      assert.match(port, /code: +F0103/);
      assert.equal(
        apic.tree.get('uni/tn-prod/BD-bd-db/fault-F0467')?.attributes.ack,
        'no',
        'the minor one is left alone',
      );
      assert.ok(apic.tree.all().some((m) => m.className === 'aaaModLR' && m.attributes.affected === bdFault));
      assert.doesNotMatch(red!.log(), /\[error\]/);
    });
  });
});
