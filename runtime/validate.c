/* validate.c — a record (or lookup result) as the steps may see it: values checked (UTF-8 text,
 * finite numbers), CSV text cells and SQL 0 / 1 read as the declared types' numbers and bools,
 * and the declared type validated, with a fast pass and a second one that names the field path of
 * the first misfit. */
#include "engine_int.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *type_desc(const FlowTypeDef *t) {
    if (t->is_record) return "an object";
    if (t->is_array) return "an array";
    switch (t->kind) {
    case FLOW_STRING: return "a string";
    case FLOW_INT: return "an int";
    case FLOW_NUMBER: return "a number";
    case FLOW_BOOL: return "a bool";
    case FLOW_DATETIME: return "an ISO-8601 date-time";
    case FLOW_DURATION: return "a duration";
    case FLOW_NULL: return "null";
    case FLOW_JSON: return "JSON";
    }
    return "JSON";
}

/* Appends a and b (b may be NULL) to the path, cut at cap; cheaper than snprintf on this hot path. */
static size_t path_put(char *path, size_t len, size_t cap, const char *a, const char *b) {
    size_t n = len < cap ? len : cap - 1;
    for (const char *s = a; *s && n + 1 < cap; s++) path[n++] = *s;
    for (const char *s = b; s && *s && n + 1 < cap; s++) path[n++] = *s;
    path[n] = 0;
    return n;
}

static int check_type(const cJSON *j, const FlowTypeDef *t, char *path, size_t len, size_t cap, FlowErr *e) {
    path[len < cap ? len : cap - 1] = 0;
    if (!t) return 0;
    if (!j) {
        if (t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array)) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, "%s is missing", path);
        return -1;
    }
    if (cJSON_IsNull(j)) {
        if (t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array) || t->kind == FLOW_NULL) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, "%s must be %s, got null", path, type_desc(t));
        return -1;
    }
    if (t->is_record) {
        if (!cJSON_IsObject(j)) goto wrong;
        for (int i = 0; i < t->nfields; i++) {
            const FlowFieldDef *fd = &t->fields[i];
            size_t n = path_put(path, len, cap, ".", fd->name);
            if (check_type(cJSON_GetObjectItemCaseSensitive(j, fd->name), fd->type, path, n, cap, e)) return -1;
            path[len < cap ? len : cap - 1] = 0;
        }
        return 0;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j)) goto wrong;
        int i = 0;
        for (const cJSON *c = j->child; c; c = c->next, i++) {
            char num[24], *q = num + sizeof num - 1;
            *q = 0;
            *--q = ']';
            unsigned u = (unsigned)i;
            do *--q = (char)('0' + u % 10); while ((u /= 10) && q > num + 1);
            size_t n = path_put(path, len, cap, "[", q);
            if (check_type(c, t->elem, path, n, cap, e)) return -1;
            path[len < cap ? len : cap - 1] = 0;
        }
        return 0;
    }
    switch (t->kind) {
    case FLOW_STRING: if (!cJSON_IsString(j)) goto wrong; return 0;
    case FLOW_BOOL: if (!cJSON_IsBool(j)) goto wrong; return 0;
    case FLOW_NUMBER: case FLOW_DURATION: if (!cJSON_IsNumber(j)) goto wrong; return 0;
    case FLOW_INT: {
        int64_t i;
        char nb[40];
        if (!cJSON_IsNumber(j)) goto wrong;
        if (flow_json_get_int(j, &i)) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, fabs(j->valuedouble) >= 9223372036854775808.0 ? "%s is out of the int range, got %.60s"
                     : "%s must be a whole number, got %.60s", path, flow_json_num_text(j, nb));
        return -1;
    }
    case FLOW_DATETIME: {
        int64_t ms;
        if (cJSON_IsNumber(j) && isfinite(j->valuedouble)) return 0;
        if (cJSON_IsString(j) && flow_parse_iso8601(j->valuestring, strlen(j->valuestring), &ms)) return 0;
        if (cJSON_IsString(j)) {
            flow_err_set(e, FLOW_ERR_VALUE, "%s must be an ISO-8601 date-time, got \"%.40s\"", path, j->valuestring);
            return -1;
        }
        goto wrong;
    }
    case FLOW_NULL: goto wrong;
    case FLOW_JSON: return 0;
    }
    return 0;
wrong:
    flow_err_set(e, FLOW_ERR_VALUE, "%s must be %s, got %s", path, type_desc(t), flow_json_desc(j));
    return -1;
}

static int validate(const cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e);

/* A scalar item changed in place into another kind (so an object member keeps its name and place:
 * replacing the item instead loses the name, which is how `vip` once became ""). */
static void set_kind(cJSON *v, int type) {
    if (v->valuestring && !(v->type & cJSON_IsReference)) cJSON_free(v->valuestring);
    v->valuestring = NULL;
    v->type = (v->type & ~0xFF) | type;
    v->valueint = type == cJSON_True;
    v->valuedouble = type == cJSON_True;
}

