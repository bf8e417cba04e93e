#!/usr/bin/env python3
# vsix.py VSIX GRAMMAR — checks a packaged VS Code extension (tests/lib/97-vscode.sh, case vscode/vsix):
# a valid zip holding the manifest, extension.js, server.js, the language configuration (valid JSON),
# vscode-languageclient and every file package.json names (main, grammars, configurations); the grammar
# byte for byte the repository's; syntaxes/generate.js left out. Prints `N files`; exits 1 on a problem.
import json
import sys
import zipfile

vsix, grammar = sys.argv[1], sys.argv[2]
if not zipfile.is_zipfile(vsix):
    sys.exit(f"{vsix} is not a zip file")
z = zipfile.ZipFile(vsix)
bad = z.testzip()
if bad:
    sys.exit(f"{vsix}: {bad} is corrupt")
names = set(z.namelist())
need = ["extension.vsixmanifest", "extension/package.json", "extension/extension.js", "extension/server.js",
        "extension/language-configuration.json", "extension/syntaxes/flow.tmLanguage.json",
        "extension/node_modules/vscode-languageclient/package.json",
        "extension/node_modules/vscode-languageclient/node.js"]
m = json.loads(z.read("extension/package.json"))
rel = lambda p: "extension/" + p.removeprefix("./")
need += [rel(g["path"]) for g in m["contributes"]["grammars"]]
need += [rel(lang["configuration"]) for lang in m["contributes"]["languages"]]
need.append(rel(m["main"]) + ("" if m["main"].endswith(".js") else ".js"))
missing = [n for n in need if n not in names]
if missing:
    sys.exit("missing from the vsix: " + " ".join(missing))
if "extension/syntaxes/generate.js" in names:
    sys.exit("the vsix holds syntaxes/generate.js (.vscodeignore leaves it out)")
if z.read("extension/syntaxes/flow.tmLanguage.json") != open(grammar, "rb").read():
    sys.exit("the vsix's grammar is not the repository's " + grammar)
for lang in m["contributes"]["languages"]:
    json.loads(z.read(rel(lang["configuration"])))
print(f"{len(names)} files")
