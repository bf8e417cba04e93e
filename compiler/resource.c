/* resource.c — the resource model: walks a file's syntax tree into addressed items (declarations,
 * settings, steps, map entries, type fields) with their spans and canonical hashes; masks secrets in
 * their source text. The hashes read the tree, never the text: layout and comments do not count. */
#include "resource.h"
#include "check.h"
#include "emit_c.h"
#include "ir.h"
#include <stdlib.h>
#include <string.h>

const char *const res_kind_names[] = {
#define X(k, s) s,
    RES_KINDS(X)
#undef X
};

/* ---- hashing ---- */

typedef struct { uint64_t a, b; } H;
static void h_init(H *h) { h->a = 1469598103934665603ULL; h->b = 0x243f6a8885a308d3ULL; }
static void h_bytes(H *h, const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t a = h->a, b = h->b;
    for (size_t i = 0; i < n; i++) {
        a = (a ^ s[i]) * 1099511628211ULL;
        b = (b + s[i] + 1) * 0x9e3779b97f4a7c15ULL;
        b ^= b >> 29;
    }
    h->a = a; h->b = b;
}
static void h_str(H *h, const char *s, size_t n) { h_bytes(h, &n, sizeof n); h_bytes(h, s, n); }
static void h_u64(H *h, uint64_t v) {   /* a word at once */
    h->a = (h->a ^ v) * 1099511628211ULL;
    h->b = (h->b + v + 1) * 0x9e3779b97f4a7c15ULL;
    h->b ^= h->b >> 29;
}
static ResHash h_done(const H *h) { return (ResHash){ h->a, h->b }; }
static uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

/* ---- a set of AST nodes (the ones that are resources of their own, skipped in their parent's own hash) ---- */

static size_t ptr_hash(const void *p) { return (size_t)mix64((uint64_t)(uintptr_t)p); }
static void ns_add(NodeSet *s, const AstNode *p) {
    if (2 * (s->n + 1) > s->cap) {
        NodeSet t = { calloc(s->cap ? s->cap * 2 : 64, sizeof *t.slot), s->cap ? s->cap * 2 : 64, 0 };
        if (!t.slot) abort();
        for (size_t i = 0; i < s->cap; i++) if (s->slot[i]) ns_add(&t, s->slot[i]);
        free(s->slot);
        *s = t;
    }
    size_t i = ptr_hash(p) & (s->cap - 1);
    while (s->slot[i] && s->slot[i] != p) i = (i + 1) & (s->cap - 1);
    if (!s->slot[i]) { s->slot[i] = p; s->n++; }
}
static int ns_has(const NodeSet *s, const AstNode *p) {
    if (!s->cap) return 0;
    size_t i = ptr_hash(p) & (s->cap - 1);
    while (s->slot[i]) { if (s->slot[i] == p) return 1; i = (i + 1) & (s->cap - 1); }
    return 0;
}

/* The canonical form of a subtree: kinds, names, payloads, operators and children in order; no spans,
 * no quoting style. Nodes in `skip` (enclosed resources) are left out; `noname` leaves out the root's
 * own name. One walk feeds the hash and, when asked, the text (so the two cannot disagree). */
static int spancmp(const void *x, const void *y) {
    const Span *a = x, *b = y;
    return a->start != b->start ? (a->start < b->start ? -1 : 1) : a->end != b->end ? (a->end < b->end ? -1 : 1) : 0;
}

/* a growable list of spans (secret settings here; masked strings in res_text) */
typedef struct Spans { Span *k; int n, cap; } Spans;
static void spans_add(Spans *s, Span sp) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->k = realloc(s->k, sizeof *s->k * (size_t)s->cap);
        if (!s->k) abort();
    }
    s->k[s->n++] = sp;
}

typedef struct { H h; ResBuf out; int text; const Spans *masks; /* strings shown as "***" */ } Sink;

void res_buf_put(ResBuf *b, const char *p, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = 2 * (b->n + n + 1) + 64;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void s_put(Sink *s, const char *p, size_t n) {
    if (s->text) res_buf_put(&s->out, p, n);
}
static void s_puts(Sink *s, const char *p) { s_put(s, p, strlen(p)); }
static void s_quoted(Sink *s, const char *p, size_t n) {
    if (!s->text) return;
    s_put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; s_put(s, esc, 2); }
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); s_put(s, esc, 6); }
        else s_put(s, (const char *)&p[i], 1);
    }
    s_put(s, "\"", 1);
}

