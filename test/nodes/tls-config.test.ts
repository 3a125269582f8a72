/**
 * The core TLS configuration as vcd login, aci controller and the sink use it:
 * its CA (here a file named by an environment variable, as in a container) is
 * trusted, without it the target is not; turning verification off connects to
 * an untrusted one; its client certificate is presented to a server that asks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import cloudeventSink from '../../nodes/events/cloudevent-sink';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { serverCertificate } from '../../sim/tls';
import { VcdSimulator } from '../../sim/vcd';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { catchAll, catchNode, collectCaught, helper, record, tlsConfig, tlsConfigNode } from '../support/red';
import { waitFor } from '../support/wait';

type Msg = Record<string, unknown>;
const tls = (extra: Msg = {}): Msg => tlsConfigNode('tls', extra);

describe('the core TLS configuration', function () {
  let vcd: VcdSimulator;
  let dir: string;

  before(async () => {
    await helper.startServer();
    vcd = await VcdSimulator.start({ ratePerSec: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-config-'));
  });
  after(async () => {
    await helper.stopServer();
    await vcd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env.TEST_VCD_CA_FILE;
  });
  afterEach(() => helper.unload());

  async function login(tlsNode: Msg) {
    await helper.load(
      [tlsConfig, vcdLogin, vcdSubscribe, catchNode],
      [
        { id: 'tab', type: 'tab' },
        tlsNode,
        { id: 'login', type: 'vcd-login', url: vcd.url, org: 'acme', authType: 'password', tls: 'tls' },
        {
          id: 'sub',
          type: 'vcd-subscribe',
          z: 'tab',
          login: 'login',
          topic: 'publish/{org}/+',
          qos: '1',
          wires: [[]],
        },
        ...catchAll('tab'),
      ],
      { login: { username: 'acmeadmin', password: DEFAULT_PASSWORD } },
    );
    return { rec: record(helper.getNode('sub')), caught: collectCaught() };
  }

  it('trusts its CA, here a local file named by an environment variable', async () => {
    const file = path.join(dir, 'vcd-ca.pem');
    fs.writeFileSync(file, vcd.cert ?? '');
    process.env.TEST_VCD_CA_FILE = file;
    const { rec } = await login(tls({ ca: '${TEST_VCD_CA_FILE}' }));
    await waitFor(() => rec.statuses.some((s) => s.fill === 'green'), 'connected');
    await waitFor(() => vcd.subscriptions.length === 1, 'the subscription');
  });

  it('without the CA the server is not trusted; with verification off it is reached', async () => {
    const untrusted = await login(tls());
    await waitFor(() => untrusted.caught[0], 'the error at Catch');
    assert.equal((untrusted.caught[0]!.error as { code: string }).code, 'TLS_UNTRUSTED');
    await helper.unload();
    const { rec } = await login(tls({ verifyservercert: false }));
    await waitFor(() => rec.statuses.some((s) => s.fill === 'green'), 'connected without verification');
  });

  it('presents its client certificate to a server that asks for one', async () => {
    const client = await generate([{ name: 'commonName', value: 'node-red-emitter' }], { keySize: 2048 });
    const server = await serverCertificate();
    const peers: string[] = [];
    const sink = https.createServer(
      { cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        peers.push(String(peer?.subject?.CN ?? 'none'));
        req.resume();
        res.writeHead(peer?.subject ? 202 : 401).end();
      },
    );
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `https://127.0.0.1:${(sink.address() as AddressInfo).port}/events`;
      await helper.load(
        [tlsConfig, cloudeventSink, cloudeventEmit, catchNode],
        [
          { id: 'tab', type: 'tab' },
          tls(),
          { id: 'sinkcfg', type: 'cloudevent-sink', url, authType: 'none', tls: 'tls' },
          {
            id: 'emit',
            type: 'cloudevent-emit',
            z: 'tab',
            sink: 'sinkcfg',
            mode: 'structured',
            wires: [['out'], ['out']],
          },
          { id: 'out', type: 'helper', z: 'tab' },
          ...catchAll('tab'),
        ],
        { tls: { cadata: server.cert, certdata: client.cert, keydata: client.private } },
      );
      const out: Msg[] = [];
      helper.getNode('out').on('input', (m: Msg) => out.push(m));
      helper.getNode('emit').receive({ payload: {}, cloudevent: { id: 'm-1', type: 't', source: '/s' } });
      await waitFor(() => out[0], 'the result');
      assert.deepEqual(peers, ['node-red-emitter']);
      assert.equal((out[0]!.payload as { status: number }).status, 202);
    } finally {
      await new Promise((r) => sink.close(r));
    }
  });
});
