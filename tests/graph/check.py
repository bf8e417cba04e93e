#!/usr/bin/env python3
"""Checks of flowc graph's output for tests/lib/97-graph.sh (python3 standard library only).

  check.py mermaid FILE.mmd      the structure of a Mermaid flowchart as flowc writes it: every line one
                                 known statement, quoted labels without a raw `"`, balanced subgraphs,
                                 unique ids, every edge between declared nodes or subgraphs
  check.py size FILE.svg         the window (W,H in CSS pixels, at most 4000 each) that shows the whole SVG
  check.py labels FILE.svg FILE.flow
                                 the SVG's text holds, decoded, what the .flow file says: every
                                 export/lookup/import's name, every filter's condition, every arm's
                                 condition, every flow's name (as written in the source: the escaping
                                 through DOT and SVG must give the same text back)
  check.py png FILE.png W H      a valid PNG (signature, CRCs, IHDR W x H, 8-bit RGB/RGBA) whose decoded
                                 pixels are not blank and show the export's and the import's fill colours
Prints what is wrong and exits 1; exits 0 silently when all is well."""
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    print(msg)
    sys.exit(1)


# ---- Mermaid ----
Q = r'"[^"]*"'
SHAPES = [(r'\(\[', r'\]\)'), (r'\[/', r'/\]'), (r'\[\[', r'\]\]'), (r'\[\\', r'/\]'),
          (r'\(\(', r'\)\)'), (r'\[\(', r'\)\]'), (r'\{', r'\}'), (r'\[', r'\]')]
ID = r'[A-Za-z][A-Za-z0-9_]*'


