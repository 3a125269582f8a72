/**
 * Configuration posts, `POST /api/mo/<dn>.json` with one object: the
 * properties a user may set on the classes the simulated fabric has (a
 * fault's `ack`, descriptions and a few policy switches), tags as `tagInst`
 * children, and `status: "deleted"` for a tag. Like APIC: the object in the
 * body is the DN's or, named by its dn, one below it, of that object's class; a read-only or
 * unknown property is refused; a cleared (retaining) fault that is
 * acknowledged goes, an active one keeps `ack: "yes"`.
 */
import type { Change, MoTree } from './tree';

/** What a user may set, per class (the rest is the APIC's or naming). */
const CONFIGURABLE: Record<string, ReadonlySet<string>> = {
  faultInst: new Set(['ack']),
  fvTenant: new Set(['descr', 'nameAlias', 'annotation']),
  fvBD: new Set([
    'descr',
    'nameAlias',
    'annotation',
    'arpFlood',
    'unicastRoute',
    'unkMacUcastAct',
    'limitIpLearnToSubnets',
  ]),
  fvAEPg: new Set(['descr', 'nameAlias', 'annotation', 'prefGrMemb', 'pcEnfPref', 'floodOnEncap']),
  l1PhysIf: new Set(['descr', 'adminSt']),
};

const IDENTITY = new Set(['dn', 'rn', 'status']);

/** A refusal as APIC words it, with its HTTP status. */
export class ConfigRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface PostedMo {
  className: string;
  attributes: Record<string, string>;
  children: PostedMo[];
}

function readMo(value: unknown, where: string): PostedMo {
  const entries = value && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
  if (entries.length !== 1)
    throw new ConfigRefused(
      400,
      `Malformed request body at ${where}: one object, named by its class, expected`,
    );
  const [className, body] = entries[0] as [string, unknown];
  const b = (body ?? {}) as { attributes?: unknown; children?: unknown };
  const attributes = (b.attributes ?? {}) as Record<string, unknown>;
  if (typeof attributes !== 'object' || Array.isArray(attributes))
    throw new ConfigRefused(400, `Malformed attributes of ${className}`);
  for (const [k, v] of Object.entries(attributes)) {
    if (typeof v !== 'string') throw new ConfigRefused(400, `Property ${k} of ${className} must be a string`);
  }
  const children = Array.isArray(b.children)
    ? b.children.map((c, i) => readMo(c, `${className}.children[${i}]`))
    : [];
  return { className, attributes: attributes as Record<string, string>, children };
}

/** The changes one posted object makes to `dn`, or ConfigRefused. `changes` run through `audited`. */
export function configure(
  tree: MoTree,
  dn: string,
  text: string,
  audited: (dn: string, make: () => Change[]) => Change[],
): Change[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigRefused(400, 'Malformed JSON in request body');
  }
  const posted = readMo(json, 'the root');
  // As APIC takes a tenant posted to uni: the body may name an object below the URL's DN.
  const named = posted.attributes.dn;
  if (named !== undefined && named !== dn && !named.startsWith(`${dn}/`))
    throw new ConfigRefused(
      400,
      `Request failed, the dn ${named} in the body is not the dn of the URL ${dn} or below it`,
    );
  const at = named ?? dn;
  const mo = tree.get(at);
  if (!mo)
    throw new ConfigRefused(
      400,
      `Request failed, the object ${at} does not exist (the simulator creates tags only)`,
    );
  if (posted.className !== mo.className)
    throw new ConfigRefused(
      400,
      `Request failed, ${posted.className} is not the class of ${at} (${mo.className})`,
    );
  const settable = CONFIGURABLE[mo.className] ?? new Set<string>();
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(posted.attributes)) {
    if (IDENTITY.has(k)) continue;
    if (!settable.has(k))
      throw new ConfigRefused(400, `Request failed, property ${k} of ${mo.className} cannot be configured`);
    set[k] = v;
  }
  if (set.ack !== undefined && !['yes', 'no'].includes(set.ack))
    throw new ConfigRefused(400, `Invalid value ${set.ack} for property ack`);
  const changes: Change[] = [];
  if (Object.keys(set).length) changes.push(...modify(tree, at, mo.attributes, set, audited));
  for (const child of posted.children) changes.push(...tag(tree, at, child, audited));
  return changes;
}

function modify(
  tree: MoTree,
  dn: string,
  current: Record<string, string>,
  set: Record<string, string>,
  audited: (dn: string, make: () => Change[]) => Change[],
): Change[] {
  // Acknowledging a cleared fault removes it before its retention ends.
  if (set.ack === 'yes' && current.lc === 'retaining') return audited(dn, () => tree.delete(dn));
  return audited(dn, () => [tree.modify(dn, set)]);
}

/** A tag under an object: tagInst with its name, created, or deleted with status "deleted". */
function tag(
  tree: MoTree,
  dn: string,
  child: PostedMo,
  audited: (dn: string, make: () => Change[]) => Change[],
): Change[] {
  const name = child.attributes.name ?? '';
  if (child.className !== 'tagInst' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) {
    throw new ConfigRefused(
      400,
      `Request failed, the simulator takes tagInst children with a name (letters, digits, _ . : -) only`,
    );
  }
  const tagDn = `${dn}/tag-${name}`;
  if (child.attributes.status === 'deleted')
    return tree.get(tagDn) ? audited(tagDn, () => tree.delete(tagDn)) : [];
  return audited(tagDn, () => [tree.create('tagInst', tagDn, { name })]);
}
