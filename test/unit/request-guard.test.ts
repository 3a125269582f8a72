/**
 * The request guard both request nodes share: a message sets a path, a query
 * and a body on the configured host, and nothing else.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isCoded } from '../../nodes/common/errors';
import {
  RequestCodes,
  buildQuery,
  checkContentType,
  checkPath,
  fillPath,
  pickMethod,
  safeHeaders,
} from '../../nodes/common/request-guard';

const refused = (fn: () => unknown, code: string) =>
  assert.throws(fn, (err: unknown) => isCoded(err, code), `expected ${code}`);

/** The host a checked path leads to, when appended to the configured origin as the nodes do. */
const hostOf = (path: string) => new URL('https://vcd.example.com' + path).host;

describe('request guard', () => {
  describe('paths', () => {
    it('takes paths on the configured host', () => {
      assert.equal(checkPath('/cloudapi/1.0.0/orgs'), '/cloudapi/1.0.0/orgs');
      assert.equal(checkPath('/api/vApp/vm-1%20a'), '/api/vApp/vm-1%20a');
      assert.equal(checkPath('/api/query', ['/api/', '/cloudapi/']), '/api/query');
    });

    it('refuses URLs, other hosts, traversal written plainly or %-encoded, and smuggled queries', () => {
      for (const bad of [
        'https://evil.example/x',
        'http:/x',
        '//evil.example/api',
        'api/x',
        '/api/../admin',
        '/api/./x',
        '/api/%2e%2e/admin',
        '/api/%2E%2e/x',
        '/api/%252e%252e/x',
        '/api/vm%2fother',
        '/api\\..\\x',
        '/api/x?filter=y',
        '/api/x#frag',
        '/api/x y',
        '/api/x\r\nHost: evil',
        '/api/%zz',
        '',
        42,
        undefined,
      ]) {
        refused(() => checkPath(bad), RequestCodes.PATH_INVALID);
      }
      refused(() => checkPath('/oauth/provider/token', ['/api/', '/cloudapi/']), RequestCodes.PATH_INVALID);
    });

    it('never lets any accepted path reach another host or leave its prefix (property)', () => {
      const piece = fc.constantFrom(
        '/',
        '.',
        '..',
        '%2e',
        '%2f',
        '%5c',
        '\\',
        '@',
        ':',
        'evil.example',
        'api',
        '?',
        '#',
        '%',
        '%25',
        'a',
      );
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
          const path = '/cloudapi/' + parts.join('');
          let checked: string;
          try {
            checked = checkPath(path, ['/cloudapi/']);
          } catch (err) {
            return isCoded(err, RequestCodes.PATH_INVALID);
          }
          const url = new URL('https://vcd.example.com' + checked);
          return url.host === 'vcd.example.com' && url.pathname.startsWith('/cloudapi/') && url.search === '';
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('placeholders', () => {
    it('fills each placeholder as exactly one segment from the message', () => {
      const msg = { vmId: 'urn:vcloud:vm:1a2b', payload: { id: 'a b', n: 7 } };
      assert.equal(fillPath('/api/vApp/{{vmId}}', msg), '/api/vApp/urn:vcloud:vm:1a2b');
      assert.equal(fillPath('/x/{{ payload.id }}/{{payload.n}}', msg), '/x/a%20b/7');
    });

    it('refuses values that would add segments, climb, or are missing; never reads inherited properties', () => {
      for (const value of ['../admin', '..', '.', 'a/b', 'a\\b', '', 'x\ny']) {
        refused(() => fillPath('/api/{{v}}', { v: value }), RequestCodes.PATH_INVALID);
      }
      refused(() => fillPath('/api/{{missing}}', {}), RequestCodes.PATH_INVALID);
      refused(() => fillPath('/api/{{v}}', { v: { id: 1 } }), RequestCodes.PATH_INVALID);
      refused(() => fillPath('/api/{{constructor.name}}', {}), RequestCodes.PATH_INVALID);
      refused(() => fillPath('/api/{{v}', { v: 'a' }), RequestCodes.PATH_INVALID);
    });

    it('keeps any filled value inside its segment (property)', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 40 }), (value) => {
          let path: string;
          try {
            path = fillPath('/cloudapi/1.0.0/vms/{{v}}/x', { v: value });
          } catch (err) {
            return isCoded(err, RequestCodes.PATH_INVALID);
          }
          const segments = new URL('https://h' + path).pathname.split('/');
          return (
            hostOf(path) === 'vcd.example.com' &&
            segments.length === 6 &&
            decodeURIComponent(segments[4]!) === value
          );
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('methods', () => {
    it('reads by default and writes only when the node allows it', () => {
      assert.equal(pickMethod('GET', 'DELETE', 'read'), 'GET', "the node's own method wins");
      assert.equal(pickMethod('msg', 'head', 'read'), 'HEAD');
      refused(() => pickMethod('msg', 'DELETE', 'read'), RequestCodes.METHOD_NOT_ALLOWED);
      refused(() => pickMethod('POST', undefined, 'read'), RequestCodes.METHOD_NOT_ALLOWED);
      assert.equal(pickMethod('msg', 'post', 'write'), 'POST');
      refused(() => pickMethod('msg', 'TRACE', 'write'), RequestCodes.METHOD_NOT_ALLOWED);
      refused(() => pickMethod('msg', undefined, 'write'), RequestCodes.METHOD_NOT_ALLOWED);
    });
  });

  describe('queries', () => {
    it("encodes the message's parameters, the node's own last and winning", () => {
      assert.equal(
        buildQuery({ filter: 'name==a b;x=y&z', sortAsc: 'name' }),
        '?filter=name%3D%3Da%20b%3Bx%3Dy%26z&sortAsc=name',
      );
      assert.equal(
        buildQuery({ page: 9, pageSize: 1 }, { page: '1', pageSize: '128' }),
        '?page=1&pageSize=128',
      );
      assert.equal(buildQuery({ links: ['a', 'b'] }), '?links=a&links=b');
      assert.equal(buildQuery(undefined), '');
    });

    it('refuses what is not a plain parameter', () => {
      refused(() => buildQuery('filter=x'), RequestCodes.QUERY_INVALID);
      refused(() => buildQuery({ 'a&b': 'x' }), RequestCodes.QUERY_INVALID);
      refused(() => buildQuery({ a: { b: 1 } }), RequestCodes.QUERY_INVALID);
      refused(() => buildQuery({ a: 'x\r\ny' }), RequestCodes.QUERY_INVALID);
      refused(() => buildQuery({ a: 'x'.repeat(5000) }), RequestCodes.QUERY_INVALID);
    });
  });

  it('never copies credentials into a message, and takes only media types as content type', () => {
    const out = safeHeaders({
      'content-type': 'application/json',
      'set-cookie': 'APIC-cookie=secret',
      'X-VMWARE-VCLOUD-ACCESS-TOKEN': 'jwt',
      authorization: 'Bearer jwt',
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
    });
    assert.deepEqual(Object.keys(out).sort(), ['content-type', 'date']);
    assert.equal(
      checkContentType('application/vnd.vmware.vcloud.vm+xml'),
      'application/vnd.vmware.vcloud.vm+xml',
    );
    assert.equal(checkContentType('application/json; charset=utf-8'), 'application/json; charset=utf-8');
    refused(() => checkContentType('text/plain\r\nAuthorization: x'), RequestCodes.BODY_INVALID);
  });
});
