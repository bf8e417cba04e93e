/* types.c — type constructors, open-record operations, assignability, joins and printing. */
#include "types.h"
#include <string.h>

const char *const ty_kind_names[] = {
#define X(k, s) s,
    TYPE_KINDS(X)
#undef X
};

Type ty_error = { TY_ERROR, 0, 0, 0, 0, 0 }, ty_null = { TY_NULL, 1, 0, 0, 0, 0 },
     ty_string = { TY_STRING, 0, 0, 0, 0, 0 }, ty_int = { TY_INT, 0, 0, 0, 0, 0 },
     ty_number = { TY_NUMBER, 0, 0, 0, 0, 0 }, ty_bool = { TY_BOOL, 0, 0, 0, 0, 0 },
     ty_datetime = { TY_DATETIME, 0, 0, 0, 0, 0 }, ty_duration = { TY_DURATION, 0, 0, 0, 0, 0 },
     ty_size = { TY_SIZE, 0, 0, 0, 0, 0 }, ty_json = { TY_JSON, 0, 0, 0, 0, 0 };

Type *ty_new(Arena *a, TypeKind k) {
    Type *t = arena_alloc(a, sizeof *t);
    t->kind = k;
    return t;
}

Type *ty_array(Arena *a, Type *elem) {
    Type *t = ty_new(a, TY_ARRAY);
    t->elem = elem;
    return t;
}

Type *ty_ctor(Arena *a, const char *name) {
    Type *t = ty_new(a, TY_CTOR);
    t->name = name;
    return t;
}

Type *ty_nullable(Arena *a, Type *t) {
    if (t->nullable || t->kind == TY_ERROR) return t;
    Type *n = arena_alloc(a, sizeof *n);
    *n = *t;
    n->nullable = 1;
    return n;
}

Type *ty_strip(Arena *a, Type *t) {
    if (!t->nullable || t->kind == TY_NULL) return t;
    Type *n = arena_alloc(a, sizeof *n);
    *n = *t;
    n->nullable = 0;
    return n;
}

Type *ty_record_copy(Arena *a, const Type *r, int extra) {
    Type *n = ty_new(a, TY_RECORD);
    n->fields = arena_alloc(a, sizeof(TypeField) * (size_t)(r->nfields + extra + 1));
    if (r->nfields) memcpy(n->fields, r->fields, sizeof(TypeField) * (size_t)r->nfields);
    n->nfields = r->nfields;
    return n;
}

const TypeField *ty_field(const Type *rec, const char *name) {
    if (!rec || rec->kind != TY_RECORD) return NULL;
    for (int i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].name, name) == 0) return &rec->fields[i];
    return NULL;
}

Type *ty_with_field(Arena *a, const Type *r, const char *name, Type *t, Span sp) {
    Type *n = ty_record_copy(a, r, 1);
    for (int i = 0; i < n->nfields; i++)
        if (strcmp(n->fields[i].name, name) == 0) { n->fields[i].type = t; n->fields[i].span = sp; return n; }
    n->fields[n->nfields++] = (TypeField){ name, t, sp };
    return n;
}

Type *ty_without_field(Arena *a, const Type *r, const char *name) {
    Type *n = ty_record_copy(a, r, 0);
    int j = 0;
    for (int i = 0; i < n->nfields; i++)
        if (strcmp(n->fields[i].name, name) != 0) n->fields[j++] = n->fields[i];
    n->nfields = j;
    return n;
}

int ty_is_numeric(const Type *t) { return t->kind == TY_INT || t->kind == TY_NUMBER; }
int ty_is_dynamic(const Type *t) { return t->kind == TY_JSON || t->kind == TY_ERROR; }

static int same_shape(const Type *from, const Type *to) {
    if (ty_is_dynamic(from) || ty_is_dynamic(to)) return 1;
    if (from->kind == TY_INT && to->kind == TY_NUMBER) return 1;      /* promotion */
    if (from->kind != to->kind) return 0;
    switch (from->kind) {
    case TY_ARRAY: return ty_assignable(from->elem, to->elem);
    case TY_CTOR: return strcmp(from->name, to->name) == 0;
    case TY_RECORD:
        /* open records: every field the target declares must be present and fit */
        for (int i = 0; i < to->nfields; i++) {
            const TypeField *f = ty_field(from, to->fields[i].name);
            if (!f) { if (!to->fields[i].type->nullable) return 0; continue; }
            if (!ty_assignable(f->type, to->fields[i].type)) return 0;
        }
        return 1;
    default: return 1;
    }
}

