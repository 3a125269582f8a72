/**
 * The edges of VCD API version negotiation that the mutation run found untested: what the client asks
 * `/api/versions` for, the JSON form of the answer, answers that are no version list, versions of different
 * lengths, the bounds of the range this client speaks, and the code and reason of each refusal.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../nodes/common/http';
import {
  compareVersions,
  fetchApiVersion,
  negotiateVersion,
  parseVersions,
  type VersionInfo,
} from '../../nodes/vcd/version-negotiation';

interface Answer {
  status?: number;
  type?: string;
  body: string;
}

/** A server of its own on 127.0.0.1 that gives one answer to everything and keeps what it was asked. */
async function versionServer(answer: Answer) {
  const asked: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.headers);
    req.resume();
    res.writeHead(answer.status ?? 200, answer.type === undefined ? {} : { 'content-type': answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new HttpClient({ tls: {}, timeoutMs: 10_000 });
  return {
    site,
    asked,
    fetch: () => fetchApiVersion(client, site),
    async close() {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
    },
  };
}

async function fetchFrom(answer: Answer): Promise<{ version?: string; error?: Error & { code?: string } }> {
  const server = await versionServer(answer);
  try {
    return { version: await server.fetch() };
  } catch (err) {
    return { error: err as Error & { code?: string } };
  } finally {
    await server.close();
  }
}

const versionsXml = (...versions: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?><SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">${versions
    .map((v) => `<VersionInfo deprecated="false"><Version>${v}</Version><LoginUrl>x</LoginUrl></VersionInfo>`)
    .join('')}</SupportedVersions>`;

const offer = (...versions: string[]): VersionInfo[] =>
  versions.map((version) => ({ version, deprecated: false }));

const coded = (code: string, text: RegExp) => (err: { code?: string; message: string }) =>
  err.code === code && text.test(err.message);

describe('VCD /api/versions on the wire', () => {
  it('asks for XML first and JSON second, and speaks what the XML answer offers', async () => {
    const server = await versionServer({
      type: 'application/*+xml;version=38.1',
      body: versionsXml('37.0', '38.1'),
    });
    try {
      assert.equal(await server.fetch(), '38.1');
      assert.equal(server.asked.length, 1);
      assert.equal(server.asked[0]?.accept, 'application/*+xml;q=1.0, application/json;q=0.9');
    } finally {
      await server.close();
    }
  });

  it('reads the JSON form a VCD gives when it answers in JSON', async () => {
    const body = JSON.stringify({
      versionInfo: [
        { version: '36.0', loginUrl: 'x', mediaTypeMapping: [], deprecated: false },
        { version: '37.0', loginUrl: 'x', mediaTypeMapping: [], deprecated: true },
      ],
    });
    assert.deepEqual(await fetchFrom({ type: 'application/json;version=36.0', body }), { version: '36.0' });
  });

  it('reads an answer without a content type as XML', async () => {
    assert.deepEqual(await fetchFrom({ body: versionsXml('35.0') }), { version: '35.0' });
  });

  it('says a site that answers other than 200 is no VCD, naming the site and the status', async () => {
    const server = await versionServer({
      status: 302,
      type: 'text/html',
      body: '<a href="/login">moved</a>',
    });
    try {
      const err = await server.fetch().then(
        () => assert.fail('a 302 was taken for a version list'),
        (e: unknown) => e as Error & { code?: string; details?: Record<string, unknown> },
      );
      assert.equal(err.code, 'VCD_NOT_VCD');
      assert.equal(
        err.message,
        `${server.site} does not look like VMware Cloud Director: GET /api/versions answered 302.`,
      );
      assert.deepEqual(err.details, { status: 302 });
    } finally {
      await server.close();
    }
  });

  it('says an answer of 200 that is no version list is no VCD, quoting its start', async () => {
    const page = await fetchFrom({ type: 'text/html', body: '<html><body>Welcome to nginx!</body></html>' });
    assert.equal(page.error?.code, 'VCD_NOT_VCD');
    assert.match(
      page.error?.message ?? '',
      /\/api\/versions is not a version list \(<html><body>Welcome to nginx/,
    );
    const json = await fetchFrom({ type: 'application/json', body: '{"versionInfo": [' });
    assert.equal(json.error?.code, 'VCD_NOT_VCD');
    assert.match(json.error?.message ?? '', /is not a version list \(\{"versionInfo": \[\)/);
  });

  it('says a JSON answer without versions lists none', async () => {
    const { error } = await fetchFrom({ type: 'application/json', body: '{"schemaDefinitions": null}' });
    assert.equal(error?.code, 'VCD_NOT_VCD');
    assert.match(error?.message ?? '', /lists no API versions: is this a VCD\?/);
  });

  it('refuses a version list over 1 MB instead of parsing it whole', async () => {
    const padded = versionsXml('38.0').replace(
      '<VersionInfo',
      `<!--${' '.repeat(1024 * 1024)}--><VersionInfo`,
    );
    const { error } = await fetchFrom({ type: 'application/*+xml', body: padded });
    assert.equal(error?.code, 'HTTP_BODY_TOO_LARGE');
  });
});

describe('VCD version lists at their edges', () => {
  const json = (body: unknown) =>
    parseVersions({
      status: 200,
      headers: { 'content-type': 'application/json' },
      text: JSON.stringify(body),
    });
  const xml = (text: string) =>
    parseVersions({ status: 200, headers: { 'content-type': 'application/*+xml' }, text });

  it('keeps only JSON entries that name a version, deprecated only when it says true', () => {
    assert.deepEqual(
      json({
        versionInfo: [
          { version: '36.0', deprecated: 'true' },
          { deprecated: false },
          { version: 37, deprecated: false },
          { version: '38.0', deprecated: true },
        ],
      }),
      [
        { version: '36.0', deprecated: false },
        { version: '38.0', deprecated: true },
      ],
    );
  });

  it('drops XML entries without a numeric version and refuses XML without SupportedVersions', () => {
    assert.deepEqual(
      xml(
        `<SupportedVersions><VersionInfo><Version>latest</Version></VersionInfo><VersionInfo><LoginUrl>x</LoginUrl></VersionInfo>` +
          `<VersionInfo deprecated="yes"><Version>37.0</Version></VersionInfo></SupportedVersions>`,
      ),
      [{ version: '37.0', deprecated: false }],
    );
    assert.throws(() => xml('<Error minorErrorCode="NOT_FOUND"/>'), /no SupportedVersions element/);
  });
});

describe('VCD version order and choice at their edges', () => {
  it('compares versions of different lengths part by part, missing parts as 0', () => {
    assert.equal(compareVersions('38.1', '38.1.0'), 0);
    assert.equal(compareVersions('38.1.0', '38.1'), 0);
    assert.ok(compareVersions('38.1', '38.1.1') < 0);
    assert.ok(compareVersions('38.1.1', '38.1') > 0);
    assert.ok(compareVersions('10.0', '9.1') > 0);
    assert.ok(compareVersions('9.1', '10.0') < 0);
    assert.equal(compareVersions('39.0.0-alpha', '39.0'), 0, 'a pre-release counts as its release');
    assert.ok(compareVersions('39.0.0-alpha', '38.9') > 0);
  });

  it('speaks 33.0 at the lower bound and 40.0 at the upper, whatever order the server lists them in', () => {
    assert.equal(negotiateVersion(offer('33.0')), '33.0');
    assert.equal(negotiateVersion(offer('40.0', '41.0')), '40.0');
    assert.equal(negotiateVersion(offer('39.0', '40.0')), '40.0');
    assert.equal(negotiateVersion(offer('40.0.1', '40.0')), '40.0', '40.0.1 is past the upper bound');
    assert.equal(negotiateVersion(offer('38.0', '35.0', '37.0')), '38.0');
    assert.equal(negotiateVersion(offer('43.0', '41.0', '42.0')), '41.0', 'a newer server: its oldest');
    assert.equal(negotiateVersion(offer('41.0')), '41.0', 'even when it offers only one');
    assert.equal(negotiateVersion(offer('38.1.0')), '38.1.0', 'three parts are a release too');
    assert.equal(negotiateVersion(offer('38.0', '39.0.0.1')), '38.0', 'four parts are no release');
  });

  it('names the newest version offered when all are too old, and lists what was offered', () => {
    assert.throws(
      () => negotiateVersion(offer('32.0', '31.0')),
      (err: { code?: string; message: string; details?: unknown }) =>
        err.code === 'VCD_VERSION_TOO_OLD' &&
        err.message === 'This VMware Cloud Director offers API 32.0; at least 33.0 (VCD 10.0) is needed.' &&
        JSON.stringify(err.details) === '{"offered":["32.0","31.0"]}',
    );
    assert.throws(
      () => negotiateVersion([{ version: '34.0', deprecated: true }, ...offer('32.0')]),
      coded(
        'VCD_VERSION_TOO_OLD',
        /^This VMware Cloud Director offers no current \(non-deprecated\) API from 33\.0 on\.$/,
      ),
    );
    assert.throws(
      () => negotiateVersion([{ version: '33.0', deprecated: true }]),
      coded('VCD_VERSION_TOO_OLD', /no current \(non-deprecated\) API/),
      '33.0 deprecated: new enough, but not current',
    );
    assert.throws(
      () => negotiateVersion(offer('40.0.0-alpha', '32.0')),
      coded('VCD_VERSION_TOO_OLD', /no current \(non-deprecated\) API/),
      'a pre-release alone is no current API',
    );
  });
});
