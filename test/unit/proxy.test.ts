/**
 * Which proxy a connection takes: the node's own, else the environment's by the
 * target's scheme (lower case first), and no proxy for what NO_PROXY names, read
 * as curl and the core nodes read it.
 */
import assert from 'node:assert/strict';
import { bypasses, proxyFor, routeOf } from '../../nodes/common/proxy';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('proxies', () => {
  describe('from the environment', () => {
    it('https and wss take HTTPS_PROXY, http and ws take HTTP_PROXY; lower case wins', () => {
      const env = { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:3128' };
      assert.equal(proxyFor('https://vcd.example.com', undefined, env)?.origin, 'http://secure:3128');
      assert.equal(
        proxyFor('wss://vcd.example.com/messaging/mqtt', undefined, env)?.origin,
        'http://secure:3128',
      );
      assert.equal(proxyFor('http://sink.example.com/events', undefined, env)?.origin, 'http://plain:3128');
      assert.equal(proxyFor('ws://sink.example.com', undefined, env)?.origin, 'http://plain:3128');
      const both = { ...env, https_proxy: 'http://lower:8080' };
      assert.equal(proxyFor('https://vcd.example.com', undefined, both)?.origin, 'http://lower:8080');
    });

    it('none set, or only the other scheme, is a direct connection', () => {
      assert.equal(proxyFor('https://vcd.example.com', undefined, {}), undefined);
      assert.equal(proxyFor('https://vcd.example.com', undefined, { HTTP_PROXY: 'http://p:1' }), undefined);
      assert.equal(proxyFor('https://vcd.example.com', undefined, { HTTPS_PROXY: '  ' }), undefined);
    });

    it('a proxy without a scheme is http://, and its credentials become Proxy-Authorization', () => {
      assert.deepEqual(proxyFor('https://a.example', undefined, { HTTPS_PROXY: 'proxy.corp:3128' }), {
        origin: 'http://proxy.corp:3128',
      });
      const route = proxyFor('https://a.example', undefined, {
        HTTPS_PROXY: 'http://us%40er:p%3Ass@proxy:3128',
      });
      assert.deepEqual(route, { origin: 'http://proxy:3128', authorization: basic('us@er', 'p:ss') });
    });

    it('NO_PROXY (or no_proxy, which wins) lets the hosts it names through directly', () => {
      const env = {
        HTTPS_PROXY: 'http://p:1',
        NO_PROXY: 'internal.example, 10.0.0.0/8',
        no_proxy: 'lab.example',
      };
      assert.equal(proxyFor('https://vcd.lab.example', undefined, env), undefined);
      assert.ok(
        proxyFor('https://vcd.internal.example', undefined, env),
        'NO_PROXY is not read when no_proxy is set',
      );
      assert.ok(proxyFor('https://apic.example', undefined, env));
    });
  });

  describe('a NO_PROXY list', () => {
    const list = [
      'example.com',
      '.corp.test',
      '*.lab.test',
      'sink.io:8443',
      '10.1.0.0/16',
      '::1',
      'fd00::/8',
    ];
    const cases: [string, number, boolean][] = [
      ['example.com', 443, true],
      ['vcd.example.com', 443, true],
      ['notexample.com', 443, false],
      ['example.com.evil.net', 443, false],
      ['corp.test', 443, true],
      ['a.b.corp.test', 443, true],
      ['apic.lab.test', 443, true],
      ['lab.test', 443, true],
      ['sink.io', 8443, true],
      ['sink.io', 443, false],
      ['10.1.255.255', 443, true],
      ['10.1.0.0', 443, true],
      ['10.2.0.1', 443, false],
      ['[::1]', 443, true],
      ['[fd12::1]', 443, true],
      ['[fe80::1]', 443, false],
      ['EXAMPLE.COM', 443, true],
    ];
    for (const [host, port, direct] of cases) {
      it(`${host}:${port} ${direct ? 'goes direct' : 'takes the proxy'}`, () => {
        assert.equal(bypasses(list, host, port), direct);
      });
    }

    it('* lets every host through; an empty list none', () => {
      assert.equal(bypasses(['*'], 'anything.example', 443), true);
      assert.equal(bypasses([], 'anything.example', 443), false);
      assert.equal(bypasses(['', ' '], 'anything.example', 443), false);
    });
  });

  describe("a node's own proxy (a core http proxy node)", () => {
    const own = { url: 'http://own:3128', noProxy: ['apic1.example'], username: 'svc', password: 's3cret' };

    it('is used for every scheme, with its credentials, instead of the environment', () => {
      const env = { HTTPS_PROXY: 'http://env:1', HTTP_PROXY: 'http://env:2' };
      for (const target of ['https://vcd.example', 'http://sink.example', 'wss://apic2.example/socket1']) {
        assert.deepEqual(proxyFor(target, own, env), {
          origin: 'http://own:3128',
          authorization: basic('svc', 's3cret'),
        });
      }
    });

    it('its bypass list applies, and NO_PROXY of the environment does not', () => {
      assert.equal(proxyFor('https://apic1.example', own, {}), undefined);
      assert.ok(proxyFor('https://apic2.example', own, { NO_PROXY: '*' }));
    });

    it('without a URL, connections go direct', () => {
      assert.equal(proxyFor('https://vcd.example', { url: '' }, { HTTPS_PROXY: 'http://env:1' }), undefined);
    });
  });

  it('refuses a proxy that is not an HTTP proxy, naming it without credentials', () => {
    assert.throws(
      () => routeOf('socks5://user:pw@socks:1080'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG_PROXY_INVALID');
        assert.match(err.message, /socks5:\/\/socks:1080/);
        assert.ok(!err.message.includes('pw'));
        return true;
      },
    );
    assert.throws(() => routeOf('http://[bad'), { code: 'CONFIG_PROXY_INVALID' });
  });
});
