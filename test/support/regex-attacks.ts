/**
 * Texts that make a backtracking regex slow, derived from the regex itself.
 * For every quantifier: the text that leads up to it (what the regex needs
 * before the quantifier starts) and one step of it, pumped to the size given,
 * then nothing or a character the quantifier cannot take (so the match fails
 * late and the engine tries again). `/fault-([^/]+)$/` gets "fault-a" pumped
 * and ended by "/": the text that took it a minute at 512 KB.
 */
import { RegExpParser, type AST } from '@eslint-community/regexpp';
import ts from 'typescript';

/** Characters tried where a regex wants one of a set: the first that fits stands for the set. */
const PROBES = [...'aA0 -/._:%{}[]<>"&+#=!\\x\n\t', '\u00e9', '\u0000'];

const parser = new RegExpParser({ ecmaVersion: 2025 });

/** Does `text` match `node` alone (a character class or set)? */
function fits(node: AST.Node, flags: string, text: string): boolean {
  return new RegExp(`^(?:${node.raw})$`, flags.replace(/[gy]/g, '')).test(text);
}

interface Lead {
  /** What the regex matched before the quantifier. */
  before: string;
  /** One step of the quantifier. */
  step: string;
  /** A character the quantified element does not take, if there is one. */
  reject?: string;
}

/** The shortest-ish text each part of a regex matches, and at every quantifier, how it was reached. */
class Walker {
  readonly leads: Lead[] = [];
  private readonly groups = new Map<AST.CapturingGroup, string>();

  constructor(private readonly flags: string) {}

  alternatives(alternatives: AST.Alternative[], before: string): string {
    const texts = alternatives.map((a) => this.sequence(a.elements, before));
    return texts[0] ?? '';
  }

  private sequence(elements: AST.Element[], before: string): string {
    let text = '';
    for (const element of elements) text += this.element(element, before + text);
    return text;
  }

  private element(node: AST.Element, before: string): string {
    switch (node.type) {
      case 'Character':
        return String.fromCodePoint(node.value);
      case 'CharacterClass':
      case 'CharacterSet':
      case 'ExpressionCharacterClass':
        return PROBES.find((p) => fits(node, this.flags, p)) ?? '';
      case 'Group':
        return this.alternatives(node.alternatives, before);
      case 'CapturingGroup': {
        const text = this.alternatives(node.alternatives, before);
        this.groups.set(node, text);
        return text;
      }
      case 'Backreference': {
        const group = Array.isArray(node.resolved) ? node.resolved[0] : node.resolved;
        return (group && this.groups.get(group)) ?? '';
      }
      case 'Quantifier': {
        const step = this.element(node.element, before);
        const reject = PROBES.find((p) => !fits(node.element, this.flags, p));
        this.leads.push({ before, step, reject });
        return step.repeat(Math.min(Math.max(node.min, 1), 64));
      }
      default:
        // Assertions match no text.
        return '';
    }
  }
}

/** An attack: `lead`, then `pump` repeated to the size wanted, then `end`. */
export interface Attack {
  lead: string;
  pump: string;
  end: string;
}

/** The text of an attack, `size` characters long or just under. */
export function attackText({ lead, pump, end }: Attack, size: number): string {
  return lead + pump.repeat(Math.max(1, Math.floor((size - lead.length - end.length) / pump.length))) + end;
}

/** The attacks on a regex: at each quantifier, its lead-in and one step pumped, and one step pumped after the lead-in; each ended by nothing or by a character the quantifier cannot take. */
export function regexAttacks(source: string, flags: string): Attack[] {
  const walker = new Walker(flags);
  const pattern = parser.parsePattern(source, 0, source.length, { unicode: flags.includes('u') });
  walker.alternatives(pattern.alternatives, '');
  const found = new Map<string, Attack>();
  const add = (a: Attack) => found.set(JSON.stringify(a), a);
  for (const { before, step, reject } of walker.leads) {
    for (const end of new Set(['', reject ?? ''])) {
      if (before + step) add({ lead: '', pump: before + step, end });
      if (step) add({ lead: before, pump: step, end });
    }
  }
  return [...found.values()];
}

/** The attack texts for a regex, each `size` characters long or about. */
export function attacks(source: string, flags: string, size: number): string[] {
  return regexAttacks(source, flags).map((a) => attackText(a, size));
}

/** What running a regex over a text means where it is used: every match for /g, else the first. */
export function run(regex: RegExp, text: string): void {
  regex.lastIndex = 0;
  if (regex.global) text.replace(regex, '');
  else regex.exec(text);
}

export interface RegexLiteral {
  file: string;
  line: number;
  source: string;
  flags: string;
}

/** A regex found in a source file; `built` by RegExp(), its source undefined when not made of constants. */
export type FoundRegex = Omit<RegexLiteral, 'source'> & { source?: string; built?: boolean };

/** The text an expression stands for when it is made of string constants (or regex sources) of its file only; else undefined. */
function constantText(
  node: ts.Expression,
  constants: Map<string, ts.Expression>,
  depth = 0,
): string | undefined {
  if (depth > 20) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node)) return constantText(node.expression, constants, depth + 1);
  if (ts.isIdentifier(node)) {
    const value = constants.get(node.text);
    return value && constantText(value, constants, depth + 1);
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const [left, right] = [
      constantText(node.left, constants, depth + 1),
      constantText(node.right, constants, depth + 1),
    ];
    return left === undefined || right === undefined ? undefined : left + right;
  }
  // `X.source` of a regex literal constant X.
  if (
    ts.isPropertyAccessExpression(node) &&
    node.name.text === 'source' &&
    ts.isIdentifier(node.expression)
  ) {
    const regex = constants.get(node.expression.text);
    if (!regex || !ts.isRegularExpressionLiteral(regex)) return undefined;
    return regex.text.slice(1, regex.text.lastIndexOf('/'));
  }
  if (ts.isTemplateExpression(node)) {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const value = constantText(span.expression, constants, depth + 1);
      if (value === undefined) return undefined;
      text += value + span.literal.text;
    }
    return text;
  }
  return undefined;
}

/**
 * Every regex of a TypeScript file: its literals, and the ones it builds with
 * RegExp() from string constants of the file. A RegExp built from anything
 * else comes back with the source undefined: it cannot be tried here.
 */
export function regexLiterals(file: string, text: string): FoundRegex[] {
  const found: FoundRegex[] = [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const constants = new Map<string, ts.Expression>();
  const line = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const list = node.parent;
      if (ts.isVariableDeclarationList(list) && list.flags & ts.NodeFlags.Const)
        constants.set(node.name.text, node.initializer);
    }
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text;
      const end = literal.lastIndexOf('/');
      found.push({ file, line: line(node), source: literal.slice(1, end), flags: literal.slice(end + 1) });
    } else if (
      (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'RegExp'
    ) {
      const [source, flags] = node.arguments ?? [];
      found.push({
        file,
        line: line(node),
        built: true,
        source: source && constantText(source, constants),
        flags: (flags && constantText(flags, constants)) ?? '',
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
