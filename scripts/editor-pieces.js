// Expands the shared editor pieces (nodes/editor/<piece>.html) that a node's
// html names, so that what ships is still one static file per node type: a
// literal registerType and a literal template, as Node-RED and the Flow
// Library read them. The syntax is documented in nodes/editor/README.md.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PIECES = path.resolve(__dirname, '..', 'nodes', 'editor');
const ARGS = String.raw`((?:\s+[A-Za-z]+=(?:"[^"]*"|'[^']*'|[^\s"']+))*)`;
// An include in the html (<!-- dce:x -->) or in its script (// dce:x); a block ends with <!-- } --> or // }.
const INCLUDES = [
  new RegExp(String.raw`^(\s*)<!-- dce:([a-z][a-z-]*)${ARGS}\s*(\{)?\s*-->\s*$`),
  new RegExp(String.raw`^(\s*)\/\/ dce:([a-z][a-z-]*)${ARGS}\s*(\{)?\s*$`),
];
const BLOCK_END = /^\s*(?:<!-- \} -->|\/\/ \})\s*$/;
const ARG = /([A-Za-z]+)=(?:"([^"]*)"|'([^']*)'|([^\s"']+))/g;
const PLACEHOLDER = /\{\{( ?)([A-Za-z.]+)([?=|][^}]*)?\}\}/g;
const SECTION = /^(\s*)\{\{#([A-Za-z]+)\}\}(.*)\{\{\/\2\}\}\s*$/;
const MAX_DEPTH = 4;

class PieceError extends Error {}

/** [, indent, piece, arguments, "{" when it opens a block] of an include line, or null. */
function matchInclude(line) {
  return INCLUDES[0].exec(line) ?? INCLUDES[1].exec(line);
}

/** The arguments an include line names: key=bare, key="..." or key='...'. */
function parseArgs(text) {
  const args = {};
  for (const m of text.matchAll(ARG)) args[m[1]] = m[2] ?? m[3] ?? m[4];
  return args;
}

function readPiece(name, where, dir) {
  const file = path.join(dir, `${name}.html`);
  if (!fs.existsSync(file)) throw new PieceError(`${where}: no editor piece "${name}" (${file})`);
  // The piece's own leading comment says what it is for; it is not shipped.
  return fs
    .readFileSync(file, 'utf8')
    .replace(/^<!--[^]*?-->\s*\n/, '')
    .replace(/\s+$/, '')
    .split('\n');
}

/** One placeholder: {{k}} needed, {{k?}} optional, {{k=text}} a default, {{k|other}} another's value. */
function fill(line, scope, used, where) {
  return line.replace(PLACEHOLDER, (_, space, key, rest = '') => {
    used.add(key);
    if (rest.startsWith('|')) used.add(rest.slice(1));
    let value = scope[key];
    if (value === undefined && rest.startsWith('|')) value = scope[rest.slice(1)];
    if (value === undefined && rest.startsWith('=')) value = rest.slice(1);
    if (value === undefined && rest === '?') value = '';
    if (value === undefined) throw new PieceError(`${where}: the piece needs ${key}=`);
    return value === '' ? '' : space + value;
  });
}

/** A piece's lines with its arguments filled in; a {{#list}} line once per word of the list. */
function render(lines, scope, where, given) {
  const used = new Set();
  const out = [];
  for (const line of lines) {
    const section = SECTION.exec(line);
    if (section) {
      used.add(section[2]);
      for (const word of (scope[section[2]] || '').split(/\s+/).filter(Boolean)) {
        out.push(fill(section[1] + section[3], { ...scope, '.': word }, used, where));
      }
    } else if (line.trim() === '{{body}}' || line.trim() === '{{body?}}') {
      used.add('body');
      if (scope.body === undefined && line.includes('{{body}}'))
        throw new PieceError(`${where}: needs a block`);
      const indent = /^\s*/.exec(line)[0];
      out.push(...(scope.body || []).map((l) => (l ? indent + l : l)));
    } else {
      out.push(fill(line, scope, used, where));
    }
  }
  if (used.has('id')) used.add('field'); // the id is made from it
  const unused = given.filter((k) => !used.has(k));
  if (unused.length) throw new PieceError(`${where}: the piece takes no ${unused.join(', ')}`);
  return out;
}

/** The include at lines[i] (and its block, if it opens one): the piece's lines and where the include ends. */
function include(lines, i, context, depth) {
  const [, indent, name, argText, opens] = matchInclude(lines[i]);
  const where = `${context.file}:${i + 1}`;
  let end = i;
  let body;
  if (opens) {
    end = closingLine(lines, i, where);
    body = dedent(expandLines(lines.slice(i + 1, end), context, depth));
  }
  const args = parseArgs(argText);
  const scope = { ...context.builtins, ...args };
  if (args.field && !args.id) scope.id = `${context.builtins.prefix}-${args.field}`;
  if (body) scope.body = body;
  const given = Object.keys(args).concat(body ? ['body'] : []);
  const piece = render(readPiece(name, where, context.dir), scope, `${where} (${name})`, given);
  const expanded = expandLines(piece, { ...context, file: `${context.file} > ${name}` }, depth + 1);
  return { lines: expanded.map((l) => (l ? indent + l : l)), end };
}

/** The lines without the indent they all share (a block's rows, however deep the file has them). */
function dedent(lines) {
  const depths = lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)[0].length);
  const common = depths.length ? Math.min(...depths) : 0;
  return lines.map((l) => l.slice(common));
}

