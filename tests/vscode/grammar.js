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
//   lexer TOKENS      TOKENS is `flowc dump tokens` of many files: for each file without syntax
//                     errors, every character of every real token must carry the scope of its
//                     class (a comment comment.*, a string string.*, an int constant.numeric.integer,
//                     a duration constant.numeric.duration, an operator word or literal its keyword
//                     or constant scope unless it follows a `.`, a symbol keyword.operator.* or
//                     punctuation.*, names and keywords none of those), no character of a real token
//                     outside comments and strings is scoped invalid, and the white space between
//                     tokens is in no string or comment: where a string or comment ends, and what
//                     each token is, the grammar agrees with grammar/lexer.l
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

// the dump: [{ name, errors, toks: [[start, end, class]] }]
function readDump(p) {
  const out = [];
  for (const l of fs.readFileSync(p, 'utf8').split('\n')) {
    if (!l) continue;
    const h = /^# (.*) (\d+)$/.exec(l);
    if (h) { out.push({ name: h[1], errors: Number(h[2]), toks: [] }); continue; }
    const [a, b, c] = l.split(' ');
    out[out.length - 1].toks.push([Number(a), Number(b), c]);
  }
  return out;
}

const any = (sc, list) => list.some((w) => has(sc, w));
const NOT_CODE = ['comment', 'string', 'invalid', 'constant.numeric'];
const LEX_RULES = {
  comment: (sc) => has(sc, 'comment'),
  string: (sc) => has(sc, 'string'),   // a template comment {{! }} inside is both
  int: (sc) => has(sc, 'constant.numeric.integer'),
  number: (sc) => has(sc, 'constant.numeric.float'),
  duration: (sc) => has(sc, 'constant.numeric.duration'),
  size: (sc) => has(sc, 'constant.numeric.size'),
  literal: (sc, dot) => (dot ? has(sc, 'variable.other.property') : has(sc, 'constant.language')),
  'operator-word': (sc, dot) => (dot ? has(sc, 'variable.other.property') : any(sc, ['keyword.control', 'keyword.operator.logical'])),
  keyword: (sc) => sc.length > 0 && !any(sc, NOT_CODE),
  name: (sc) => sc.length > 0 && !any(sc, [...NOT_CODE, 'keyword.control', 'keyword.operator']),
  symbol: (sc) => any(sc, ['keyword.operator', 'punctuation']) && !any(sc, ['comment', 'string', 'invalid']),
};

function lexerCompare(grammar, dumpPath) {
  const errs = [];
  let files = 0, skipped = 0, ntok = 0;
  for (const sec of readDump(dumpPath)) {
    if (sec.errors > 0) { skipped++; continue; }
    files++;
    const buf = fs.readFileSync(sec.name);
    const lines = tokenize(grammar, buf.toString('utf8'));
    const starts = [0];
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10) starts.push(i + 1);
    const at = (off) => {   // [line index, UTF-16 column] of a byte offset
      let lo = 0, hi = starts.length - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= off) lo = mid; else hi = mid - 1; }
      return [lo, buf.toString('utf8', starts[lo], off).length];
    };
    const report = (off, what) => {
      const [li, col] = at(off);
      if (errs.length < 40) errs.push(`${sec.name}:${li + 1}:${col + 1}: ${what} (scopes: ${scopesAt(lines[li], col).join(' ') || 'none'}) in: ${lines[li] ? lines[li].line.trim().slice(0, 100) : ''}`);
    };
    const charsOf = function* (s, e) {   // the byte offsets that start a character on a line
      for (let o = s; o < e; o++) if (buf[o] !== 10 && buf[o] !== 13 && (buf[o] & 0xc0) !== 0x80) yield o;
    };
    let prevEnd = 0, prev = null;
    for (const [s, e, cls] of sec.toks) {
      ntok++;
      for (const o of charsOf(prevEnd, s)) {   // white space between tokens
        if (o === 0 && buf[0] === 0xef) continue;   // a byte-order mark
        const [li, col] = at(o);
        if (any(scopesAt(lines[li], col), ['string', 'comment'])) { report(o, 'white space outside every token is scoped as a string or comment'); break; }
      }
      const rule = LEX_RULES[cls];
      const dot = prev && prev[2] === 'symbol' && buf[prev[0]] === 46;
      if (!rule) { errs.push(`${sec.name}: unknown token class ${cls}`); break; }
      for (const o of charsOf(s, e)) {
        const [li, col] = at(o);
        const sc = scopesAt(lines[li], col);
        if (!rule(sc, dot) || (cls !== 'comment' && cls !== 'string' && has(sc, 'invalid'))) {
          report(o, `the lexer's ${cls} \`${buf.toString('utf8', s, Math.min(e, s + 40))}\` is not scoped as one`);
          break;
        }
      }
      prevEnd = e;
      prev = [s, e, cls];
    }
  }
  return { errs, note: ` (${files} files, ${ntok} tokens; ${skipped} files with syntax errors left out)` };
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
      else if (mode === 'lexer') { const r = lexerCompare(grammar, inPath); errs = r.errs; note = r.note; }
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