static void canon(Sink *s, const AstNode *n, const NodeSet *skip, int noname) {
    H *h = &s->h;
    if (!n) { h_u64(h, 0xfe); return; }
    h_u64(h, n->kind + 1);
    h_u64(h, n->op);
    s_puts(s, "(");
    s_puts(s, ast_kind_names[n->kind]);
    if (n->kind == AST_UNARY || n->kind == AST_BINARY) { s_puts(s, " "); s_puts(s, ast_op_names[n->op]); }
    if (n->name && !noname) {
        h_str(h, n->name, strlen(n->name));
        s_puts(s, " ");
        s_puts(s, n->name);
    } else h_u64(h, 0xff);
    char num[40];
    switch (n->kind) {
    case AST_INT: case AST_DURATION: case AST_SIZE: case AST_BOOL:
        h_u64(h, (uint64_t)n->ival);
        snprintf(num, sizeof num, " %lld", (long long)n->ival);
        s_puts(s, num);
        break;
    case AST_NUM:
        h_bytes(h, &n->num, sizeof n->num);
        snprintf(num, sizeof num, " %.17g", n->num);
        s_puts(s, num);
        break;
    case AST_STR: case AST_INTEGRATION: case AST_TEST: case AST_CONNECTION: case AST_EXPORT: case AST_LOOKUP:
    case AST_IMPORT: case AST_TPL_TEXT:
        if (n->str) {
            h_str(h, n->str, n->slen);
            s_puts(s, " ");
            if (s->text && s->masks && s->masks->n && bsearch(&n->span, s->masks->k, (size_t)s->masks->n, sizeof(Span), spancmp))
                s_puts(s, "\"***\"");
            else s_quoted(s, n->str, n->slen);
        }
        else h_u64(h, 0xfd);
        break;
    default: break;
    }
    const AstNode *abc[3] = { n->a, n->b, n->c };
    for (int i = 0; i < 3; i++) {
        if (abc[i]) s_puts(s, " ");
        canon(s, abc[i], skip, 0);
    }
    for (int i = 0; i < n->kids.n; i++)
        if (!ns_has(skip, n->kids.items[i])) { s_puts(s, " "); canon(s, n->kids.items[i], skip, 0); }
    h_u64(h, 0xfc);
    s_puts(s, ")");
}

static int is_space(char c);

/* ---- the address index ---- */

static uint64_t str_hash(const char *s) {
    uint64_t x = 1469598103934665603ULL;
    for (; *s; s++) x = (x ^ (unsigned char)*s) * 1099511628211ULL;
    return mix64(x);
}

static void index_grow(ResModel *m, int cap) {
    int *old = m->hash, oldcap = m->hcap;
    m->hash = malloc(sizeof(int) * (size_t)cap);
    if (!m->hash) abort();
    for (int k = 0; k < cap; k++) m->hash[k] = -1;
    m->hcap = cap;
    for (int k = 0; k < oldcap; k++) {
        if (old[k] < 0) continue;
        size_t s = (size_t)str_hash(m->items[old[k]].address) & (size_t)(cap - 1);
        while (m->hash[s] >= 0) s = (s + 1) & (size_t)(cap - 1);
        m->hash[s] = old[k];
    }
    free(old);
}

/* Indexes item i by its address; 0 when another item has that address already (nothing indexed). */
static int index_put(ResModel *m, int i) {
    if (2 * (i + 1) > m->hcap) index_grow(m, m->hcap ? m->hcap * 2 : 256);
    const char *a = m->items[i].address;
    size_t s = (size_t)str_hash(a) & (size_t)(m->hcap - 1);
    for (; m->hash[s] >= 0; s = (s + 1) & (size_t)(m->hcap - 1))
        if (strcmp(m->items[m->hash[s]].address, a) == 0) return 0;
    m->hash[s] = i;
    return 1;
}

int res_find(const ResModel *m, const char *address) {
    if (!m->hcap) return -1;
    size_t s = (size_t)str_hash(address) & (size_t)(m->hcap - 1);
    for (; m->hash[s] >= 0; s = (s + 1) & (size_t)(m->hcap - 1))
        if (strcmp(m->items[m->hash[s]].address, address) == 0) return m->hash[s];
    return -1;
}

/* ---- building ---- */

