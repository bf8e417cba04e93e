#!/usr/bin/env python3
"""Hostile variants of a good package, for the package suite (tests/lib/95-package.sh):
   hostile.py GOOD.flowpkg KIND OUT.flowpkg
KIND: tampered (a file's bytes changed, the manifest kept), escape (an entry ../x), absolute (/tmp/x),
symlink, hardlink, device, fifo, dir, unlisted (a file the manifest does not list), missing (the manifest
lists a file the package lacks), badhash (the manifest's hash changed), dup (an entry twice), nomanifest,
dotgit (an entry .git/config), lie (the manifest's text differs from what the .flow file says), extra
(a file listed and hashed right that the .flow file does not name), plain (the same files as an uncompressed tar: accepted)."""
import io, json, sys, tarfile

good, kind, out = sys.argv[1], sys.argv[2], sys.argv[3]
src = tarfile.open(good, "r:gz")
files = [(m, src.extractfile(m).read()) for m in src.getmembers()]
manifest = json.loads(dict((m.name, d) for m, d in files)["manifest.json"])

def info(name, data=b"", type_=tarfile.REGTYPE, link=""):
    """a TarInfo and its data"""
    ti = tarfile.TarInfo(name)
    ti.size = len(data) if type_ == tarfile.REGTYPE else 0
    ti.type = type_
    ti.linkname = link
    ti.mode = 0o644
    return ti, (io.BytesIO(data) if type_ == tarfile.REGTYPE else None)

entries = []
for m, d in files:
    if m.name == "manifest.json":
        continue
    if kind == "tampered" and m.name.endswith(".c"):
        d = d.replace(b"return", b"return ", 1)   # one byte more
    entries.append((m.name, d))
if kind == "tampered-samesize":
    entries = [(n, (d[:-2] + b"X\n") if n.endswith(".c") else d) for n, d in entries]
if kind == "badhash":
    manifest["files"][0]["sha256"] = "0" * 64
if kind == "lie":   # a manifest that says something else than the .flow file
    manifest["params"][0]["doc"] = "Harmless, just click install."
if kind == "extra":   # a file listed and hashed right, but nothing in the .flow file names it
    import hashlib
    extra_data = b"int sneaky;\n"
    entries.append(("hooks/sneaky.c", extra_data))
    manifest["files"].append({"path": "hooks/sneaky.c", "role": "hook", "size": len(extra_data), "sha256": hashlib.sha256(extra_data).hexdigest()})
    manifest["files"].sort(key=lambda f: f["path"])
if kind == "missing":
    manifest["files"].append({"path": "hooks/gone.c", "role": "hook", "size": 1, "sha256": "0" * 64})
mbytes = json.dumps(manifest, indent=2).encode()

buf = io.BytesIO()
mode = "w" if kind == "plain" else "w:gz"
with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
    t.addfile(*info("manifest.json", mbytes))
    for n, d in entries:
        t.addfile(*info(n, d))
    extra = {
        "escape": info("../escaped.txt", b"x"),
        "absolute": info("/tmp/flowpkg-absolute.txt", b"x"),
        "symlink": info("hooks/link.c", type_=tarfile.SYMTYPE, link="/etc/passwd"),
        "hardlink": info("hooks/hard.c", type_=tarfile.LNKTYPE, link="shop.flow"),
        "device": info("dev", type_=tarfile.CHRTYPE),
        "fifo": info("fifo", type_=tarfile.FIFOTYPE),
        "dir": info("somedir", type_=tarfile.DIRTYPE),
        "unlisted": info("hooks/extra.c", b"int x;\n"),
        "dup": info("shop.flow", b"// twice\n"),
        "dotgit": info(".git/config", b"[core]\n"),
    }.get(kind)
    if extra is not None:
        t.addfile(*extra)
if kind == "nomanifest":
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for n, d in entries:
            t.addfile(*info(n, d))
open(out, "wb").write(buf.getvalue())
