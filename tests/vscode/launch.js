#!/usr/bin/env node
// launch.js — the extension's way to its language server, under plain node (tests/lib/97-vscode.sh):
//   node tests/vscode/launch.js EXT_DIR FLOWC resolve
//       editors/vscode/server.js's resolveFlowc against real files: an absolute path, a name on PATH,
//       a path relative to a workspace folder, `~/`, and the failures (missing, not executable, a
//       directory), whose message must name the setting flowc.path
//   node tests/vscode/launch.js EXT_DIR FLOWC lsp FILE
//       starts the server as the extension does (serverCommand: `flowc lsp` on stdio) and speaks to
//       it through vscode-jsonrpc, the transport vscode-languageclient uses: initialize, initialized,
//       didOpen of FILE (which has errors) and the publishDiagnostics it must answer with, shutdown,
//       exit; the server must then exit 0.
// EXT_DIR is the staged extension (build/vscode/ext: server.js and its node_modules). Prints one line
// per check, `ok ...` or `FAIL ...`; exits 1 when any failed.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const [extDir, flowcArg, mode, file] = process.argv.slice(2);
if (!extDir || !flowcArg || !mode) {
  process.stderr.write('usage: node tests/vscode/launch.js EXT_DIR FLOWC resolve|lsp [FILE]\n');
  process.exit(2);
}
const flowc = path.resolve(flowcArg);
const { resolveFlowc, serverCommand } = require(path.resolve(extDir, 'server.js'));
let failed = 0;
function check(name, cond, detail) {
  if (cond) process.stdout.write(`ok ${name}\n`);
  else { failed++; process.stdout.write(`FAIL ${name}${detail ? `: ${detail}` : ''}\n`); }
}

function resolveChecks() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowc-vscode-'));
  try {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.copyFileSync(flowc, path.join(bin, 'flowc'));
    fs.chmodSync(path.join(bin, 'flowc'), 0o755);
    fs.writeFileSync(path.join(bin, 'notexec'), 'x');
    const r = (s, folders, env) => resolveFlowc(s, folders, env || { PATH: '/nonexistent' });
    let x = r(flowc);
    check('resolve an absolute path', x.path === flowc, JSON.stringify(x));
    x = r('flowc', [], { PATH: `/nonexistent${path.delimiter}${bin}` });
    check('resolve the default `flowc` on PATH', x.path === path.join(bin, 'flowc'), JSON.stringify(x));
    x = r('', [], { PATH: bin });
    check('resolve an empty setting as `flowc`', x.path === path.join(bin, 'flowc'), JSON.stringify(x));
    x = r('bin/flowc', ['/nonexistent-folder', tmp]);
    check('resolve a relative path against the workspace folders in turn', x.path === path.join(bin, 'flowc'), JSON.stringify(x));
    const home = os.homedir();
    const rel = path.relative(home, path.join(bin, 'flowc'));
    if (!rel.startsWith('..')) {
      x = r(`~/${rel}`);
      check('resolve ~/ as the home directory', x.path === path.join(bin, 'flowc'), JSON.stringify(x));
    }
    for (const [what, setting, env] of [
      ['a name not on PATH', 'no-such-flowc', { PATH: bin }],
      ['a missing path', path.join(tmp, 'missing/flowc')],
      ['a file that is not executable', path.join(bin, 'notexec')],
      ['a directory', bin],
      ['a relative path without a folder', 'bin/flowc'],
    ]) {
      x = r(setting, [], env);
      check(`refuse ${what} with a message naming flowc.path`, !x.path && /"flowc\.path"/.test(x.error || ''), JSON.stringify(x));
    }
    const cmd = serverCommand('/x/flowc');
    check('the server command is `flowc lsp`', cmd.command === '/x/flowc' && JSON.stringify(cmd.args) === '["lsp"]', JSON.stringify(cmd));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`no ${what} within ${ms / 1000} s`)), ms); })])
    .finally(() => clearTimeout(t));
}

async function lspChecks() {
  const rpc = require(path.resolve(extDir, 'node_modules/vscode-jsonrpc/node'));
  const found = resolveFlowc(flowc, [], process.env);
  check('resolve the flowc under test', found.path === flowc, JSON.stringify(found));
  const cmd = serverCommand(found.path);
  const proc = spawn(cmd.command, cmd.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  const text = fs.readFileSync(file, 'utf8');
  const uri = 'file://' + path.resolve(file);
  const diags = new Promise((res) => conn.onNotification('textDocument/publishDiagnostics', (p) => { if (p.uri === uri) res(p); }));
  conn.listen();
  try {
    const init = await withTimeout(conn.sendRequest('initialize', {
      processId: process.pid, rootUri: null, capabilities: {}, clientInfo: { name: 'tests/vscode/launch.js' },
    }), 20000, 'answer to initialize');
    check('initialize answers with the server\'s capabilities', init && typeof init.capabilities === 'object',
      JSON.stringify(init).slice(0, 200));
    process.stdout.write(`  capabilities: ${Object.keys((init && init.capabilities) || {}).sort().join(' ')}\n`);
    conn.sendNotification('initialized', {});
    conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'flow', version: 1, text } });
    const p = await withTimeout(diags, 20000, 'publishDiagnostics after didOpen');
    check('didOpen of a file with an error publishes its diagnostics', Array.isArray(p.diagnostics) && p.diagnostics.length > 0,
      JSON.stringify(p).slice(0, 300));
    if (p.diagnostics.length) process.stdout.write(`  first: ${p.diagnostics[0].range.start.line + 1}:${p.diagnostics[0].range.start.character + 1} ${p.diagnostics[0].message}\n`);
    await withTimeout(conn.sendRequest('shutdown'), 20000, 'answer to shutdown');
    conn.sendNotification('exit');
    const e = await withTimeout(exited, 20000, 'exit after shutdown and exit');
    check('the server exits 0 after shutdown and exit', e.code === 0, `exit ${e.code} signal ${e.sig}; stderr: ${stderr.slice(0, 300)}`);
  } catch (err) {
    check('the language server session', false, `${err.message}; stderr: ${stderr.slice(0, 300)}`);
    proc.kill('SIGKILL');
  } finally {
    conn.dispose();
  }
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(stderr)) check('no sanitizer report', false, stderr.slice(0, 500));
}

(async () => {
  if (mode === 'resolve') resolveChecks();
  else if (mode === 'lsp') await lspChecks();
  else { process.stderr.write(`launch.js: unknown mode ${mode}\n`); process.exit(2); }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  process.stdout.write(`FAIL ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
