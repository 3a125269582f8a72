/**
 * aci request in the Node-RED runtime, against the APIC simulator: queries
 * with aci subscribe's checked options, every page, configuration posts
 * (a fault acknowledged, an object tagged), read-only by default, and the
 * controller's session across an expired token, throttling and an APIC that
 * goes away; certificate signatures too.
 */
import assert from 'node:assert/strict';
import aciController from '../../nodes/aci/aci-controller';
import aciRequest from '../../nodes/aci/aci-request';
import { ApicSimulator, DEFAULT_APIC_PASSWORD } from '../../sim/apic';
import {
  catchAll,
  catchNode,
  collectCaught,
  helper,
  loggedText,
  record,
  type Recorded,
} from '../support/red';
import { waitFor } from '../support/wait';

type Msg = Record<string, unknown>;
type Mo = Record<string, { attributes: Record<string, string> }>;

describe('aci request node', function () {
  this.timeout(30_000);
  let sim: ApicSimulator;
  let rec: Recorded;
  let caught: Msg[];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await ApicSimulator.start({ ratePerSec: 0 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  async function start(
    settings: Msg,
    controller: Msg = {},
    creds: Record<string, string> = { username: 'admin', password: DEFAULT_APIC_PASSWORD },
  ) {
    const flow = [
      { id: 'tab', type: 'tab' },
      {
        id: 'ctrl',
        type: 'aci-controller',
        hosts: sim.hosts,
        authType: 'password',
        ca: sim.cert,
        ...controller,
      },
      {
        id: 'req',
        type: 'aci-request',
        z: 'tab',
        controller: 'ctrl',
        method: 'GET',
        target: '',
        methods: 'read',
        paging: 'all',
        ...settings,
        wires: [['out']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      ...catchAll('tab'),
    ];
    await helper.load([aciController, aciRequest, catchNode], flow, { ctrl: creds });
    rec = record(helper.getNode('req'), helper.getNode('out'));
    caught = collectCaught();
  }

  const send = (msg: Msg) => helper.getNode('req').receive(msg);
  const nth = (n: number) => waitFor(() => rec.messages[n], `output ${n + 1}`);
  const errorCode = (m: Msg) => (m.error as { code?: string }).code;
  const attrs = (mo: unknown) => Object.values(mo as Mo)[0]!.attributes;

  it('finds the EPGs of a bridge domain with a checked filter, as aci subscribe writes its entries', async () => {
    await start({});
    send({
      target:
        'uni/tn-prod?query-target=subtree&target-subtree-class=fvRsBd&query-target-filter=eq(fvRsBd.tnFvBDName,"bd-web")',
    });
    const out = await nth(0);
    const dns = (out.payload as unknown[]).map((mo) => attrs(mo).dn);
    assert.deepEqual(dns, ['uni/tn-prod/ap-prod-app/epg-web/rsbd']);
    assert.equal(out.totalCount, 1);
    assert.match(String(out.apic), /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reads every page, in one message or one per page', async () => {
    for (let i = 0; i < 2500; i++) sim.create('fvBD', `uni/tn-dev/BD-bulk-${String(i).padStart(4, '0')}`);
    await start({ target: 'fvBD' });
    send({});
    const all = await nth(0);
    const total = sim.tree.all().filter((m) => m.className === 'fvBD').length;
    assert.equal((all.payload as unknown[]).length, total);
    assert.equal(
      new Set((all.payload as unknown[]).map((mo) => attrs(mo).dn)).size,
      total,
      'no object twice',
    );
    await helper.unload();
    await start({ target: 'fvBD', paging: 'pages' });
    send({});
    await waitFor(() => rec.messages.length === 3, 'three pages');
    assert.deepEqual(
      rec.messages.map((m) => [m.page, m.pageCount]),
      [
        [0, 3],
        [1, 3],
        [2, 3],
      ],
    );
  });

  it('acknowledges a fault: an active one keeps ack yes, a cleared one goes', async () => {
    await start({ method: 'POST', methods: 'write', target: '' });
    const active = sim.raiseFault('uni/tn-prod/BD-bd-web', 'F1527', 'raised');
    const cleared = sim.raiseFault('uni/tn-prod/BD-bd-app', 'F1527', 'raised');
    sim.advanceFault(cleared, 'retaining');
    send({ target: active, payload: { faultInst: { attributes: { dn: active, ack: 'yes' } } } });
    await nth(0);
    assert.equal(sim.tree.get(active)?.attributes.ack, 'yes');
    send({ target: cleared, payload: { faultInst: { attributes: { ack: 'yes' } } } });
    await nth(1);
    assert.equal(sim.tree.get(cleared), undefined);
    // The APIC's audit trail names who did it.
    assert.ok(
      sim.tree
        .all()
        .some(
          (m) =>
            m.className === 'aaaModLR' && m.attributes.affected === active && m.attributes.user === 'admin',
        ),
    );
  });

  it('tags an object; refuses what the APIC refuses, with its text', async () => {
    await start({ method: 'POST', methods: 'write', target: 'uni/tn-prod/BD-bd-db' });
    send({
      payload: { fvBD: { attributes: {}, children: [{ tagInst: { attributes: { name: 'incident-42' } } }] } },
    });
    await nth(0);
    assert.ok(sim.tree.get('uni/tn-prod/BD-bd-db/tag-incident-42'));
    send({ payload: { fvBD: { attributes: { mac: '00:00:00:00:00:01' } } } });
    const refused = await waitFor(() => caught[0], 'the refusal');
    assert.equal(errorCode(refused), 'APIC_HTTP_ERROR');
    assert.equal(refused.statusCode, 400);
    assert.match(
      String((refused.error as { message: string }).message),
      /property mac of fvBD cannot be configured/,
    );
  });

  it('only queries unless allowed; posts go to one DN, for that DN; targets are checked', async () => {
    await start({ method: 'msg', target: '' });
    const fault = sim.raiseFault('uni/tn-prod/BD-bd-web', 'F1527', 'raised');
    send({ method: 'POST', target: fault, payload: { faultInst: { attributes: { ack: 'yes' } } } });
    send({ method: 'GET', target: '/api/class/fvBD.json' });
    send({ method: 'GET', target: 'uni/tn-prod/../tn-dev' });
    send({ method: 'GET', target: 'fvBD?subscription=yes' });
    send({ method: 'DELETE', target: 'fvBD' });
    await waitFor(() => caught.length === 5, 'five refusals');
    assert.deepEqual(caught.map(errorCode), [
      'REQUEST_METHOD_NOT_ALLOWED',
      'APIC_ENTRY_INVALID',
      'APIC_ENTRY_INVALID',
      'APIC_ENTRY_INVALID',
      'REQUEST_METHOD_NOT_ALLOWED',
    ]);
    assert.equal(sim.tree.get(fault)?.attributes.ack, 'no');
    await helper.unload();

    await start({ method: 'POST', methods: 'write', target: 'uni/tn-prod/BD-bd-web' });
    send({ payload: { fvBD: { attributes: { dn: 'uni/tn-dev/BD-bd-dev', descr: 'elsewhere' } } } });
    send({ payload: [1, 2] });
    await waitFor(() => caught.length === 2, 'two refusals');
    assert.deepEqual(caught.map(errorCode), ['REQUEST_BODY_INVALID', 'REQUEST_BODY_INVALID']);
    assert.equal(sim.tree.get('uni/tn-dev/BD-bd-dev')?.attributes.descr, '');
  });

  it('goes on across an expired token, throttling and an APIC that goes away', async () => {
    await start({ target: 'fvTenant' });
    send({});
    const first = await nth(0);
    sim.expireTokens();
    send({});
    await nth(1);
    sim.throttle(1500);
    send({});
    await nth(2);
    const used = sim.urls.indexOf(String(first.apic));
    await sim.stopApic(used);
    send({});
    const after = await nth(3);
    assert.notEqual(after.apic, first.apic, 'the next APIC answered');
    assert.equal(caught.length, 0, JSON.stringify(caught.map((c) => c.error)));
    assert.ok(sim.stats.throttled > 0);
  });

  it('signs its requests with the certificate of a certificate login (posts included)', async () => {
    const cert = sim.certificateUser;
    await start(
      { method: 'POST', methods: 'write', target: 'uni/tn-prod/BD-bd-web' },
      { authType: 'certificate' },
      { username: cert.name, certificateName: cert.certificateName, privateKey: cert.privateKey },
    );
    send({ payload: { fvBD: { attributes: { descr: 'signed change' } } } });
    await nth(0);
    assert.equal(sim.tree.get('uni/tn-prod/BD-bd-web')?.attributes.descr, 'signed change');
    assert.ok(sim.stats.signedRequests > 0);
    assert.equal(sim.stats.badSignatures, 0);
    assert.doesNotMatch(loggedText(), /BEGIN (RSA )?PRIVATE KEY/);
  });
});