typedef struct {
    Arena *ar;
    ResModel *m;
    int cap;
    NodeSet resources;         /* AST nodes that are resources */
    NodeSet secrets;           /* AST SETTING / PARAM nodes whose value is a secret */
} B;

/* "BASE › LABEL" */
static const char *join(Arena *ar, const char *base, const char *label) {
    size_t bl = strlen(base), ll = strlen(label);
    char *s = arena_alloc(ar, bl + ll + 6);
    memcpy(s, base, bl);
    memcpy(s + bl, " \xe2\x80\xba ", 5);
    memcpy(s + bl + 5, label, ll + 1);
    return s;
}

/* "KIND NAME" */
static const char *label2(Arena *ar, const char *kind, const char *name) {
    size_t kl = strlen(kind), nl = strlen(name);
    char *s = arena_alloc(ar, kl + nl + 2);
    memcpy(s, kind, kl);
    s[kl] = ' ';
    memcpy(s + kl + 1, name, nl + 1);
    return s;
}

static int add(B *b, ResKind kind, int parent, int addr_parent, const char *label, const char *name, const AstNode *node) {
    ResModel *m = b->m;
    if (m->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        m->items = realloc(m->items, sizeof *m->items * (size_t)b->cap);
        if (!m->items) abort();
    }
    const char *base = addr_parent >= 0 ? m->items[addr_parent].address : NULL;
    Resource *r = &m->items[m->n];
    memset(r, 0, sizeof *r);
    const char *lab = label;
    r->address = base ? join(b->ar, base, label) : label;
    for (int k = 2; !index_put(m, m->n); k++) {   /* two unnamed steps of one kind: `transform 2` */
        lab = arena_printf(b->ar, "%s %d", label, k);
        r->address = base ? join(b->ar, base, lab) : lab;
    }
    r->kind = kind;
    r->label = lab;
    r->name = name;
    r->node = node;
    r->parent = parent;
    r->span = node->span;
    ns_add(&b->resources, node);
    return m->n++;
}

/* a setting or a hook under parent; 0 when k is neither */
static int add_setting(B *b, int parent, const AstNode *k) {
    if (k->kind == AST_SETTING) {
        int r = add(b, RES_SETTING, parent, parent, k->name, k->name, k);
        b->m->items[r].secret = ns_has(&b->secrets, k);
        return 1;
    }
    if (k->kind == AST_HOOK) {
        add(b, RES_HOOK, parent, parent, label2(b->ar, "hook", k->name), k->name, k);
        return 1;
    }
    return 0;
}

static void add_settings(B *b, int parent, const AstNode *owner) {
    for (int i = 0; i < owner->kids.n; i++) add_setting(b, parent, owner->kids.items[i]);
}

static const Type *strip_type(const Type *t) {
    while (t && t->kind == TY_ARRAY) t = t->elem;
    return t;
}

/* the fields of a record type (inline records nest) */
static void add_fields(B *b, int parent, const AstNode *ty, const Type *t) {
    while (ty && (ty->kind == AST_TY_OPTIONAL || ty->kind == AST_TY_ARRAY)) ty = ty->a;
    t = strip_type(t);
    if (!ty || ty->kind != AST_TY_RECORD) return;
    for (int i = 0; i < ty->kids.n; i++) {
        const AstNode *f = ty->kids.items[i];
        if (f->kind != AST_TY_FIELD) continue;
        int r = add(b, RES_FIELD, parent, parent, f->name, f->name, f);
        const TypeField *tf = t && t->kind == TY_RECORD ? ty_field(t, f->name) : NULL;
        b->m->items[r].type = tf ? tf->type : NULL;
        add_fields(b, r, f->a, tf ? tf->type : NULL);
    }
}

static void add_entries(B *b, int parent, const AstNode *map) {
    for (int i = 0; i < map->kids.n; i++) {
        const AstNode *e = map->kids.items[i];
        if (e->kind != AST_ENTRY && e->kind != AST_NESTED) continue;
        int r = add(b, RES_ENTRY, parent, parent, e->name, e->name, e);
        if (e->kind == AST_NESTED) add_entries(b, r, e);
    }
}

static void add_flow_items(B *b, int flow, int container, const AstNode *owner);

