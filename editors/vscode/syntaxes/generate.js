#!/usr/bin/env node
// generate.js — writes flow.tmLanguage.json, the TextMate grammar of .flow files, from flowc's own
// tables, so the editor's words cannot drift from the compiler's: the keywords and operator tokens
// of grammar/lexer.l (each must be classified below, and every word classified here must be one of
// the lexer's), the number suffixes (durations from runtime/value.c, sizes from the lexer), the type
// names, context names, template helpers and loop variables of compiler/lower.c, the block helpers of
// compiler/template.c and the built-ins of stdlib/builtins.def.
//   node editors/vscode/syntaxes/generate.js           rewrite the grammar
//   node editors/vscode/syntaxes/generate.js --check   exit 1 when the committed grammar differs
// The patterns follow the lexer: a string ends on its line, escapes are \" \\ \/ \n \t \r \uXXXX,
// a number's suffix is one unit (`2h30m` and `1.5s` are errors there, so invalid here).
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const OUT = path.join(__dirname, 'flow.tmLanguage.json');

function fail(msg) {
  process.stderr.write(`generate.js: ${msg}\n`);
  process.exit(2);
}
function read(rel) {
  try {
    return fs.readFileSync(path.join(ROOT, rel), 'utf8');
  } catch (e) {
    return fail(`cannot read ${rel}: ${e.message}`);
  }
}
// The string literals of the C initializer that follows `marker` in rel (up to its `};`); with
// `firsts`, only the first string of each `{ ... }` element.
function cStrings(rel, marker, firsts) {
  const text = read(rel);
  const at = text.indexOf(marker);
  if (at < 0) fail(`${rel} no longer has \`${marker}\`: update generate.js`);
  const body = text.slice(at + marker.length, text.indexOf('};', at));
  const re = firsts ? /\{\s*"([^"]+)"/g : /"([^"]+)"/g;
  const out = [...body.matchAll(re)].map((m) => m[1]);
  if (!out.length) fail(`no strings after \`${marker}\` in ${rel}: update generate.js`);
  return out;
}
function words(list) {
  return [...new Set(list)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');   // a literal in a regex
function alt(list) {
  return words(list).map(esc).join('|');
}
function sameSet(what, fromSource, classified) {
  const a = new Set(fromSource), b = new Set(classified);
  const missing = [...a].filter((w) => !b.has(w));
  const extra = [...b].filter((w) => !a.has(w));
  if (missing.length) fail(`${what} not classified in generate.js: ${missing.join(' ')}`);
  if (extra.length) fail(`generate.js classifies ${what} the source does not have: ${extra.join(' ')}`);
}

// ---- the lists, from the sources ----
const lexer = read('grammar/lexer.l');
const lexKeywords = [...lexer.matchAll(/^"([a-z_]+)"\s+\{\s*return KW_[A-Z_]+;\s*\}/gm)].map((m) => m[1]);
const lexSymbols = [...lexer.matchAll(/^"([^"A-Za-z0-9\\]+)"\s+\{/gm)].map((m) => m[1]);
const charClass = lexer.match(/^\[([^\]]+)\]\s+\{\s*return yytext\[0\];\s*\}/m);
if (!charClass) fail('grammar/lexer.l has no `[...] { return yytext[0]; }` rule: update generate.js');
lexSymbols.push(...charClass[1].replace(/\\(.)/g, '$1').split(''));
const sizeUnits = cStrings('grammar/lexer.l', 'sizes[] = {', true);
const durationUnits = cStrings('runtime/value.c', 'duration_units[] = {', true);
const typeNames = cStrings('compiler/lower.c', 'scalars[] = {', true);
const contextNames = cStrings('compiler/lower.c', 'reserved_step_names[] = {');
const helpers = cStrings('compiler/lower.c', 'static const Helper helpers[] = {', true);
const loopVars = cStrings('compiler/lower.c', 'loop_vars[] = {');
const blockHelpers = cStrings('compiler/template.c', 'one[] = {');
const builtins = [...read('stdlib/builtins.def').matchAll(/^B\((\w+),/gm)].map((m) => m[1]);
if (lexKeywords.length < 30 || builtins.length < 40) fail('too few keywords or built-ins read: update generate.js');

// ---- how the grammar scopes each keyword and operator token of the lexer ----
const KEYWORDS = {
  'storage.type.flow': ['integration', 'param', 'env', 'table', 'type', 'connection', 'flow', 'test'],
  'keyword.other.step.flow': ['export', 'lookup', 'transform', 'filter', 'branch', 'import', 'hook'],
  'keyword.other.flow': ['version', 'from', 'into', 'remove', 'map', 'response', 'given', 'expect', 'for'],
  'keyword.control.flow': ['when', 'if', 'then', 'else', 'each', 'in', 'where'],
  'keyword.operator.logical.flow': ['and', 'or', 'not'],
  'constant.language.boolean.flow': ['true', 'false'],
  'constant.language.null.flow': ['null'],
};
sameSet('lexer keywords (grammar/lexer.l)', lexKeywords, Object.values(KEYWORDS).flat());
const kw = (scope) => alt(KEYWORDS[scope]);
// the operator words may not name a field unquoted (docs/language.md, Lexical)
const OPERATOR_WORDS = [...KEYWORDS['keyword.control.flow'], ...KEYWORDS['keyword.operator.logical.flow'],
  ...KEYWORDS['constant.language.boolean.flow'], ...KEYWORDS['constant.language.null.flow']];

// Every symbol token of the lexer, in the order the grammar tries them (longest first).
const OPERATORS = [
  ['&&', 'invalid.illegal.operator.flow'],        // the lexer's error: write `and`
  ['||', 'invalid.illegal.operator.flow'],        // write `or`
  ['??', 'keyword.operator.coalesce.flow'],
  ['=>', 'keyword.operator.arrow.flow'],
  ['==', 'keyword.operator.comparison.flow'],
  ['!=', 'keyword.operator.comparison.flow'],
  ['<=', 'keyword.operator.comparison.flow'],
  ['>=', 'keyword.operator.comparison.flow'],
  ['<', 'keyword.operator.comparison.flow'],
  ['>', 'keyword.operator.comparison.flow'],
  ['=', 'keyword.operator.assignment.flow'],
  ['+', 'keyword.operator.arithmetic.flow'],
  ['-', 'keyword.operator.arithmetic.flow'],
  ['*', 'keyword.operator.arithmetic.flow'],
  ['/', 'keyword.operator.arithmetic.flow'],
  ['%', 'keyword.operator.arithmetic.flow'],
  ['?', 'keyword.operator.optional.flow'],
  [':', 'punctuation.separator.key-value.flow'],
  ['.', 'punctuation.accessor.flow'],
  [',', 'punctuation.separator.comma.flow'],
  [';', 'punctuation.terminator.flow'],
  ['(', 'punctuation.section.parens.begin.flow'],
  [')', 'punctuation.section.parens.end.flow'],
  ['[', 'punctuation.section.brackets.begin.flow'],
  [']', 'punctuation.section.brackets.end.flow'],
  ['{', 'punctuation.section.braces.begin.flow'],
  ['}', 'punctuation.section.braces.end.flow'],
];
// the lexer's symbol tokens (its quoted rules and its one-character class) but the comment opener
sameSet('lexer symbols (grammar/lexer.l)', lexSymbols.filter((s) => s !== '/*'), OPERATORS.map((o) => o[0]));

const ID = '[A-Za-z_][A-Za-z0-9_]*';
const TYPE_END = '(?=\\s*(?:=|\\bfrom\\b|//|/\\*|[,;]))|$';

// ---- the grammar ----
const repository = {
  comments: {
    patterns: [
      { name: 'comment.block.flow', begin: '/\\*', end: '\\*/',
        beginCaptures: { 0: { name: 'punctuation.definition.comment.begin.flow' } },
        endCaptures: { 0: { name: 'punctuation.definition.comment.end.flow' } } },
      { name: 'comment.line.double-slash.flow', begin: '//', end: '$',
        beginCaptures: { 0: { name: 'punctuation.definition.comment.flow' } } },
    ],
  },
  // declarations and steps: a keyword with the name it declares (and what it refers to)
  declarations: {
    patterns: [
      { match: `\\b(connection)\\s+(${ID})\\s*(=)\\s*(${ID})`,
        captures: { 1: { name: 'storage.type.flow' }, 2: { name: 'variable.other.constant.connection.flow' },
          3: { name: 'keyword.operator.assignment.flow' }, 4: { name: 'support.class.connection-kind.flow' } } },
      { match: `\\b(flow)\\s+(${ID})`,
        captures: { 1: { name: 'storage.type.flow' }, 2: { name: 'entity.name.function.flow' } } },
      { match: `\\b(table)\\s+(${ID})(?=\\s*=)`,
        captures: { 1: { name: 'storage.type.flow' }, 2: { name: 'variable.other.constant.table.flow' } } },
      { match: `\\b(env)\\s+(${ID})(?=\\s*\\{)`,
        captures: { 1: { name: 'storage.type.flow' }, 2: { name: 'entity.name.namespace.env.flow' } } },
      { match: '\\b(integration)\\b', captures: { 1: { name: 'storage.type.flow' } } },
      { match: '\\b(test)\\b(?=\\s*")', captures: { 1: { name: 'storage.type.flow' } } },
      { match: `\\b(for)\\s+(${ID})`,
        captures: { 1: { name: 'keyword.other.flow' }, 2: { name: 'entity.name.function.flow' } } },
      { match: `\\b(given)\\s+(${ID})`,
        captures: { 1: { name: 'keyword.other.flow' }, 2: { name: 'variable.other.step.flow' } } },
      { match: `\\b(export|lookup)\\s+(${ID})(?=\\s+from\\b)`,
        captures: { 1: { name: 'keyword.other.step.flow' }, 2: { name: 'entity.name.function.step.flow' } } },
      { match: `\\b(import)\\s+(${ID})\\s+(into)\\s+(${ID})`,
        captures: { 1: { name: 'keyword.other.step.flow' }, 2: { name: 'entity.name.function.step.flow' },
          3: { name: 'keyword.other.flow' }, 4: { name: 'variable.other.constant.connection.flow' } } },
      { match: `\\b(from)\\s+(${ID})`,
        captures: { 1: { name: 'keyword.other.flow' }, 2: { name: 'variable.other.constant.connection.flow' } } },
      { match: `\\b(branch)(?:\\s+(${ID}))?(?=\\s*\\{)`,
        captures: { 1: { name: 'keyword.other.step.flow' }, 2: { name: 'constant.language.branch-mode.flow' } } },
      { match: `\\b(hook)\\s+(${ID})`,
        captures: { 1: { name: 'keyword.other.step.flow' }, 2: { name: 'entity.other.attribute-name.hook.flow' } } },
      { match: `^\\s*(${ID})\\s+(?=when\\b)`, comment: 'a branch arm: NAME when COND {',
        captures: { 1: { name: 'entity.name.section.arm.flow' } } },
    ],
  },
  // `param NAME: TYPE`, `export NAME: TYPE from`, `lookup NAME: TYPE from`: the type up to `=`, `from` or the line's end
  'type-annotation': {
    patterns: [
      { begin: `\\b(param)\\s+(${ID})\\s*(:)`, end: TYPE_END, patterns: [{ include: '#type' }],
        beginCaptures: { 1: { name: 'storage.type.flow' }, 2: { name: 'variable.parameter.flow' }, 3: { name: 'punctuation.separator.type.flow' } } },
      { begin: `\\b(export|lookup)\\s+(${ID})\\s*(:)`, end: TYPE_END, patterns: [{ include: '#type' }],
        beginCaptures: { 1: { name: 'keyword.other.step.flow' }, 2: { name: 'entity.name.function.step.flow' }, 3: { name: 'punctuation.separator.type.flow' } } },
    ],
  },
  'type-declaration': {
    begin: `\\b(type)\\s+(${ID})\\s*(=)`,
    beginCaptures: { 1: { name: 'storage.type.flow' }, 2: { name: 'entity.name.type.flow' }, 3: { name: 'keyword.operator.assignment.flow' } },
    end: '(?<=[}\\]])(?!\\s*\\?)|(?<=\\?)|$',
    patterns: [{ include: '#type' }],
  },
  type: {
    patterns: [
      { include: '#comments' },
      { name: 'meta.type.record.flow', begin: '\\{', end: '\\}',
        beginCaptures: { 0: { name: 'punctuation.section.braces.begin.flow' } },
        endCaptures: { 0: { name: 'punctuation.section.braces.end.flow' } },
        patterns: [
          { include: '#comments' },
          { include: '#operator-words' },
          { match: `(?:(${ID})|("(?:[^"\\\\]|\\\\.)*"))\\s*(:)`,
            captures: { 1: { name: 'entity.other.attribute-name.field.flow' }, 2: { name: 'string.quoted.double.flow' },
              3: { name: 'punctuation.separator.type.flow' } } },
          { include: '#type' },
          { match: ',', name: 'punctuation.separator.comma.flow' },
          { match: ';', name: 'punctuation.terminator.flow' },
        ] },
      { name: 'meta.type.array.flow', begin: '\\[', end: '\\]|$',
        beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.flow' } },
        endCaptures: { 0: { name: 'punctuation.section.brackets.end.flow' } },
        patterns: [{ include: '#type' }] },
      { match: `\\b(?:${alt(typeNames)})\\b`, name: 'support.type.primitive.flow' },
      { match: ID, name: 'entity.name.type.flow' },
      { match: '\\?', name: 'keyword.operator.optional.flow' },
    ],
  },
  // a map entry with a type: `amount_cents: int = ...`, `ids: [int] = ...`
  'typed-entry': {
    match: `(${ID})\\s*(:)\\s*(\\[\\s*)?(?:\\b(${alt(typeNames)})\\b|(${ID}))(\\s*\\])?(\\?)?(?=\\s*=(?![=>]))`,
    captures: {
      1: { name: 'entity.other.attribute-name.flow' }, 2: { name: 'punctuation.separator.type.flow' },
      3: { name: 'punctuation.section.brackets.begin.flow' }, 4: { name: 'support.type.primitive.flow' },
      5: { name: 'entity.name.type.flow' }, 6: { name: 'punctuation.section.brackets.end.flow' }, 7: { name: 'keyword.operator.optional.flow' },
    },
  },
  // a name given a value or a nested block: settings, map entries, named arguments, object keys
  keys: {
    patterns: [
      { match: `\\b(?!(?:${alt(OPERATOR_WORDS)})\\b)(${ID})(?=\\s*(?:=(?![=>])|:(?!:)))`,
        captures: { 1: { name: 'entity.other.attribute-name.flow' } } },
    ],
  },
  // a quoted name given a value: `"when" = ...`, `{ "Accept": "application/json" }`
  'string-keys': {
    match: `("(?:[^"\\\\]|\\\\.)*")(?=\\s*(?:=(?![=>])|:))`,
    captures: { 1: { name: 'string.quoted.double.flow entity.other.attribute-name.flow' } },
  },
  // `record.x`, `flow.name`, `param.p`: after a `.` any word is a field
  access: {
    match: `(\\.)\\s*(${ID})`,
    captures: { 1: { name: 'punctuation.accessor.flow' }, 2: { name: 'variable.other.property.flow' } },
  },
  context: {
    patterns: [
      { match: '\\b(?:record|existing)\\b', name: 'variable.language.flow' },
      { match: '\\b(?:creating|updating)\\b', name: 'variable.language.flow' },
      { match: `\\b(?:${alt(contextNames)})\\b(?=\\s*\\.)`, name: 'variable.language.flow' },
    ],
  },
  keywords: {
    patterns: Object.keys(KEYWORDS).map((scope) => ({ match: `\\b(?:${kw(scope)})\\b`, name: scope })),
  },
  // the words that may not name a field unquoted, where a field name is expected (a syntax error there)
  'operator-words': {
    patterns: Object.keys(KEYWORDS).filter((scope) => KEYWORDS[scope].every((w) => OPERATOR_WORDS.includes(w)))
      .map((scope) => ({ match: `\\b(?:${kw(scope)})\\b`, name: scope })),
  },
  calls: {
    patterns: [
      { match: `\\b(?:${alt(builtins)})\\b(?=\\s*\\()`, name: 'support.function.builtin.flow' },
      { match: `\\b(?!(?:${alt(OPERATOR_WORDS)})\\b)${ID}(?=\\s*\\()`, name: 'entity.name.function.flow' },
    ],
  },
  // a nested map entry or an arm without `when`: NAME {
  blocks: {
    match: `\\b(${ID})(?=\\s*\\{)`,
    captures: { 1: { name: 'entity.other.attribute-name.flow' } },
  },
  // the lexer's number rules: one unit at most, whole numbers only with a unit
  numbers: {
    patterns: [
      { match: `\\b(\\d+)(${alt(durationUnits)})\\b`, name: 'constant.numeric.duration.flow',
        captures: { 2: { name: 'keyword.other.unit.flow' } } },
      { match: `\\b(\\d+)(${alt(sizeUnits)})\\b`, name: 'constant.numeric.size.flow',
        captures: { 2: { name: 'keyword.other.unit.flow' } } },
      { match: '\\b\\d+(?:\\.\\d+(?:[eE][-+]?\\d+)?|[eE][-+]?\\d+)\\b', name: 'constant.numeric.float.flow' },
      { match: `\\b\\d+(?:\\.\\d+)?${ID}`, name: 'invalid.illegal.numeric.flow',
        comment: 'a unit flowc does not know (15min), a compound duration (2h30m), a fraction with a unit (1.5s)' },
      { match: '\\b\\d+\\b', name: 'constant.numeric.integer.flow' },
    ],
  },
  strings: {
    patterns: [
      { name: 'string.quoted.double.jsonpath.flow', begin: '"(?=\\$(?:[.\\[]|"))', end: '"|$',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.flow' } },
        endCaptures: { 0: { name: 'punctuation.definition.string.end.flow' } },
        patterns: [{ include: '#escapes' }, { include: '#jsonpath' }] },
      { name: 'string.quoted.double.flow', begin: '"', end: '"|$',
        beginCaptures: { 0: { name: 'punctuation.definition.string.begin.flow' } },
        endCaptures: { 0: { name: 'punctuation.definition.string.end.flow' } },
        patterns: [
          { match: '\\\\\\\\\\{\\{', name: 'constant.character.escape.template.flow', comment: 'a literal {{: Handlebars \\{{, written "\\\\{{" in a .flow string' },
          { include: '#escapes' },
          { include: '#template' },
        ] },
      { match: "'(?:[^'\\\\]|\\\\.)*'", name: 'invalid.illegal.string.flow', comment: 'strings use double quotes' },
    ],
  },
  escapes: {
    patterns: [
      { match: '\\\\(?:["\\\\/ntr]|u[0-9A-Fa-f]{4})', name: 'constant.character.escape.flow' },
      { match: '\\\\.?', name: 'invalid.illegal.escape.flow' },
    ],
  },
  // RFC 9535 JSONPath inside "$..." strings (records, paginate, cursor, challenge)
  jsonpath: {
    patterns: [
      { match: '[$@]', name: 'variable.language.jsonpath.flow' },
      { match: '\\.\\.?', name: 'punctuation.accessor.jsonpath.flow' },
      { match: '\\*', name: 'keyword.operator.wildcard.jsonpath.flow' },
      { match: '\\?', name: 'keyword.operator.filter.jsonpath.flow' },
      { match: '==|!=|<=|>=|<|>|&&|\\|\\||!', name: 'keyword.operator.jsonpath.flow' },
      { match: '\\b(?:length|count|match|search|value)\\b(?=\\()', name: 'support.function.jsonpath.flow' },
      { match: '-?\\d+(?:\\.\\d+)?', name: 'constant.numeric.jsonpath.flow' },
      { match: "'(?:[^'\\\\]|\\\\.)*'", name: 'string.quoted.single.jsonpath.flow' },
      { match: ID, name: 'variable.other.property.jsonpath.flow' },
      { match: '[\\[\\]()]', name: 'punctuation.section.jsonpath.flow' },
    ],
  },
  // Handlebars/Mustache inside strings (docs/language.md, Templates)
  template: {
    patterns: [
      { name: 'comment.block.template.flow', begin: '\\{\\{~?!--', end: '--~?\\}\\}|(?=")|$' },
      { name: 'comment.block.template.flow', begin: '\\{\\{~?!', end: '~?\\}\\}|(?=")|$' },
      { name: 'meta.template.raw.flow', begin: '(\\{\\{\\{)(~?)', end: '(~?)(\\}\\}\\})|(?=")|$',
        beginCaptures: { 1: { name: 'punctuation.definition.template.begin.flow' }, 2: { name: 'keyword.operator.whitespace.template.flow' } },
        endCaptures: { 1: { name: 'keyword.operator.whitespace.template.flow' }, 2: { name: 'punctuation.definition.template.end.flow' } },
        patterns: [{ include: '#template-expression' }] },
      { name: 'meta.template.expression.flow', begin: '(\\{\\{)(~?)', end: '(~?)(\\}\\})|(?=")|$',
        beginCaptures: { 1: { name: 'punctuation.definition.template.begin.flow' }, 2: { name: 'keyword.operator.whitespace.template.flow' } },
        endCaptures: { 1: { name: 'keyword.operator.whitespace.template.flow' }, 2: { name: 'punctuation.definition.template.end.flow' } },
        patterns: [
          { match: `\\G\\s*([#/])\\s*(${alt(blockHelpers)})\\b`,
            captures: { 1: { name: 'punctuation.definition.block.template.flow' }, 2: { name: 'keyword.control.template.flow' } } },
          { match: `\\G\\s*(#)\\s*(${alt(helpers)})\\b`,
            captures: { 1: { name: 'punctuation.definition.block.template.flow' }, 2: { name: 'support.function.helper.template.flow' } } },
          { match: `\\G\\s*(/)\\s*(${alt(helpers)})\\b(?=\\s*~?\\}\\})`,
            captures: { 1: { name: 'punctuation.definition.block.template.flow' }, 2: { name: 'support.function.helper.template.flow' } } },
          { match: '\\G\\s*([#^/])', captures: { 1: { name: 'punctuation.definition.section.template.flow' } } },
          { match: '\\G\\s*(else)\\b', captures: { 1: { name: 'keyword.control.template.flow' } } },
          { match: '\\G\\s*(&)', captures: { 1: { name: 'keyword.operator.raw.template.flow' } } },
          { match: `\\G\\s*(${alt(helpers)})\\b(?=\\s+[^\\s}~])`, captures: { 1: { name: 'support.function.helper.template.flow' } } },
          { include: '#template-expression' },
        ] },
    ],
  },
  'template-expression': {
    patterns: [
      { begin: '\\(', end: '\\)|(?=~?\\}\\}|")|$',
        beginCaptures: { 0: { name: 'punctuation.section.parens.begin.template.flow' } },
        endCaptures: { 0: { name: 'punctuation.section.parens.end.template.flow' } },
        patterns: [
          { match: `\\G\\s*(${alt(helpers)})\\b`, captures: { 1: { name: 'support.function.helper.template.flow' } } },
          { include: '#template-expression' },
        ] },
      { match: '\\\\"(?:[^"\\\\]|\\\\[^"])*\\\\"', name: 'string.quoted.double.template.flow',
        comment: 'a string argument, its quotes escaped in the .flow string: {{default x \\"-\\"}}' },
      { match: `(${ID})(=)`, captures: { 1: { name: 'entity.other.attribute-name.template.flow' }, 2: { name: 'keyword.operator.assignment.template.flow' } } },
      { match: `(?:${alt(loopVars)})\\b|@${ID}`, name: 'variable.language.template.flow' },
      { match: '\\b(?:this|lastExportDateTime|currentExportDateTime)\\b|\\.\\./', name: 'variable.language.template.flow' },
      { match: '\\b(?:record|existing)\\b', name: 'variable.language.flow' },
      { match: `\\b(?:${alt(contextNames)})\\b(?=\\.)`, name: 'variable.language.flow' },
      { match: '\\b(?:true|false|null)\\b', name: 'constant.language.template.flow' },
      { match: '-?\\b\\d+(?:\\.\\d+)?\\b', name: 'constant.numeric.template.flow' },
      { match: `(\\.)(${ID}|\\d+)`, captures: { 1: { name: 'punctuation.accessor.template.flow' }, 2: { name: 'variable.other.property.template.flow' } } },
      { match: ID, name: 'variable.other.template.flow' },
      { match: '\\[[^\\]]*\\]', name: 'variable.other.property.template.flow' },
    ],
  },
  operators: {
    patterns: OPERATORS.map(([op, scope]) => ({ match: esc(op), name: scope })),
  },
  invalid: {
    match: '[!$&|#@`^~\\\\]',
    name: 'invalid.illegal.character.flow',
    comment: 'characters the lexer refuses (`!` alone: write `not`)',
  },
  identifiers: { match: ID, name: 'variable.other.flow' },
};

const grammar = {
  $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
  name: 'Flow',
  scopeName: 'source.flow',
  fileTypes: ['flow'],
  comment: 'GENERATED by editors/vscode/syntaxes/generate.js from flowc\'s sources: edit that file, not this one.',
  patterns: [
    { include: '#comments' },
    { include: '#string-keys' },
    { include: '#strings' },
    { include: '#type-declaration' },
    { include: '#type-annotation' },
    { include: '#declarations' },
    { include: '#typed-entry' },
    { include: '#keys' },
    { include: '#access' },
    { include: '#numbers' },
    { include: '#context' },
    { include: '#calls' },
    { include: '#keywords' },
    { include: '#blocks' },
    { include: '#operators' },
    { include: '#invalid' },
    { include: '#identifiers' },
  ],
  repository,
};

const text = JSON.stringify(grammar, null, 2) + '\n';
if (process.argv[2] === '--check') {
  let old = '';
  try { old = fs.readFileSync(OUT, 'utf8'); } catch (e) { /* missing: differs */ }
  if (old !== text) {
    process.stderr.write(`${path.relative(ROOT, OUT)} is not what generate.js makes of flowc's sources: run node editors/vscode/syntaxes/generate.js\n`);
    process.exit(1);
  }
  process.stdout.write(`grammar up to date: ${lexKeywords.length} keywords, ${OPERATORS.length} symbols, ${builtins.length} built-ins, ${helpers.length} helpers, ${durationUnits.length} duration units, ${sizeUnits.length} size units, ${typeNames.length} type names\n`);
} else {
  fs.writeFileSync(OUT, text);
}
