/**
 * Proxies as the core nodes honour them, seen by a real proxy on loopback: the
 * sink's requests, the VCD login and its message bus, the APIC login and its
 * socket all go through it (to hosts only the proxy can resolve, so nothing can
 * go around it); NO_PROXY lets them go direct; TLS to the target through the
 * tunnel is still verified; the proxy's credentials appear nowhere.
 */
import assert from 'node:assert/strict';
import aciController from '../../nodes/aci/aci-controller';
import aciSubscribe from '../../nodes/aci/aci-subscribe';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import cloudeventSink from '../../nodes/events/cloudevent-sink';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import { SinkSimulator } from '../../sim/sink';
import { VcdSimulator } from '../../sim/vcd';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { ConnectProxy, proxyEnvironment } from '../support/connect-proxy';
import {
  catchAll,
  catchNode,
  collectCaught,
  helper,
  loggedText,
  tlsConfig,
  tlsConfigNode,
} from '../support/red';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpProxy = require('@node-red/nodes/core/network/06-httpproxy.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;
const PROXY_PASSWORD = 'pr0xy-s3cret';
const port = (url: string) => new URL(url).port;

describe('proxies: the sink, the VCD login and bus, the APIC login and socket', function () {
  let vcd: VcdSimulator;
  let apic: ApicSimulator;
  let sink: SinkSimulator;
  let proxy: ConnectProxy;
  const env = proxyEnvironment();

  before(async () => {
    await helper.startServer();
    vcd = await VcdSimulator.start({ ratePerSec: 0 });
    apic = await ApicSimulator.start({ ratePerSec: 0 });
    sink = await SinkSimulator.start();
  });
  after(async () => {
    await helper.stopServer();
    await Promise.all([vcd.stop(), apic.stop(), sink.stop()]);
  });
  beforeEach(() => env.set({}));
  afterEach(async () => {
    await helper.unload();
    await proxy?.stop();
    sink.reset();
    env.restore();
  });

  /** Addresses only the proxy resolves: a connection that reaches them went through it. */
  const hidden = {
    vcd: () => `https://vcd.proxied.invalid:${port(vcd.url)}`,
    apic: () => `apic.proxied.invalid:${port(apic.url)}`,
    sink: () => `https://sink.proxied.invalid:${port(sink.url)}/events`,
  };
  const resolve = {
    'vcd.proxied.invalid': '127.0.0.1',
    'apic.proxied.invalid': '127.0.0.1',
    'sink.proxied.invalid': '127.0.0.1',
  };

  /** The three systems and their config nodes; `via` names a proxy node (or none: the environment's). */
  function flow(addresses: { vcd: string; apic: string; sink: string }, via?: string, tls = 'tls'): Msg[] {
    return [
      { id: 'tab', type: 'tab' },
      // The simulators' certificate names localhost: the TLS configuration checks that name.
      tlsConfigNode('tls', { servername: 'localhost' }),
      tlsConfigNode('noca', { servername: 'localhost' }),
      { id: 'proxy', type: 'http proxy', url: proxy.url, noproxy: [] },
      {
        id: 'login',
        type: 'vcd-login',
        url: addresses.vcd,
        org: 'acme',
        authType: 'password',
        tls,
        proxy: via,
      },
      { id: 'ctrl', type: 'aci-controller', hosts: addresses.apic, authType: 'password', tls, proxy: via },
      { id: 'sinkcfg', type: 'cloudevent-sink', url: addresses.sink, authType: 'bearer', tls, proxy: via },
      {
        id: 'vsub',
        type: 'vcd-subscribe',
        z: 'tab',
        login: 'login',
        topic: 'publish/{org}/+',
        qos: '1',
        wires: [['vout']],
      },
      {
        id: 'asub',
        type: 'aci-subscribe',
        z: 'tab',
        controller: 'ctrl',
        subscriptions: 'fvBD',
        refreshTimeout: 60,
        initial: 'skip',
        output: 'object',
        wires: [['aout']],
      },
      {
        id: 'emit',
        type: 'cloudevent-emit',
        z: 'tab',
        sink: 'sinkcfg',
        mode: 'binary',
        retryBudget: 5,
        wires: [['eout'], ['efail']],
      },
      { id: 'vout', type: 'helper', z: 'tab' },
      { id: 'aout', type: 'helper', z: 'tab' },
      { id: 'eout', type: 'helper', z: 'tab' },
      { id: 'efail', type: 'helper', z: 'tab' },
      ...catchAll('tab'),
    ];
  }

  const credentials = (proxyUser?: string) => ({
    tls: { cadata: vcd.cert ?? '' },
    noca: {},
    ...(proxyUser ? { proxy: { username: proxyUser, password: PROXY_PASSWORD } } : {}),
    login: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
    ctrl: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
    sinkcfg: { token: 'sink-token' },
  });

  async function load(f: Msg[], proxyUser?: string) {
    await helper.load(
      [
        tlsConfig,
        httpProxy,
        vcdLogin,
        vcdSubscribe,
        aciController,
        aciSubscribe,
        cloudeventSink,
        cloudeventEmit,
        catchNode,
      ],
      f,
      credentials(proxyUser),
    );
    const got: Record<string, Msg[]> = { vout: [], aout: [], eout: [], efail: [] };
    for (const id of Object.keys(got)) helper.getNode(id).on('input', (m: Msg) => got[id]!.push(m));
    return { got, caught: collectCaught() };
  }

  /** An event from each system through the flow: VCD over its bus, ACI over its socket, and one to the sink. */
  async function eventsFlow(got: Record<string, Msg[]>): Promise<void> {
    await waitFor(() => vcd.subscriptions.length === 1, 'the VCD bus subscription', 20_000);
    vcd.publishEvent({ actor: 'acmeuser@acme' });
    await waitFor(() => got.vout!.length > 0, 'a VCD event over the bus');
    await waitFor(() => apic.liveSubscriptions.length === 1, 'the APIC subscription', 20_000);
    apic.modify('uni/tn-prod/BD-bd-web', { descr: 'through the proxy' });
    await waitFor(() => got.aout!.length > 0, 'an ACI change over the socket');
    helper
      .getNode('emit')
      .receive({ payload: { ok: true }, cloudevent: { id: 'p-1', type: 't', source: '/s' } });
    await waitFor(() => got.eout!.length > 0 || got.efail!.length > 0, 'the delivery');
    assert.deepEqual(got.efail, []);
    assert.equal(sink.received[0]?.event.id, 'p-1');
  }

  const tunnels = (p: ConnectProxy) =>
    p.seen.filter((r) => r.method === 'CONNECT' && r.status === 200).map((r) => r.target.split(':')[0]);

  it('a proxy config node (with credentials) carries all of it, and its password appears nowhere', async () => {
    proxy = await ConnectProxy.start({ credentials: `svc:${PROXY_PASSWORD}`, resolve });
    const { got, caught } = await load(
      flow({ vcd: hidden.vcd(), apic: hidden.apic(), sink: hidden.sink() }, 'proxy'),
      'svc',
    );
    await eventsFlow(got);
    const through = tunnels(proxy);
    // The login and the bus are two connections to VCD, the REST session and the socket two to the APIC.
    assert.ok(through.filter((h) => h === 'vcd.proxied.invalid').length >= 2, through.join(' '));
    assert.ok(through.filter((h) => h === 'apic.proxied.invalid').length >= 2, through.join(' '));
    assert.ok(through.includes('sink.proxied.invalid'), through.join(' '));
    assert.equal(
      sink.log.at(-1)?.authorization,
      'Bearer sink-token',
      'the credentials went through the tunnel',
    );
    assert.deepEqual(caught, []);
    assert.ok(!loggedText().includes(PROXY_PASSWORD));
  });

  it('HTTPS_PROXY of the environment carries all of it without a proxy node', async () => {
    proxy = await ConnectProxy.start({ resolve });
    env.set({ HTTPS_PROXY: proxy.url });
    const { got } = await load(flow({ vcd: hidden.vcd(), apic: hidden.apic(), sink: hidden.sink() }));
    await eventsFlow(got);
    const through = new Set(tunnels(proxy));
    assert.deepEqual([...through].sort(), [
      'apic.proxied.invalid',
      'sink.proxied.invalid',
      'vcd.proxied.invalid',
    ]);
  });

  it('NO_PROXY lets the hosts it names go direct: the proxy sees nothing', async () => {
    proxy = await ConnectProxy.start({ resolve });
    env.set({ https_proxy: proxy.url, no_proxy: 'localhost,127.0.0.1' });
    const { got } = await load(flow({ vcd: vcd.url, apic: apic.hosts, sink: `${sink.url}/events` }));
    await eventsFlow(got);
    assert.deepEqual(proxy.seen, []);
  });

  it('a plain http:// sink is forwarded to the proxy, as the core http request node does', async () => {
    const plain = await SinkSimulator.start({ tls: false });
    try {
      proxy = await ConnectProxy.start({ resolve: { 'plain.proxied.invalid': '127.0.0.1' } });
      env.set({ HTTP_PROXY: proxy.url });
      const f = flow({
        vcd: vcd.url,
        apic: apic.hosts,
        sink: `http://plain.proxied.invalid:${port(plain.url)}/events`,
      });
      const { got } = await load(f.filter((n) => !['vsub', 'asub'].includes(n.id as string)));
      helper
        .getNode('emit')
        .receive({ payload: { ok: 1 }, cloudevent: { id: 'f-1', type: 't', source: '/s' } });
      await waitFor(() => got.eout!.length > 0 || got.efail!.length > 0, 'the delivery');
      assert.deepEqual(got.efail, []);
      assert.equal(plain.received[0]?.event.id, 'f-1');
      assert.deepEqual(proxy.targets(), [`POST plain.proxied.invalid:${port(plain.url)}`]);
    } finally {
      await plain.stop();
    }
  });

  it('through the tunnel, the target is still verified: without its CA the sink is not trusted', async () => {
    proxy = await ConnectProxy.start({ resolve });
    env.set({ HTTPS_PROXY: proxy.url });
    const f = flow({ vcd: vcd.url, apic: apic.hosts, sink: hidden.sink() }, undefined, 'noca');
    const { got } = await load(f.filter((n) => !['vsub', 'asub'].includes(n.id as string)));
    helper.getNode('emit').receive({ payload: {}, cloudevent: { id: 'u-1', type: 't', source: '/s' } });
    const failed = await waitFor(() => got.efail![0], 'the refused delivery');
    assert.equal((failed.error as { code: string }).code, 'TLS_UNTRUSTED');
    assert.ok(tunnels(proxy).includes('sink.proxied.invalid'), 'the tunnel was made; TLS inside it failed');
    assert.deepEqual(sink.received, []);
  });

  it('a proxy that refuses (wrong credentials) is PROXY_FAILED at Catch from every node, and the password is not quoted', async () => {
    proxy = await ConnectProxy.start({ credentials: 'svc:other', resolve });
    const { caught } = await load(
      flow({ vcd: hidden.vcd(), apic: hidden.apic(), sink: hidden.sink() }, 'proxy'),
      'svc',
    );
    helper.getNode('emit').receive({ payload: {}, cloudevent: { id: 'r-1', type: 't', source: '/s' } });
    const from = (id: string) =>
      caught.some((m) => {
        const error = m.error as { code?: string; source?: { id?: string } };
        return error.code === 'PROXY_FAILED' && error.source?.id === id;
      });
    await waitFor(
      () => from('vsub') && from('asub') && from('emit'),
      'PROXY_FAILED at Catch from each',
      20_000,
    );
    assert.ok(proxy.seen.some((r) => r.status === 407));
    assert.ok(!loggedText().includes(PROXY_PASSWORD));
    assert.ok(!JSON.stringify(caught).includes(PROXY_PASSWORD));
  });
});