static void add_step(B *b, int flow, int container, const AstNode *s) {
    static const char *const kinds[] = { [AST_EXPORT] = "export", [AST_LOOKUP] = "lookup", [AST_IMPORT] = "import",
                                         [AST_TRANSFORM] = "transform", [AST_FILTER] = "filter", [AST_BRANCH] = "branch" };
    const char *kind = kinds[s->kind];
    int named = s->kind == AST_EXPORT || s->kind == AST_LOOKUP || s->kind == AST_IMPORT;
    /* a named step's address is its flow's and its name (unique in the flow): moving it into a branch
     * arm keeps its address; unnamed ones sit under their container */
    int r = named ? add(b, RES_STEP, container, flow, label2(b->ar, kind, s->name), s->name, s)
                  : add(b, RES_STEP, container, container, kind, NULL, s);
    b->m->items[r].step = 1;
    if (s->kind == AST_EXPORT || s->kind == AST_LOOKUP) add_settings(b, r, s);
    if (s->kind == AST_IMPORT) {
        for (int i = 0; i < s->kids.n; i++) {
            const AstNode *k = s->kids.items[i];
            if (add_setting(b, r, k)) continue;
            if (k->kind == AST_MAP) add_entries(b, add(b, RES_MAP, r, r, "map", NULL, k), k);
            else if (k->kind == AST_RESPONSE) add(b, RES_RESPONSE, r, r, "response", NULL, k);
        }
    }
    if (s->kind == AST_BRANCH)
        for (int i = 0; i < s->kids.n; i++) {
            const AstNode *arm = s->kids.items[i];
            if (arm->kind != AST_ARM) continue;
            int a = add(b, RES_ARM, r, r, label2(b->ar, "arm", arm->name), arm->name, arm);
            add_flow_items(b, flow, a, arm);
        }
}

/* the flow's or arm's items in source order: settings, hooks and steps */
static void add_flow_items(B *b, int flow, int container, const AstNode *owner) {
    for (int i = 0; i < owner->kids.n; i++) {
        const AstNode *k = owner->kids.items[i];
        if (add_setting(b, container, k)) continue;
        if (k->kind == AST_EXPORT || k->kind == AST_LOOKUP || k->kind == AST_IMPORT || k->kind == AST_TRANSFORM
                   || k->kind == AST_FILTER || k->kind == AST_BRANCH) {
            add_step(b, flow, container, k);
        }
    }
}

static const IrParam *ir_param(const IrProgram *ir, const char *name) {
    for (int i = 0; ir && i < ir->nparams; i++) if (strcmp(ir->params[i]->name, name) == 0) return ir->params[i];
    return NULL;
}

/* Secret settings, found through the IR (connectors.def marks them; a secret param makes its users and
 * its env values secret), recorded by the AST node they came from (same span). */

static int uses_secret_param(const IrExpr *x, const int *secret, const IrProgram *p) {
    if (!x) return 0;
    if (x->kind == IR_PARAM)
        for (int i = 0; i < p->nparams; i++) if (p->params[i] == x->param && secret[i]) return 1;
    if (uses_secret_param(x->a, secret, p) || uses_secret_param(x->b, secret, p) || uses_secret_param(x->c, secret, p)) return 1;
    for (int i = 0; i < x->nkids; i++) if (uses_secret_param(x->kids[i], secret, p)) return 1;
    return 0;
}

static void secret_settings(const IrSetting *s, int n, const int *secret, const IrProgram *p, Spans *out) {
    for (int i = 0; i < n; i++)
        if (chk_setting_secret(s[i].def) || uses_secret_param(s[i].value, secret, p)) spans_add(out, s[i].span);
}

/* every setting or param node of the tree whose span is listed */
static void mark_nodes(B *b, const AstNode *n, const Spans *sp) {
    if (n->kind == AST_SETTING || n->kind == AST_PARAM) {
        Span key = n->span;
        if (sp->n && bsearch(&key, sp->k, (size_t)sp->n, sizeof *sp->k, spancmp)) ns_add(&b->secrets, n);
        return;
    }
    if (n->kind == AST_FILE || n->kind == AST_ENV || n->kind == AST_CONNECTION || n->kind == AST_FLOW || n->kind == AST_EXPORT
        || n->kind == AST_LOOKUP || n->kind == AST_IMPORT || n->kind == AST_BRANCH || n->kind == AST_ARM)
        for (int i = 0; i < n->kids.n; i++) mark_nodes(b, n->kids.items[i], sp);
}

