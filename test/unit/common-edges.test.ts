import assert from 'node:assert/strict';
import { CodedError, isCoded, toCoded, toError } from '../../nodes/common/errors';
import { Fifo } from '../../nodes/common/fifo';
import { hasStringFields, isRecord, unsetVariable } from '../../nodes/common/guards';
import { ServerClock } from '../../nodes/common/server-clock';
import { receiptTime } from '../../nodes/common/times';
import { parseXml, xmlList, xmlText } from '../../nodes/common/xml';

/** A network error as Node or undici throws it: a message, a code, a cause. */
const netError = (message: string, code?: string, cause?: unknown) =>
  Object.assign(new Error(message), code === undefined ? {} : { code }, cause === undefined ? {} : { cause });

describe('network failures told in words', () => {
  const classify = (err: unknown) => {
    const coded = toCoded(err, 'https://vcd.example');
    return { code: coded.code, details: coded.details };
  };

  it('names the system code of each kind, whatever kind it is', () => {
    const cases: [string, string][] = [
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS_UNTRUSTED'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_HOSTNAME_MISMATCH'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS_FAILED'],
      ['ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS_FAILED'],
      ['EPROTO_SSL_ALERT', 'TLS_FAILED'],
      ['ENOTFOUND', 'DNS_FAILED'],
      ['EAI_AGAIN', 'DNS_FAILED'],
      ['EAI_NONAME', 'DNS_FAILED'],
      ['UND_ERR_CONNECT_TIMEOUT', 'TIMEOUT'],
      ['ETIMEDOUT', 'TIMEOUT'],
      ['ECONNREFUSED', 'CONNECT_FAILED'],
    ];
    for (const [systemCode, code] of cases) {
      assert.deepEqual(
        classify(netError('failed', systemCode)),
        { code, details: { systemCode } },
        systemCode,
      );
    }
  });

  it('tells a failure without a code by its message', () => {
    const coded = toCoded(new Error('socket hang up'), 'https://vcd.example');
    assert.equal(coded.code, 'CONNECT_FAILED');
    assert.equal(coded.message, 'Cannot connect to https://vcd.example: socket hang up.');
    assert.deepEqual(coded.details, { systemCode: 'socket hang up' });
  });

  it('tells a tunnel the proxy refused, with its status', () => {
    const coded = toCoded(
      new Error('Proxy response (407) !== 200 when HTTP Tunneling'),
      'https://vcd.example',
    );
    assert.equal(coded.code, 'PROXY_FAILED');
    assert.match(coded.message, /\(407\)/);
    assert.deepEqual(coded.details, { status: 407 });
    assert.deepEqual(toCoded(new Error('Proxy response (abc) !== 200'), 't').details, { status: 0 });
  });

  it('reads the code from six causes deep at most, and ends on a cause that is null or a loop', () => {
    const chain = (depth: number, code: string) => {
      let err: Error = netError('inner', code);
      for (let i = 0; i < depth; i++) err = netError('outer', undefined, err);
      return err;
    };
    assert.equal(classify(chain(5, 'ENOTFOUND')).code, 'DNS_FAILED', 'the sixth error of the chain is read');
    assert.equal(classify(chain(6, 'ENOTFOUND')).code, 'CONNECT_FAILED', 'the seventh is not');
    assert.equal(classify(netError('outer', undefined, null)).code, 'CONNECT_FAILED');
    const loop = netError('loop');
    (loop as { cause?: unknown }).cause = loop;
    assert.equal(classify(loop).code, 'CONNECT_FAILED');
  });

  it('a coded failure is any code unless one is asked for; anything thrown becomes an Error', () => {
    const err = new CodedError('SOME_CODE', 'text');
    assert.equal(isCoded(err), true);
    assert.equal(isCoded(err, 'OTHER'), false);
    assert.equal(isCoded(new Error('x')), false);
    assert.equal(toError(err), err);
    const wrapped = toError('plain text') as CodedError;
    assert.equal(wrapped.code, 'UNEXPECTED');
    assert.equal(wrapped.message, 'plain text');
  });
});

