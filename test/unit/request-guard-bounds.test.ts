/**
 * The request guard's limits from both sides and the reason each refusal gives: the mutation run changed a
 * bound or dropped a reason here and no test noticed. A limit promised in the help (2048 characters of path,
 * 64 query parameters, 4096 characters a value, 512 a placeholder, 200 a content type) holds at its value and
 * refuses one past it.
 */
import assert from 'node:assert/strict';
import { isCoded } from '../../nodes/common/errors';
import {
  RequestCodes,
  bodyText,
  buildQuery,
  checkContentType,
  checkPath,
  fillPath,
  pickMethod,
  safeHeaders,
} from '../../nodes/common/request-guard';

/** Refused with this code and a message that gives this reason. */
const refusedFor = (fn: () => unknown, code: string, reason: RegExp) =>
  assert.throws(
    fn,
    (err: unknown) => isCoded(err, code) && reason.test((err as Error).message),
    String(reason),
  );

describe('request guard: limits and reasons', () => {
  it('takes a path of 2048 characters and refuses one of 2049, quoting its start only', () => {
    const path = (n: number) => '/api/' + 'a'.repeat(n - 5);
    assert.equal(checkPath(path(2048)), path(2048));
    assert.throws(
      () => checkPath(path(2049)),
      (err: Error & { code?: string; details?: { path?: string } }) =>
        err.code === RequestCodes.PATH_INVALID &&
        /is longer than 2048 characters/.test(err.message) &&
        err.message.length < 200 &&
        err.details?.path?.length === 200,
    );
  });

  it('says why a path is refused', () => {
    const bad = (path: unknown, reason: RegExp, prefixes?: string[]) =>
      refusedFor(() => checkPath(path, prefixes), RequestCodes.PATH_INVALID, reason);
    bad(42, /Give the path as a string/);
    bad('', /Give the path as a string/);
    bad('api/x', /must start with \//);
    bad('//evil/x', /names another host/);
    bad('/api/x\u007f', /control character/);
    bad('/api/x\ty', /control character/);
    bad('/api\\x', /backslash/);
    bad('/api/x?y', /msg\.query/);
    bad('/api/%2e%2e/x', /hides a dot/);
    bad('/api/%a/x', /broken %-escape/);
    bad('/api/../x', /\. or \.\. segment/);
    bad('/oauth/x', /must start with \/api\/ or \/cloudapi\//, ['/api/', '/cloudapi/']);
    assert.equal(checkPath('/api/%41'), '/api/%41', 'a whole %-escape is kept');
  });

  it('fills a placeholder of 512 characters and refuses 513, a DEL, or a path through something that is not an object', () => {
    assert.equal(fillPath('/api/{{v}}', { v: 'b'.repeat(512) }), `/api/${'b'.repeat(512)}`);
    refusedFor(
      () => fillPath('/api/{{v}}', { v: 'b'.repeat(513) }),
      RequestCodes.PATH_INVALID,
      /one path segment/,
    );
    refusedFor(
      () => fillPath('/api/{{v}}', { v: 'a\u007f' }),
      RequestCodes.PATH_INVALID,
      /msg\.v cannot be one/,
    );
    refusedFor(() => fillPath('/api/{{v}}', { v: '..' }), RequestCodes.PATH_INVALID, /no \/, \\, \. or \.\./);
    refusedFor(
      () => fillPath('/api/{{payload.id}}', { payload: null }),
      RequestCodes.PATH_INVALID,
      /has no value/,
    );
    refusedFor(
      () => fillPath('/api/{{payload.id}}', { payload: 'id' }),
      RequestCodes.PATH_INVALID,
      /has no value/,
    );
    refusedFor(
      () => fillPath('/api/{{payload.length}}', { payload: 'abc' }),
      RequestCodes.PATH_INVALID,
      /has no value/,
    );
    refusedFor(
      () => fillPath('/api/{{v}', { v: 'a' }),
      RequestCodes.PATH_INVALID,
      /"\/api\/\{\{v\}" has a broken/,
    );
  });

  it('takes 64 query parameters and refuses 65; a value of 4096 characters and not 4097', () => {
    const params = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    assert.equal(buildQuery(params(64)).split('&').length, 64);
    refusedFor(() => buildQuery(params(65)), RequestCodes.QUERY_INVALID, /more than 64 parameters/);
    assert.equal(buildQuery({ a: 'v'.repeat(4096) }).length, '?a='.length + 4096);
    refusedFor(
      () => buildQuery({ a: 'v'.repeat(4097) }),
      RequestCodes.QUERY_INVALID,
      /msg\.query\.a is too long/,
    );
    refusedFor(() => buildQuery({ a: 'x\u007f' }), RequestCodes.QUERY_INVALID, /control characters/);
  });

  it('skips empty query values, leaves a parameter the node sets to the node, and names a value of no plain type', () => {
    assert.equal(buildQuery({ a: null, b: undefined, c: ['x', null], d: false }), '?c=x&d=false');
    assert.equal(buildQuery(null), '');
    assert.equal(
      buildQuery({ page: { not: 'plain' } }, { page: '1' }),
      '?page=1',
      "the node's own is not read",
    );
    refusedFor(
      () => buildQuery({ a: () => 1 }),
      RequestCodes.QUERY_INVALID,
      /msg\.query\.a must be a string/,
    );
    refusedFor(() => buildQuery(['a']), RequestCodes.QUERY_INVALID, /Give msg\.query as an object/);
    refusedFor(() => buildQuery({ 'a b': 1 }), RequestCodes.QUERY_INVALID, /name "a b" is not a plain word/);
  });

  it('reads the method from the message trimmed, and names one it refuses', () => {
    assert.equal(pickMethod('msg', ' get ', 'read'), 'GET');
    refusedFor(
      () => pickMethod('msg', 'FETCH', 'write'),
      RequestCodes.METHOD_NOT_ALLOWED,
      /"FETCH" is not a method/,
    );
    refusedFor(
      () => pickMethod('msg', 'delete', 'read'),
      RequestCodes.METHOD_NOT_ALLOWED,
      /DELETE changes things/,
    );
    assert.throws(
      () => pickMethod('msg', 'PUT', 'read'),
      (err: Error & { details?: { method?: string } }) => err.details?.method === 'PUT',
    );
  });

  it('sends a string or Buffer as it is, other values as JSON, nothing for an empty payload', () => {
    for (const empty of [undefined, null, '']) assert.equal(bodyText(empty), undefined);
    assert.equal(bodyText('<Vm/>'), '<Vm/>');
    assert.equal(bodyText(Buffer.from('ümlaut')), 'ümlaut');
    assert.equal(bodyText({ a: [1] }), '{"a":[1]}');
    assert.equal(bodyText(0), '0');
    assert.equal(bodyText(false), 'false');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    refusedFor(() => bodyText(loop), RequestCodes.BODY_INVALID, /cannot be sent as JSON: .*circular/i);
  });

  it('takes a content type of up to 200 characters, with or without blanks around its parameters', () => {
    for (const empty of [undefined, null, '']) assert.equal(checkContentType(empty), undefined);
    assert.equal(checkContentType('application/json;charset=utf-8'), 'application/json;charset=utf-8');
    const long = (n: number) => `application/${'x'.repeat(n - 12)}`;
    assert.equal(checkContentType(long(200)), long(200));
    refusedFor(() => checkContentType(long(201)), RequestCodes.BODY_INVALID, /is not a media type/);
    refusedFor(() => checkContentType(42), RequestCodes.BODY_INVALID, /msg\.contentType "42"/);
    refusedFor(() => checkContentType('x text/plain'), RequestCodes.BODY_INVALID, /not a media type/);
    assert.equal(checkContentType('text/plain ; a=b'), 'text/plain ; a=b');
  });

  it('copies every header that holds no credential, and none that has no value', () => {
    assert.deepEqual(safeHeaders({ etag: '"1"', 'x-empty': undefined, Cookie: 'c' }), { etag: '"1"' });
  });
});