/* CSV cells are text: read those of declared number, int and bool fields as such, ints exactly (a
 * cell that does not read stays text, and validation names it); an empty cell of a nullable field is
 * null. In place. A number cell too large for a double (1e400) stays text too, and is the record's
 * `value` error as a non-finite number is from any source: -1 with e (the first such cell), else 0. */
int eng_coerce_text(Run *R, cJSON *rec, const FlowTypeDef *t, FlowErr *e) {
    int bad = 0;
    if (!t || !t->is_record || !cJSON_IsObject(rec)) return 0;
    for (int i = 0; i < t->nfields; i++) {
        const FlowTypeDef *ft = t->fields[i].type;
        cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, t->fields[i].name);
        if (!v || !cJSON_IsString(v) || !ft) continue;
        FlowStr c = { v->valuestring, strlen(v->valuestring) };
        while (c.n && c.p[0] == ' ') { c.p++; c.n--; }
        while (c.n && c.p[c.n - 1] == ' ') c.n--;
        double d;
        if (!v->valuestring[0] && ft->nullable) set_kind(v, cJSON_NULL);
        else if (ft->kind == FLOW_INT || ft->kind == FLOW_NUMBER) {
            /* JSON number text reads as the JSON reader reads it (ints exact, past int64 kept as
             * text); other decimal forms (+1, .5, 1.) as their double */
            cJSON *n = c.n ? flow_json_parse(c.p, c.n, NULL) : NULL;
            if (cJSON_IsNumber(n)) {
                char *text = n->valuestring;
                set_kind(v, cJSON_Number);
                v->valuedouble = n->valuedouble;
                v->valueint = n->valueint;
                v->valuestring = text;    /* an exact int's digits or the text as read, moved over */
                n->valuestring = NULL;
            } else if (!n) {
                int rc = flow_text_number(R->cx, c, &d);
                if (rc == FLOW_TEXT_OK) {
                    set_kind(v, cJSON_Number);
                    v->valuedouble = d;
                } else if (rc == FLOW_TEXT_RANGE && !bad) {
                    flow_err_set(e, FLOW_ERR_VALUE, "record.%s is %.*s%s, which is not a finite number", t->fields[i].name,
                                 (int)(c.n > 40 ? 40 : c.n), c.p, c.n > 40 ? "..." : "");
                    bad = 1;
                }
            }
            cJSON_Delete(n);
        } else if (ft->kind == FLOW_BOOL) {
            const char *s = v->valuestring;
            if (!strcasecmp(s, "true") || !strcmp(s, "1")) set_kind(v, cJSON_True);
            else if (!strcasecmp(s, "false") || !strcmp(s, "0")) set_kind(v, cJSON_False);
        }
    }
    return bad ? -1 : 0;
}

static int type_has_bool(const FlowTypeDef *t) {
    if (!t) return 0;
    if (t->is_record) {
        for (int i = 0; i < t->nfields; i++) if (type_has_bool(t->fields[i].type)) return 1;
        return 0;
    }
    if (t->is_array) return type_has_bool(t->elem);
    return t->kind == FLOW_BOOL;
}

/* Declared bool fields, at any depth (nested records, arrays of records), that arrive as 0 / 1 (SQL
 * has no booleans) are read as false / true, in place. */
static void coerce_bools(cJSON *j, const FlowTypeDef *t) {
    if (!j || !t) return;
    if (t->is_record) {
        if (!cJSON_IsObject(j)) return;
        for (int i = 0; i < t->nfields; i++)
            if (t->fields[i].type && type_has_bool(t->fields[i].type))
                coerce_bools(cJSON_GetObjectItemCaseSensitive(j, t->fields[i].name), t->fields[i].type);
        return;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j) || !type_has_bool(t->elem)) return;
        for (cJSON *c = j->child; c; c = c->next) coerce_bools(c, t->elem);
        return;
    }
    if (t->kind == FLOW_BOOL && cJSON_IsNumber(j) && (j->valuedouble == 0 || j->valuedouble == 1))
        set_kind(j, j->valuedouble == 1 ? cJSON_True : cJSON_False);
}

/* The engine's one check of the values every exported record and lookup result holds, whatever
 * their source, before any step: text must be valid UTF-8 (member names too; a NUL cannot be in a
 * cJSON string, so the sources that can meet one refuse it themselves) and numbers finite. A value
 * that fails is a `value` error naming the field. 0, or -1 with e. */
