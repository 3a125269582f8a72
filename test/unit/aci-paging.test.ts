/**
 * Reading an entry page by page against answers made up here: an APIC that
 * refuses order-by with a subscription, one that ignores `page`, a state that
 * keeps changing while it is read (read again, three times at most).
 */
import assert from 'node:assert/strict';
import { CodedError } from '../../nodes/common/errors';
import { parseEntry } from '../../nodes/aci/entries';
import type { ApicAnswer, ApicSession } from '../../nodes/aci/session';
import type { Connection } from '../../nodes/aci/subscriber/connection';
import { PageReader } from '../../nodes/aci/subscriber/paging';

const HOST = 'https://apic1';

function bds(...names: string[]): ApicAnswer['imdata'] {
  return names.map((n) => ({ fvBD: { attributes: { dn: `uni/tn-a/BD-${n}` } } }));
}

/** A session whose GETs `answer` answers; `urls` is what was asked. */
function fakeApic(answer: (url: URL) => ApicAnswer) {
  const urls: URL[] = [];
  const session = {
    host: HOST,
    get: (url: URL) => {
      urls.push(url);
      return Promise.resolve().then(() => answer(url));
    },
  } as unknown as ApicSession;
  return { session, urls, connection: { session, done: false } as unknown as Connection };
}

/** The pages of one read of fvBD, by BD name, and whether the read was whole. */
async function read(reader: PageReader, connection: Connection, between = () => Promise.resolve()) {
  const pages: string[][] = [];
  const whole = await reader.readPages(
    connection,
    parseEntry('fvBD'),
    undefined,
    undefined,
    between,
    (objects) => {
      pages.push(objects.map((o) => o.dn.slice('uni/tn-a/BD-'.length)));
    },
  );
  return { whole, pages };
}

async function readAll(reader: PageReader, connection: Connection): Promise<string[][]> {
  const { whole, pages } = await read(reader, connection);
  assert.equal(whole, true);
  return pages;
}

describe('ACI paging against odd APICs', () => {
  it('subscribes unsorted from then on when order-by with a subscription is refused (400), and says so', async () => {
    const said: string[] = [];
    const reader = new PageReader(100, (text) => said.push(text));
    const { session, urls } = fakeApic((url) => {
      if (url.searchParams.has('order-by')) throw new CodedError('APIC_HTTP_ERROR', 'no', { status: 400 });
      return { totalCount: 1, imdata: bds('a'), subscriptionId: '7' };
    });
    const { id } = await reader.subscribe(session, parseEntry('fvBD'), 60);
    assert.equal(id, '7');
    assert.deepEqual(said, [`${HOST} refused order-by with a subscription; reading pages unsorted`]);
    await reader.subscribe(session, parseEntry('fvBD'), 60);
    assert.deepEqual(
      urls.map((u) => u.searchParams.has('order-by')),
      [true, false, false],
    );
  });

  it('passes on a refusal that order-by cannot explain, and a failure without status, as they are', async () => {
    const reader = new PageReader(100, () => undefined);
    const refused = new CodedError('APIC_HTTP_ERROR', 'bad entry', { status: 400 });
    const unsortable = fakeApic(() => {
      throw refused;
    });
    await assert.rejects(
      reader.subscribe(unsortable.session, parseEntry('uni/tn-a?query-target=subtree'), 60),
      refused,
    );
    assert.equal(unsortable.urls.length, 1);
    const down = new CodedError('NET_RESET', 'reset');
    const failing = fakeApic(() => {
      throw down;
    });
    await assert.rejects(reader.subscribe(failing.session, parseEntry('fvBD'), 60), down);
  });

  it('takes an answer without subscriptionId as no APIC', async () => {
    const reader = new PageReader(100, () => undefined);
    const { session } = fakeApic(() => ({ totalCount: 0, imdata: [] }));
    await assert.rejects(reader.subscribe(session, parseEntry('fvBD'), 60), {
      code: 'APIC_NOT_APIC',
      message: `${HOST} answered a subscription to fvBD without a subscriptionId.`,
    });
  });

  it('stops at the second page of an APIC that ignores page, handing on the first once', async () => {
    const reader = new PageReader(2, () => undefined);
    const { connection, urls } = fakeApic(() => ({ totalCount: 1000, imdata: bds('a', 'b') }));
    assert.deepEqual(await readAll(reader, connection), [['a', 'b']]);
    assert.equal(urls.length, 2);
  });

  it('hands on a page that starts like the one before but ends otherwise, or has another length', async () => {
    const pages = [bds('a', 'b'), bds('a', 'c'), bds('a', 'x', 'c'), bds('d')];
    const reader = new PageReader(2, () => undefined);
    const { connection } = fakeApic((url) => ({
      totalCount: 7,
      imdata: pages[Number(url.searchParams.get('page'))],
    }));
    assert.deepEqual(await readAll(reader, connection), [
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'x', 'c'],
    ]);
  });

  it('skips what in a page is no object with a dn, handing on the objects around it', async () => {
    const odd = [
      null,
      'fvBD',
      {},
      { fvBD: null },
      { fvBD: { attributes: null } },
      { fvBD: { attributes: {} } },
    ];
    const imdata = [...bds('a'), ...odd, ...bds('b')] as ApicAnswer['imdata'];
    const reader = new PageReader(100, () => undefined);
    const { connection } = fakeApic(() => ({ totalCount: imdata.length, imdata }));
    assert.deepEqual(await readAll(reader, connection), [['a', 'b']]);
  });

  it('ends a read as unfinished when the connection ends between two pages, handing on no more', async () => {
    const reader = new PageReader(2, () => undefined);
    const { connection } = fakeApic((url) => ({
      totalCount: 4,
      imdata: url.searchParams.get('page') === '0' ? bds('a', 'b') : bds('c', 'd'),
    }));
    const { whole, pages } = await read(reader, connection, () => {
      connection.done = true;
      return Promise.resolve();
    });
    assert.equal(whole, false, 'not a whole read: nothing may be taken as gone');
    assert.deepEqual(pages, [['a', 'b']]);
  });

  it('reads a state that keeps changing three times, then takes the last read, saying why', async () => {
    const said: string[] = [];
    const reader = new PageReader(2, (text) => said.push(text));
    let total = 4;
    const { connection, urls } = fakeApic((url) =>
      url.searchParams.get('page') === '0'
        ? { totalCount: total, imdata: bds('a', 'b') }
        : { totalCount: ++total, imdata: bds('c') },
    );
    assert.deepEqual(await readAll(reader, connection), [
      ['a', 'b'],
      ['c'],
      ['a', 'b'],
      ['c'],
      ['a', 'b'],
      ['c'],
    ]);
    assert.equal(urls.length, 6);
    assert.deepEqual(said, [
      'fvBD changed while it was read (4 → 5 objects); reading again',
      'fvBD changed while it was read (5 → 6 objects); reading again',
    ]);
  });
});
