/**
 * What every example promises before it runs: one configuration node per
 * system, the same in every file (importing several, or the demo that merges
 * them, opens one session per system); addresses from environment variables the
 * canvas names; a comment that explains it; no audit or event log read whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXAMPLE_CONFIG, REPO_ROOT, exampleFlow, type FlowNode } from '../../sim/nodered';

const FILES = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json'));
const EXAMPLES = FILES.map((file) => ({ file, flow: exampleFlow(file) }));

/** The configuration node type of each system and the id every example gives it. */
const SYSTEMS: Record<string, string> = {
  'vcd-login': EXAMPLE_CONFIG.vcd,
  'aci-controller': EXAMPLE_CONFIG.apic,
  'cloudevent-sink': EXAMPLE_CONFIG.sink,
};

/** Properties that name where a system is: each must be a `${NAME}` the runtime fills in. */
const ADDRESSES: Record<string, string[]> = {
  'vcd-login': ['url', 'org'],
  'aci-controller': ['hosts'],
  'cloudevent-sink': ['url'],
  'cloudevent-emit': ['url'],
  'event-decode': ['source'],
};
const ENV_REFERENCE = /^\$\{([A-Z][A-Z0-9_]*)\}$/;

/** Audit and event records: logs that every (re)subscription reads whole unless filtered. */
const LOG_CLASSES = ['aaaModLR', 'eventRecord'];

const isConfig = (n: FlowNode) => n.type !== 'tab' && n.z === undefined;
const texts = (flow: FlowNode[]) =>
  flow
    .filter((n) => n.type === 'comment' || n.type === 'tab')
    .map((n) => `${String(n.name ?? n.label ?? '')}\n${String(n.info ?? '')}`)
    .join('\n');

describe('examples: shared configuration, environment, comments', () => {
  it('finds the examples', () => {
    assert.ok(EXAMPLES.length >= 9, FILES.join(', '));
  });

  it('give each system one configuration node, with the same id and settings in every file', () => {
    for (const [type, id] of Object.entries(SYSTEMS)) {
      const found = EXAMPLES.flatMap(({ file, flow }) =>
        flow.filter((n) => n.type === type).map((node) => ({ file, node })),
      );
      assert.ok(found.length >= 2, `${type} is shared by several examples`);
      for (const { file, node } of found) {
        assert.equal(node.id, id, `${type} in ${file}`);
        assert.deepEqual(node, found[0]!.node, `${type} in ${file} equals the one in ${found[0]!.file}`);
      }
      for (const { file, flow } of EXAMPLES) {
        assert.ok(flow.filter((n) => n.type === type).length <= 1, `one ${type} in ${file}`);
      }
    }
  });

  it('share no other id, unless it is the same configuration node (the merged demo keeps one node per id)', () => {
    const seen = new Map<string, { file: string; node: FlowNode }>();
    for (const { file, flow } of EXAMPLES) {
      for (const node of flow) {
        const before = seen.get(node.id);
        if (before) {
          assert.ok(isConfig(node), `${node.type} ${node.id} of ${file} is also in ${before.file}`);
          assert.deepEqual(node, before.node, `config node ${node.id} in ${file} and ${before.file}`);
        }
        seen.set(node.id, { file, node });
      }
    }
  });

  it('read every address from an environment variable that the canvas names', () => {
    for (const { file, flow } of EXAMPLES) {
      const canvas = texts(flow);
      for (const node of flow) {
        for (const prop of ADDRESSES[node.type] ?? []) {
          const value = node[prop];
          if (!(node.type in SYSTEMS) && !value) continue; // an emit that names a sink has no URL
          const name = ENV_REFERENCE.exec(String(value))?.[1];
          assert.ok(name, `${file}: ${node.type}.${prop} is a \${NAME}, not ${JSON.stringify(value)}`);
          assert.ok(canvas.includes(name), `${file}: a comment or the flow's description names ${name}`);
        }
      }
      const raw = JSON.stringify(flow);
      assert.doesNotMatch(raw, /127\.0\.0\.1|localhost|:844\d/, `${file} names no address of this machine`);
    }
  });

  it('explain themselves with a comment on the canvas, and never ask for the repository', () => {
    for (const { file, flow } of EXAMPLES) {
      const tab = flow.find((n) => n.type === 'tab')!;
      const comments = flow.filter((n) => n.type === 'comment' && n.z === tab.id);
      assert.ok(comments.length >= 1, `${file} has a comment node`);
      for (const c of comments) {
        assert.ok(String(c.name).length > 10 && String(c.info).length > 50, `${file}: "${String(c.name)}"`);
      }
      assert.doesNotMatch(texts(flow), /npm (run|start)|simulator/i, `${file} speaks to a palette user`);
    }
  });

  it('never subscribe to a whole audit or event log: each log entry has a query-target-filter', () => {
    let logs = 0;
    for (const { file, flow } of EXAMPLES) {
      for (const node of flow.filter((n) => n.type === 'aci-subscribe')) {
        for (const entry of String(node.subscriptions).split('\n')) {
          const target = entry.trim().split('?')[0]!;
          if (!LOG_CLASSES.includes(target)) continue;
          logs++;
          assert.match(entry, /[?&]query-target-filter=\w+\(/, `${file}: "${entry}"`);
        }
      }
    }
    assert.ok(logs >= 2, 'the examples that read the audit log are checked');
  });

  it('are listed in the README with every environment variable they read', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Examples'),
      readme.indexOf('\n## ', readme.indexOf('\n## Examples') + 1),
    );
    for (const { file, flow } of EXAMPLES) {
      assert.ok(section.includes(`\`${file.replace(/\.json$/, '')}\``), `README lists ${file}`);
      for (const m of JSON.stringify(flow).matchAll(
        /\$\{([A-Z][A-Z0-9_]*)\}|\$env\(\\"([A-Z][A-Z0-9_]*)\\"\)/g,
      )) {
        const name = m[1] ?? m[2]!;
        if (/_(USER|PASSWORD)$/.test(name)) continue; // credentials: the table's text names them
        assert.match(
          section,
          new RegExp(`\`(\\$\\{)?${name}\\}?\``), // `NAME` or `${NAME}`
          `README's Examples section explains ${name} (${file})`,
        );
      }
    }
  });
});
