#!/usr/bin/env node
// config.js — editors/vscode/language-configuration.json and package.json under plain node
// (tests/lib/97-vscode.sh, case vscode/config): the regular expressions VS Code compiles from the
// configuration (as JavaScript RegExps) on lines of Flow, and the manifest's contributions.
//   node tests/vscode/config.js EXT_DIR
// Prints `ok ...` or `FAIL ...` per check; exits 1 when any failed.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node tests/vscode/config.js EXT_DIR\n');
  process.exit(2);
}
let failed = 0;
function check(name, cond, detail) {
  if (cond) process.stdout.write(`ok ${name}\n`);
  else { failed++; process.stdout.write(`FAIL ${name}${detail ? `: ${detail}` : ''}\n`); }
}

const conf = JSON.parse(fs.readFileSync(path.join(dir, 'language-configuration.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));

check('line comment //', conf.comments.lineComment === '//');
check('block comment /* */', JSON.stringify(conf.comments.blockComment) === '["/*","*/"]');
const pairs = (list) => list.map((p) => (Array.isArray(p) ? p.join('') : p.open + p.close)).sort().join(' ');
check('brackets {} [] ()', pairs(conf.brackets) === '() [] {}', pairs(conf.brackets));
check('auto-closing {} [] () "" /* */', ['{}', '[]', '()', '""', '/* */'].every((p) => pairs(conf.autoClosingPairs).split(' ').includes(p) ||
  conf.autoClosingPairs.some((x) => x.open + x.close === p)), pairs(conf.autoClosingPairs));
check('the quote does not close inside a string or comment',
  conf.autoClosingPairs.find((p) => p.open === '"').notIn.join(' ') === 'string comment');
check('surrounding pairs {} [] () ""', pairs(conf.surroundingPairs) === '"" () [] {}', pairs(conf.surroundingPairs));

const inc = new RegExp(conf.indentationRules.increaseIndentPattern);
const dec = new RegExp(conf.indentationRules.decreaseIndentPattern);
for (const l of ['flow orders {', '  map {  // the output', '    lines = each item in record.items where item.qty > 0 {', '  tags = [', '  x = lower('])
  check(`indent after: ${l}`, inc.test(l));
for (const l of ['  filter record.total > 0', '// a comment {', '  x = f(a) // (', '}'])
  check(`no indent after: ${l}`, !inc.test(l));
for (const l of ['}', '  }', '    ]', ')'])
  check(`outdent: ${l}`, dec.test(l));
check('no outdent: x = { a = 1 }', !dec.test('  x = { a = 1 }'));

const word = new RegExp(conf.wordPattern, 'g');
const words = (s) => s.match(word);
check('words: a duration, a size, a float and names are one word each',
  JSON.stringify(words('timeout = 250ms, max = 5MB, r = 1.5e3, record.first_name')) ===
  JSON.stringify(['timeout', '250ms', 'max', '5MB', 'r', '1.5e3', 'record', 'first_name']),
  JSON.stringify(words('timeout = 250ms, max = 5MB, r = 1.5e3, record.first_name')));

const lang = pkg.contributes.languages.find((l) => l.id === 'flow');
check('the language flow for .flow files', lang && lang.extensions.includes('.flow'));
check('its configuration file exists', lang && fs.existsSync(path.join(dir, lang.configuration)));
const g = pkg.contributes.grammars.find((x) => x.language === 'flow');
check('its grammar is source.flow and exists', g && g.scopeName === 'source.flow' && fs.existsSync(path.join(dir, g.path)) &&
  JSON.parse(fs.readFileSync(path.join(dir, g.path), 'utf8')).scopeName === 'source.flow');
const setting = pkg.contributes.configuration.properties['flowc.path'];
check('the setting flowc.path, default flowc', setting && setting.type === 'string' && setting.default === 'flowc');
check('activated by .flow files', pkg.activationEvents.includes('onLanguage:flow'));
check('main is extension.js', pkg.main === './extension.js' && fs.existsSync(path.join(dir, 'extension.js')));
const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
for (const [name, version] of Object.entries(pkg.dependencies))
  check(`dependency ${name} pinned to ${version} by the lock`, /^\d+\.\d+\.\d+$/.test(version) &&
    lock.packages[`node_modules/${name}`] && lock.packages[`node_modules/${name}`].version === version);
process.exit(failed ? 1 : 0);