int ty_assignable(const Type *from, const Type *to) {
    if (from->kind == TY_ERROR || to->kind == TY_ERROR) return 1;
    if (from->kind == TY_NULL) return to->nullable || to->kind == TY_JSON;
    if (from->nullable && !to->nullable && to->kind != TY_JSON) return 0;
    return same_shape(from, to);
}

Type *ty_join(Arena *a, Type *x, Type *y) {
    if (x->kind == TY_ERROR) return y;
    if (y->kind == TY_ERROR) return x;
    if (x->kind == TY_NULL) return ty_nullable(a, y);
    if (y->kind == TY_NULL) return ty_nullable(a, x);
    int nul = x->nullable || y->nullable;
    Type *r = NULL;
    if (x->kind == TY_JSON || y->kind == TY_JSON) r = &ty_json;
    else if (ty_is_numeric(x) && ty_is_numeric(y)) r = x->kind == TY_NUMBER || y->kind == TY_NUMBER ? &ty_number : &ty_int;
    else if (x->kind == TY_RECORD && y->kind == TY_RECORD) {
        /* two record shapes (array literals, mocks): the union of fields; one-sided fields become nullable */
        Type *m = ty_record_copy(a, x, y->nfields);
        for (int i = 0; i < m->nfields; i++) {
            const TypeField *fy = ty_field(y, m->fields[i].name);
            Type *j = fy ? ty_join(a, m->fields[i].type, fy->type) : ty_nullable(a, m->fields[i].type);
            if (!j) return NULL;
            m->fields[i].type = j;
        }
        for (int i = 0; i < y->nfields; i++)
            if (!ty_field(x, y->fields[i].name))
                m->fields[m->nfields++] = (TypeField){ y->fields[i].name, ty_nullable(a, y->fields[i].type), y->fields[i].span };
        m->name = x->name && y->name && strcmp(x->name, y->name) == 0 ? x->name : NULL;
        r = m;
    }
    else if (ty_assignable(ty_strip(a, y), ty_strip(a, x))) r = x;
    else if (ty_assignable(ty_strip(a, x), ty_strip(a, y))) r = y;
    else return NULL;
    return nul ? ty_nullable(a, r) : ty_strip(a, r);
}

static void put(Arena *a, char **buf, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap + n + 1) * 2;
        char *nb = arena_alloc(a, nc);
        memcpy(nb, *buf, *len);
        *buf = nb; *cap = nc;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

static void str_rec(Arena *a, const Type *t, char **buf, size_t *len, size_t *cap, int depth, int full) {
    if (t->name && t->kind != TY_CTOR) put(a, buf, len, cap, t->name);
    else if (t->kind == TY_CTOR) put(a, buf, len, cap, t->name);
    else if (t->kind == TY_ARRAY) {
        put(a, buf, len, cap, "[");
        str_rec(a, t->elem, buf, len, cap, depth + 1, full);
        put(a, buf, len, cap, "]");
    } else if (t->kind == TY_RECORD) {
        if (!full && (depth > 1 || t->nfields > 4)) { put(a, buf, len, cap, t->nfields ? "{ ... }" : "{}"); }
        else {
            put(a, buf, len, cap, "{ ");
            for (int i = 0; i < t->nfields; i++) {
                if (i) put(a, buf, len, cap, ", ");
                put(a, buf, len, cap, t->fields[i].name);
                put(a, buf, len, cap, ": ");
                str_rec(a, t->fields[i].type, buf, len, cap, depth + 1, full);
            }
            put(a, buf, len, cap, " }");
        }
    } else put(a, buf, len, cap, ty_kind_names[t->kind]);
    if (t->nullable && t->kind != TY_NULL) put(a, buf, len, cap, "?");
}

const char *ty_str(Arena *a, const Type *t) {
    size_t cap = 32, len = 0;
    char *buf = arena_alloc(a, cap);
    str_rec(a, t, &buf, &len, &cap, 0, 0);
    return buf;
}

const char *ty_str_full(Arena *a, const Type *t) {
    size_t cap = 64, len = 0;
    char *buf = arena_alloc(a, cap);
    str_rec(a, t, &buf, &len, &cap, 0, 1);
    return buf;
}
