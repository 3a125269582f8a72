/**
 * No module imports itself through others: a cycle makes the load order decide
 * what is defined, and makes a file impossible to read on its own. Checked on
 * the sources, type-only imports included; and between the rooms of nodes/
 * (its folders): what two rooms share lives in one of them, or in common/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sourceFiles } from '../support/source-files';

/** The files a module imports or re-exports from, by relative path. */
export function localImports(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b\s*(?:[^;]*?\bfrom\s*)?'(\.[^']+)'/gms)].map(
    (m) => m[1] as string,
  );
  return specifiers.map((s) => {
    const target = path.resolve(path.dirname(file), s);
    return fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts');
  });
}

/** Every cycle's files, in import order, starting where the walk first met it. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    const onStack = stack.indexOf(file);
    if (onStack !== -1) {
      cycles.push(stack.slice(onStack));
      return;
    }
    if (done.has(file)) return;
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

describe('module structure', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(findCycles(graph), [['a', 'b', 'c']]);
    assert.deepEqual(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
      [],
    );
  });

  it('no two rooms of nodes/ import each other, however indirectly', () => {
    const nodes = path.join(ROOT, 'nodes');
    const roomOf = (file: string): string => path.relative(nodes, file).split(path.sep)[0] as string;
    const rooms = new Map<string, string[]>();
    for (const file of sourceFiles('nodes')) {
      const from = roomOf(file);
      const to = localImports(file, fs.readFileSync(file, 'utf8')).map(roomOf);
      rooms.set(from, [...new Set([...(rooms.get(from) ?? []), ...to.filter((r) => r !== from)])]);
    }
    assert.ok(rooms.size >= 5, [...rooms.keys()].join());
    assert.deepEqual(rooms.get('common'), [], 'common/ imports no room');
    assert.deepEqual(
      findCycles(rooms).map((c) => c.join(' → ')),
      [],
    );
  });

  for (const dir of ['nodes', 'sim']) {
    it(`no import cycle under ${dir}/`, () => {
      const files = sourceFiles(dir);
      assert.ok(files.length > 10);
      const graph = new Map(files.map((f) => [f, localImports(f, fs.readFileSync(f, 'utf8'))]));
      const shown = findCycles(graph).map((c) => c.map((f) => path.relative(ROOT, f)).join(' → '));
      assert.deepEqual(shown, []);
    });
  }
});
