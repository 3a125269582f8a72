/**
 * What an aci-request node asks of an APIC (nodes/aci/requests.ts), against a
 * recording stand-in for the REST client: the target checks, the page
 * parameters, where a read stops and the page bound at its defaults, and the
 * checks a configuration post passes before anything is sent. The same
 * requests against the APIC simulator: test/clients/aci/requests.test.ts.
 */
import assert from 'node:assert/strict';
import { postConfig, queryPages, requestTarget, type QueryPage } from '../../nodes/aci/requests';
import type { ApicRest } from '../../nodes/aci/rest-client';
import type { ApicMo } from '../../nodes/aci/session';
import { CodedError } from '../../nodes/common/errors';

const MiB = 1024 * 1024;
const HOST = 'https://apic1.example.com';

interface Sent {
  method: string;
  path: string;
  body?: string;
}

/** Answers every GET with `total` objects paged as asked (`short` cuts one page), and records what was sent. */
function fakeRest(total: number, short?: { page: number; objects: number }) {
  const sent: Sent[] = [];
  const mo: ApicMo = { fvBD: { attributes: { dn: 'uni/tn-prod/BD-x' } } };
  const rest = {
    async call(method: string, path: string, body?: string) {
      sent.push({ method, path, body });
      if (method === 'POST') return { totalCount: 0, imdata: [], host: HOST };
      const q = new URL(path, HOST).searchParams;
      const page = Number(q.get('page'));
      const size = Number(q.get('page-size'));
      let count = Math.max(0, Math.min(size, total - page * size));
      if (short?.page === page) count = short.objects;
      return { totalCount: total, imdata: new Array<ApicMo>(count).fill(mo), host: HOST };
    },
  };
  return { rest: rest as unknown as ApicRest, sent };
}

