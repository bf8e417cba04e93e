// extension.js — the VS Code extension's entry: starts `flowc lsp` (see server.js) as the language
// server of .flow files through vscode-languageclient, over stdio; restarts it when `flowc.path`
// changes or on the command "Flow: Restart the language server". Plain JavaScript, no build step.
'use strict';
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
const { resolveFlowc, serverCommand } = require('./server');

let client = null;
let output = null;

function workspaceDirs() {
  return (vscode.workspace.workspaceFolders || []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

async function start() {
  const setting = vscode.workspace.getConfiguration('flowc').get('path', 'flowc');
  const found = resolveFlowc(setting, workspaceDirs(), process.env);
  if (found.error) {   // told once, not awaited: activation does not wait for the user
    output.appendLine(found.error);
    vscode.window.showErrorMessage(found.error, 'Open Settings').then((pick) => {
      if (pick === 'Open Settings') vscode.commands.executeCommand('workbench.action.openSettings', 'flowc.path');
    });
    return;
  }
  const cmd = serverCommand(found.path);
  const run = { command: cmd.command, args: cmd.args, transport: TransportKind.stdio };
  client = new LanguageClient('flowc', 'Flow Language Server', { run, debug: run }, {
    documentSelector: [
      { scheme: 'file', language: 'flow' },
      { scheme: 'untitled', language: 'flow' },
    ],
    outputChannel: output,
  });
  output.appendLine(`starting ${cmd.command} ${cmd.args.join(' ')}`);
  try {
    await client.start();
  } catch (e) {
    const msg = `flowc lsp (${found.path}) did not start: ${e && e.message ? e.message : e}`;
    output.appendLine(msg);
    vscode.window.showErrorMessage(msg);
    client = null;
  }
}

async function stop() {
  const c = client;
  client = null;
  if (c) {
    try {
      await c.stop();
    } catch (e) {
      output.appendLine(`stopping flowc lsp: ${e && e.message ? e.message : e}`);
    }
  }
}

async function restart() {
  await stop();
  await start();
}

function activate(context) {
  output = vscode.window.createOutputChannel('Flow Language Server');
  context.subscriptions.push(output);
  context.subscriptions.push(vscode.commands.registerCommand('flowc.restartServer', restart));
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('flowc.path')) restart();
  }));
  return start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