static int check_values(const cJSON *j, char *path, size_t len, size_t cap, FlowErr *e) {
    path[len < cap ? len : cap - 1] = 0;
    size_t at;
    char q[64];
    switch (j->type & 0xFF) {
    case cJSON_String:
        if (j->valuestring && flow_text_check(j->valuestring, strlen(j->valuestring), &at) != FLOW_TEXT_OK) {
            flow_err_set(e, FLOW_ERR_VALUE, "%s is not valid UTF-8 text (byte 0x%02X at offset %zu): %s", path,
                         (unsigned char)j->valuestring[at], at, flow_quote(q, sizeof q, j->valuestring, strlen(j->valuestring), 12));
            return -1;
        }
        return 0;
    case cJSON_Number:
        if (!isfinite(j->valuedouble)) {
            char nb[40];
            flow_err_set(e, FLOW_ERR_VALUE, "%s is %s, which is not a finite number", path, flow_num_text(nb, j->valuedouble));
            return -1;
        }
        return 0;
    case cJSON_Array: {
        int i = 0;
        for (const cJSON *c = j->child; c; c = c->next, i++) {
            char num[24];
            snprintf(num, sizeof num, "[%d]", i);
            size_t n = path_put(path, len, cap, num, NULL);
            if (check_values(c, path, n, cap, e)) return -1;
        }
        path[len < cap ? len : cap - 1] = 0;
        return 0;
    }
    case cJSON_Object:
        for (const cJSON *c = j->child; c; c = c->next) {
            const char *k = c->string ? c->string : "";
            if (flow_text_check(k, strlen(k), &at) != FLOW_TEXT_OK) {
                flow_err_set(e, FLOW_ERR_VALUE, "%s has a member name that is not valid UTF-8 text (byte 0x%02X at offset %zu): %s",
                             path, (unsigned char)k[at], at, flow_quote(q, sizeof q, k, strlen(k), 12));
                return -1;
            }
            size_t n = path_put(path, len, cap, ".", k);
            if (check_values(c, path, n, cap, e)) return -1;
        }
        path[len < cap ? len : cap - 1] = 0;
        return 0;
    default: return 0;
    }
}

/* The fast pass of check_values: 1 when every value is fine. */
static int values_ok(const cJSON *j) {
    for (; j; j = j->next) {
        int t = j->type & 0xFF;
        if (t == cJSON_String) { if (j->valuestring && flow_text_check(j->valuestring, strlen(j->valuestring), NULL)) return 0; }
        else if (t == cJSON_Number) { if (!isfinite(j->valuedouble)) return 0; }
        else if (t == cJSON_Object || t == cJSON_Array) {
            if (t == cJSON_Object)
                for (const cJSON *c = j->child; c; c = c->next)
                    if (c->string && flow_text_check(c->string, strlen(c->string), NULL)) return 0;
            if (j->child && !values_ok(j->child)) return 0;
        }
    }
    return 1;
}

/* A record (or lookup result) as the steps may see it: values checked, bools read from 0 / 1, and
 * the declared type validated. 0; -1 with e (a value that does not fit the type); -2 with e (a value
 * flowc cannot hold: such a record is kept with its error as its JSON text, not as a record, so that
 * a retry cannot write what printing it had to change). */
int eng_accept_values(cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e) {
    if (j && !values_ok(j)) {
        char path[256];
        snprintf(path, sizeof path, "%s", root);
        if (check_values(j, path, strlen(path), sizeof path, e)) return -2;
    }
    coerce_bools(j, t);
    return t ? validate(j, t, root, e) : 0;
}

/* The fast pass: does the value fit the type? No paths, no messages (check_type explains a misfit). */
static int fits(const cJSON *j, const FlowTypeDef *t) {
    if (!t) return 1;
    if (!j || (j->type & 0xFF) == cJSON_NULL)
        return t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array);
    if (t->is_record) {
        if (!cJSON_IsObject(j)) return 0;
        for (int i = 0; i < t->nfields; i++)
            if (!fits(cJSON_GetObjectItemCaseSensitive(j, t->fields[i].name), t->fields[i].type)) return 0;
        return 1;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j)) return 0;
        for (const cJSON *c = j->child; c; c = c->next) if (!fits(c, t->elem)) return 0;
        return 1;
    }
    switch (t->kind) {
    case FLOW_STRING: return cJSON_IsString(j);
    case FLOW_BOOL: return cJSON_IsBool(j);
    case FLOW_NUMBER: case FLOW_DURATION: return cJSON_IsNumber(j);
    case FLOW_INT: { int64_t i; return flow_json_get_int(j, &i); }
    case FLOW_DATETIME: {
        int64_t ms;
        return (cJSON_IsNumber(j) && isfinite(j->valuedouble)) ||
               (cJSON_IsString(j) && flow_parse_iso8601(j->valuestring, strlen(j->valuestring), &ms));
    }
    case FLOW_JSON: return 1;
    default: return 0;
    }
}

static int validate(const cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e) {
    if (fits(j, t)) return 0;
    char path[256];
    snprintf(path, sizeof path, "%s", root);
    return check_type(j, t, path, strlen(path), sizeof path, e);
}
