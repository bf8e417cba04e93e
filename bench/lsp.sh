#!/usr/bin/env bash
# The language server's responsiveness: a generated .flow file of 5,000 lines (bench/genflow.sh, cut
# after the first flow that ends past line 5,000) is opened in `flowc lsp`; then 60 keystrokes, each a
# didChange with the whole text (full sync, as the server asks) that types or deletes one character
# inside a string in the middle of the file, and the time from writing it to reading its
# publishDiagnostics (the front end and checker over the whole file each time). Beside it `flowc
# check` of the same file (best of 5, a whole process). Prints the median, p95 and max latency, the
# server's CPU time per keystroke (user + system, from /proc: what the latency is on an idle machine,
# whatever else runs here), and the ratios to check's wall and CPU time. Exit 1 when the CPU time per
# keystroke is over the 50 ms budget (the wall latency is printed; on a shared machine it also holds
# the time other processes had the cores).
# Builds nothing (`make bench` builds build/flowc first). Inputs are written to build/bench/lsp/.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=$PWD/build/flowc
out=build/bench/lsp
[ -x "$flowc" ] || { echo "bench/lsp.sh: $flowc not found: run make first" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
bench/genflow.sh 1 | awk 'NR >= 5000 && /^}$/ { print; exit } { print }' >"$out/5k.flow"
"$flowc" check "$out/5k.flow" 2>/dev/null || { echo "bench/lsp.sh: the generated file does not check" >&2; exit 1; }
python3 - "$flowc" "$out/5k.flow" <<'PY'
import json, os, subprocess, sys, time
flowc, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
lines = text.count("\n")
# `flowc check`, a whole process, best of 5
import resource
best = bcpu = None
for _ in range(5):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([flowc, "check", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    best = t if best is None or t < best else best
    bcpu = c if bcpu is None or c < bcpu else bcpu
def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
p = subprocess.Popen([flowc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def send(msg):
    b = json.dumps(msg).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
    p.stdin.flush()
def recv():
    n = None
    while True:
        line = p.stdout.readline()
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    return json.loads(p.stdout.read(n))
def wait_diags():
    while True:
        m = recv()
        if m.get("method") == "textDocument/publishDiagnostics":
            return m["params"]["diagnostics"]
uri = "file://" + os.path.abspath(path)
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
recv()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}})
d = wait_diags()
if d:
    sys.exit("bench/lsp.sh: the file has diagnostics in the server: %s" % d[0]["message"])
at = text.index('"', len(text) // 2) + 1          # inside a string in the middle
lat = []
cur = text
c0 = cpu(p.pid)
for i in range(60):
    cur = cur[:at] + "x" + cur[at:] if i % 2 == 0 else cur[:at] + cur[at + 1:]
    t0 = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": cur}]}})
    wait_diags()
    lat.append(time.perf_counter() - t0)
per = (cpu(p.pid) - c0) / len(lat)
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
recv()
send({"jsonrpc": "2.0", "method": "exit"})
p.wait()
lat.sort()
med, p95, mx = lat[len(lat) // 2], lat[int(len(lat) * 0.95)], lat[-1]
print("lsp: a keystroke's diagnostics on a %d-line file (%.0f KB): median %.1f ms, p95 %.1f ms, max %.1f ms (%d keystrokes),"
      " server CPU %.1f ms a keystroke; flowc check of the same file %.1f ms (CPU %.1f ms): lsp/check %.2fx (CPU %.2fx)%s" %
      (lines, len(text.encode()) / 1024, med * 1e3, p95 * 1e3, mx * 1e3, len(lat), per * 1e3, best * 1e3, bcpu * 1e3,
       med / best, per / bcpu if bcpu else 0, "" if per < 0.050 else "  OVER THE 50 ms BUDGET"))
sys.exit(0 if per < 0.050 else 1)
PY
