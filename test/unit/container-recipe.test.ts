/**
 * The README's container recipe keeps the state the nodes write: the compose
 * file mounts a volume on the user directory the image starts Node-RED with,
 * every folder the nodes write under it is named with the reason, and the
 * flow shipped in the image is not hidden by that volume.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { NodeFiles, PACKAGE_FOLDER } from '../../nodes/common/node-files';
import { REPO_ROOT } from '../../sim/nodered';

/** The user directory of the nodered/node-red image (its entrypoint passes --userDir /data). */
const IMAGE_USER_DIR = '/data';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const start = readme.indexOf('\n## Run it in a container');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

function block(language: string): string {
  const m = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
  assert.ok(m, `the container section has a ${language} block`);
  return m[1]!;
}

/**
 * Every purpose a node writes files for: `new NodeFiles(userDir, PURPOSE)` or `keptFiles(RED, node, PURPOSE, ...)`
 * in nodes/, resolved (keptFiles itself, in glue, passes its argument on).
 */
function nodeFilePurposes(): string[] {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts'))
        sources.push(fs.readFileSync(p, 'utf8').replace('new NodeFiles(userDir, purpose)', ''));
    }
  };
  walk(path.join(REPO_ROOT, 'nodes'));
  const all = sources.join('\n');
  const constants = new Map([...all.matchAll(/const (\w+) = '([\w-]+)';/g)].map((m) => [m[1]!, m[2]!]));
  const calls = /new NodeFiles\(\w+, (\w+|'[\w-]+')\)|keptFiles\(\w+, \w+, (\w+|'[\w-]+'),/g;
  return [...all.matchAll(calls)].map((m) => {
    const arg = (m[1] ?? m[2])!;
    const purpose = arg.startsWith("'") ? arg.slice(1, -1) : constants.get(arg);
    assert.ok(purpose, `the purpose ${arg} is a constant`);
    return purpose;
  });
}

interface Compose {
  services: Record<string, { volumes?: (string | { type?: string; source?: string; target: string })[] }>;
  volumes?: Record<string, unknown>;
}

describe('the container recipe (README)', () => {
  it('mounts a named volume on the user directory the image runs Node-RED with', () => {
    assert.match(block('dockerfile'), /^FROM nodered\/node-red:/m);
    const compose = yaml.load(block('yaml')) as Compose;
    const service = compose.services['node-red'];
    assert.ok(service, 'a node-red service');
    const mounts = (service.volumes ?? []).map((v) =>
      typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v,
    );
    const data = mounts.find((m) => m.target === IMAGE_USER_DIR);
    assert.ok(data, `a volume on ${IMAGE_USER_DIR}: ${JSON.stringify(mounts)}`);
    assert.ok(data.source && compose.volumes && data.source in compose.volumes, 'a named volume, declared');
  });

  it('names every folder the nodes keep there, with why it must outlive the container', () => {
    const purposes = nodeFilePurposes();
    assert.ok(purposes.length >= 5, purposes.join(', '));
    for (const purpose of purposes) {
      const dir = new NodeFiles(IMAGE_USER_DIR, purpose).dir;
      assert.equal(dir, path.posix.join(IMAGE_USER_DIR, PACKAGE_FOLDER, purpose), 'under the volume');
      assert.ok(section.includes(`\`${purpose}/\``), `the README names ${purpose}/`);
    }
    assert.ok(section.includes(`/data/${PACKAGE_FOLDER}/`));
    assert.match(section, /VCD_AUTH_FAILED/);
  });

  it('ships the flow and settings beside the volume, where a new image replaces them', () => {
    const dockerfile = block('dockerfile');
    const copy = /^COPY .*?(\S+)\/$/m.exec(dockerfile);
    assert.ok(copy, 'the Dockerfile copies the flow into a folder');
    const folder = copy[1]!;
    assert.ok(!folder.startsWith(IMAGE_USER_DIR), `${folder} is not under the volume`);
    assert.match(dockerfile, new RegExp(`^ENV FLOWS=${folder}/flows\\.json$`, 'm'));
    assert.ok(
      block('yaml').includes(`'--settings', '${folder}/settings.js'`),
      'compose starts with its settings',
    );
  });
});