static void mark_secrets(B *b, const AstNode *file, const IrProgram *p) {
    if (!p) return;
    int *secret = calloc((size_t)p->nparams + 1, sizeof *secret);
    if (!secret) abort();
    emit_secret_params(p, secret);
    Spans sp = { 0 };
    for (int c = 0; c < p->nconns; c++) secret_settings(p->conns[c]->settings, p->conns[c]->nsettings, secret, p, &sp);
    for (int f = 0; f < p->nflows; f++) {
        secret_settings(p->flows[f]->settings, p->flows[f]->nsettings, secret, p, &sp);
        for (int s = 0; s < p->flows[f]->nall; s++) secret_settings(p->flows[f]->all[s]->settings, p->flows[f]->all[s]->nsettings, secret, p, &sp);
    }
    for (int i = 0; i < p->nparams; i++) if (secret[i]) spans_add(&sp, p->params[i]->span);
    for (int e = 0; e < p->nenvs; e++)   /* an env's value for a secret param */
        for (int i = 0; i < p->envs[e]->nsettings; i++) {
            const IrParam *pr = ir_param(p, p->envs[e]->settings[i].name);
            for (int k = 0; pr && k < p->nparams; k++) if (p->params[k] == pr && secret[k]) spans_add(&sp, p->envs[e]->settings[i].span);
        }
    if (sp.n) qsort(sp.k, (size_t)sp.n, sizeof *sp.k, spancmp);
    mark_nodes(b, file, &sp);
    free(sp.k);
    free(secret);
}

/* the IR's type declaration of this name; *cursor: the IR keeps source order, so the next one is
 * usually it (a file of thousands of types is not searched once per type) */
static const IrTypeDecl *ir_type(const IrProgram *ir, const char *name, int *cursor) {
    if (ir && *cursor < ir->ntypes && strcmp(ir->types[*cursor]->name, name) == 0) return ir->types[(*cursor)++];
    for (int i = 0; ir && i < ir->ntypes; i++) if (strcmp(ir->types[i]->name, name) == 0) { *cursor = i + 1; return ir->types[i]; }
    return NULL;
}

static void quote(B *b, const char *s, size_t n, char **out) {
    char *q = arena_alloc(b->ar, 2 * n + 3), *w = q;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') *w++ = '\\';
        *w++ = s[i] == '\n' ? ' ' : s[i];
    }
    *w++ = '"';
    *out = q;
}

int res_renamable(const Resource *r) {
    return r->name && (r->kind == RES_FLOW || r->kind == RES_STEP || r->kind == RES_CONNECTION || r->kind == RES_TYPE
                       || r->kind == RES_TABLE || r->kind == RES_ENV || r->kind == RES_ARM || r->kind == RES_PARAM);
}

