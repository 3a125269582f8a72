/**
 * Settings written ${NAME}: Node-RED fills them in from the environment when it
 * starts a node (its settings and its credentials), so "Test connection" fills
 * them in the same way, or it would send the literal text (a 401 that counts
 * towards the account's lockout). An environment variable is a secret the
 * runtime holds: the test fills it in only for the deployed node's own target,
 * and no refusal shows a value.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import aciController from '../../nodes/aci/aci-controller';
import vcdLogin from '../../nodes/vcd/vcd-login';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { helper } from '../support/red';

type Body = Record<string, unknown>;
interface Reply {
  status: number;
  body: Body;
}

const PLACEHOLDER = '__PWRD__';
const SECRET = 'env-secret-4711';

describe('security: test connection with settings from the environment', function () {
  let vcd: VcdSimulator;
  let apic: ApicSimulator;
  let hostile: http.Server;
  let hostileUrl = '';
  let hostileRequests = 0;
  const env: Record<string, string> = {};

  before(async () => {
    await helper.startServer();
    vcd = await VcdSimulator.start();
    apic = await ApicSimulator.start({ ratePerSec: 0 });
    hostile = http.createServer((_req, res) => {
      hostileRequests++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    Object.assign(env, {
      DCE_VCD_URL: vcd.url,
      DCE_VCD_USER: 'acmeadmin',
      DCE_VCD_PASSWORD: DEFAULT_PASSWORD,
      DCE_APIC_HOSTS: apic.hosts,
      DCE_APIC_PASSWORD: DEFAULT_APIC_PASSWORD,
      DCE_HOSTILE_URL: hostileUrl,
      DCE_OTHER_SECRET: SECRET,
    });
    Object.assign(process.env, env);
  });
  after(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    hostile.closeAllConnections();
    await new Promise((resolve) => hostile.close(resolve));
    await vcd.stop();
    await apic.stop();
    await helper.stopServer();
  });
  afterEach(() => helper.unload());

  /** The URL and CA from the process environment, the organization from the flow's own variables. */
  const load = () =>
    helper.load(
      [vcdLogin, aciController],
      [
        { id: 'tab', type: 'tab', env: [{ name: 'VCD_ORG', value: 'acme', type: 'str' }] },
        {
          id: 'login',
          type: 'vcd-login',
          z: 'tab',
          url: '${DCE_VCD_URL}',
          org: '${VCD_ORG}',
          authType: 'password',
          ca: vcd.cert,
        },
        // Only the password from the environment, as in the report: the test sent it as written.
        {
          id: 'plain',
          type: 'vcd-login',
          z: 'tab',
          url: vcd.url,
          org: 'acme',
          authType: 'password',
          ca: vcd.cert,
        },
        {
          id: 'ctrl',
          type: 'aci-controller',
          z: 'tab',
          hosts: '$(DCE_APIC_HOSTS)',
          authType: 'password',
          ca: apic.cert,
        },
      ],
      {
        login: { username: '${DCE_VCD_USER}', password: '${DCE_VCD_PASSWORD}' },
        plain: { username: 'acmeadmin', password: '${DCE_VCD_PASSWORD}' },
        ctrl: { username: 'admin', password: '${DCE_APIC_PASSWORD}' },
      },
    );

  async function post(route: string, body: Body): Promise<Reply> {
    return (await helper.request().post(route).send(body)) as unknown as Reply;
  }
  /** What the dialog of the deployed vcd login sends: its settings as saved, the password unchanged. */
  const vcdBody = (change: Body = {}): Body => ({
    id: 'login',
    url: '${DCE_VCD_URL}',
    org: '${VCD_ORG}',
    authType: 'password',
    ca: vcd.cert,
    username: '${DCE_VCD_USER}',
    password: PLACEHOLDER,
    ...change,
  });
  const aciBody = (change: Body = {}): Body => ({
    id: 'ctrl',
    hosts: '$(DCE_APIC_HOSTS)',
    authType: 'password',
    ca: apic.cert,
    username: 'admin',
    password: PLACEHOLDER,
    ...change,
  });

  it('logs in with what the deployed node uses: no literal ${NAME} reaches VCD or the APIC', async () => {
    await load();
    const vcdFailures = vcd.stats.failedLogins;
    const apicFailures = apic.stats.failedLogins;
    const plain = { id: 'plain', url: vcd.url, org: 'acme', username: 'acmeadmin' };
    const p = await post('/vcd-login/test', vcdBody(plain));
    assert.equal(p.body.ok, true, JSON.stringify(p.body));
    const v = await post('/vcd-login/test', vcdBody());
    assert.equal(v.body.ok, true, JSON.stringify(v.body));
    assert.equal(v.body.org, 'acme');
    assert.equal(v.body.user, 'acmeadmin');
    const a = await post('/aci-controller/test', aciBody());
    assert.equal(a.body.ok, true, JSON.stringify(a.body));
    // The same ${NAME} typed again stands for the node's own secret.
    const typed = await post('/vcd-login/test', vcdBody({ password: '${DCE_VCD_PASSWORD}' }));
    assert.equal(typed.body.ok, true, JSON.stringify(typed.body));
    assert.equal(vcd.stats.failedLogins, vcdFailures, 'no refused login counts towards a lockout');
    assert.equal(apic.stats.failedLogins, apicFailures);
  });

  it('fills in nothing for another target, another ${NAME} or a node that is not deployed, and says no value', async () => {
    await load();
    const vcdLogins = vcd.stats.passwordLogins + vcd.stats.failedLogins;
    const refusals: [string, string, Body][] = [
      [
        "an address from the environment that is not the node's",
        '/vcd-login/test',
        vcdBody({ url: '${DCE_HOSTILE_URL}' }),
      ],
      [
        'a typed address with the user from the environment',
        '/vcd-login/test',
        vcdBody({ url: hostileUrl, password: 'typed' }),
      ],
      ['another variable as the password', '/vcd-login/test', vcdBody({ password: '${DCE_OTHER_SECRET}' })],
      [
        'another variable as the user',
        '/vcd-login/test',
        vcdBody({ username: '${DCE_OTHER_SECRET}', password: 'x' }),
      ],
      ['a node that is not deployed', '/vcd-login/test', vcdBody({ id: 'new-node', password: 'typed' })],
      ['no node at all', '/vcd-login/test', vcdBody({ id: undefined, password: 'typed' })],
      ['a node of another type', '/vcd-login/test', vcdBody({ id: 'ctrl' })],
      ['the APICs from another variable', '/aci-controller/test', aciBody({ hosts: '${DCE_HOSTILE_URL}' })],
      [
        'a variable as the APIC password',
        '/aci-controller/test',
        aciBody({ password: '${DCE_OTHER_SECRET}' }),
      ],
    ];
    for (const [what, route, body] of refusals) {
      const reply = await post(route, body);
      assert.equal(reply.status, 400, `${what}: ${JSON.stringify(reply.body)}`);
      assert.match(String(reply.body.code), /^ADMIN_(ENV_NOT_DEPLOYED|SECRET_RETYPE)$/, what);
      const said = JSON.stringify(reply.body);
      for (const value of [SECRET, hostileUrl, vcd.url, DEFAULT_PASSWORD])
        assert.ok(!said.includes(value), `${what}: ${said}`);
    }
    assert.equal(hostileRequests, 0, 'the hostile server heard nothing');
    assert.equal(vcd.stats.passwordLogins + vcd.stats.failedLogins, vcdLogins, 'nor did VCD');
  });
});
