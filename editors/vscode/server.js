// server.js — how the extension finds and starts the language server: the `flowc.path` setting
// resolved to an executable, and the command line `flowc lsp` (JSON-RPC over its stdin and stdout).
// No dependency on the `vscode` module, so tests/vscode/launch.js runs it under plain node.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function isExecutableFile(p) {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch (e) {
    return false;
  }
}

// resolveFlowc(setting, folders, env) -> { path } or { error }: the setting as the user wrote it
// (default "flowc"): `~/` is the home directory; a value with a `/` is a path, relative ones against
// each workspace folder in turn; a bare name is looked up on env.PATH.
function resolveFlowc(setting, folders, env) {
  let value = (typeof setting === 'string' ? setting : '').trim() || 'flowc';
  if (value === '~' || value.startsWith('~/')) value = path.join(os.homedir(), value.slice(1));
  const tried = [];
  if (value.includes('/') || value.includes(path.sep)) {
    const candidates = path.isAbsolute(value) ? [value] : (folders || []).map((f) => path.resolve(f, value));
    for (const c of candidates) {
      tried.push(c);
      if (isExecutableFile(c)) return { path: c };
    }
    if (!candidates.length) tried.push(value + ' (a relative path needs an open folder)');
  } else {
    for (const dir of String((env || process.env).PATH || '').split(path.delimiter)) {
      if (!dir) continue;
      const c = path.join(dir, value);
      if (isExecutableFile(c)) return { path: c };
    }
    tried.push(value + ' on PATH');
  }
  return {
    error: `flowc was not found (tried ${tried.join(', ')}): install flowc or set "flowc.path" ` +
      'to its executable; syntax highlighting works without it',
  };
}

// The language server's command line: `flowc lsp`, speaking LSP on its stdin and stdout.
function serverCommand(flowcPath) {
  return { command: flowcPath, args: ['lsp'] };
}

module.exports = { resolveFlowc, serverCommand };