ResModel *res_build(Arena *ar, const Source *src, const AstNode *file, const IrProgram *ir) {
    ResModel *m = arena_alloc(ar, sizeof *m);
    m->src = src;
    m->ir = ir;
    B b = { .ar = ar, .m = m };
    b.cap = (int)(src->len / 40) + 64;   /* about one resource per 40 bytes: few reallocations */
    m->items = malloc(sizeof *m->items * (size_t)b.cap);
    if (!m->items) abort();
    int hcap = 256;
    while (hcap < 2 * b.cap) hcap *= 2;
    index_grow(m, hcap);
    int type_cursor = 0;
    if (file) mark_secrets(&b, file, ir);
    for (int i = 0; file && i < file->kids.n; i++) {
        const AstNode *d = file->kids.items[i];
        int r;
        switch (d->kind) {
        case AST_INTEGRATION: add(&b, RES_INTEGRATION, -1, -1, "integration", NULL, d); break;
        case AST_PARAM: {
            r = add(&b, RES_PARAM, -1, -1, label2(ar, "param", d->name), d->name, d);
            const IrParam *p = ir_param(ir, d->name);
            m->items[r].type = p ? p->type : NULL;
            m->items[r].secret = ns_has(&b.secrets, d);
            break;
        }
        case AST_ENV:
            r = add(&b, RES_ENV, -1, -1, label2(ar, "environment", d->name), d->name, d);
            add_settings(&b, r, d);
            break;
        case AST_TABLE: add(&b, RES_TABLE, -1, -1, label2(ar, "table", d->name), d->name, d); break;
        case AST_TYPEDECL: {
            r = add(&b, RES_TYPE, -1, -1, label2(ar, "type", d->name), d->name, d);
            const IrTypeDecl *t = ir_type(ir, d->name, &type_cursor);
            m->items[r].type = t ? t->type : NULL;
            add_fields(&b, r, d->a, t ? t->type : NULL);
            break;
        }
        case AST_CONNECTION:
            r = add(&b, RES_CONNECTION, -1, -1, label2(ar, "connection", d->name), d->name, d);
            add_settings(&b, r, d);
            break;
        case AST_FLOW:
            r = add(&b, RES_FLOW, -1, -1, label2(ar, "flow", d->name), d->name, d);
            add_flow_items(&b, r, r, d);
            break;
        case AST_TEST: {
            char *q;
            quote(&b, d->str ? d->str : "", d->str ? d->slen : 0, &q);
            add(&b, RES_TEST, -1, -1, arena_printf(ar, "test %s", q), d->str, d);
            break;
        }
        default: break;
        }
    }
    /* children lists, top list */
    int *nk = calloc((size_t)m->n + 1, sizeof *nk);
    if (!nk) abort();
    for (int i = 0; i < m->n; i++) {
        if (m->items[i].parent >= 0) nk[m->items[i].parent]++;
        else m->ntop++;
    }
    m->top = arena_alloc(ar, sizeof(int) * (size_t)(m->ntop + 1));
    m->ntop = 0;
    for (int i = 0; i < m->n; i++) {
        m->items[i].kids = arena_alloc(ar, sizeof(int) * (size_t)(nk[i] + 1));
    }
    for (int i = 0; i < m->n; i++) {
        int p = m->items[i].parent;
        if (p >= 0) m->items[p].kids[m->items[p].nkids++] = i;
        else m->top[m->ntop++] = i;
    }
    free(nk);
    /* hashes, enclosed resources first (pre-order reversed) */
    for (int i = m->n - 1; i >= 0; i--) {
        Resource *r = &m->items[i];
        Sink so = { 0 }, sn = { 0 };
        h_init(&so.h); h_init(&sn.h);
        canon(&so, r->node, &b.resources, 0);
        /* without the name: only what can be renamed needs it (diff.c pairs renames by it) */
        if (res_renamable(r)) canon(&sn, r->node, &b.resources, 1);
        else sn = so;
        H own = so.h, noname = sn.h;
        r->own = h_done(&own);
        uint64_t ua = 0, ub = 0;      /* enclosed non-steps: order does not matter */
        H seq;                         /* steps: it does */
        h_init(&seq);
        for (int k = 0; k < r->nkids; k++) {
            const Resource *c = &m->items[r->kids[k]];
            if (c->step) { h_u64(&seq, c->canon.a); h_u64(&seq, c->canon.b); h_str(&seq, c->label, strlen(c->label)); }
            else { ua += mix64(c->canon.a ^ str_hash(c->label)); ub += mix64(c->canon.b + str_hash(c->label)); }
        }
        H inner;
        h_init(&inner);
        h_u64(&inner, ua); h_u64(&inner, ub); h_u64(&inner, seq.a); h_u64(&inner, seq.b);
        r->inner = h_done(&inner);
        H body = noname, full = own;
        h_u64(&body, ua); h_u64(&body, ub); h_u64(&body, seq.a); h_u64(&body, seq.b);
        h_u64(&full, ua); h_u64(&full, ub); h_u64(&full, seq.a); h_u64(&full, seq.b);
        r->body = h_done(&body);
        r->canon = h_done(&full);
    }
    /* the arrays move into the arena, the index stays malloc'd until the arena goes */
    Resource *items = arena_alloc(ar, sizeof *items * (size_t)(m->n + 1));
    if (m->n) memcpy(items, m->items, sizeof *items * (size_t)m->n);
    free(m->items);
    m->items = items;
    int *hash = arena_alloc(ar, sizeof(int) * (size_t)(m->hcap + 1));
    if (m->hcap) memcpy(hash, m->hash, sizeof(int) * (size_t)m->hcap);
    free(m->hash);
    m->hash = hash;
    const AstNode **slot = arena_alloc(ar, sizeof *slot * (b.resources.cap + 1));
    if (b.resources.cap) memcpy(slot, b.resources.slot, sizeof *slot * b.resources.cap);
    m->nodes = (NodeSet){ slot, b.resources.cap, b.resources.n };
    free(b.resources.slot);
    free(b.secrets.slot);
    return m;
}

ResHash res_hash(const AstNode *n) {
    NodeSet none = { 0 };
    Sink s = { 0 };
    h_init(&s.h);
    canon(&s, n, &none, 0);
    return h_done(&s.h);
}

