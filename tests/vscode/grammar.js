#!/usr/bin/env node
// grammar.js — the TextMate grammar of editors/vscode under the real tokenizer VS Code uses
// (vscode-textmate with the Oniguruma regex engine, vscode-oniguruma), for tests/lib/97-vscode.sh.
//   node tests/vscode/grammar.js NODE_MODULES GRAMMAR JOBS
// JOBS is a file with one job per line, tab-separated:
//   snapshot IN OUT   writes the scopes of every token of IN to OUT (the suite compares OUT with a golden)
//   assert IN         checks IN's assertion comments: a line `// scope: TEXT -> SCOPE...` checks the
//                     first TEXT on the closest line above it that is not an assertion; every
//                     character of TEXT must carry each SCOPE (a prefix of a scope name, as theme
//                     selectors match: `string.quoted` matches string.quoted.double.flow) and none
//                     of the `!SCOPE`s. `TEXT#N` checks the Nth occurrence.
//   invalid IN        prints `IN:LINE:COL: TEXT` for every token scoped invalid.illegal (the suite
//                     asks flowc whether it reports an error there)
// Prints `ok IN`, or `FAIL IN` with the reasons, per job; exits 1 when any job failed.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, grammarPath, jobsPath] = process.argv.slice(2);
if (!modules || !grammarPath || !jobsPath) {
  process.stderr.write('usage: node tests/vscode/grammar.js NODE_MODULES GRAMMAR JOBS\n');
  process.exit(2);
}
const vsctm = require(path.resolve(modules, 'vscode-textmate'));
const oniguruma = require(path.resolve(modules, 'vscode-oniguruma'));

async function loadGrammar() {
  const wasm = fs.readFileSync(path.resolve(modules, 'vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.flow') return null;
      const text = fs.readFileSync(grammarPath, 'utf8');
      return vsctm.parseRawGrammar(text, grammarPath);
    },
  });
  const g = await registry.loadGrammar('source.flow');
  if (!g) throw new Error(`no grammar source.flow in ${grammarPath}`);
  return g;
}

// Every line of text as [{ start, end, text, scopes }] (scopes without the root source.flow).
function tokenize(grammar, text) {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let stack = vsctm.INITIAL;
  const out = [];
  for (const line of lines) {
    const r = grammar.tokenizeLine(line, stack, 5000);
    if (r.stoppedEarly) throw new Error(`tokenizing stopped early (over 5 s) on: ${line.slice(0, 80)}`);
    stack = r.ruleStack;
    out.push({
      line,
      tokens: r.tokens.map((t) => ({
        start: t.startIndex,
        end: Math.min(t.endIndex, line.length),
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes.filter((s) => s !== 'source.flow'),
      })).filter((t) => t.end > t.start),
    });
  }
  return out;
}

function snapshot(grammar, inPath, outPath) {
  const lines = tokenize(grammar, fs.readFileSync(inPath, 'utf8'));
  const w = [];
  lines.forEach((l, i) => {
    if (!l.line.trim()) return;
    w.push(`${i + 1}: ${l.line}`);
    for (const t of l.tokens) {
      if (!t.text.trim()) continue;   // white space: its scopes show nothing
      w.push(`  ${JSON.stringify(t.text).padEnd(20)} ${t.scopes.join(' ') || '-'}`);
    }
  });
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, w.join('\n') + '\n');
  return [];
}

const ASSERT = /^\s*\/\/\s*scope:\s*(.*?)\s*->\s*(.+?)\s*$/;

function scopesAt(l, col) {
  const t = l.tokens.find((t) => t.start <= col && col < t.end);
  return t ? t.scopes : [];
}
const has = (scopes, want) => scopes.some((s) => s === want || s.startsWith(want + '.') || s.split(' ').includes(want));

function assertFile(grammar, inPath) {
  const lines = tokenize(grammar, fs.readFileSync(inPath, 'utf8'));
  const errs = [];
  let target = -1, n = 0;
  lines.forEach((l, i) => {
    const m = ASSERT.exec(l.line);
    if (!m) { target = i; return; }
    n++;
    const where = `${inPath}:${i + 1}`;
    if (target < 0) { errs.push(`${where}: an assertion with no line above it`); return; }
    let text = m[1], nth = 1;
    const hm = /^(.*)#(\d+)$/.exec(text);
    if (hm) { text = hm[1]; nth = Number(hm[2]); }
    const tl = lines[target];
    let col = -1;
    for (let k = 0; k < nth; k++) {
      col = tl.line.indexOf(text, col + 1);
      if (col < 0) break;
    }
    if (col < 0 || !text) { errs.push(`${where}: \`${m[1]}\` is not on line ${target + 1}: ${tl.line.trim()}`); return; }
    for (const want of m[2].split(/\s+/)) {
      for (let c = col; c < col + text.length; c++) {
        const sc = scopesAt(tl, c);
        const bad = want.startsWith('!') ? has(sc, want.slice(1)) : !has(sc, want);
        if (bad) {
          errs.push(`${where}: \`${text}\` on line ${target + 1}: ${want.startsWith('!') ? 'has' : 'lacks'} ` +
            `${want.replace(/^!/, '')} at column ${c + 1} (scopes: ${sc.join(' ') || 'none'})`);
          break;
        }
      }
    }
  });
  if (!n) errs.push(`${inPath}: no assertion (// scope: TEXT -> SCOPE)`);
  return { errs, n };
}

function invalid(grammar, inPath) {
  const lines = tokenize(grammar, fs.readFileSync(inPath, 'utf8'));
  lines.forEach((l, i) => {
    for (const t of l.tokens)
      if (t.scopes.some((s) => s.startsWith("invalid.illegal")))   // a byte column, as flowc counts
        process.stdout.write(`${inPath}:${i + 1}:${Buffer.byteLength(l.line.slice(0, t.start)) + 1}: ${t.text}\n`);
  });
  return [];
}

async function main() {
  const grammar = await loadGrammar();
  const jobs = fs.readFileSync(jobsPath, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
  let failed = 0;
  for (const [mode, inPath, outPath] of jobs) {
    let errs = [], note = '';
    try {
      if (mode === 'snapshot') errs = snapshot(grammar, inPath, outPath);
      else if (mode === 'assert') { const r = assertFile(grammar, inPath); errs = r.errs; note = ` (${r.n} assertions)`; }
      else if (mode === 'invalid') { errs = invalid(grammar, inPath); continue; }
      else errs = [`unknown job ${mode}`];
    } catch (e) {
      errs = [`${inPath}: ${e && e.stack ? e.stack : e}`];
    }
    if (errs.length) {
      failed++;
      process.stdout.write(`FAIL ${inPath}\n${errs.map((e) => `  ${e}`).join('\n')}\n`);
    } else {
      process.stdout.write(`ok ${inPath}${note}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}
main().catch((e) => {
  process.stderr.write(`grammar.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
