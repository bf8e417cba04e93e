#!/usr/bin/env python3
"""The language server's diagnostics are `flowc check`'s: every FILE is opened in one `flowc lsp`
session (by its absolute file:// URI, so its hook and data files resolve as for check) and each
publishDiagnostics is compared with `flowc check --format json FILE`: the same messages and
severities in the same order, at the same places (check's byte offsets converted to UTF-16 positions
here, independently of the server). A diagnostic in another file (a hook file) is at 0:0 with its
file:line:col in front of the message. Prints the first differences; exit 1 when there is one.

  same_as_check.py LSP_FLOWC CHECK_FLOWC FILE..."""
import json, os, subprocess, sys, urllib.parse


def frame(msg):
    b = json.dumps(msg, ensure_ascii=False).encode()
    return b"Content-Length: %d\r\n\r\n" % len(b) + b


def pos(data, off):
    line = data.count(b"\n", 0, off)
    start = data.rfind(b"\n", 0, off) + 1
    text = data[start:off].decode("utf-8", "replace")
    return {"line": line, "character": len(text.encode("utf-16-le")) // 2}


def main():
    lsp, check, files = sys.argv[1], sys.argv[2], [f for f in sys.argv[3:] if f.endswith(".flow")]
    msgs = [frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
            frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})]
    uris, texts = {}, {}
    for f in files:
        with open(f, "rb") as g:
            data = g.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue                      # an editor cannot send it: LSP text is Unicode
        if "\0" in text:
            continue
        path = os.path.abspath(f)
        uri = "file://" + urllib.parse.quote(path)
        uris[uri] = f
        texts[f] = data
        msgs.append(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                           "params": {"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}}))
    msgs += [frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}), frame({"jsonrpc": "2.0", "method": "exit"})]
    p = subprocess.run([lsp, "lsp"], input=b"".join(msgs), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    got = {}
    out = p.stdout
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        n = int(head.split(b":")[1])
        m = json.loads(rest[:n])
        out = rest[n:]
        if m.get("method") == "textDocument/publishDiagnostics":
            got[uris[m["params"]["uri"]]] = m["params"]["diagnostics"]
    bad = []
    if p.returncode != 0:
        bad.append("the server exited %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[:2000]))
    for f in texts:
        r = subprocess.run([check, "check", "--format", "json", os.path.abspath(f)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
        want = []
        for d in json.loads(r.stdout or b"[]"):
            if os.path.abspath(d["file"]) == os.path.abspath(f):
                rng = {"start": pos(texts[f], d["offset"]), "end": pos(texts[f], d["offset"] + d["length"])}
                msg = d["message"]
            else:
                rng = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
                msg = "%s:%d:%d: %s" % (d["file"], d["line"], d["column"], d["message"])
            want.append({"message": msg, "range": rng, "severity": 1 if d["severity"] == "error" else 2, "source": "flowc"})
        if got.get(f) != want:
            bad.append("%s:\n  check: %s\n  lsp:   %s" % (f, json.dumps(want)[:600], json.dumps(got.get(f))[:600]))
    for b in bad[:10]:
        print(b)
    print("(%d files, %d different)" % (len(texts), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