static Spans secret_strings(const ResModel *m, const Resource *r);
static void mask_userinfo(char *s, size_t *n);

char *res_canon_text(const ResModel *m, const Resource *r) {
    Spans masks = secret_strings(m, r);
    Sink s = { .text = 1, .masks = &masks };
    h_init(&s.h);
    canon(&s, r->node, &m->nodes, 0);
    if (!s.out.s) res_buf_put(&s.out, "", 0);
    mask_userinfo(s.out.s, &s.out.n);
    free(masks.k);
    return s.out.s;
}

char *res_header(const ResModel *m, const Resource *r) {
    if (!r->nkids) return NULL;
    uint32_t e = m->items[r->kids[0]].span.start;
    const char *t = m->src->text;
    while (e > r->span.start && (is_space(t[e - 1]) || t[e - 1] == '\n')) e--;
    if (e > r->span.start && t[e - 1] == '{') e--;
    while (e > r->span.start && (is_space(t[e - 1]) || t[e - 1] == '\n')) e--;
    Resource head = *r;
    head.span.end = e;
    head.nkids = 0;
    return res_text(m, &head);
}

/* the steps of r that are steps of the item oi of `other` too */
static int common_steps(const ResModel *m, const Resource *r, const ResModel *other, int oi, int *out) {
    int k = 0;
    for (int i = 0; i < r->nkids; i++) {
        const Resource *c = &m->items[r->kids[i]];
        int j = c->step ? res_find(other, c->address) : -1;
        if (j >= 0 && other->items[j].parent == oi) out[k++] = r->kids[i];
    }
    return k;
}

int res_reordered(const ResModel *x, int xi, const ResModel *y, int yi) {
    const Resource *a = &x->items[xi], *b = &y->items[yi];
    int *p = malloc(sizeof(int) * (size_t)(a->nkids + 1)), *q = malloc(sizeof(int) * (size_t)(b->nkids + 1));
    if (!p || !q) abort();
    int np = common_steps(x, a, y, yi, p), nq = common_steps(y, b, x, xi, q), diff = np != nq;
    for (int i = 0; !diff && i < np; i++) diff = strcmp(x->items[p[i]].address, y->items[q[i]].address) != 0;
    free(p);
    free(q);
    return diff;
}

void res_dump(FILE *out, const ResModel *m) {
    for (int i = 0; i < m->n; i++) {
        const Resource *r = &m->items[i];
        int l1, c1, l2, c2;
        src_line_col(m->src, r->span.start, &l1, &c1);
        src_line_col(m->src, r->span.end, &l2, &c2);
        char *t = res_canon_text(m, r);
        fprintf(out, "%s\t%s%s\t%d:%d-%d:%d\t%s\n", r->address, res_kind_names[r->kind], r->secret ? " secret" : "", l1, c1, l2, c2, t);
        free(t);
    }
}

int res_steps(const ResModel *m, const Resource *r, int *out, int cap) {
    int n = 0;
    for (int k = 0; k < r->nkids; k++)
        if (m->items[r->kids[k]].step && n < cap) out[n++] = r->kids[k];
    return n;
}

/* ---- text ---- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

Span res_line_span(const Source *src, Span sp, int *whole) {
    const char *t = src->text;
    uint32_t s = sp.start, e = sp.end;
    while (s > 0 && is_space(t[s - 1])) s--;
    int alone_before = s == 0 || t[s - 1] == '\n';
    while (e < src->len && is_space(t[e])) e++;
    if (e < src->len && (t[e] == ',' || t[e] == ';')) { e++; while (e < src->len && is_space(t[e])) e++; }
    if (e + 1 < src->len && t[e] == '/' && t[e + 1] == '/') while (e < src->len && t[e] != '\n') e++;
    int alone_after = e >= src->len || t[e] == '\n';
    *whole = alone_before && alone_after;
    if (!*whole) return sp;
    if (e < src->len) e++;
    for (;;) {   /* comment lines directly above belong to the item */
        if (s == 0) break;
        uint32_t ls = s - 1;
        while (ls > 0 && t[ls - 1] != '\n') ls--;
        uint32_t k = ls;
        while (k < s && is_space(t[k])) k++;
        if (k + 1 < s && t[k] == '/' && t[k + 1] == '/') s = ls;
        else break;
    }
    return (Span){ s, e };
}

