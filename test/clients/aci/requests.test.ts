/**
 * What an aci-request node asks of an APIC (nodes/aci/requests.ts), against the
 * APIC simulator: queries as they arrive there, every page read once, the page
 * bound, configuration posts and their effect, APIC's refusals and a closed
 * controller.
 */
import assert from 'node:assert/strict';
import { postConfig, queryPages, requestTarget, type QueryPage } from '../../../nodes/aci/requests';
import { ApicRest } from '../../../nodes/aci/rest-client';
import type { CodedError } from '../../../nodes/common/errors';
import type { ApicSimulator } from '../../../sim/apic';
import { BD } from './harness';
import { useApicHarness } from './harness';

const MiB = 1024 * 1024;

describe('aci request against the APIC simulator: queries, pages, configuration posts', function () {
  const rests: ApicRest[] = [];
  afterEach(async () => {
    await Promise.all(rests.splice(0).map((r) => r.close()));
  });
  const apic = useApicHarness();

  /** The simulator, a REST client on it, and the query targets it receives, as sent. */
  async function start(): Promise<{ sim: ApicSimulator; rest: ApicRest; sent: string[] }> {
    const sim = await apic.startSim();
    const rest = new ApicRest(apic.cluster(), { throttle: { initialMs: 50, maxMs: 100 } });
    rests.push(rest);
    const sent: string[] = [];
    sim.onQuery = (q) => void sent.push(q.url);
    return { sim, rest, sent };
  }

  async function readAll(pages: AsyncGenerator<QueryPage>, into: QueryPage[] = []): Promise<QueryPage[]> {
    for await (const page of pages) into.push(page);
    return into;
  }

  const dnsOf = (pages: QueryPage[]) =>
    pages.flatMap((p) => p.objects.map((mo) => Object.values(mo)[0]!.attributes!.dn));
  const bdDns = (sim: ApicSimulator) =>
    sim.tree
      .query('class', 'fvBD', {})
      .map((m) => m.dn)
      .sort();
  const apicsOf = (sim: ApicSimulator) => sim.hosts.split(', ').map((h) => `https://${h}`);
  const requests = (sim: ApicSimulator) => sim.stats.requests.reduce((a, b) => a + (b ?? 0), 0);

  function apicRefusal(status: number, text: string) {
    return (err: CodedError) => {
      assert.equal(err.code, 'APIC_HTTP_ERROR');
      assert.equal(err.details?.status, status);
      assert.equal(err.details?.apicCode, String(status));
      assert.ok(err.message.includes(text), err.message);
      return true;
    };
  }

  describe('queries', () => {
    it('reads a class page by page in dn order, every object once, with the page counts APIC gives', async () => {
      const { sim, rest, sent } = await start();
      const all = bdDns(sim);
      assert.ok(all.length >= 5, 'the fabric has several BDs');
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 2));
      const pageCount = Math.ceil(all.length / 2);
      assert.deepEqual(
        pages.map((p) => [p.page, p.pageCount, p.totalCount]),
        Array.from({ length: pageCount }, (_, i) => [i, pageCount, all.length]),
      );
      assert.deepEqual(dnsOf(pages), all, 'every BD once, in dn order');
      assert.ok(apicsOf(sim).includes(pages[0]!.host));
      assert.deepEqual(
        sent,
        Array.from(
          { length: pageCount },
          (_, i) => `/api/class/fvBD.json?page=${i}&page-size=2&order-by=fvBD.dn`,
        ),
      );
    });

    it('reads one page when it holds the whole answer, two when it holds one object less', async () => {
      const { sim, rest, sent } = await start();
      const total = bdDns(sim).length;
      for (const [size, pages] of [
        [total + 1, 1],
        [total, 1],
        [total - 1, 2],
      ] as const) {
        sent.length = 0;
        const read = await readAll(queryPages(rest, requestTarget('fvBD'), size));
        assert.equal(read.length, pages, `page size ${size}`);
        assert.equal(sent.length, pages, `page size ${size}: no empty page asked for`);
        assert.equal(dnsOf(read).length, total);
      }
    });

    it('sends a DN query with its options, sorted by the one class it reads', async () => {
      const { sim, rest, sent } = await start();
      const pages = await readAll(
        queryPages(rest, requestTarget('uni/tn-prod?target-subtree-class=fvBD&query-target=subtree')),
      );
      assert.deepEqual(sent, [
        '/api/mo/uni/tn-prod.json?query-target=subtree&target-subtree-class=fvBD&page=0&page-size=1000&order-by=fvBD.dn',
      ]);
      const prodBds = bdDns(sim).filter((dn) => dn.startsWith('uni/tn-prod/'));
      assert.ok(prodBds.includes(BD));
      assert.deepEqual(dnsOf(pages), prodBds);
      assert.deepEqual([pages[0]!.page, pages[0]!.pageCount, pages[0]!.totalCount], [0, 1, prodBds.length]);
    });

    it('reads a mixed subtree and a DN itself unsorted', async () => {
      const { rest, sent } = await start();
      const mixed = await readAll(
        queryPages(rest, requestTarget('uni/tn-prod?query-target=subtree&target-subtree-class=fvBD,fvAEPg')),
      );
      const classes = new Set(mixed.flatMap((p) => p.objects.map((mo) => Object.keys(mo)[0])));
      assert.deepEqual([...classes].sort(), ['fvAEPg', 'fvBD']);
      const self = await readAll(queryPages(rest, requestTarget('uni/tn-prod')));
      assert.deepEqual(dnsOf(self), ['uni/tn-prod']);
      assert.deepEqual([self[0]!.pageCount, self[0]!.totalCount], [1, 1]);
      assert.deepEqual(sent, [
        '/api/mo/uni/tn-prod.json?query-target=subtree&target-subtree-class=fvBD%2CfvAEPg&page=0&page-size=1000',
        '/api/mo/uni/tn-prod.json?page=0&page-size=1000',
      ]);
    });

    it('sends a filter encoded (a space as %20), and APIC applies it', async () => {
      const { sim, rest, sent } = await start();
      sim.modify(BD, { descr: 'web tier' });
      const pages = await readAll(
        queryPages(rest, requestTarget('fvBD?query-target-filter=eq(fvBD.descr,"web tier")')),
      );
      assert.deepEqual(dnsOf(pages), [BD]);
      assert.equal(
        sent[0],
        '/api/class/fvBD.json?query-target-filter=eq%28fvBD.descr%2C%22web%20tier%22%29&page=0&page-size=1000&order-by=fvBD.dn',
      );
    });

    it('stops at a short page when objects go while it pages, every object read once', async () => {
      const { sim, rest, sent } = await start();
      const all = bdDns(sim);
      const last = all.slice(-2);
      sim.onQuery = (q) => {
        sent.push(q.url);
        if (q.page === 1) for (const dn of last) sim.remove(dn);
      };
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 2));
      assert.deepEqual(dnsOf(pages), all.slice(0, -2));
      assert.equal(sent.length, Math.ceil((all.length - 2) / 2), 'no page asked twice or beyond the end');
    });
  });

  describe('the page bound', () => {
    it('reads as many pages as the bound allows, and refuses an entry with one page more', async () => {
      const { sim, rest, sent } = await start();
      const all = bdDns(sim);
      const pageCount = Math.ceil(all.length / 2);
      assert.ok(pageCount >= 3);
      const atBound = await readAll(queryPages(rest, requestTarget('fvBD'), 2, pageCount));
      assert.deepEqual(dnsOf(atBound), all);

      sent.length = 0;
      const read: QueryPage[] = [];
      await assert.rejects(
        readAll(queryPages(rest, requestTarget('fvBD'), 2, pageCount - 1), read),
        (err: CodedError) => {
          assert.equal(err.code, 'APIC_TOO_MANY_PAGES');
          assert.equal(err.message, `fvBD has ${pageCount} pages; this node reads ${pageCount - 1} at most.`);
          assert.deepEqual(err.details, { pageCount });
          return true;
        },
      );
      assert.equal(read.length, pageCount - 1, 'the pages within the bound went out');
      assert.equal(sent.length, pageCount - 1, 'the page beyond it was not asked for');
    });
  });

  describe("APIC's answers", () => {
    it("refuses an unknown class with APIC's status, code and text", async () => {
      const { rest } = await start();
      await assert.rejects(
        readAll(queryPages(rest, requestTarget('fvBogus'))),
        apicRefusal(400, 'unresolved class for fvBogus'),
      );
      await assert.rejects(
        readAll(
          queryPages(rest, requestTarget('uni/tn-prod?query-target=subtree&target-subtree-class=fvNope')),
        ),
        apicRefusal(400, 'unresolved class for fvNope'),
      );
    });

    it('hands on the pages read before an APIC error, then the error', async () => {
      const { sim, rest } = await start();
      sim.onQuery = (q) => {
        if (q.page === 1) sim.failNext(1, 500);
      };
      const read: QueryPage[] = [];
      await assert.rejects(
        readAll(queryPages(rest, requestTarget('fvBD'), 2), read),
        apicRefusal(500, 'Injected failure (500)'),
      );
      assert.deepEqual(
        read.map((p) => p.page),
        [0],
      );
    });

    it('asks a throttled page again and a page whose session ended after a new login, losing and doubling nothing', async () => {
      const { sim, rest } = await start();
      sim.onQuery = (q) => {
        if (q.page !== 1) return;
        // Throttled once; asked again, answered, and the session ends: page 2 needs a new login.
        if (!sim.stats.injectedFailures) sim.failNext(1, 503);
        else if (sim.stats.logins === 1) sim.expireTokens();
      };
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 2));
      assert.deepEqual(dnsOf(pages), bdDns(sim));
      assert.deepEqual(
        pages.map((p) => p.page),
        Array.from({ length: pages.length }, (_, i) => i),
      );
      assert.equal(sim.stats.injectedFailures, 1);
      assert.equal(sim.stats.logins, 2);
    });
  });

  describe('configuration posts', () => {
    it('acknowledges a fault, and returns what APIC answered', async () => {
      const { sim, rest } = await start();
      const fault = sim.raiseFault(BD, 'F1527', 'raised');
      const answer = await postConfig(rest, requestTarget(fault), {
        faultInst: { attributes: { ack: 'yes' } },
      });
      assert.deepEqual(answer, { totalCount: 0, imdata: [], subscriptionId: undefined, host: answer.host });
      assert.ok(apicsOf(sim).includes(answer.host));
      assert.equal(sim.tree.get(fault)?.attributes.ack, 'yes');
    });

    it('tags an object with a payload given as JSON text', async () => {
      const { sim, rest } = await start();
      await postConfig(
        rest,
        requestTarget(BD),
        '{"fvBD": {"attributes": {}, "children": [{"tagInst": {"attributes": {"name": "reviewed"}}}]}}',
      );
      assert.equal(sim.tree.get(`${BD}/tag-reviewed`)?.className, 'tagInst');
    });

    it('changes an object below the DN that the body names', async () => {
      const { sim, rest } = await start();
      await postConfig(rest, requestTarget('uni/tn-prod'), {
        fvBD: { attributes: { dn: BD, descr: 'set from the tenant' } },
      });
      assert.equal(sim.tree.get(BD)?.attributes.descr, 'set from the tenant');
    });

    it("passes APIC's refusals on with its status and text, changing nothing", async () => {
      const { sim, rest } = await start();
      const before = { ...sim.tree.get(BD)?.attributes };
      await assert.rejects(
        postConfig(rest, requestTarget(BD), { fvBD: { attributes: { mac: '00:22:BD:F8:19:FF' } } }),
        apicRefusal(400, 'property mac of fvBD cannot be configured'),
      );
      await assert.rejects(
        postConfig(rest, requestTarget(BD), { fvTenant: { attributes: { descr: 'x' } } }),
        apicRefusal(400, `fvTenant is not the class of ${BD} (fvBD)`),
      );
      assert.deepEqual(sim.tree.get(BD)?.attributes, before);
    });

    it('posts 1 MiB of JSON and refuses a byte more without sending it', async () => {
      const { sim, rest } = await start();
      const shell = JSON.stringify({ fvBD: { attributes: { descr: '' } } }).length;
      const sized = (bytes: number) => ({ fvBD: { attributes: { descr: 'd'.repeat(bytes - shell) } } });
      await postConfig(rest, requestTarget(BD), sized(MiB));
      assert.equal(sim.tree.get(BD)?.attributes.descr?.length, MiB - shell);
      const sentBefore = requests(sim);
      await assert.rejects(postConfig(rest, requestTarget(BD), sized(MiB + 1)), (err: CodedError) => {
        assert.equal(err.code, 'REQUEST_BODY_INVALID');
        return true;
      });
      assert.equal(requests(sim), sentBefore, 'nothing sent');
      assert.equal(sim.tree.get(BD)?.attributes.descr?.length, MiB - shell);
    });

    it('refuses a body that names another object, sending nothing', async () => {
      const { sim, rest } = await start();
      await rest.call('GET', '/api/class/fvTenant.json'); // logged in: any later request would be the post
      const sentBefore = requests(sim);
      await assert.rejects(
        postConfig(rest, requestTarget(BD), {
          fvBD: { attributes: { dn: 'uni/tn-prod/BD-other', descr: 'x' } },
        }),
        (err: CodedError) => err.code === 'REQUEST_BODY_INVALID',
      );
      assert.equal(requests(sim), sentBefore);
    });
  });

  describe('a closed controller', () => {
    it('asks nothing more: a query and a post are refused as closed', async () => {
      const { sim, rest } = await start();
      await readAll(queryPages(rest, requestTarget('uni/tn-prod')));
      await rest.close();
      const sentBefore = requests(sim);
      const closed = (err: CodedError) => err.code === 'APIC_SESSION_CLOSED';
      await assert.rejects(readAll(queryPages(rest, requestTarget('fvBD'))), closed);
      await assert.rejects(
        postConfig(rest, requestTarget(BD), { fvBD: { attributes: { descr: 'x' } } }),
        closed,
      );
      assert.equal(requests(sim), sentBefore);
      assert.notEqual(sim.tree.get(BD)?.attributes.descr, 'x');
    });
  });
});