async function readAll(pages: AsyncGenerator<QueryPage>): Promise<QueryPage[]> {
  const out: QueryPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const query = (s: Sent) => Object.fromEntries(new URL(s.path, HOST).searchParams);
const pathname = (s: Sent) => new URL(s.path, HOST).pathname;

function refusedWith(code: string, text: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CodedError, `a CodedError, not ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, text);
    return true;
  };
}

describe('aci request: what is asked of an APIC', () => {
  describe('requestTarget', () => {
    it('reads a class or a DN with its options, as aci subscribe does', () => {
      assert.deepEqual(requestTarget(' fvBD '), { kind: 'class', target: 'fvBD', options: [], key: 'fvBD' });
      const dn = requestTarget('uni/tn-prod?target-subtree-class=fvBD&query-target=subtree');
      assert.equal(dn.kind, 'dn');
      assert.equal(dn.target, 'uni/tn-prod');
      assert.equal(dn.key, 'uni/tn-prod?query-target=subtree&target-subtree-class=fvBD');
    });

    it('refuses a missing, blank or non-text target with an example of what to give', () => {
      for (const text of [undefined, null, 42, {}, ['fvBD'], '', '   ', '\n\t']) {
        assert.throws(
          () => requestTarget(text),
          refusedWith('APIC_ENTRY_INVALID', /^Give the class or DN to ask, e\.g\. fvBD/),
          JSON.stringify(text),
        );
      }
    });

    it('refuses what aci subscribe refuses, and the options the node sets itself', () => {
      for (const [text, why] of [
        ['fvBD?page=3', /page is set by the node/],
        ['fvBD?page-size=10', /page-size is set by the node/],
        ['fvBD?order-by=fvBD.name', /order-by is set by the node/],
        ['/api/class/fvBD.json', /not an \/api\/\.\.\. URL/],
        ['uni/tn-prod/../tn-other', /empty, \. or \.\. part/],
        ['fvBD?query-target=everything', /query-target: use one of self, children, subtree/],
      ] as const) {
        assert.throws(() => requestTarget(text), refusedWith('APIC_ENTRY_INVALID', why), text);
      }
    });
  });

  describe('queryPages', () => {
    it('asks page after page, 0-based, with the page size, and reports the page counts', async () => {
      const { rest, sent } = fakeRest(7);
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 3));
      assert.deepEqual(
        pages.map((p) => [p.page, p.pageCount, p.totalCount, p.objects.length, p.host]),
        [
          [0, 3, 7, 3, HOST],
          [1, 3, 7, 3, HOST],
          [2, 3, 7, 1, HOST],
        ],
      );
      assert.deepEqual(
        sent.map((s) => [s.method, pathname(s), query(s)]),
        [0, 1, 2].map((page) => [
          'GET',
          '/api/class/fvBD.json',
          { page: String(page), 'page-size': '3', 'order-by': 'fvBD.dn' },
        ]),
      );
    });

    it('reads 1000 objects a page by default', async () => {
      const { rest, sent } = fakeRest(2500);
      const pages = await readAll(queryPages(rest, requestTarget('fvBD')));
      assert.deepEqual(
        pages.map((p) => p.objects.length),
        [1000, 1000, 500],
      );
      assert.ok(sent.every((s) => query(s)['page-size'] === '1000'));
    });

    it('an empty answer is one page of none', async () => {
      const { rest, sent } = fakeRest(0);
      const pages = await readAll(queryPages(rest, requestTarget('fvBD')));
      assert.deepEqual(pages, [{ page: 0, pageCount: 1, totalCount: 0, objects: [], host: HOST }]);
      assert.equal(sent.length, 1);
    });

    it('stops after the last full page without asking for an empty one', async () => {
      const { rest, sent } = fakeRest(8);
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 4));
      assert.deepEqual(
        pages.map((p) => [p.page, p.pageCount]),
        [
          [0, 2],
          [1, 2],
        ],
      );
      assert.equal(sent.length, 2);
    });

    it('stops at a short page though the total promised more (objects went while paging)', async () => {
      const { rest, sent } = fakeRest(12, { page: 1, objects: 2 });
      const pages = await readAll(queryPages(rest, requestTarget('fvBD'), 4));
      assert.deepEqual(
        pages.map((p) => p.objects.length),
        [4, 2],
      );
      assert.equal(sent.length, 2);
    });

    it('sorts by dn only where the answer holds one class', async () => {
      const orderOf = async (target: string) => {
        const { rest, sent } = fakeRest(1);
        await readAll(queryPages(rest, requestTarget(target)));
        return query(sent[0]!)['order-by'];
      };
      assert.equal(await orderOf('faultInst'), 'faultInst.dn');
      assert.equal(await orderOf('uni/tn-prod?query-target=subtree&target-subtree-class=fvBD'), 'fvBD.dn');
      assert.equal(await orderOf('uni/tn-prod?query-target=children&target-subtree-class=fvAp'), 'fvAp.dn');
      assert.equal(
        await orderOf('uni/tn-prod?query-target=subtree&target-subtree-class=fvBD,fvAEPg'),
        undefined,
      );
      assert.equal(await orderOf('uni/tn-prod?query-target=subtree'), undefined);
      assert.equal(await orderOf('uni/tn-prod'), undefined);
    });

    it('reads 1000 pages at most by default: the 1000th is read, a 1001st is refused unasked', async () => {
      const atBound = fakeRest(1000);
      const pages = await readAll(queryPages(atBound.rest, requestTarget('fvBD'), 1));
      assert.equal(pages.length, 1000);
      assert.equal(pages.at(-1)!.page, 999);

      const beyond = fakeRest(1001);
      const read: QueryPage[] = [];
      await assert.rejects(
        async () => {
          for await (const page of queryPages(beyond.rest, requestTarget('fvBD'), 1)) read.push(page);
        },
        refusedWith('APIC_TOO_MANY_PAGES', /^fvBD has 1001 pages; this node reads 1000 at most\.$/),
      );
      assert.equal(read.length, 1000, 'every page up to the bound was handed on');
      assert.equal(beyond.sent.length, 1000, 'the page beyond the bound is not asked for');
    });

    it('names the entry and its page count when it refuses', async () => {
      const { rest } = fakeRest(25);
      const entry = requestTarget('uni/tn-prod?query-target=subtree&target-subtree-class=fvBD');
      await assert.rejects(readAll(queryPages(rest, entry, 5, 4)), (err: CodedError) => {
        assert.equal(err.code, 'APIC_TOO_MANY_PAGES');
        assert.equal(
          err.message,
          'uni/tn-prod?query-target=subtree&target-subtree-class=fvBD has 5 pages; this node reads 4 at most.',
        );
        assert.deepEqual(err.details, { pageCount: 5 });
        return true;
      });
    });
  });

  describe('postConfig', () => {
    const FAULT = 'uni/tn-prod/BD-web/fault-F0956';
    const ack = { faultInst: { attributes: { ack: 'yes' } } };

    it('posts the object as compact JSON to the DN, without options, and returns the answer', async () => {
      const { rest, sent } = fakeRest(0);
      const answer = await postConfig(rest, requestTarget(FAULT), ack);
      assert.deepEqual(answer, { totalCount: 0, imdata: [], host: HOST });
      assert.deepEqual(sent, [{ method: 'POST', path: `/api/mo/${FAULT}.json`, body: JSON.stringify(ack) }]);
    });

    it('takes the object as JSON text too, and sends it as it reads', async () => {
      const { rest, sent } = fakeRest(0);
      await postConfig(
        rest,
        requestTarget(FAULT),
        ' {\n  "faultInst": { "attributes": { "ack": "yes" } }\n} ',
      );
      assert.equal(sent[0]!.body, '{"faultInst":{"attributes":{"ack":"yes"}}}');
    });

    it('goes to one DN: a class or a DN with options is refused before anything is sent', async () => {
      const { rest, sent } = fakeRest(0);
      for (const target of [
        'faultInst',
        'uni/tn-prod?query-target=subtree',
        'uni/tn-prod?rsp-subtree=full',
      ]) {
        await assert.rejects(
          postConfig(rest, requestTarget(target), ack),
          refusedWith(
            'APIC_ENTRY_INVALID',
            new RegExp(`goes to one DN without options, not ${target.replace('?', '\\?')}\\.$`),
          ),
          target,
        );
      }
      assert.equal(sent.length, 0);
    });

    it('refuses what is not one APIC object named by its class, sending nothing', async () => {
      const { rest, sent } = fakeRest(0);
      const named = /^msg\.payload must be one APIC object named by its class, e\.g\. \{"faultInst"/;
      const bad: unknown[] = [
        undefined,
        null,
        42,
        'null',
        '[]',
        [ack],
        {},
        { ...ack, fvBD: { attributes: {} } },
        { faultInst: 'yes' },
        { faultInst: null },
        { faultInst: [] },
        { FaultInst: { attributes: {} } },
        { fault: { attributes: {} } },
        { '1fvBD': { attributes: {} } },
        { 'fv-BD': { attributes: {} } },
        { fvBD_: { attributes: {} } },
        { ' fvBD': { attributes: {} } },
      ];
      for (const payload of bad) {
        await assert.rejects(
          postConfig(rest, requestTarget('uni/tn-prod'), payload),
          refusedWith('REQUEST_BODY_INVALID', named),
          JSON.stringify(payload),
        );
      }
      await assert.rejects(
        postConfig(rest, requestTarget('uni/tn-prod'), '{"faultInst": '),
        refusedWith('REQUEST_BODY_INVALID', /^msg\.payload is text that is not JSON\.$/),
      );
      assert.equal(sent.length, 0);
    });

    it('takes class names as APIC writes them', async () => {
      const { rest, sent } = fakeRest(0);
      for (const className of ['fvBD', 'l3extOut', 'aaaUserCert', 'fvRsCtx', 'l1PhysIf', 'tagInst']) {
        await postConfig(rest, requestTarget('uni/tn-prod'), { [className]: { attributes: {} } });
      }
      assert.equal(sent.length, 6);
    });

    it('takes an object whose dn is the DN or below it, and refuses any other dn', async () => {
      const { rest, sent } = fakeRest(0);
      const at = (dn: unknown) => ({ fvBD: { attributes: { dn, descr: 'x' } } });
      for (const dn of ['uni/tn-prod', 'uni/tn-prod/BD-web', 'uni/tn-prod/ap-a/epg-b']) {
        await postConfig(rest, requestTarget('uni/tn-prod'), at(dn));
      }
      await postConfig(rest, requestTarget('uni/tn-prod'), { fvBD: { attributes: { descr: 'no dn' } } });
      assert.equal(sent.length, 4);
      for (const dn of ['uni', 'uni/tn-prodX/BD-web', 'uni/tn-prod2', 'uni/tn-other/BD-web', '', 42, null]) {
        await assert.rejects(
          postConfig(rest, requestTarget('uni/tn-prod'), at(dn)),
          refusedWith(
            'REQUEST_BODY_INVALID',
            new RegExp(`^The object's dn ${escape(JSON.stringify(dn))} is not uni/tn-prod or below it\\.$`),
          ),
          String(dn),
        );
      }
      assert.equal(sent.length, 4);
    });

    it('posts 1 MiB of JSON and refuses a byte more, counting bytes, not characters', async () => {
      const { rest, sent } = fakeRest(0);
      const sized = (bytes: number, char = 'x') => {
        const shell = JSON.stringify({ fvBD: { attributes: { descr: '' } } }).length;
        return { fvBD: { attributes: { descr: char.repeat((bytes - shell) / Buffer.byteLength(char)) } } };
      };
      await postConfig(rest, requestTarget('uni/tn-prod'), sized(MiB));
      assert.equal(Buffer.byteLength(sent[0]!.body!), MiB);
      const tooLarge = /^msg\.payload is larger than 1 MiB\.$/;
      await assert.rejects(
        postConfig(rest, requestTarget('uni/tn-prod'), sized(MiB + 1)),
        refusedWith('REQUEST_BODY_INVALID', tooLarge),
      );
      // 'é' is two bytes in UTF-8: about half a million characters, 1 MiB + 2 bytes.
      await assert.rejects(
        postConfig(rest, requestTarget('uni/tn-prod'), sized(MiB + 2, 'é')),
        refusedWith('REQUEST_BODY_INVALID', tooLarge),
      );
      assert.equal(sent.length, 1);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