static int secret_call(const char *name) {
    static const char *const names[] = { "basic", "bearer", "api_key", "token", "hmac" };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) if (strcmp(name, names[i]) == 0) return 1;
    return 0;
}

/* api_key(header, value) and token(header, value): the header name is no secret */
static void collect(const ResModel *m, const AstNode *n, int secret, Spans *out, const NodeSet *secrets) {
    if (!n) return;
    if (ns_has(secrets, n)) secret = 1;
    if (n->kind == AST_CALL && n->name && strcmp(n->name, "env") == 0) return;   /* a variable's name is no secret */
    if (n->kind == AST_STR && secret && n->slen) { spans_add(out, n->span); return; }
    if (n->kind == AST_CALL && secret_call(n->name)) {
        int header = strcmp(n->name, "api_key") == 0 || strcmp(n->name, "token") == 0;
        for (int i = 0; i < n->kids.n; i++) {
            const AstNode *k = n->kids.items[i];
            int named_header = k->kind == AST_NAMEDARG && k->name && strcmp(k->name, "header") == 0;
            int plain_secret = k->kind == AST_NAMEDARG
                ? (strcmp(k->name, "secret") == 0 || strcmp(k->name, "password") == 0 || strcmp(k->name, "value") == 0 || strcmp(k->name, "token") == 0)
                : !(header && i == 0) && !(strcmp(n->name, "basic") == 0 && i == 0);
            collect(m, k, secret || (plain_secret && !named_header), out, secrets);
        }
        return;
    }
    collect(m, n->a, secret, out, secrets);
    collect(m, n->b, secret, out, secrets);
    collect(m, n->c, secret, out, secrets);
    for (int i = 0; i < n->kids.n; i++) collect(m, n->kids.items[i], secret, out, secrets);
}

/* a URL's password: scheme://user:PASSWORD@host */
static void mask_userinfo(char *s, size_t *n) {
    char *p = s;
    while ((p = strstr(p, "://"))) {
        char *u = p + 3, *at = u, *colon = NULL;
        while (*at && *at != '@' && *at != '/' && *at != '"' && *at != ' ' && *at != '\n') { if (*at == ':' && !colon) colon = at; at++; }
        if (*at == '@' && colon && at - colon > 3) {   /* never grows the text */
            memmove(colon + 4, at, strlen(at) + 1);
            memcpy(colon + 1, "***", 3);
            *n = strlen(s);
        } else if (*at == '@' && colon) {
            for (char *q = colon + 1; q < at; q++) *q = '*';
        }
        p = u;
    }
}

/* the spans of the string literals in r to show as "***", sorted */
static Spans secret_strings(const ResModel *m, const Resource *r) {
    /* the secret nodes again: the model keeps flags on resources, the tree walk needs the nodes */
    NodeSet secrets = { 0 };
    for (int i = 0; i < m->n; i++) if (m->items[i].secret) ns_add(&secrets, m->items[i].node);
    if (r->secret) ns_add(&secrets, r->node);
    Spans ms = { 0 };
    collect(m, r->node, 0, &ms, &secrets);
    if (ms.n > 1) qsort(ms.k, (size_t)ms.n, sizeof *ms.k, spancmp);
    free(secrets.slot);
    return ms;
}

char *res_text(const ResModel *m, const Resource *r) {
    const Source *src = m->src;
    Spans ms = secret_strings(m, r);
    uint32_t col = r->span.start;
    while (col > 0 && src->text[col - 1] != '\n') col--;
    uint32_t indent = r->span.start - col;
    size_t cap = 2 * (size_t)(r->span.end - r->span.start) + 16 + (size_t)ms.n * 8, n = 0;   /* masks may grow the text */
    char *out = malloc(cap);
    if (!out) abort();
    int mi = 0;
    for (uint32_t i = r->span.start; i < r->span.end;) {
        while (mi < ms.n && ms.k[mi].end <= i) mi++;
        if (mi < ms.n && ms.k[mi].start == i) {
            memcpy(out + n, "\"***\"", 5);
            n += 5;
            i = ms.k[mi].end;
            continue;
        }
        char c = src->text[i++];
        out[n++] = c;
        if (c == '\n')   /* dedent by the first line's column */
            for (uint32_t k = 0; k < indent && i < r->span.end && is_space(src->text[i]); k++) i++;
    }
    out[n] = 0;
    mask_userinfo(out, &n);
    free(ms.k);
    return out;
}
