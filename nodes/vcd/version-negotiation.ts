/**
 * Which VCD API version to speak: what `GET /api/versions` offers (XML or
 * JSON), compared numerically, within what this client was written against.
 */
import { CodedError } from '../common/errors';
import { SMALL_ANSWER_BYTES, excerpt, header, type HttpClient, type HttpResponse } from '../common/http';
import { parseXml, xmlList, xmlText } from '../common/xml';
import { VcdCodes } from './codes';

/** 38.1 or 38.1.0; not 39.0.0-alpha. */
const RELEASED_VERSION = /^\d+\.\d+(\.\d+)?$/;
/** The oldest API with /cloudapi login. */
export const MIN_API_VERSION = '33.0';
/** The newest API this client was written against; newer servers still offer it. */
export const MAX_API_VERSION = '40.0';

export interface VersionInfo {
  version: string;
  deprecated: boolean;
}

/** Compares dotted API versions numerically ("39.0.0-alpha" counts as 39.0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.isNaN(pa[i] ?? 0) ? 0 : (pa[i] ?? 0);
    const y = Number.isNaN(pb[i] ?? 0) ? 0 : (pb[i] ?? 0);
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * Reads `GET /api/versions` in either of its forms (XML by default, JSON when
 * asked) into a list of versions.
 */
export function parseVersions(res: HttpResponse): VersionInfo[] {
  const type = header(res.headers, 'content-type') ?? '';
  if (type.includes('json')) {
    const body = JSON.parse(res.text) as { versionInfo?: { version?: string; deprecated?: boolean }[] };
    return (body.versionInfo ?? [])
      .filter((v) => typeof v.version === 'string')
      .map((v) => ({ version: String(v.version), deprecated: v.deprecated === true }));
  }
  const doc = parseXml(res.text);
  const root = doc.SupportedVersions as Record<string, unknown> | undefined;
  if (!root) throw new Error('no SupportedVersions element');
  return xmlList(root.VersionInfo)
    .map((v) => ({ version: xmlText(v.Version) ?? '', deprecated: v['@deprecated'] === 'true' }))
    .filter((v) => /^\d+\.\d+/.test(v.version));
}

/**
 * The highest non-deprecated version both sides support. Throws
 * VCD_VERSION_TOO_OLD when the server offers nothing from 33.0 on.
 */
export function negotiateVersion(offered: VersionInfo[]): string {
  if (offered.length === 0) {
    throw new CodedError(VcdCodes.NOT_VCD, 'GET /api/versions lists no API versions: is this a VCD?');
  }
  const usable = offered
    // Pre-release versions (e.g. 39.0.0-alpha) are previews of the next API, not a contract.
    .filter((v) => !v.deprecated && RELEASED_VERSION.test(v.version))
    .map((v) => v.version)
    .filter((v) => compareVersions(v, MIN_API_VERSION) >= 0)
    .sort(compareVersions);
  const inRange = usable.filter((v) => compareVersions(v, MAX_API_VERSION) <= 0);
  if (inRange.length > 0) return inRange[inRange.length - 1] as string;
  // A server newer than this client: the oldest version it still offers is the closest.
  if (usable.length > 0) return usable[0] as string;
  const newest = offered
    .map((v) => v.version)
    .sort(compareVersions)
    .pop() as string;
  const onlyDeprecated = compareVersions(newest, MIN_API_VERSION) >= 0;
  throw new CodedError(
    VcdCodes.VERSION_TOO_OLD,
    onlyDeprecated
      ? `This VMware Cloud Director offers no current (non-deprecated) API from ${MIN_API_VERSION} on.`
      : `This VMware Cloud Director offers API ${newest}; at least ${MIN_API_VERSION} (VCD 10.0) is needed.`,
    { offered: offered.map((v) => v.version) },
  );
}

/**
 * `GET /api/versions` of a site, and the version to speak. Throws VCD_NOT_VCD
 * when the answer is no version list, VCD_VERSION_TOO_OLD when none will do.
 */
export async function fetchApiVersion(http: HttpClient, site: string): Promise<string> {
  const res = await http.send('GET', `${site}/api/versions`, {
    headers: { accept: 'application/*+xml;q=1.0, application/json;q=0.9' },
    // XML, parsed whole: a hostile server's 32 MB would block the event loop for seconds.
    maxBodyBytes: SMALL_ANSWER_BYTES,
  });
  if (res.status !== 200) {
    throw new CodedError(
      VcdCodes.NOT_VCD,
      `${site} does not look like VMware Cloud Director: GET /api/versions answered ${res.status}.`,
      { status: res.status },
    );
  }
  let offered: VersionInfo[];
  try {
    offered = parseVersions(res);
  } catch {
    throw new CodedError(
      VcdCodes.NOT_VCD,
      `${site} does not look like VMware Cloud Director: /api/versions is not a version list (${excerpt(res.text, 60)}).`,
    );
  }
  return negotiateVersion(offered);
}
