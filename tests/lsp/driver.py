#!/usr/bin/env python3
"""Drives the real `flowc lsp` over pipes with a recorded exchange and compares what it answers with a
golden file (tests/lsp/README.md describes the cases). Python 3 standard library only.

  driver.py FLOWC CASE_DIR        compare; exit 1 with the differences on a mismatch
  UPDATE=1 driver.py FLOWC CASE_DIR   rewrite CASE_DIR/expected instead

CASE_DIR/session: one message per line, sent in order, each framed with Content-Length:
  {...}          a JSON message; a string value "@FILE" is replaced by the text of CASE_DIR/FILE, and
                 "@URI" by the case's document URI (file:///lsp/CASE/doc.flow); "@at:TEXT" (or
                 "@at:TEXT#N+K": the Nth occurrence, K characters into it) by the LSP position
                 {"line", "character" in UTF-16 code units} of TEXT in the last document substituted
  RAW <text>     ASCII text with Python string escapes (\\r\\n, \\u00e9), sent in UTF-8 as it is:
                 framing included (bad framing, a message cut in two)
  BODY <text>    the same, framed with its right Content-Length (malformed JSON, odd ids)
  # ...          a comment
CASE_DIR/expected: every message the server wrote, one canonical JSON text per line (keys sorted),
then its stderr lines (`stderr: ...`) and `exit N`. Every frame the server writes must be exactly
`Content-Length: N\\r\\n\\r\\n` and N bytes of JSON."""
import json, os, subprocess, sys, difflib, codecs


def load_session(case):
    uri = "file:///lsp/%s/doc.flow" % os.path.basename(os.path.normpath(case))
    out = []
    doc = [""]
    with open(os.path.join(case, "session"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("RAW ") or line.startswith("BODY "):
                raw = line.split(" ", 1)[1]
                b = codecs.decode(raw.encode("ascii"), "unicode_escape").encode("utf-8")
                out.append(b if line.startswith("RAW ") else b"Content-Length: %d\r\n\r\n" % len(b) + b)
                continue
            try:
                msg = json.loads(line)
            except ValueError as e:
                sys.exit("%s/session:%d: not JSON: %s" % (case, n, e))

            def subst(v):
                if isinstance(v, dict):
                    return {k: subst(x) for k, x in v.items()}
                if isinstance(v, list):
                    return [subst(x) for x in v]
                if v == "@URI":
                    return uri
                if isinstance(v, str) and v.startswith("@at:"):
                    return position(doc[0], v[4:], case, n)
                if isinstance(v, str) and v.startswith("@") and os.path.isfile(os.path.join(case, v[1:])):
                    with open(os.path.join(case, v[1:]), encoding="utf-8") as g:
                        doc[0] = g.read()
                        return doc[0]
                return v
            body = json.dumps(subst(msg), ensure_ascii=False).encode()
            out.append(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return b"".join(out)


def position(text, spec, case, lineno):
    """The LSP position of spec ("TEXT", "TEXT#N", "TEXT+K", "TEXT#N+K") in text."""
    k = 0
    nth = 1
    if "+" in spec and spec.rsplit("+", 1)[1].isdigit():
        spec, k = spec.rsplit("+", 1)
        k = int(k)
    if "#" in spec and spec.rsplit("#", 1)[1].isdigit():
        spec, nth = spec.rsplit("#", 1)
        nth = int(nth)
    at = -1
    for _ in range(nth):
        at = text.find(spec, at + 1)
        if at < 0:
            sys.exit("%s/session:%d: `%s` (#%d) is not in the document" % (case, lineno, spec, nth))
    at += k
    line = text.count("\n", 0, at)
    col = text[text.rfind("\n", 0, at) + 1:at]
    return {"line": line, "character": len(col.encode("utf-16-le")) // 2}


def frames(data):
    """The messages of the server's output; raises ValueError on a bad frame."""
    msgs = []
    i = 0
    while i < len(data):
        j = data.find(b"\r\n\r\n", i)
        if j < 0:
            raise ValueError("output ends inside a header: %r" % data[i:i + 80])
        head = data[i:j].decode("ascii")
        if not head.startswith("Content-Length: ") or "\r\n" in head:
            raise ValueError("bad header %r" % head)
        n = int(head[len("Content-Length: "):])
        body = data[j + 4:j + 4 + n]
        if len(body) != n:
            raise ValueError("a body shorter than its Content-Length")
        msgs.append(json.loads(body.decode("utf-8")))
        i = j + 4 + n
    return msgs


def run(flowc, case):
    data = load_session(case)
    p = subprocess.run([flowc, "lsp"], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    lines = [json.dumps(m, sort_keys=True, ensure_ascii=False) for m in frames(p.stdout)]
    lines += ["stderr: " + l for l in p.stderr.decode("utf-8", "replace").splitlines()]
    lines.append("exit %d" % p.returncode)
    return "\n".join(lines) + "\n"


def main():
    flowc, case = sys.argv[1], sys.argv[2]
    try:
        got = run(flowc, case)
    except (ValueError, subprocess.TimeoutExpired) as e:
        print("the server's output is broken: %s" % e)
        return 1
    exp_path = os.path.join(case, "expected")
    if os.environ.get("UPDATE") == "1":
        with open(exp_path, "w", encoding="utf-8") as f:
            f.write(got)
        return 0
    try:
        with open(exp_path, encoding="utf-8") as f:
            exp = f.read()
    except OSError:
        print("no %s (UPDATE=1 writes it)" % exp_path)
        return 1
    if got == exp:
        return 0
    sys.stdout.writelines(difflib.unified_diff(exp.splitlines(True), got.splitlines(True), "expected", "got", n=1))
    return 1


if __name__ == "__main__":
    sys.exit(main())