def check_mermaid(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    if lines[-1] != '':
        fail('no newline at the end')
    lines = lines[:-1]
    if not lines or lines[0] != 'flowchart TB':
        fail('the first line is not `flowchart TB`')
    nodes, subgraphs, edges, depth = set(), set(), [], 0
    node_res = [re.compile(r'^(%s)%s(%s)%s:::([a-z]+)$' % (ID, o, Q, c)) for o, c in SHAPES]
    for n, line in enumerate(lines[1:], 2):
        s = line.strip()
        where = '%s:%d: ' % (path, n)
        if re.fullmatch(r'classDef [a-z]+ [a-z-]+:[#a-z0-9]+(,[a-z-]+:[#a-z0-9]+)*', s):
            continue
        if s == 'direction TB':
            continue
        m = re.fullmatch(r'subgraph (%s) \[(%s)\]' % (ID, Q), s)
        if m:
            if m.group(1) in subgraphs or m.group(1) in nodes:
                fail(where + 'subgraph id %s used twice' % m.group(1))
            subgraphs.add(m.group(1))
            depth += 1
            continue
        if s == 'end':
            depth -= 1
            if depth < 0:
                fail(where + '`end` without a subgraph')
            continue
        m = re.fullmatch(r'(%s) (-->|-\.->)(?:\|(%s)\|)? (%s)' % (ID, Q, ID), s)
        if m:
            edges.append((where, m.group(1), m.group(4)))
            continue
        for r in node_res:
            m = r.fullmatch(s)
            if m:
                if m.group(1) in nodes or m.group(1) in subgraphs:
                    fail(where + 'node id %s declared twice' % m.group(1))
                if m.group(1) in ('end', 'subgraph', 'graph', 'flowchart'):
                    fail(where + 'a node id is a Mermaid keyword')
                nodes.add(m.group(1))
                break
        else:
            fail(where + 'not a statement flowc writes: ' + s)
        # a label may hold only entities for Mermaid's special characters
        for lab in re.findall(Q, s):
            body = lab[1:-1]
            bad = re.sub(r'#\d+;|<br>', '', body)
            for ch in '"<>|{}%`;:#&\\':
                if ch in bad:
                    fail(where + 'raw %r in a label: %s' % (ch, lab))
    if depth != 0:
        fail('%d subgraph(s) not closed' % depth)
    for where, a, b in edges:
        for x in (a, b):
            if x not in nodes and x not in subgraphs:
                fail(where + 'edge to an undeclared id ' + x)
    if not nodes:
        fail('no nodes')


# ---- SVG ----
def svg_texts(path):
    root = ET.parse(path).getroot()
    return [''.join(t.itertext()) for t in root.iter('{http://www.w3.org/2000/svg}text')]


def check_size(path):
    root = ET.parse(path).getroot()
    def px(v):
        m = re.fullmatch(r'([0-9.]+)(pt|px)?', v)
        if not m:
            fail('unreadable SVG size ' + v)
        return float(m.group(1)) * (96 / 72 if m.group(2) == 'pt' else 1)
    w, h = px(root.get('width')), px(root.get('height'))
    print('%d,%d' % (min(4000, int(w) + 40), min(4000, int(h) + 40)))


def clean(s, limit=40):
    """As flowc draws source text: white space runs as one space; compared on a prefix."""
    return re.sub(r'\s+', ' ', s).strip()[:limit]


def check_labels(svg, flow):
    texts = svg_texts(svg)
    whole = '\n'.join(texts)
    src = open(flow, encoding='utf-8').read()
    want = []
    for m in re.finditer(r'^\s*(export|lookup|import) (\w+)', src, re.M):
        want.append('%s %s' % (m.group(1), m.group(2)))
    for m in re.finditer(r'^\s*flow (\w+) \{', src, re.M):
        want.append('flow ' + m.group(1))
    for m in re.finditer(r'^\s*filter (.*?)(\s{2,}//.*)?$', src, re.M):
        want.append(clean(m.group(1)))
    for m in re.finditer(r'^\s*(\w+) when (.*) \{\}?(\s{2,}//.*)?$', src, re.M):
        want.append(clean('%s: %s' % (m.group(1), m.group(2))))
    for m in re.finditer(r'^\s*transform \{', src, re.M):
        want.append('transform')
    for m in re.finditer(r'^\s*branch (first_match|all_matching)', src, re.M):
        want.append('branch ' + m.group(1))
    if not want:
        fail('%s: nothing to look for' % flow)
    missing = [w for w in want if w not in whole]
    if missing:
        fail('%s: the SVG does not show %s\n  its texts: %s' % (svg, missing, texts[:40]))


# ---- PNG ----
def check_png(path, w, h):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        fail('not a PNG (signature)')
    pos, idat, ihdr = 8, b'', None
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            fail('bad CRC in chunk %r' % kind)
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
        pos += 12 + n
    if not ihdr:
        fail('no IHDR')
    pw, ph, depth, ctype, _, _, interlace = ihdr
    if (pw, ph) != (w, h):
        fail('PNG is %dx%d, expected %dx%d' % (pw, ph, w, h))
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail('unexpected PNG format: depth %d colour type %d interlace %d' % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = pw * bpp
    if len(raw) != ph * (stride + 1):
        fail('image data of %d bytes, expected %d' % (len(raw), ph * (stride + 1)))
    prev = bytearray(stride)
    nonwhite = 0
    colours = {}
    for y in range(ph):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif f != 0:
                fail('bad filter type %d on line %d' % (f, y))
        for x in range(0, stride, bpp):
            px = (line[x], line[x + 1], line[x + 2])
            if px != (255, 255, 255):
                nonwhite += 1
                colours[px] = colours.get(px, 0) + 1
        prev = line
    total = pw * ph
    if nonwhite < total // 100:
        fail('the picture is blank: %d of %d pixels are not white' % (nonwhite, total))
    # the fills of flowc's export (#dbeafe) and import (#dcfce7) nodes: the graph was drawn, not an error page
    for name, rgb in (('export', (0xdb, 0xea, 0xfe)), ('import', (0xdc, 0xfc, 0xe7))):
        if colours.get(rgb, 0) < 200:
            fail('no %s node in the picture (%d pixels of #%02x%02x%02x)' % ((name, colours.get(rgb, 0)) + rgb))


if __name__ == '__main__':
    a = sys.argv[1:]
    if a[:1] == ['mermaid'] and len(a) == 2:
        check_mermaid(a[1])
    elif a[:1] == ['size'] and len(a) == 2:
        check_size(a[1])
    elif a[:1] == ['labels'] and len(a) == 3:
        check_labels(a[1], a[2])
    elif a[:1] == ['png'] and len(a) == 4:
        check_png(a[1], int(a[2]), int(a[3]))
    else:
        fail(__doc__)