function closingLine(lines, start, where) {
  let open = 0;
  for (let j = start; j < lines.length; j++) {
    if (matchInclude(lines[j])?.[4]) open++;
    else if (BLOCK_END.test(lines[j]) && --open === 0) return j;
  }
  throw new PieceError(`${where}: the block is not closed (<!-- } -->)`);
}

function expandLines(lines, context, depth) {
  if (depth > MAX_DEPTH) throw new PieceError(`${context.file}: pieces nested too deep`);
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!matchInclude(lines[i])) {
      if (/dce:/.test(lines[i]) || BLOCK_END.test(lines[i]))
        throw new PieceError(`${context.file}:${i + 1}: not an include: ${lines[i].trim()}`);
      out.push(lines[i]);
      continue;
    }
    const { lines: expanded, end } = include(lines, i, context, depth);
    out.push(...expanded);
    i = end;
  }
  return out;
}

/**
 * A node's html with every piece expanded. `type` is the node type (its file
 * name); config nodes (category 'config') get Node-RED's node-config-input ids.
 */
function expand(source, { type, file = type, dir = PIECES }) {
  const prefix = /category:\s*'config'/.test(source) ? 'node-config-input' : 'node-input';
  const context = { file, dir, builtins: { type, prefix, words: type.replace(/-/g, ' ') } };
  return expandLines(source.split('\n'), context, 0).join('\n');
}

/**
 * A node's html with its editor script (<type>.editor.js, kept apart so that
 * it is linted as JavaScript) back in it, as Node-RED loads it: before the
 * dialog's template, or at the end of a file without one. A dialog that uses
 * the shared dialog code (its script names DcEventsDialog, or its template the
 * wide form, whose styles that code brings) loads it first.
 */
function withEditorScript(html, script) {
  if (/\bDcEventsDialog\b/.test(script) || /<!-- dce:wide-form\b/.test(html)) {
    html = '<!-- dce:dialog-script -->\n' + html;
  }
  if (!script.trim()) return html;
  const indented = script
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l ? '  ' + l : l));
  const tag = ['<script type="text/javascript">', ...indented, '</script>', ''].join('\n');
  const at = html.indexOf('<script type="text/html"');
  return at < 0 ? html.replace(/\s*$/, '\n') + tag : html.slice(0, at) + tag + '\n' + html.slice(at);
}

module.exports = { expand, withEditorScript, PieceError, PIECES };
