/**
 * The test-connection routes, tried as someone who can reach the editor's admin
 * API (or a web page open in the operator's browser): a deployed node's stored
 * secret goes only to the system that node talks to, whatever the request says.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import aciController from '../../nodes/aci/aci-controller';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import type { VcdLoginNode } from '../../nodes/vcd/login-api';
import vcdLogin from '../../nodes/vcd/vcd-login';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { serverCertificate } from '../../sim/tls';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { helper } from '../support/red';

type Body = Record<string, unknown>;
interface Reply {
  status: number;
  body: Body;
}

/** An HTTP and an HTTPS server on loopback that count every connection made to them. */
class HostileServers {
  connections = 0;
  private readonly servers: (http.Server | https.Server)[] = [];
  readonly urls: string[] = [];

  async start(): Promise<this> {
    const { cert, key } = await serverCertificate();
    for (const server of [http.createServer(), https.createServer({ cert, key })]) {
      server.on('connection', () => this.connections++);
      server.on('request', (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const scheme = server instanceof https.Server ? 'https' : 'http';
      this.urls.push(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`);
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}

const PLACEHOLDER = '__PWRD__';

describe('security: test-connection routes keep stored secrets with their system', function () {
  let vcd: VcdSimulator;
  let apic: ApicSimulator;
  let hostile: HostileServers;

  before(async () => {
    await helper.startServer();
    vcd = await VcdSimulator.start();
    apic = await ApicSimulator.start({ ratePerSec: 0 });
    hostile = await new HostileServers().start();
  });
  after(async () => {
    await hostile.stop();
    await vcd.stop();
    await apic.stop();
    await helper.stopServer();
  });
  afterEach(() => helper.unload());

  const flow = (login: Body = {}) => [
    { id: 'tab', type: 'tab' },
    {
      id: 'login',
      type: 'vcd-login',
      url: vcd.url,
      org: 'acme',
      authType: 'password',
      ca: vcd.cert,
      ...login,
    },
    { id: 'ctrl', type: 'aci-controller', hosts: apic.hosts, authType: 'password', ca: apic.cert },
    {
      id: 'emit',
      type: 'cloudevent-emit',
      z: 'tab',
      url: 'http://127.0.0.1:9/events',
      authType: 'basic',
      wires: [[], []],
    },
  ];
  const credentials = {
    login: { username: 'acmeadmin', password: DEFAULT_PASSWORD, apiToken: 'sim-api-token-acmeadmin' },
    ctrl: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
    emit: { username: 'sink-user', password: 'sink-password' },
  };
  const load = (login: Body = {}, loginCredentials: Body = {}) => {
    const creds = structuredClone(credentials);
    Object.assign(creds.login, loginCredentials);
    return helper.load([vcdLogin, aciController, cloudeventEmit], flow(login), creds);
  };

  async function post(route: string, body: Body): Promise<Reply> {
    return (await helper.request().post(route).send(body)) as unknown as Reply;
  }
  const vcdBody = (body: Body = {}): Body => ({
    id: 'login',
    url: vcd.url,
    org: 'acme',
    authType: 'password',
    ca: vcd.cert,
    username: 'acmeadmin',
    password: PLACEHOLDER,
    ...body,
  });
  const aciBody = (body: Body = {}): Body => ({
    id: 'ctrl',
    hosts: apic.hosts,
    authType: 'password',
    ca: apic.cert,
    username: 'admin',
    password: PLACEHOLDER,
    ...body,
  });
  const withheld = (reply: Reply, what: string) => {
    assert.equal(reply.status, 400, `${what}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.code, 'ADMIN_SECRET_RETYPE', what);
  };

  it('a hostile server receives nothing for any mix of node id, address and node type', async () => {
    await load();
    const ids = ['login', 'ctrl', 'emit', 'no-such-node', undefined];
    const secrets = { password: PLACEHOLDER, apiToken: PLACEHOLDER, privateKey: PLACEHOLDER };
    const [plain, tls] = hostile.urls as [string, string];
    const apicHosts = apic.hosts.split(', ');
    for (const id of ids) {
      for (const url of [plain, tls, `${tls}/`, `${plain.replace('127.0.0.1', 'localhost')}`]) {
        for (const authType of ['password', 'apiToken']) {
          const body = { ...vcdBody({ id, url, authType, ca: undefined }), ...secrets };
          withheld(await post('/vcd-login/test', body), `vcd ${id} ${url} ${authType}`);
        }
      }
      const hostLists = [
        plain,
        tls.replace('https://', ''),
        [...apicHosts, tls.replace('https://', '')].join(', '), // the deployed APICs and one more
        `${apicHosts[0]}, ${plain}`,
      ];
      for (const hosts of hostLists) {
        for (const authType of ['password', 'certificate']) {
          const body = { ...aciBody({ id, hosts, authType, certificateName: 'x' }), ...secrets };
          withheld(await post('/aci-controller/test', body), `aci ${id} ${hosts} ${authType}`);
        }
      }
    }
    assert.equal(hostile.connections, 0);
  });

  it('uses the stored secret for the deployed target however its address is written', async () => {
    await load({ url: `${vcd.url}/` });
    const vcdReply = await post(
      '/vcd-login/test',
      vcdBody({ url: ` ${vcd.url.replace('https://', 'HTTPS://')}` }),
    );
    assert.equal(vcdReply.body.ok, true, JSON.stringify(vcdReply.body));
    // The same APICs in another order, with the scheme written out.
    const reordered = apic.urls.slice().reverse().join(',');
    const aciReply = await post('/aci-controller/test', aciBody({ hosts: reordered }));
    assert.equal(aciReply.body.ok, true, JSON.stringify(aciReply.body));
  });

  it('needs the secret typed again when anything but the secret differs from the deployed node', async () => {
    await load();
    const vcdChanges: [string, Body][] = [
      ['org', { org: 'other' }],
      ['user', { username: 'acmeuser' }],
      ['auth type', { authType: 'apiToken', apiToken: PLACEHOLDER }],
      ['CA', { ca: '' }],
      ['verification', { tlsInsecure: true }],
      ['node type', { id: 'ctrl' }],
    ];
    for (const [what, change] of vcdChanges) withheld(await post('/vcd-login/test', vcdBody(change)), what);
    const token = await post('/vcd-login/test', vcdBody({ authType: 'apiToken', apiToken: PLACEHOLDER }));
    assert.match(String(token.body.message), /^Type the API token again/);
    const aciChanges: [string, Body][] = [
      ['user', { username: 'operator' }],
      ['one APIC less', { hosts: apic.hosts.split(', ').slice(1).join(', ') }],
      ['auth type', { authType: 'certificate', privateKey: PLACEHOLDER, certificateName: 'c' }],
      ['verification', { tlsInsecure: true }],
      ['node type', { id: 'login' }],
    ];
    for (const [what, change] of aciChanges)
      withheld(await post('/aci-controller/test', aciBody(change)), what);
    // Typed in, the same settings work: only the stored secret is withheld.
    const typed = await post('/vcd-login/test', vcdBody({ tlsInsecure: true, password: DEFAULT_PASSWORD }));
    assert.equal(typed.body.ok, true);
  });

  it('a token rotated by another target never reaches the deployed node', async () => {
    const other = await VcdSimulator.start();
    try {
      await load({ authType: 'apiToken' }, { apiToken: 'sim-service-account-token' });
      const node = helper.getNode('login') as unknown as VcdLoginNode;
      const deployedToken = node.session!.currentApiToken;
      assert.equal(deployedToken, 'sim-service-account-token');
      // The same service-account token typed in, sent to another VCD that rotates it.
      const reply = await post(
        '/vcd-login/test',
        vcdBody({ url: other.url, ca: other.cert, authType: 'apiToken', apiToken: deployedToken }),
      );
      assert.equal(reply.body.ok, true, JSON.stringify(reply.body));
      assert.equal(typeof reply.body.rotatedToken, 'string', 'the dialog gets the token it typed, rotated');
      assert.equal(node.session!.currentApiToken, deployedToken, 'the deployed node keeps its own token');
    } finally {
      await other.stop();
    }
  });

  it('refuses a 200 KB private key at once, without reading it (it took seconds to normalize)', async () => {
    await load();
    const privateKey = '-----BEGIN A-----'.repeat(12_000);
    const t0 = performance.now();
    const reply = await post(
      '/aci-controller/test',
      aciBody({ hosts: hostile.urls[0], authType: 'certificate', certificateName: 'c', privateKey }),
    );
    const ms = performance.now() - t0;
    assert.equal(reply.body.code, 'APIC_CONFIG_INVALID');
    assert.match(String(reply.body.message), /longer than 16 KiB/);
    assert.ok(ms < 1000, `${Math.round(ms)} ms`);
    assert.equal(hostile.connections, 0);
  });

  it('refuses form-encoded and text/plain bodies (what a foreign web page can send)', async () => {
    await load();
    for (const route of ['/vcd-login/test', '/aci-controller/test']) {
      const body = route.startsWith('/vcd')
        ? vcdBody({ url: hostile.urls[0] })
        : aciBody({ hosts: hostile.urls[0] });
      const form = new URLSearchParams(body as Record<string, string>).toString();
      const asForm = (await helper
        .request()
        .post(route)
        .set('content-type', 'application/x-www-form-urlencoded')
        .send(form)) as unknown as Reply;
      assert.equal(asForm.status, 415, route);
      assert.equal(asForm.body.code, 'ADMIN_JSON_ONLY');
      const asText = (await helper
        .request()
        .post(route)
        .set('content-type', 'text/plain')
        .send(JSON.stringify(body))) as unknown as Reply;
      assert.equal(asText.status, 415, route);
      const asArray = await post(route, [body] as unknown as Body);
      assert.equal(asArray.body.code, 'ADMIN_BAD_REQUEST', route);
    }
    assert.equal(hostile.connections, 0);
  });
});
