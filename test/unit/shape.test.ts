/**
 * The size of the rooms: no source file under nodes/ over 500 lines and no
 * function over 60, so that each file does one job and each function can be
 * read on one screen. Read with the TypeScript parser, so that a function is
 * what the language says it is (declarations, methods, arrows, constructors).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT, sourceFiles } from '../support/source-files';

export const MAX_FILE_LINES = 500;
export const MAX_FUNCTION_LINES = 60;

/**
 * Known exceptions, by path (the whole file, both checks) or path:name (one
 * function). Each says why; the list is meant to stay empty.
 */
const EXCEPTIONS = new Map<string, string>([]);

export interface FunctionSpan {
  name: string;
  line: number;
  lines: number;
}

/** What a reader would call a function: its own name, its variable's or property's, or where it starts. */
function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const own = (node as ts.FunctionLikeDeclaration).name;
  const parent = node.parent;
  const owner = ts.isClassLike(parent) ? parent.name?.text : undefined;
  if (ts.isConstructorDeclaration(node)) return `${owner ?? 'class'}.constructor`;
  if (own && (ts.isIdentifier(own) || ts.isStringLiteral(own) || ts.isPrivateIdentifier(own))) {
    return owner ? `${owner}.${own.text}` : own.text;
  }
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return `<anonymous>@${line}`;
}

/** Every function in a source text, with its length from its first line to its last. */
export function functionSpans(fileName: string, text: string): FunctionSpan[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ name: nameOf(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

function lineCount(text: string): number {
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

describe('source shape', () => {
  it('measures a function from its first line to its last (the check itself)', () => {
    const text = [
      'export function outer(a: number): number {', // 1
      '  const inner = (b: number) => {', // 2
      '    return b + 1;', // 3
      '  };', // 4
      '  return inner(a);', // 5
      '}', // 6
      'class Box {', // 7
      '  constructor(private readonly v: number) {}', // 8
      '  get value(): number {', // 9
      '    return this.v;', // 10
      '  }', // 11
      '  declare(): void;', // 12: no body, not a function to measure
      '}', // 13
      'const table = { run() { return 1; } };', // 14
    ].join('\n');
    assert.deepEqual(functionSpans('x.ts', text), [
      { name: 'outer', line: 1, lines: 6 },
      { name: 'inner', line: 2, lines: 3 },
      { name: 'Box.constructor', line: 8, lines: 1 },
      { name: 'Box.value', line: 9, lines: 3 },
      { name: 'run', line: 14, lines: 1 },
    ]);
    assert.equal(lineCount('a\nb\n'), 2);
    assert.equal(lineCount('a\nb'), 2);
  });

  const files = sourceFiles('nodes');
  const relative = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');

  it(`no file under nodes/ is over ${MAX_FILE_LINES} lines`, () => {
    assert.ok(files.length > 10);
    const long = files
      .map((f) => ({ file: relative(f), lines: lineCount(fs.readFileSync(f, 'utf8')) }))
      .filter(({ file, lines }) => lines > MAX_FILE_LINES && !EXCEPTIONS.has(file))
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    assert.deepEqual(long, []);
  });

  it(`no function under nodes/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((f) => {
      const file = relative(f);
      if (EXCEPTIONS.has(file)) return [];
      return functionSpans(f, fs.readFileSync(f, 'utf8'))
        .filter((s) => s.lines > MAX_FUNCTION_LINES && !EXCEPTIONS.has(`${file}:${s.name}`))
        .map((s) => `${file}:${s.line} ${s.name}: ${s.lines} lines`);
    });
    assert.deepEqual(long, []);
  });

  it('lists no exception that no longer applies', () => {
    const stale = [...EXCEPTIONS.keys()].filter((key) => {
      const [file, name] = key.split(':') as [string, string | undefined];
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full)) return true;
      const text = fs.readFileSync(full, 'utf8');
      const spans = functionSpans(full, text);
      if (name === undefined) {
        return lineCount(text) <= MAX_FILE_LINES && spans.every((s) => s.lines <= MAX_FUNCTION_LINES);
      }
      return !spans.some((s) => s.name === name && s.lines > MAX_FUNCTION_LINES);
    });
    assert.deepEqual(stale, []);
  });
});
