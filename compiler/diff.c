/* diff.c — compares two resource models item by item: matches by address, finds renames (a flow or
 * step whose body is unchanged under a new name), moves and reorderings of steps, and writes the
 * notes that matter in operation (narrowed or required types, upsert keys, delta fields, schedules
 * and triggers, endpoints and auth, removed mapping targets). Prints a review (text) or JSON. */
#include "diff.h"
#include "diag.h"
#include "ir.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const ResModel *o, *n;
    int *renamed_from;         /* new index -> old index of its rename, or -1 */
    int *renamed_to;           /* old index -> new index */
    DiffResult *out;
    Arena *ar;                 /* type printing */
} D;

static int same(ResHash a, ResHash b) { return a.a == b.a && a.b == b.b; }

static char *xstrdup(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static DiffChange *emit(D *d, DiffAction act, const char *address) {
    DiffResult *r = d->out;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->items = realloc(r->items, sizeof *r->items * (size_t)r->cap);
        if (!r->items) abort();
    }
    DiffChange *c = &r->items[r->n++];
    memset(c, 0, sizeof *c);
    c->action = act;
    c->address = xstrdup(address);
    return c;
}

static void note(DiffChange *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(DiffChange *c, const char *fmt, ...) {
    if (c->nnotes == DIFF_MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s) abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->notes[c->nnotes++] = s;
}

/* ---- operational notes ---- */

static const Resource *parent_of(const ResModel *m, const Resource *r) { return r->parent >= 0 ? &m->items[r->parent] : NULL; }

static int is_step_kind(const Resource *r, AstKind k) { return r && r->kind == RES_STEP && r->node->kind == k; }

/* the first argument (a name or a string) of a call named fn anywhere in x, or of a named argument */
static const char *call_arg(const AstNode *x, const char *fn, const char *named) {
    if (!x) return NULL;
    if (x->kind == AST_CALL && x->name && strcmp(x->name, fn) == 0) {
        for (int i = 0; i < x->kids.n; i++) {
            const AstNode *k = x->kids.items[i];
            if (named && k->kind == AST_NAMEDARG && k->name && strcmp(k->name, named) == 0) k = k->a;
            else if (k->kind == AST_NAMEDARG || (named && i > 0)) continue;
            if (k && k->kind == AST_NAME) return k->name;
            if (k && k->kind == AST_STR) return k->str;
        }
        return "";
    }
    const char *r;
    if ((r = call_arg(x->a, fn, named)) || (r = call_arg(x->b, fn, named)) || (r = call_arg(x->c, fn, named))) return r;
    for (int i = 0; i < x->kids.n; i++) if ((r = call_arg(x->kids.items[i], fn, named))) return r;
    return NULL;
}

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int is_endpoint(const char *name) {
    static const char *const names[] = { "base_url", "url", "dsn", "path", "dir", "host", "port", "database", "file", "table" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) if (strcmp(name, names[i]) == 0) return 1;
    return 0;
}

/* type of a value: became required, narrowed, changed */
static void type_notes(D *d, DiffChange *c, const Type *o, const Type *n) {
    if (!o || !n) return;
    if (o->nullable && !n->nullable) note(c, "became required (was %s, now %s)", ty_str(d->ar, o), ty_str(d->ar, n));
    Type so = *o, sn = *n;
    so.nullable = sn.nullable = 0;
    int fits = ty_assignable(&so, &sn) && !(so.kind == TY_JSON && sn.kind != TY_JSON);
    if (fits) return;
    if (ty_assignable(&sn, &so) || so.kind == TY_JSON) note(c, "type narrowed from %s to %s", ty_str(d->ar, &so), ty_str(d->ar, &sn));
    else note(c, "type changed from %s to %s: values of the old type no longer fit", ty_str(d->ar, &so), ty_str(d->ar, &sn));
}

/* notes for an item that exists on both sides and changed */
static void notes_changed(D *d, DiffChange *c, const Resource *o, const Resource *n) {
    const Resource *np = parent_of(d->n, n);
    switch (n->kind) {
    case RES_FIELD: case RES_PARAM:
        type_notes(d, c, o->type, n->type);
        if (o->secret || n->secret) note(c, "a secret: values masked");
        if (n->kind == RES_PARAM && o->node->b && !n->node->b) note(c, "became required: no default any more");
        break;
    case RES_CONNECTION:
        if (!str_eq(o->node->str, n->node->str)) note(c, "connection kind changed from %s to %s", o->node->str, n->node->str);
        break;
    case RES_SETTING:
        if (np && np->kind == RES_FLOW && (strcmp(n->name, "schedule") == 0 || strcmp(n->name, "trigger") == 0))
            note(c, "%s changed", n->name);
        else if (np && np->kind == RES_CONNECTION && strcmp(n->name, "auth") == 0) note(c, "auth changed (secrets masked)");
        else if (np && np->kind == RES_CONNECTION && is_endpoint(n->name)) note(c, "endpoint changed: %s", n->name);
        else if (np && np->kind == RES_ENV) note(c, "value in environment %s changed%s", np->name, o->secret || n->secret ? " (a secret: masked)" : "");
        else if (is_step_kind(np, AST_IMPORT) && (strcmp(n->name, "upsert") == 0 || strcmp(n->name, "mode") == 0)) {
            const char *ko = call_arg(o->node->a, "by", NULL), *kn = call_arg(n->node->a, "by", NULL);
            if (!ko) ko = call_arg(o->node->a, "upsert", "key");
            if (!kn) kn = call_arg(n->node->a, "upsert", "key");
            if ((ko || kn) && !str_eq(ko, kn))
                note(c, "upsert key changed from %s to %s", ko ? ko : "(none: insert)", kn ? kn : "(none: insert)");
            else if (ko || kn) note(c, "upsert changed");
        } else if (is_step_kind(np, AST_EXPORT) && strcmp(n->name, "mode") == 0) {
            const char *fo = call_arg(o->node->a, "delta", NULL), *fn = call_arg(n->node->a, "delta", NULL);
            if (fo && fn && strcmp(fo, fn)) note(c, "delta field changed from %s to %s: the saved time now compares another field", fo, fn);
            else if (fo && !fn) note(c, "no longer a delta export: every run exports all");
            else if (!fo && fn) note(c, "now a delta export on %s", fn);
            else if (fo) note(c, "delta lag changed");
        }
        break;
    case RES_ENTRY:
        if (o->node->a && !n->node->a) note(c, "target type override removed");
        else if (n->node->a && (!o->node->a || !same(res_hash(o->node->a), res_hash(n->node->a)))) {
            Resource ty = { .node = n->node->a, .span = n->node->a->span };
            char *t = res_text(d->n, &ty);
            note(c, "target type now %s", t);
            free(t);
        }
        break;
    case RES_STEP:
        if (!str_eq(o->node->str, n->node->str)) note(c, "connection changed from %s to %s", o->node->str ? o->node->str : "-", n->node->str ? n->node->str : "-");
        break;
    default: break;
    }
}

static void notes_added(D *d, DiffChange *c, const Resource *n) {
    const Resource *np = parent_of(d->n, n);
    if (n->kind == RES_FIELD && n->type && !n->type->nullable) note(c, "new required field");
    if (n->kind == RES_PARAM && !n->node->b) note(c, "new required param: no default");
    if (n->kind == RES_SETTING && np && np->kind == RES_FLOW && (strcmp(n->name, "schedule") == 0 || strcmp(n->name, "trigger") == 0))
        note(c, "%s added", n->name);
    if (n->kind == RES_SETTING && is_step_kind(np, AST_IMPORT) && strcmp(n->name, "upsert") == 0) note(c, "upsert key set");
    if (n->kind == RES_SETTING && np && np->kind == RES_CONNECTION && strcmp(n->name, "auth") == 0) note(c, "auth changed (secrets masked)");
}

static void notes_removed(D *d, DiffChange *c, const Resource *o) {
    const Resource *op = parent_of(d->o, o);
    if (o->kind == RES_ENTRY) note(c, "mapping target removed: %s is no longer sent", o->name);
    if (o->kind == RES_MAP) note(c, "mapping removed");
    if (o->kind == RES_SETTING && op && op->kind == RES_FLOW && (strcmp(o->name, "schedule") == 0 || strcmp(o->name, "trigger") == 0))
        note(c, "%s removed", o->name);
    if (o->kind == RES_SETTING && is_step_kind(op, AST_IMPORT)
        && (strcmp(o->name, "upsert") == 0 || (strcmp(o->name, "mode") == 0 && call_arg(o->node->a, "upsert", "key"))))
        note(c, "upsert removed: records are inserted");
    if (o->kind == RES_SETTING && op && op->kind == RES_CONNECTION && strcmp(o->name, "auth") == 0) note(c, "auth changed (secrets masked)");
}

/* ---- the walk ---- */

static const char *parent_address(const ResModel *m, const Resource *r) {
    return r->parent >= 0 ? m->items[r->parent].address : "";
}

/* step labels joined: "export orders, transform, import deals" */
static char *step_list(const ResModel *m, const Resource *r) {
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    if (!s) abort();
    s[0] = 0;
    for (int k = 0; k < r->nkids; k++) {
        const Resource *c = &m->items[r->kids[k]];
        if (!c->step) continue;
        size_t l = strlen(c->label) + 3;
        if (n + l + 1 > cap) { cap = 2 * (n + l + 1); s = realloc(s, cap); if (!s) abort(); }
        n += (size_t)sprintf(s + n, "%s%s", n ? ", " : "", c->label);
    }
    return s;
}

static void walk(D *d, int ni);

static void removed(D *d, int oi) {
    const Resource *o = &d->o->items[oi];
    if (d->renamed_to[oi] >= 0) return;
    DiffChange *c = emit(d, DIFF_REMOVED, o->address);
    c->before = res_text(d->o, o);
    notes_removed(d, c, o);
}

static void walk(D *d, int ni) {
    const Resource *n = &d->n->items[ni];
    int oi = res_find(d->o, n->address);
    if (oi < 0) {
        if (d->renamed_from[ni] >= 0) {
            const Resource *o = &d->o->items[d->renamed_from[ni]];
            DiffChange *c = emit(d, DIFF_RENAMED, n->address);
            c->before = xstrdup(o->name);
            c->after = xstrdup(n->name);
            note(c, "renamed from %s; its body is unchanged", o->address);
            return;
        }
        DiffChange *c = emit(d, DIFF_ADDED, n->address);
        c->after = res_text(d->n, n);
        notes_added(d, c, n);
        return;
    }
    const Resource *o = &d->o->items[oi];
    if (same(o->canon, n->canon) && strcmp(parent_address(d->o, o), parent_address(d->n, n)) == 0) return;
    if (!same(o->own, n->own)) {
        DiffChange *c = emit(d, DIFF_CHANGED, n->address);
        int head = o->nkids && n->nkids && same(o->inner, n->inner);   /* only its own part changed: show that */
        c->before = head ? res_header(d->o, o) : res_text(d->o, o);
        c->after = head ? res_header(d->n, n) : res_text(d->n, n);
        notes_changed(d, c, o, n);
        return;
    }
    if (strcmp(parent_address(d->o, o), parent_address(d->n, n))) {   /* a step moved into another arm */
        DiffChange *c = emit(d, DIFF_CHANGED, n->address);
        c->before = res_text(d->o, o);
        c->after = res_text(d->n, n);
        note(c, "moved from %s to %s", parent_address(d->o, o), parent_address(d->n, n));
        if (same(o->canon, n->canon)) return;
    }
    if (res_reordered(d->o, oi, d->n, ni)) {
        DiffChange *c = emit(d, DIFF_CHANGED, n->address);
        c->before = step_list(d->o, o);
        c->after = step_list(d->n, n);
        note(c, "steps reordered: records pass them in a new order");
    }
    for (int k = 0; k < n->nkids; k++) walk(d, n->kids[k]);
    for (int k = 0; k < o->nkids; k++)
        if (res_find(d->n, d->o->items[o->kids[k]].address) < 0) removed(d, o->kids[k]);
}

/* renames: an unmatched old item and an unmatched new one of the same kind under the same parent,
 * with equal bodies */
typedef struct { ResHash body; int kind, idx; } Cand;
static int candcmp(const void *x, const void *y) {
    const Cand *a = x, *b = y;
    if (a->body.a != b->body.a) return a->body.a < b->body.a ? -1 : 1;
    if (a->body.b != b->body.b) return a->body.b < b->body.b ? -1 : 1;
    if (a->kind != b->kind) return a->kind - b->kind;
    return a->idx - b->idx;
}


static Cand *candidates(const ResModel *m, const ResModel *other, int *count) {
    Cand *c = malloc(sizeof *c * (size_t)(m->n + 1));
    if (!c) abort();
    int n = 0;
    for (int i = 0; i < m->n; i++)
        if (res_renamable(&m->items[i]) && res_find(other, m->items[i].address) < 0)
            c[n++] = (Cand){ m->items[i].body, (int)m->items[i].kind, i };
    qsort(c, (size_t)n, sizeof *c, candcmp);
    *count = n;
    return c;
}

/* the part of the address before the item's own label */
static int same_place(const Resource *o, const Resource *n) {
    size_t la = strlen(o->address) - strlen(o->label), lb = strlen(n->address) - strlen(n->label);
    return la == lb && strncmp(o->address, n->address, la) == 0;
}

static void find_renames(D *d) {
    int no, nn;
    Cand *co = candidates(d->o, d->n, &no), *cn = candidates(d->n, d->o, &nn);
    int i = 0, j = 0;
    while (i < no && j < nn) {
        int c = candcmp(&(Cand){ co[i].body, co[i].kind, 0 }, &(Cand){ cn[j].body, cn[j].kind, 0 });
        if (c < 0) { i++; continue; }
        if (c > 0) { j++; continue; }
        /* equal bodies: pair the first unpaired ones in the same place */
        int ie = i, je = j;
        while (ie < no && same(co[ie].body, co[i].body) && co[ie].kind == co[i].kind) ie++;
        while (je < nn && same(cn[je].body, cn[j].body) && cn[je].kind == cn[j].kind) je++;
        for (int a = i; a < ie; a++)
            for (int b = j; b < je; b++) {
                const Resource *o = &d->o->items[co[a].idx], *n = &d->n->items[cn[b].idx];
                if (d->renamed_from[cn[b].idx] >= 0 || d->renamed_to[co[a].idx] >= 0) continue;
                if (!same_place(o, n)) continue;
                d->renamed_from[cn[b].idx] = co[a].idx;
                d->renamed_to[co[a].idx] = cn[b].idx;
                break;
            }
        i = ie; j = je;
    }
    free(co);
    free(cn);
}

void diff_models(const ResModel *old, const ResModel *new_, DiffResult *out) {
    D d = { old, new_, NULL, NULL, out, arena_new() };
    d.renamed_from = malloc(sizeof(int) * (size_t)(new_->n + 1));
    d.renamed_to = malloc(sizeof(int) * (size_t)(old->n + 1));
    if (!d.renamed_from || !d.renamed_to) abort();
    for (int i = 0; i < new_->n; i++) d.renamed_from[i] = -1;
    for (int i = 0; i < old->n; i++) d.renamed_to[i] = -1;
    find_renames(&d);
    for (int k = 0; k < new_->ntop; k++) walk(&d, new_->top[k]);
    for (int k = 0; k < old->ntop; k++)
        if (res_find(new_, old->items[old->top[k]].address) < 0) removed(&d, old->top[k]);
    free(d.renamed_from);
    free(d.renamed_to);
    arena_free(d.ar);
}

/* ---- environments ---- */

static const AstNode *env_value(const ResModel *m, const Resource *env, const char *param) {
    for (int k = 0; k < env->nkids; k++) {
        const Resource *s = &m->items[env->kids[k]];
        if (s->kind == RES_SETTING && strcmp(s->name, param) == 0) return s->node->a;
    }
    return NULL;
}

static char *node_text(const ResModel *m, const AstNode *x, int secret) {
    if (!x) return NULL;
    if (secret) return xstrdup("\"***\"");
    Resource tmp = { .node = x, .span = x->span };
    return res_text(m, &tmp);
}

int diff_envs(const ResModel *m, const char *a, const char *b, DiffResult *out, const char **missing) {
    char *an = malloc(strlen(a) + 16), *bn = malloc(strlen(b) + 16);
    if (!an || !bn) abort();
    sprintf(an, "environment %s", a);
    sprintf(bn, "environment %s", b);
    int ea = res_find(m, an), eb = res_find(m, bn);
    free(an);
    free(bn);
    if (ea < 0 || eb < 0) { *missing = ea < 0 ? a : b; return -1; }
    D d = { m, m, NULL, NULL, out, NULL };
    for (int i = 0; i < m->ntop; i++) {
        const Resource *p = &m->items[m->top[i]];
        if (p->kind != RES_PARAM) continue;
        const AstNode *va = env_value(m, &m->items[ea], p->name), *vb = env_value(m, &m->items[eb], p->name);
        if (!va) va = p->node->b;
        if (!vb) vb = p->node->b;
        if (!va && !vb) continue;
        if (va && vb && same(res_hash(va), res_hash(vb))) continue;
        DiffChange *c = emit(&d, !va ? DIFF_ADDED : !vb ? DIFF_REMOVED : DIFF_CHANGED, p->address);
        c->before = node_text(m, va, p->secret);
        c->after = node_text(m, vb, p->secret);
        if (p->secret) note(c, "a secret: values masked");
        if (!va || !vb) note(c, "no value in environment %s (and no default): required when building or running", !va ? a : b);
    }
    return 0;
}

/* ---- printing ---- */

static void print_lines(FILE *out, const char *prefix, const char *text) {
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "%s%.*s\n", prefix, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

void diff_print_text(const DiffResult *r, FILE *out) {
    int counts[4] = { 0 };
    for (int i = 0; i < r->n; i++) {
        const DiffChange *c = &r->items[i];
        counts[c->action]++;
        if (i) fputc('\n', out);
        switch (c->action) {
        case DIFF_ADDED: fprintf(out, "added %s\n", c->address); break;
        case DIFF_REMOVED: fprintf(out, "removed %s\n", c->address); break;
        case DIFF_CHANGED: fprintf(out, "changed %s\n", c->address); break;
        case DIFF_RENAMED: fprintf(out, "renamed %s (was %s)\n", c->address, c->before); break;
        }
        if (c->action != DIFF_RENAMED) {
            if (c->before) print_lines(out, "  - ", c->before);
            if (c->after) print_lines(out, "  + ", c->after);
        }
        for (int k = 0; k < c->nnotes; k++) fprintf(out, "  ! %s\n", c->notes[k]);
    }
    if (!r->n) { fputs("no changes\n", out); return; }
    fprintf(out, "\n%d change%s: %d added, %d removed, %d changed, %d renamed\n", r->n, r->n == 1 ? "" : "s",
            counts[DIFF_ADDED], counts[DIFF_REMOVED], counts[DIFF_CHANGED], counts[DIFF_RENAMED]);
}

static void json_str_or_null(FILE *out, const char *s) {
    if (s) diag_json_string(out, s, strlen(s));
    else fputs("null", out);
}

void diff_print_json(const DiffResult *r, FILE *out) {
    static const char *const names[] = {
#define X(k, s) s,
        DIFF_ACTIONS(X)
#undef X
    };
    fputs("{\"changes\": [", out);
    for (int i = 0; i < r->n; i++) {
        const DiffChange *c = &r->items[i];
        fputs(i ? ",\n  {\"address\": " : "\n  {\"address\": ", out);
        diag_json_string(out, c->address, strlen(c->address));
        fprintf(out, ", \"action\": \"%s\", \"before\": ", names[c->action]);
        json_str_or_null(out, c->before);
        fputs(", \"after\": ", out);
        json_str_or_null(out, c->after);
        fputs(", \"notes\": [", out);
        for (int k = 0; k < c->nnotes; k++) {
            if (k) fputs(", ", out);
            diag_json_string(out, c->notes[k], strlen(c->notes[k]));
        }
        fputs("]}", out);
    }
    fputs(r->n ? "\n]}\n" : "]}\n", out);
}

void diff_free(DiffResult *r) {
    for (int i = 0; i < r->n; i++) {
        DiffChange *c = &r->items[i];
        free(c->address);
        free(c->before);
        free(c->after);
        for (int k = 0; k < c->nnotes; k++) free(c->notes[k]);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}
