// The Node-RED Flow Library scorecard, the part that can be checked offline:
// package name and keywords, node-red.version, engines.node, license,
// repository, README, each node's files and help, every node in an example,
// and the runtime dependencies (how many; each installed at a version its
// range allows). Exits 1 on any failure, so CI catches a regression.
//
// Not checked (needs the npm registry): how old each dependency's release is
// and whether a newer major exists. The lock file holds versions, not dates.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const read = (file) => fs.readFileSync(path.join(root, file), 'utf8');
const exists = (file) => fs.existsSync(path.join(root, file));
const pkg = JSON.parse(read('package.json'));

/** Runtime dependencies allowed at most: more is a regression to look at, not to wave through. */
const MAX_DEPENDENCIES = 6;

const results = [];
function check(id, title, ok, detail = '') {
  results.push({ id, title, ok: Boolean(ok), detail });
}

// Package
const name = String(pkg.name ?? '');
check(
  'P01',
  'name is scoped or starts with node-red-contrib-',
  /^@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-~][a-z0-9-._~]*$/.test(name) || name.startsWith('node-red-contrib-'),
  name,
);
check('P02', 'keywords include "node-red"', (pkg.keywords ?? []).includes('node-red'));
const redVersion = pkg['node-red']?.version;
check(
  'P03',
  'node-red.version names the Node-RED versions supported',
  typeof redVersion === 'string' && /\d+\.\d+/.test(redVersion),
  String(redVersion),
);
check(
  'P04',
  'engines.node names the Node.js versions supported',
  /\d+/.test(String(pkg.engines?.node ?? '')),
  String(pkg.engines?.node),
);
check('P05', 'a license, with its text', typeof pkg.license === 'string' && exists('LICENSE'), pkg.license);
const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
check('P06', 'a repository', typeof repo === 'string' && /^(git\+)?https:\/\//.test(repo), repo);
check('P07', 'a README', exists('README.md') && read('README.md').length > 500);
check(
  'P08',
  'the published files include the nodes and the examples',
  (pkg.files ?? []).some((f) => f.startsWith('dist')) && (pkg.files ?? []).includes('examples'),
);

// Nodes
const nodes = Object.entries(pkg['node-red']?.nodes ?? {});
check('N01', 'the package declares nodes', nodes.length > 0, `${nodes.length}`);
const examples = exists('examples')
  ? fs
      .readdirSync(path.join(root, 'examples'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(read(path.join('examples', f))))
  : [];
const usedInExamples = new Set(examples.flat().map((n) => n.type));
for (const [type, js] of nodes) {
  const src = js.replace(/^dist\//, '').replace(/\.js$/, '');
  const dir = path.dirname(src);
  check('N02', `${type}: source and editor files`, exists(`${src}.ts`) && exists(`${dir}/${type}.html`));
  const help = `${dir}/locales/en-US/${type}.html`;
  check('N03', `${type}: help`, exists(help) && read(help).includes(`data-help-name="${type}"`));
  // What the library reads is the html that ships (its script and pieces put in by the build).
  const shipped = `${path.dirname(js)}/${type}.html`;
  check(
    'N04',
    `${type}: a literal registerType call (read statically by the library)`,
    exists(shipped) && new RegExp(`RED\\.nodes\\.registerType\\(\\s*'${type}'`).test(read(shipped)),
  );
  check('N05', `${type}: used in an example flow`, usedInExamples.has(type));
}
check('N06', 'example flows', examples.length > 0, `${examples.length}`);

// Dependencies
const deps = Object.entries(pkg.dependencies ?? {});
check(
  'D01',
  `at most ${MAX_DEPENDENCIES} runtime dependencies`,
  deps.length <= MAX_DEPENDENCIES,
  deps.map(([d]) => d).join(', '),
);
check(
  'D02',
  'node-red is not a runtime dependency',
  !('node-red' in (pkg.dependencies ?? {})) && !('node-red' in (pkg.peerDependencies ?? {})),
);
const dev = pkg.devDependencies ?? {};
check(
  'D03',
  'no package is both a runtime and a development dependency',
  deps.every(([d]) => !(d in dev)),
);
const lock = exists('package-lock.json') ? JSON.parse(read('package-lock.json')) : undefined;
check('D04', 'a lock file', lock !== undefined);
for (const [dep, range] of deps) {
  const locked = lock?.packages?.[`node_modules/${dep}`]?.version;
  check(
    'D05',
    `${dep}: locked at a version its range ${range} allows`,
    locked && satisfiesCaret(locked, range),
    locked,
  );
}

/** ^x.y.z and ~x.y.z ranges, the ones this package uses; anything else fails (and says so). */
function satisfiesCaret(version, range) {
  const m = /^([~^])(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m || !v) return false;
  const [want, got] = [m.slice(2).map(Number), v.slice(1).map(Number)];
  if (got[0] !== want[0]) return false;
  if (m[1] === '~' && got[1] !== want[1]) return false;
  for (let i = 0; i < 3; i++) if (got[i] !== want[i]) return got[i] > want[i];
  return true;
}

const failed = results.filter((r) => !r.ok);
for (const r of results)
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.id} ${r.title}${r.detail ? ` (${r.detail})` : ''}`);
console.log(
  `\n${results.length - failed.length}/${results.length} passed. Not checked offline: the age of each ` +
    'dependency release and newer majors (they need the npm registry).',
);
process.exit(failed.length > 0 ? 1 : 0);