describe('XML reading: edges', () => {
  it('refuses a DOCTYPE, broken XML and nesting past the limit, quoting the start of the text', () => {
    const inputs = ['<!DOCTYPE x><x/>', '<a><b></a>', `${'<a>'.repeat(5_000)}${'</a>'.repeat(5_000)}`];
    for (const text of inputs) {
      assert.throws(
        () => parseXml(text),
        (err: CodedError) => {
          assert.equal(err.code, 'XML_INVALID');
          assert.ok(err.message.length > 20, err.message);
          assert.equal(typeof err.details?.excerpt, 'string');
          assert.ok(text.startsWith(String(err.details!.excerpt).slice(0, 10)), text.slice(0, 20));
          return true;
        },
      );
    }
  });

  it('reads an element once or many times as a list, and the text of one with attributes', () => {
    assert.deepEqual(xmlList(undefined), []);
    assert.deepEqual(xmlList(null), []);
    assert.deepEqual(xmlList({ a: '1' }), [{ a: '1' }]);
    assert.equal(xmlText('36.0'), '36.0');
    assert.equal(xmlText({ '@deprecated': 'true', '#text': '36.0' }), '36.0');
    assert.equal(xmlText({ '@deprecated': 'true' }), undefined);
    assert.equal(xmlText(undefined), undefined);
    assert.equal(xmlText(36), undefined);
  });
});

describe("a server's clock: edges", () => {
  const date = 'Sun, 06 Dec 2026 17:00:00 GMT';
  const at = Date.parse(date);

  it('carries the date of the last answer forward by the time since', () => {
    const clock = new ServerClock();
    assert.equal(clock.now(0), undefined);
    clock.observe(date, 1_000);
    assert.equal(clock.now(3_500), at + 2_500);
  });

  it('takes a date header of 64 characters, and ignores a longer, a missing or an unreadable one', () => {
    const clock = new ServerClock();
    clock.observe(date.padEnd(64), 0);
    assert.equal(clock.now(0), at);
    clock.observe('Mon, 07 Dec 2026 17:00:00 GMT'.padEnd(65), 0);
    clock.observe(undefined, 0);
    clock.observe('', 0);
    clock.observe('not a date', 0);
    assert.equal(clock.now(0), at);
  });
});

describe('checks on outside values: edges', () => {
  it('a record is an object, never text, a number or a list', () => {
    assert.equal(isRecord({}), true);
    for (const value of ['text', 1, true, [], null, undefined])
      assert.equal(isRecord(value), false, String(value));
  });

  it('string fields are all strings, on a record only', () => {
    assert.equal(hasStringFields({ a: 'x', b: '' }, 'a', 'b'), true);
    assert.equal(hasStringFields({ a: 'x', b: 1 }, 'a', 'b'), false);
    assert.equal(hasStringFields({ a: 1 }, 'a'), false);
    assert.equal(hasStringFields('text', 'length'), false);
  });

  it('names a variable only for a whole ${NAME}', () => {
    assert.equal(unsetVariable(' ${VCD_TOKEN} '), 'VCD_TOKEN');
    for (const value of ['${VCD_TOKEN', '$VCD_TOKEN}', '${A}${B}', 5])
      assert.equal(unsetVariable(value), undefined);
  });
});

describe('the first-in first-out list: edges', () => {
  it('puts back more than it gave since it was compacted, in order and with nothing between', () => {
    const list = new Fifo<string>();
    for (const item of ['a', 'b', 'c']) list.push(item);
    const first = list.take(3);
    for (const item of ['d', 'e']) list.push(item);
    const second = list.take(1);
    list.putBack([...first, ...second]);
    assert.deepEqual([...list], ['a', 'b', 'c', 'd', 'e']);
    assert.equal(list.length, 5);
  });
});

describe('the time of receipt', () => {
  it('is now, in RFC 3339, and moves with the clock', async () => {
    const before = Date.now();
    const first = receiptTime();
    assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(first) >= before && Date.parse(first) <= Date.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(Date.parse(receiptTime()) > Date.parse(first));
  });
});
