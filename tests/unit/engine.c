/* tests/unit/engine.c — the engine, the file/stdio/sqlite connectors and the executable's CLI,
 * driven through flow_main with program tables written by hand the way generated code writes them
 * (static settings with constant and per-record functions, steps, arms, a declared Order type), on
 * real files in a temporary directory and a real SQLite database. Outputs are compared byte for
 * byte. Uses only flow.h's value ABI (runtime/value.c) and cJSON in the step functions, so it also
 * builds against just the engine's files. Prints `engine: N passed, N failed`. */
#include "flow.h"
#include "engine.h"     /* the settings table (runtime/connectors.def) */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"      /* check(), cur_case, npass, nfail */

/* ---- files ---- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) { perror(path); exit(2); }
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) { cap *= 2; buf = realloc(buf, cap); }
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

static void expect_file(const char *path, const char *want) {
    char *got = read_file(path);
    check(got && strcmp(got, want) == 0, "%s:\n--- expected\n%s--- got\n%s", path, want, got ? got : "(missing)\n");
    free(got);
}

static void expect_text(const char *what, const char *got, const char *want) {
    check(strcmp(got, want) == 0, "%s:\n--- expected\n%s--- got\n%s", what, want, got);
}

/* the names in data/ that start with a dot: temporary files left behind */
static int leftover_temp_files(void) {
    FILE *p = popen("ls -A data | grep '^\\.' | wc -l", "r");
    int n = -1;
    if (p) { if (fscanf(p, "%d", &n) != 1) n = -1; pclose(p); }
    return n;
}

/* ---- running flow_main with stdout/stderr (and stdin) redirected ---- */

static char *cap_out, *cap_err;

static int run_cli(const FlowProgram *p, const char *in, ...) {
    char *argv[40];
    int argc = 0;
    argv[argc++] = (char *)"shop";
    va_list ap;
    va_start(ap, in);
    /* writable copies, as a real argv is: flow_main overwrites --param values there (hidden from ps) */
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 39;) argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2), si = -1;
    int fo = open("cap.out", O_RDWR | O_CREAT | O_TRUNC, 0644), fe = open("cap.err", O_RDWR | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    if (in) {
        si = dup(0);
        int fi = open(in, O_RDONLY);
        dup2(fi, 0);
        close(fi);
        clearerr(stdin);
    }
    int rc = flow_main(p, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    if (in) {
        dup2(si, 0);
        close(si);
        clearerr(stdin);
    }
    for (int i = 1; i < argc; i++) free(argv[i]);
    free(cap_out);
    free(cap_err);
    cap_out = read_file("cap.out");
    cap_err = read_file("cap.err");
    return rc;
}

static void expect_rc(int rc, int want) {
    check(rc == want, "exit %d, expected %d; stderr:\n%s", rc, want, cap_err ? cap_err : "");
}

/* ---- SQLite helpers ---- */

static void sql_exec(const char *path, const char *sql) {
    sqlite3 *db;
    char *msg = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", msg ? msg : sqlite3_errmsg(db));
        exit(2);
    }
    sqlite3_close(db);
}

/* rows as lines of |-separated values */
static char *sql_rows(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t cap = 4096, n = 0;
    char *out = calloc(1, cap);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) { sqlite3_close(db); return out; }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const char *t = (const char *)sqlite3_column_text(st, i);
                n += (size_t)snprintf(out + n, cap - n, "%s%s", t ? t : "NULL", i + 1 < sqlite3_column_count(st) ? "|" : "\n");
            }
        sqlite3_finalize(st);
    } else snprintf(out, cap, "error: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return out;
}

/* ================= the program, as generated code would describe it ================= */

/* what generated code does through flow.h; only value.c and cJSON here */
static FlowVal S(const char *s) { return flow_string(s, strlen(s)); }
static FlowVal fld(FlowCtx *cx, cJSON *rec, const char *name, FlowKind want) {
    char what[64];
    snprintf(what, sizeof what, "record.%s", name);
    return flow_val_from_json(cx, cJSON_GetObjectItemCaseSensitive(rec, name), want, what);
}
static double num(FlowVal v) { return v.kind == FLOW_INT ? (double)v.i : v.kind == FLOW_NUMBER ? v.n : 0; }
static void put(cJSON *o, const char *k, cJSON *v) {
    if (cJSON_GetObjectItemCaseSensitive(o, k)) cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else cJSON_AddItemToObject(o, k, v);
}
static void copy_field(cJSON *to, cJSON *from, const char *k) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(from, k);
    put(to, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

#define KSTR(fn, text) static FlowVal fn(FlowCtx *cx) { (void)cx; return S(text); }
#define KINT(fn, v) static FlowVal fn(FlowCtx *cx) { (void)cx; return flow_int(v); }

/* type Order = { id: int, email: string, status: string, total: number, note: string? } */
static const FlowTypeDef t_int = { FLOW_INT, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_string = { FLOW_STRING, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_number = { FLOW_NUMBER, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_string_opt = { FLOW_STRING, 1, 0, 0, NULL, 0, NULL };
static const FlowFieldDef order_fields[] = {
    { "id", &t_int, 2, FLOW_KEY8('i', 'd', 0, 0, 0, 0, 0, 0) },
    { "email", &t_string, 5, FLOW_KEY8('e', 'm', 'a', 'i', 'l', 0, 0, 0) },
    { "status", &t_string, 6, FLOW_KEY8('s', 't', 'a', 't', 'u', 's', 0, 0) },
    { "total", &t_number, 5, FLOW_KEY8('t', 'o', 't', 'a', 'l', 0, 0, 0) },
    { "note", &t_string_opt, 4, FLOW_KEY8('n', 'o', 't', 'e', 0, 0, 0, 0) },
};
static const FlowTypeDef t_order = { FLOW_JSON, 0, 1, 0, order_fields, 5, NULL };

/* connections: files = file { dir = "data" }, db = sqlite { path = "shop.db" }, console = stdio {},
 * vault = sqlite { path = env("VAULT") }, nodir = file { dir = "data/fan.ndjson" } (not a directory) */
KSTR(k_data, "data")
KSTR(k_shop_db, "shop.db")
KSTR(k_vault, "secret-vault.db")
KSTR(k_nodir, "data/fan.ndjson")
static const FlowSettingDef files_set[] = { { "dir", k_data, NULL, 0 } };
static const FlowSettingDef db_set[] = { { "path", k_shop_db, NULL, 0 } };
static const FlowSettingDef vault_set[] = { { "path", k_vault, NULL, 1 } };
static const FlowSettingDef nodir_set[] = { { "dir", k_nodir, NULL, 0 } };
enum { C_FILES, C_DB, C_CONSOLE, C_VAULT, C_NODIR };
static const FlowConnDef shop_conns[] = {
    { "files", "file", files_set, 1 },
    { "db", "sqlite", db_set, 1 },
    { "console", "stdio", NULL, 0 },
    { "vault", "sqlite", vault_set, 1 },
    { "nodir", "file", nodir_set, 1 },
};

/* param min_total: number = 0 */
static const FlowParamDef shop_params[] = { { "min_total", FLOW_NUMBER, 0, "0", 0, NULL, 0 } };

/* ---- flow orders ----
 * export orders: Order from files { file = "orders.ndjson", page_size = 3 }
 * filter record.status != "cancelled"
 * transform { record.email = lower(record.email)  (fails without an @); record.page = page.number }
 * branch first_match {
 *   big when record.total > 1000 { import deals into db { table = "deals", mode = upsert(key = "id"),
 *       map { id = record.id, email = record.email, amount_cents: int = record.total * 100,
 *             stage = if updating then "updated" else "new" } } }
 *   rest { import archive into files { file = "archive-{{record.region}}.ndjson", map { id, total } } }
 * }
 * import all into files { file = "all-{{run.date}}.json", format = json } */
KSTR(k_orders_file, "orders.ndjson")
KINT(k_three, 3)
KSTR(k_deals, "deals")
KSTR(k_json, "json")
KSTR(k_csv, "csv")
static FlowVal k_upsert_id(FlowCtx *cx) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ctor", "upsert");
    cJSON_AddStringToObject(o, "key", "id");
    return flow_json(flow_scratch_keep(cx, o));
}
static FlowVal k_all_file(FlowCtx *cx) {
    FlowVal d = flow_context(cx, FLOW_CTX_RUN_DATE);
    char *p = flow_scratch_alloc(cx, 64);
    int n = snprintf(p, 64, "all-%.*s.json", (int)d.s.n, d.s.p);
    return flow_string(p, (size_t)n);
}
static FlowVal r_archive_file(FlowCtx *cx, cJSON *rec) {
    FlowVal region = fld(cx, rec, "region", FLOW_STRING);
    if (flow_failed(cx)) return flow_null();
    char *p = flow_scratch_alloc(cx, region.s.n + 32);
    int n = snprintf(p, region.s.n + 32, "archive-%.*s.ndjson", (int)region.s.n, region.s.p);
    return flow_string(p, (size_t)n);
}
static int f_not_cancelled(FlowCtx *cx, cJSON *rec) {
    FlowVal s = fld(cx, rec, "status", FLOW_STRING);
    if (flow_failed(cx)) return -1;
    return !(s.s.n == 9 && memcmp(s.s.p, "cancelled", 9) == 0);
}
static int t_clean(FlowCtx *cx, cJSON *rec) {
    FlowVal e = fld(cx, rec, "email", FLOW_STRING);
    if (flow_failed(cx)) return -1;
    if (!memchr(e.s.p, '@', e.s.n)) { flow_fail(cx, FLOW_ERR_VALUE, "record.email has no @"); return -1; }
    char *low = flow_scratch_alloc(cx, e.s.n + 1);
    for (size_t i = 0; i < e.s.n; i++) low[i] = (char)(e.s.p[i] >= 'A' && e.s.p[i] <= 'Z' ? e.s.p[i] + 32 : e.s.p[i]);
    put(rec, "email", cJSON_CreateString(low));
    put(rec, "page", cJSON_CreateNumber((double)flow_context(cx, FLOW_CTX_PAGE_NUMBER).i));
    return 0;
}
static int c_big(FlowCtx *cx, cJSON *rec) {
    FlowVal t = fld(cx, rec, "total", FLOW_NUMBER);
    if (flow_failed(cx)) return -1;
    return num(t) > 1000;
}
static cJSON *m_deal(FlowCtx *cx, cJSON *rec, int updating) {
    cJSON *o = cJSON_CreateObject();
    copy_field(o, rec, "id");
    copy_field(o, rec, "email");
    put(o, "amount_cents", cJSON_CreateNumber(num(fld(cx, rec, "total", FLOW_NUMBER)) * 100));
    put(o, "stage", cJSON_CreateString(updating ? "updated" : "new"));
    if (flow_failed(cx)) { cJSON_Delete(o); return NULL; }
    return o;
}
static cJSON *m_archive(FlowCtx *cx, cJSON *rec, int updating) {
    cJSON *o = cJSON_CreateObject();
    copy_field(o, rec, "id");
    copy_field(o, rec, "total");
    return o;
}
static const FlowSettingDef orders_export_set[] = { { "file", k_orders_file, NULL, 0 }, { "page_size", k_three, NULL, 0 } };
static const FlowSettingDef deals_set[] = { { "table", k_deals, NULL, 0 }, { "mode", k_upsert_id, NULL, 0 } };
static const FlowSettingDef archive_set[] = { { "file", NULL, r_archive_file, 0 } };
static const FlowSettingDef all_set[] = { { "file", k_all_file, NULL, 0 }, { "format", k_json, NULL, 0 } };
static const FlowStepDef big_steps[] = {
    { .kind = FLOW_STEP_IMPORT, .id = 4, .name = "deals", .conn = C_DB, .settings = deals_set, .nsettings = 2, .map = m_deal, .line = 21, .map_existing = 1 },
};
static const FlowStepDef rest_steps[] = {
    { .kind = FLOW_STEP_IMPORT, .id = 5, .name = "archive", .conn = C_FILES, .settings = archive_set, .nsettings = 1, .map = m_archive, .line = 25 },
};
static const FlowArmDef orders_arms[] = { { "big", c_big, big_steps, 1 }, { "rest", NULL, rest_steps, 1 } };
static const FlowStepDef orders_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "orders", .conn = C_FILES, .settings = orders_export_set, .nsettings = 2, .type = &t_order, .line = 10 },
    { .kind = FLOW_STEP_FILTER, .id = 1, .conn = -1, .fn = f_not_cancelled, .line = 12 },
    { .kind = FLOW_STEP_TRANSFORM, .id = 2, .conn = -1, .fn = t_clean, .line = 14 },
    { .kind = FLOW_STEP_BRANCH, .id = 3, .conn = -1, .arms = orders_arms, .narms = 2, .line = 19 },
    { .kind = FLOW_STEP_IMPORT, .id = 6, .name = "all", .conn = C_FILES, .settings = all_set, .nsettings = 2, .line = 28 },
};

/* ---- flows fan (all_matching) and pick (first_match, no catch-all) ----
 * export fan_in from files { file = "fan.ndjson" }
 * branch all_matching { eu when record.region == "EU" { import eu into files { file = "eu.ndjson" } }
 *                       big when record.total > 100 { transform { record.big = true } }
 *                       rest {} }
 * import merged into files { file = "merged.ndjson" } */
KSTR(k_fan_file, "fan.ndjson")
KSTR(k_eu_file, "eu.ndjson")
KSTR(k_merged_file, "merged.ndjson")
KSTR(k_pick_file, "pick.ndjson")
static int c_eu(FlowCtx *cx, cJSON *rec) {
    FlowVal r = fld(cx, rec, "region", FLOW_STRING);
    if (flow_failed(cx)) return -1;
    return r.kind == FLOW_STRING && r.s.n == 2 && memcmp(r.s.p, "EU", 2) == 0;
}
static int c_over_100(FlowCtx *cx, cJSON *rec) {
    FlowVal t = fld(cx, rec, "total", FLOW_NUMBER);
    if (flow_failed(cx)) return -1;
    return num(t) > 100;
}
static int t_mark_big(FlowCtx *cx, cJSON *rec) { put(rec, "big", cJSON_CreateTrue()); return 0; }
static const FlowSettingDef fan_export_set[] = { { "file", k_fan_file, NULL, 0 } };
static const FlowSettingDef eu_set[] = { { "file", k_eu_file, NULL, 0 } };
static const FlowSettingDef merged_set[] = { { "file", k_merged_file, NULL, 0 } };
static const FlowSettingDef pick_set[] = { { "file", k_pick_file, NULL, 0 } };
static const FlowStepDef fan_eu_steps[] = { { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "eu", .conn = C_FILES, .settings = eu_set, .nsettings = 1 } };
static const FlowStepDef fan_big_steps[] = { { .kind = FLOW_STEP_TRANSFORM, .id = 3, .conn = -1, .fn = t_mark_big, .line = 40 } };
static const FlowArmDef fan_arms[] = { { "eu", c_eu, fan_eu_steps, 1 }, { "big", c_over_100, fan_big_steps, 1 }, { "rest", NULL, NULL, 0 } };
static const FlowStepDef fan_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_BRANCH, .id = 1, .conn = -1, .all_matching = 1, .arms = fan_arms, .narms = 3 },
    { .kind = FLOW_STEP_IMPORT, .id = 4, .name = "merged", .conn = C_FILES, .settings = merged_set, .nsettings = 1 },
};
static const FlowStepDef pick_eu_steps[] = { { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "pick", .conn = C_FILES, .settings = pick_set, .nsettings = 1 } };
static const FlowArmDef pick_arms[] = { { "eu", c_eu, pick_eu_steps, 1 } };
static const FlowStepDef pick_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_BRANCH, .id = 1, .conn = -1, .arms = pick_arms, .narms = 1 },
};

/* ---- formats: csv in, csv out, json array in and out, glob ---- */
KSTR(k_people_csv, "people.csv")
KSTR(k_people_out, "people.ndjson")
KSTR(k_mixed_in, "mixed.ndjson")
KSTR(k_mixed_csv, "mixed.csv")
KSTR(k_list_json, "list.json")
KSTR(k_list_out, "list_out.json")
KSTR(k_glob, "in/a-*.ndjson")
KSTR(k_glob_out, "glob.ndjson")
static const FlowSettingDef csv_in_set[] = { { "file", k_people_csv, NULL, 0 }, { "format", k_csv, NULL, 0 } };
static const FlowSettingDef csv_in_out_set[] = { { "file", k_people_out, NULL, 0 } };
static const FlowStepDef csv_in_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "people", .conn = C_FILES, .settings = csv_in_set, .nsettings = 2 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "people_out", .conn = C_FILES, .settings = csv_in_out_set, .nsettings = 1 },
};
static const FlowSettingDef csv_out_in_set[] = { { "file", k_mixed_in, NULL, 0 } };
static const FlowSettingDef csv_out_set[] = { { "file", k_mixed_csv, NULL, 0 }, { "format", k_csv, NULL, 0 } };
static const FlowStepDef csv_out_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "mixed", .conn = C_FILES, .settings = csv_out_in_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "mixed_csv", .conn = C_FILES, .settings = csv_out_set, .nsettings = 2 },
};
static const FlowSettingDef json_in_set[] = { { "file", k_list_json, NULL, 0 }, { "format", k_json, NULL, 0 } };
static const FlowSettingDef json_out_set[] = { { "file", k_list_out, NULL, 0 }, { "format", k_json, NULL, 0 } };
static const FlowStepDef json_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "list", .conn = C_FILES, .settings = json_in_set, .nsettings = 2 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "list_out", .conn = C_FILES, .settings = json_out_set, .nsettings = 2 },
};
static const FlowSettingDef glob_in_set[] = { { "file", k_glob, NULL, 0 } };
static const FlowSettingDef glob_out_set[] = { { "file", k_glob_out, NULL, 0 } };
static const FlowStepDef glob_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "parts", .conn = C_FILES, .settings = glob_in_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "glob_out", .conn = C_FILES, .settings = glob_out_set, .nsettings = 1 },
};

/* ---- failures: a missing input, an unwritable output, a missing connection dir ---- */
KSTR(k_missing, "missing.ndjson")
KSTR(k_good, "good.ndjson")
static FlowVal r_sub_file(FlowCtx *cx, cJSON *rec) {
    FlowVal region = fld(cx, rec, "region", FLOW_STRING);
    char *p = flow_scratch_alloc(cx, region.s.n + 32);
    int n = snprintf(p, region.s.n + 32, "sub/%.*s.ndjson", (int)region.s.n, region.s.p);
    return flow_string(p, (size_t)n);
}
static const FlowSettingDef missing_set[] = { { "file", k_missing, NULL, 0 } };
static const FlowSettingDef good_set[] = { { "file", k_good, NULL, 0 } };
static const FlowSettingDef sub_set[] = { { "file", NULL, r_sub_file, 0 } };
static const FlowStepDef missing_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "gone", .conn = C_FILES, .settings = missing_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "good", .conn = C_FILES, .settings = good_set, .nsettings = 1 },
};
static const FlowStepDef bad_out_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "good", .conn = C_FILES, .settings = good_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "by_region", .conn = C_FILES, .settings = sub_set, .nsettings = 1 },
};
static const FlowStepDef nodir_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "good", .conn = C_NODIR, .settings = good_set, .nsettings = 1 },
};

/* ---- pages over 5 MB: as exported, and after a transform grows them ---- */
KSTR(k_big_file, "big.ndjson")
KSTR(k_big_out, "big_out.ndjson")
KSTR(k_grow_file, "grow.ndjson")
static int t_grow(FlowCtx *cx, cJSON *rec) {
    if (num(fld(cx, rec, "id", FLOW_INT)) != 2) return 0;
    size_t n = 6u << 20;
    char *s = malloc(n + 1);
    memset(s, 'g', n);
    s[n] = 0;
    put(rec, "blob", cJSON_CreateString(s));
    free(s);
    return 0;
}
static const FlowSettingDef big_set[] = { { "file", k_big_file, NULL, 0 } };
static const FlowSettingDef big_out_set[] = { { "file", k_big_out, NULL, 0 } };
static const FlowSettingDef grow_set[] = { { "file", k_grow_file, NULL, 0 } };
static const FlowStepDef big_flow_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "huge", .conn = C_FILES, .settings = big_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "big_out", .conn = C_FILES, .settings = big_out_set, .nsettings = 1 },
};
static const FlowStepDef grow_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "small", .conn = C_FILES, .settings = grow_set, .nsettings = 1 },
    { .kind = FLOW_STEP_TRANSFORM, .id = 1, .conn = -1, .fn = t_grow, .line = 60 },
    { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "big_out", .conn = C_FILES, .settings = big_out_set, .nsettings = 1 },
};

/* ---- lookups from sqlite ----
 * export people from files { file = "emails.ndjson" }
 * lookup customer from db { sql = "select id, name from customers where email = ? order by id",
 *                           args = [record.email], on_missing = ..., on_many = ... }
 * transform { record.customer = customer.name }   (customer may be null)
 * import enriched into files { file = "enriched.ndjson" } */
KSTR(k_emails, "emails.ndjson")
KSTR(k_cust_sql, "select id, name from customers where email = ? order by id")
KSTR(k_enriched, "enriched.ndjson")
KSTR(k_skip, "skip")
KSTR(k_first, "first")
static FlowVal k_null(FlowCtx *cx) { return flow_null(); }
static FlowVal r_email_args(FlowCtx *cx, cJSON *rec) {
    cJSON *a = cJSON_CreateArray();
    copy_field(a, rec, "email");   /* adds under a name: arrays ignore it */
    return flow_json(flow_scratch_keep(cx, a));
}
static int t_customer(FlowCtx *cx, cJSON *rec) {
    FlowVal c = flow_lookup_result(cx, 1);
    const cJSON *name = c.kind == FLOW_JSON ? cJSON_GetObjectItemCaseSensitive(c.j, "name") : NULL;
    put(rec, "customer", name ? cJSON_Duplicate(name, 1) : cJSON_CreateNull());
    return 0;
}
static const FlowSettingDef emails_set[] = { { "file", k_emails, NULL, 0 } };
static const FlowSettingDef enriched_set[] = { { "file", k_enriched, NULL, 0 } };
static const FlowSettingDef lookup_fail_set[] = { { "sql", k_cust_sql, NULL, 0 }, { "args", NULL, r_email_args, 0 } };
static const FlowSettingDef lookup_lenient_set[] = {
    { "sql", k_cust_sql, NULL, 0 }, { "args", NULL, r_email_args, 0 }, { "on_missing", k_skip, NULL, 0 }, { "on_many", k_first, NULL, 0 },
};
static const FlowSettingDef lookup_null_set[] = {
    { "sql", k_cust_sql, NULL, 0 }, { "args", NULL, r_email_args, 0 }, { "on_missing", k_null, NULL, 0 }, { "on_many", k_first, NULL, 0 },
};
#define ENRICH_STEPS(var, set, n) \
    static const FlowStepDef var[] = { \
        { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "people", .conn = C_FILES, .settings = emails_set, .nsettings = 1 }, \
        { .kind = FLOW_STEP_LOOKUP, .id = 1, .name = "customer", .conn = C_DB, .settings = set, .nsettings = n }, \
        { .kind = FLOW_STEP_TRANSFORM, .id = 2, .conn = -1, .fn = t_customer, .line = 70 }, \
        { .kind = FLOW_STEP_IMPORT, .id = 3, .name = "enriched", .conn = C_FILES, .settings = enriched_set, .nsettings = 1 }, \
    };
ENRICH_STEPS(enrich_steps, lookup_fail_set, 2)
ENRICH_STEPS(enrich2_steps, lookup_lenient_set, 4)
ENRICH_STEPS(enrich3_steps, lookup_null_set, 4)

/* ---- sqlite exports and plain inserts ---- */
KSTR(k_things_sql, "select id, name, score, pic, gone from things where id > ? order by id")
KSTR(k_things_out, "things.ndjson")
KSTR(k_ins_file, "ins.ndjson")
KSTR(k_plain, "plain")
static FlowVal k_zero_args(FlowCtx *cx) {
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(0));
    return flow_json(flow_scratch_keep(cx, a));
}
static const FlowSettingDef things_set[] = { { "sql", k_things_sql, NULL, 0 }, { "args", k_zero_args, NULL, 0 } };
static const FlowSettingDef things_out_set[] = { { "file", k_things_out, NULL, 0 } };
static const FlowStepDef from_db_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "things", .conn = C_DB, .settings = things_set, .nsettings = 2 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "things_out", .conn = C_FILES, .settings = things_out_set, .nsettings = 1 },
};
KSTR(k_copy, "things_copy")
static const FlowSettingDef copy_set[] = { { "table", k_copy, NULL, 0 } };
static const FlowStepDef db2db_steps[] = {   /* read and write through one connection */
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "things", .conn = C_DB, .settings = things_set, .nsettings = 2 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "copy", .conn = C_DB, .settings = copy_set, .nsettings = 1 },
};
static const FlowSettingDef ins_in_set[] = { { "file", k_ins_file, NULL, 0 } };
static const FlowSettingDef plain_set[] = { { "table", k_plain, NULL, 0 } };
static const FlowStepDef ins_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "rows", .conn = C_FILES, .settings = ins_in_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "plain", .conn = C_DB, .settings = plain_set, .nsettings = 1 },
};

/* ---- stdio, a secret connection, params ---- */
static int t_seen(FlowCtx *cx, cJSON *rec) {
    FlowVal fl = flow_context(cx, FLOW_CTX_FLOW_NAME);
    put(rec, "flow", cJSON_CreateString(fl.kind == FLOW_STRING ? fl.s.p : "?"));
    return 0;
}
static const FlowStepDef std_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "input", .conn = C_CONSOLE },
    { .kind = FLOW_STEP_TRANSFORM, .id = 1, .conn = -1, .fn = t_seen },
    { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "output", .conn = C_CONSOLE },
};
KSTR(k_sel, "select 1")
static const FlowSettingDef vault_export_set[] = { { "sql", k_sel, NULL, 0 } };
static const FlowStepDef vault_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "secrets", .conn = C_VAULT, .settings = vault_export_set, .nsettings = 1 },
};
KSTR(k_rich, "rich.ndjson")
static int f_min_total(FlowCtx *cx, cJSON *rec) {
    FlowVal t = fld(cx, rec, "total", FLOW_NUMBER);
    if (flow_failed(cx)) return -1;
    return num(t) >= num(flow_param(cx, 0));
}
static const FlowSettingDef rich_set[] = { { "file", k_rich, NULL, 0 } };
static const FlowStepDef rich_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_FILTER, .id = 1, .conn = -1, .fn = f_min_total, .line = 90 },
    { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "rich", .conn = C_FILES, .settings = rich_set, .nsettings = 1 },
};
/* a setting no file export takes */
KSTR(k_get, "GET")
static const FlowSettingDef bad_setting_set[] = { { "file", k_fan_file, NULL, 0 }, { "method", k_get, NULL, 0 } };
static const FlowStepDef bad_setting_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = bad_setting_set, .nsettings = 2 },
};

/* ---- nested branches, a lookup inside an arm ----
 * export fan_in from files { file = "fan.ndjson" }
 * branch all_matching {
 *   rich when record.total > 100 { lookup cust from db { sql = "select name from customers where id = ?",
 *                                      args = [record.id], on_missing = null, on_many = first }
 *                                  transform { record.who = cust.name } }
 *   us when record.region == "US" { branch first_match { two when record.id == 2 { transform { record.two = true } } } }
 * }
 * import nested into files { file = "nested.ndjson" } */
KSTR(k_cust_by_id, "select name from customers where id = ?")
KSTR(k_nested_file, "nested.ndjson")
static FlowVal r_id_args(FlowCtx *cx, cJSON *rec) {
    cJSON *a = cJSON_CreateArray();
    copy_field(a, rec, "id");
    return flow_json(flow_scratch_keep(cx, a));
}
static int t_who(FlowCtx *cx, cJSON *rec) {
    FlowVal c = flow_lookup_result(cx, 2);
    const cJSON *name = c.kind == FLOW_JSON ? cJSON_GetObjectItemCaseSensitive(c.j, "name") : NULL;
    put(rec, "who", name ? cJSON_Duplicate(name, 1) : cJSON_CreateNull());
    return 0;
}
static int c_us(FlowCtx *cx, cJSON *rec) {
    FlowVal r = fld(cx, rec, "region", FLOW_STRING);
    if (flow_failed(cx)) return -1;
    return r.s.n == 2 && memcmp(r.s.p, "US", 2) == 0;
}
static int c_id2(FlowCtx *cx, cJSON *rec) { return num(fld(cx, rec, "id", FLOW_INT)) == 2; }
static int t_two(FlowCtx *cx, cJSON *rec) { put(rec, "two", cJSON_CreateTrue()); return 0; }
static const FlowSettingDef cust_by_id_set[] = {
    { "sql", k_cust_by_id, NULL, 0 }, { "args", NULL, r_id_args, 0 }, { "on_missing", k_null, NULL, 0 }, { "on_many", k_first, NULL, 0 },
};
static const FlowSettingDef nested_set[] = { { "file", k_nested_file, NULL, 0 } };
static const FlowStepDef rich_arm_steps[] = {
    { .kind = FLOW_STEP_LOOKUP, .id = 2, .name = "cust", .conn = C_DB, .settings = cust_by_id_set, .nsettings = 4 },
    { .kind = FLOW_STEP_TRANSFORM, .id = 3, .conn = -1, .fn = t_who },
};
static const FlowStepDef two_arm_steps[] = { { .kind = FLOW_STEP_TRANSFORM, .id = 5, .conn = -1, .fn = t_two } };
static const FlowArmDef inner_arms[] = { { "two", c_id2, two_arm_steps, 1 } };
static const FlowStepDef us_arm_steps[] = { { .kind = FLOW_STEP_BRANCH, .id = 4, .conn = -1, .arms = inner_arms, .narms = 1 } };
static const FlowArmDef outer_arms[] = { { "rich", c_over_100, rich_arm_steps, 2 }, { "us", c_us, us_arm_steps, 1 } };
static const FlowStepDef nested_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "fan_in", .conn = C_FILES, .settings = fan_export_set, .nsettings = 1 },
    { .kind = FLOW_STEP_BRANCH, .id = 1, .conn = -1, .all_matching = 1, .arms = outer_arms, .narms = 2 },
    { .kind = FLOW_STEP_IMPORT, .id = 6, .name = "nested", .conn = C_FILES, .settings = nested_set, .nsettings = 1 },
};

/* ---- more outputs than files kept open at once ----
 * export many from files { file = "many.ndjson" } import spread into files { file = "spread/m-{{record.id % 70}}.json", format = json }
 * (data/spread/ does not exist: it is made) */
KSTR(k_many_file, "many.ndjson")
static FlowVal r_spread_file(FlowCtx *cx, cJSON *rec) {
    int64_t id = fld(cx, rec, "id", FLOW_INT).i;
    char *p = flow_scratch_alloc(cx, 48);
    int n = snprintf(p, 48, "spread/m-%lld.json", (long long)(id % 70));
    return flow_string(p, (size_t)n);
}
static const FlowSettingDef many_set[] = { { "file", k_many_file, NULL, 0 } };
static const FlowSettingDef spread_set[] = { { "file", NULL, r_spread_file, 0 }, { "format", k_json, NULL, 0 } };
static const FlowStepDef many_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "many", .conn = C_FILES, .settings = many_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "spread", .conn = C_FILES, .settings = spread_set, .nsettings = 2 },
};

#define FLOW(name, steps) { name, steps, (int)(sizeof steps / sizeof steps[0]), NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL }
static const FlowFlowDef shop_flows[] = {
    FLOW("orders", orders_steps), FLOW("fan", fan_steps), FLOW("pick", pick_steps),
    FLOW("csv_in", csv_in_steps), FLOW("csv_out", csv_out_steps), FLOW("json_in", json_steps), FLOW("glob_in", glob_steps),
    FLOW("missing_in", missing_steps), FLOW("bad_out", bad_out_steps), FLOW("no_dir", nodir_steps),
    FLOW("big", big_flow_steps), FLOW("grow", grow_steps),
    FLOW("enrich", enrich_steps), FLOW("enrich2", enrich2_steps), FLOW("enrich3", enrich3_steps),
    FLOW("from_db", from_db_steps), FLOW("ins", ins_steps), FLOW("std", std_steps), FLOW("vault", vault_steps),
    FLOW("rich", rich_steps), FLOW("bad_setting", bad_setting_steps), FLOW("nested", nested_steps),
    FLOW("many", many_steps), FLOW("db2db", db2db_steps),
};
static const FlowProgram shop = {
    "shop", "1.2.3", "shop.flow", shop_params, 1, shop_conns, (int)(sizeof shop_conns / sizeof shop_conns[0]),
    shop_flows, (int)(sizeof shop_flows / sizeof shop_flows[0]), NULL, 0, NULL,
};

/* ---- a small program: every flow in order, a required param, describe ----
 * integration "tiny" version "0.0.1"
 * param region: string            param limit: int = 5
 * connection files = file { dir = "data" }     connection pg = postgres { dsn = env("PG_DSN") }
 * flow one { schedule = every(15m); export a from files { file = "fan.ndjson" }
 *            filter record.region == param.region; import one into files { file = "one-{{record.id}}.ndjson" } }
 * flow two { export b from files { file = "fan.ndjson", mode = limit(2) } import two into files { file = "two.ndjson" } } */
static const FlowParamDef tiny_params[] = { { "region", FLOW_STRING, 0, NULL, 0, NULL, 0 }, { "limit", FLOW_INT, 0, "5", 0, NULL, 0 } };
KSTR(k_dsn, "postgres://admin:hunter2@db.internal/prod")
static const FlowSettingDef pg_set[] = { { "dsn", k_dsn, NULL, 1 } };
static const FlowConnDef tiny_conns[] = { { "files", "file", files_set, 1 }, { "pg", "postgres", pg_set, 1 } };
static FlowVal k_every(FlowCtx *cx) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ctor", "every");
    cJSON_AddNumberToObject(o, "interval", 900000);
    return flow_json(flow_scratch_keep(cx, o));
}
static FlowVal k_limit2(FlowCtx *cx) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ctor", "limit");
    cJSON_AddNumberToObject(o, "n", 2);
    return flow_json(flow_scratch_keep(cx, o));
}
static int f_region(FlowCtx *cx, cJSON *rec) {
    FlowVal r = fld(cx, rec, "region", FLOW_STRING), want = flow_param(cx, 0);
    if (flow_failed(cx)) return -1;
    return flow_val_equal(r, want);
}
static FlowVal r_one_file(FlowCtx *cx, cJSON *rec) {
    FlowVal id = fld(cx, rec, "id", FLOW_INT);
    char *p = flow_scratch_alloc(cx, 48);
    int n = snprintf(p, 48, "one-%lld.ndjson", (long long)id.i);
    return flow_string(p, (size_t)n);
}
KSTR(k_two_file, "two.ndjson")
static const FlowSettingDef one_flow_set[] = { { "schedule", k_every, NULL, 0 } };
static const FlowSettingDef one_set[] = { { "file", NULL, r_one_file, 0 } };
static const FlowSettingDef two_export_set[] = { { "file", k_fan_file, NULL, 0 }, { "mode", k_limit2, NULL, 0 } };
static const FlowSettingDef two_set[] = { { "file", k_two_file, NULL, 0 } };
static const FlowStepDef one_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "a", .conn = 0, .settings = fan_export_set, .nsettings = 1, .line = 5 },
    { .kind = FLOW_STEP_FILTER, .id = 1, .conn = -1, .fn = f_region, .line = 6 },
    { .kind = FLOW_STEP_IMPORT, .id = 2, .name = "one", .conn = 0, .settings = one_set, .nsettings = 1, .line = 7 },
};
static const FlowStepDef two_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "b", .conn = 0, .settings = two_export_set, .nsettings = 2, .line = 10 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "two", .conn = 0, .settings = two_set, .nsettings = 1, .line = 11 },
};
static const FlowFlowDef tiny_flows[] = {
    { "one", one_steps, 3, one_flow_set, 1, 0, 3, NULL, NULL, NULL, NULL, NULL },
    { "two", two_steps, 2, NULL, 0, 0, 2, NULL, NULL, NULL, NULL, NULL },
};
static const FlowProgram tiny = { "tiny", "0.0.1", "tiny.flow", tiny_params, 2, tiny_conns, 2, tiny_flows, 2, NULL, 0, NULL };

/* ================= the cases ================= */

static const char *const orders_ndjson =
    "{\"id\":1,\"email\":\"A@X.COM\",\"status\":\"paid\",\"total\":1500,\"region\":\"EU\"}\n"
    "{\"id\":2,\"email\":\"b@x.com\",\"status\":\"cancelled\",\"total\":10,\"region\":\"US\"}\n"
    "{\"id\":3,\"email\":\"C@X.COM\",\"status\":\"open\",\"total\":20.5,\"region\":\"US\",\"note\":null}\n"
    "{\"id\":4,\"email\":\"d@x.com\",\"status\":\"open\",\"total\":\"abc\",\"region\":\"EU\"}\n"
    "{\"id\":5, oops\n"
    "{\"id\":6,\"email\":\"noat\",\"status\":\"open\",\"total\":5,\"region\":\"EU\"}\n"
    "\n"
    "{\"id\":7,\"email\":\"g@x.com\",\"status\":\"paid\",\"total\":2000,\"region\":\"EU\",\"extra\":{\"k\":[1,2]}}\n"
    "{\"id\":8,\"email\":\"h@x.com\",\"status\":\"paid\",\"region\":\"EU\"}\n"
    "{\"id\":9,\"email\":\"i@x.com\",\"status\":\"paid\",\"total\":30,\"region\":\"EU\"}\n";

static void case_orders(void) {
    cur_case = "orders";
    write_file("data/orders.ndjson", orders_ndjson);
    int rc = run_cli(&shop, NULL, "run", "orders", "--json", "--now", "2024-03-05T10:00:00Z", NULL);
    expect_rc(rc, 3);
    expect_text("stdout", cap_out, "{\"flow\":\"orders\",\"exported\":9,\"ignored\":1,\"errors\":4,\"imported\":{\"deals\":2,\"archive\":2,\"all\":4}}\n");
    expect_text("stderr", cap_err,
        "error: flow orders step orders [value] record.total must be a number, got a string; record: {\"id\":4,\"email\":\"d@x.com\",\"status\":\"open\",\"total\":\"abc\",\"region\":\"EU\"}\n"
        "error: flow orders step orders [parse] line 5 of data/orders.ndjson: malformed JSON at column 10: expected a quoted member name; record: \"{\\\"id\\\":5, oops\"\n"
        "error: flow orders step transform (line 14) [value] record.email has no @; record: {\"id\":6,\"email\":\"noat\",\"status\":\"open\",\"total\":5,\"region\":\"EU\"}\n"
        "error: flow orders step orders [value] record.total is missing; record: {\"id\":8,\"email\":\"h@x.com\",\"status\":\"paid\",\"region\":\"EU\"}\n"
        "flow orders: exported 9, ignored 1, imported deals=2 archive=2 all=4, errors 4 (parse=1 value=3)\n");
    expect_file("data/archive-US.ndjson", "{\"id\":3,\"total\":20.5}\n");
    expect_file("data/archive-EU.ndjson", "{\"id\":9,\"total\":30}\n");
    expect_file("data/all-2024-03-05.json",
        "[\n"
        "{\"id\":1,\"email\":\"a@x.com\",\"status\":\"paid\",\"total\":1500,\"region\":\"EU\",\"page\":1},\n"
        "{\"id\":3,\"email\":\"c@x.com\",\"status\":\"open\",\"total\":20.5,\"region\":\"US\",\"note\":null,\"page\":1},\n"
        "{\"id\":7,\"email\":\"g@x.com\",\"status\":\"paid\",\"total\":2000,\"region\":\"EU\",\"extra\":{\"k\":[1,2]},\"page\":3},\n"
        "{\"id\":9,\"email\":\"i@x.com\",\"status\":\"paid\",\"total\":30,\"region\":\"EU\",\"page\":3}\n"
        "]\n");
    char *rows = sql_rows("shop.db", "select id, email, amount_cents, stage from deals order by id");
    expect_text("deals after the first run", rows, "1|a@x.com|150000|new\n7|g@x.com|200000|new\n");
    free(rows);
    rows = sql_rows("shop.db", "select sql from sqlite_master where name = 'deals'");
    expect_text("deals schema", rows, "CREATE TABLE \"deals\" (\"id\" INTEGER, \"email\" TEXT, \"amount_cents\" INTEGER, \"stage\" TEXT, UNIQUE (\"id\"))\n");
    free(rows);
    check(leftover_temp_files() == 0, "temporary files left in data/");

    /* a second run upserts: the same two rows, now updated; the files gain the run's records
     * (write = append, the default): the JSON array its elements */
    cur_case = "orders-again";
    rc = run_cli(&shop, NULL, "run", "orders", "--now", "2024-03-05T11:00:00Z", NULL);
    expect_rc(rc, 3);
    check(cap_out[0] == 0, "stdout without --json: %s", cap_out);
    rows = sql_rows("shop.db", "select id, email, amount_cents, stage from deals order by id");
    expect_text("deals after the second run", rows, "1|a@x.com|150000|updated\n7|g@x.com|200000|updated\n");
    free(rows);
    expect_file("data/archive-US.ndjson", "{\"id\":3,\"total\":20.5}\n{\"id\":3,\"total\":20.5}\n");
    expect_file("data/all-2024-03-05.json",
        "[\n"
        "{\"id\":1,\"email\":\"a@x.com\",\"status\":\"paid\",\"total\":1500,\"region\":\"EU\",\"page\":1},\n"
        "{\"id\":3,\"email\":\"c@x.com\",\"status\":\"open\",\"total\":20.5,\"region\":\"US\",\"note\":null,\"page\":1},\n"
        "{\"id\":7,\"email\":\"g@x.com\",\"status\":\"paid\",\"total\":2000,\"region\":\"EU\",\"extra\":{\"k\":[1,2]},\"page\":3},\n"
        "{\"id\":9,\"email\":\"i@x.com\",\"status\":\"paid\",\"total\":30,\"region\":\"EU\",\"page\":3},\n"
        "{\"id\":1,\"email\":\"a@x.com\",\"status\":\"paid\",\"total\":1500,\"region\":\"EU\",\"page\":1},\n"
        "{\"id\":3,\"email\":\"c@x.com\",\"status\":\"open\",\"total\":20.5,\"region\":\"US\",\"note\":null,\"page\":1},\n"
        "{\"id\":7,\"email\":\"g@x.com\",\"status\":\"paid\",\"total\":2000,\"region\":\"EU\",\"extra\":{\"k\":[1,2]},\"page\":3},\n"
        "{\"id\":9,\"email\":\"i@x.com\",\"status\":\"paid\",\"total\":30,\"region\":\"EU\",\"page\":3}\n"
        "]\n");
    check(leftover_temp_files() == 0, "temporary files left in data/");
}

static const char *const fan_ndjson =
    "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n"
    "{\"id\":2,\"region\":\"US\",\"total\":50}\n"
    "{\"id\":3,\"region\":\"US\",\"total\":500}\n";

static void case_branches(void) {
    cur_case = "all_matching";
    int rc = run_cli(&shop, NULL, "run", "fan", "--json", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out, "{\"flow\":\"fan\",\"exported\":3,\"ignored\":0,\"errors\":0,\"imported\":{\"eu\":1,\"merged\":4}}\n");
    expect_text("stderr", cap_err, "flow fan: exported 3, ignored 0, imported eu=1 merged=4, errors 0\n");
    expect_file("data/eu.ndjson", "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n");
    expect_file("data/merged.ndjson",
        "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n"
        "{\"id\":1,\"region\":\"EU\",\"total\":1500,\"big\":true}\n"
        "{\"id\":2,\"region\":\"US\",\"total\":50}\n"
        "{\"id\":3,\"region\":\"US\",\"total\":500,\"big\":true}\n");

    cur_case = "first_match-no-arm";
    rc = run_cli(&shop, NULL, "run", "pick", "--json", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out, "{\"flow\":\"pick\",\"exported\":3,\"ignored\":2,\"errors\":0,\"imported\":{\"pick\":1}}\n");
    expect_file("data/pick.ndjson", "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n");
}

static void case_formats(void) {
    cur_case = "csv-export";
    write_file("data/people.csv",
               "\xEF\xBB\xBFname,city,note\r\n"
               "Ann,\"Paris, FR\",\"\"\r\n"
               "\"Bob \"\"B\"\"\",Oslo,\"multi\nline\"\r\n"
               "\r\n"
               "Cy,,x\r\n"
               "bad,row\r\n");
    int rc = run_cli(&shop, NULL, "run", "csv_in", NULL);
    expect_rc(rc, 3);
    expect_text("stderr", cap_err,
        "error: flow csv_in step people [parse] line 7 of data/people.csv: 2 fields, but the header has 3; record: [\"bad\",\"row\"]\n"
        "flow csv_in: exported 4, ignored 0, imported people_out=3, errors 1 (parse=1)\n");
    expect_file("data/people.ndjson",
        "{\"name\":\"Ann\",\"city\":\"Paris, FR\",\"note\":\"\"}\n"
        "{\"name\":\"Bob \\\"B\\\"\",\"city\":\"Oslo\",\"note\":\"multi\\nline\"}\n"
        "{\"name\":\"Cy\",\"city\":\"\",\"note\":\"x\"}\n");

    cur_case = "csv-import";
    write_file("data/mixed.ndjson",
               "{\"id\":1,\"name\":\"Ann, A.\",\"quote\":\"say \\\"hi\\\"\",\"ok\":true,\"score\":1.5,\"none\":null,\"obj\":{\"a\":[1,2]}}\n"
               "{\"id\":2,\"name\":\" pad \",\"quote\":\"line\\nbreak\",\"ok\":false,\"score\":-3,\"none\":null,\"obj\":[]}\n"
               "{\"id\":3,\"name\":\"x\",\"extra\":1}\n"
               "{\"name\":\"only name\"}\n");
    rc = run_cli(&shop, NULL, "run", "csv_out", NULL);
    expect_rc(rc, 3);
    expect_text("stderr", cap_err,
        "error: flow csv_out step mixed_csv [value] field `extra` is not a column of data/mixed.csv (its columns come from the first record); record: {\"id\":3,\"name\":\"x\",\"extra\":1}\n"
        "flow csv_out: exported 4, ignored 0, imported mixed_csv=3, errors 1 (value=1)\n");
    expect_file("data/mixed.csv",
        "id,name,quote,ok,score,none,obj\n"
        "1,\"Ann, A.\",\"say \"\"hi\"\"\",true,1.5,,\"{\"\"a\"\":[1,2]}\"\n"
        "2,\" pad \",\"line\nbreak\",false,-3,,[]\n"
        ",only name,,,,,\n");

    cur_case = "json-array";
    write_file("data/list.json", "[ {\"id\": 1, \"n\": \"a\"},\n  {\"id\": 2},\n  3 ]\n");
    rc = run_cli(&shop, NULL, "run", "json_in", "--json", NULL);
    expect_rc(rc, 3);
    expect_text("stdout", cap_out, "{\"flow\":\"json_in\",\"exported\":3,\"ignored\":0,\"errors\":1,\"imported\":{\"list_out\":2}}\n");
    expect_text("stderr", cap_err,
        "error: flow json_in step list [parse] element 3 of data/list.json: a record must be a JSON object, got a number; record: 3\n"
        "flow json_in: exported 3, ignored 0, imported list_out=2, errors 1 (parse=1)\n");
    expect_file("data/list_out.json", "[\n{\"id\":1,\"n\":\"a\"},\n{\"id\":2}\n]\n");

    cur_case = "json-array-malformed";
    write_file("data/list.json", "[ {\"id\": 1},\n  {\"id\": ]\n");
    rc = run_cli(&shop, NULL, "run", "json_in", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err,
        "error: flow json_in: export list: data/list.json: malformed JSON at line 2, column 10: unexpected `]`\n"
        "flow json_in: failed; exported 0, ignored 0, imported list_out=0, errors 0\n");
    expect_file("data/list_out.json", "[\n{\"id\":1,\"n\":\"a\"},\n{\"id\":2}\n]\n");   /* untouched */

    cur_case = "glob";
    mkdir("data/in", 0755);
    write_file("data/in/a-2.ndjson", "{\"f\":\"a-2\",\"n\":1}\n");
    write_file("data/in/a-1.ndjson", "{\"f\":\"a-1\",\"n\":1}\n{\"f\":\"a-1\",\"n\":2}\n");
    write_file("data/in/b-1.ndjson", "{\"f\":\"b-1\"}\n");
    rc = run_cli(&shop, NULL, "run", "glob_in", NULL);
    expect_rc(rc, 0);
    expect_file("data/glob.ndjson", "{\"f\":\"a-1\",\"n\":1}\n{\"f\":\"a-1\",\"n\":2}\n{\"f\":\"a-2\",\"n\":1}\n");
}

static void case_failures(void) {
    cur_case = "missing-input";
    int rc = run_cli(&shop, NULL, "run", "missing_in", "--json", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err,
        "error: flow missing_in: export gone: cannot read data/missing.ndjson: No such file or directory\n"
        "flow missing_in: failed; exported 0, ignored 0, imported good=0, errors 0\n");
    expect_text("stdout", cap_out,
        "{\"flow\":\"missing_in\",\"exported\":0,\"ignored\":0,\"errors\":0,\"imported\":{\"good\":0},"
        "\"failed\":\"export gone: cannot read data/missing.ndjson: No such file or directory\",\"class\":\"connection\"}\n");
    check(!exists("data/good.ndjson"), "good.ndjson written by a failed run");

    /* a per-record name whose directory is a file: those records' errors; the rest is written */
    cur_case = "unwritable-output";
    write_file("data/sub", "a file where the output wants a directory\n");
    rc = run_cli(&shop, NULL, "run", "bad_out", NULL);
    expect_rc(rc, 3);
    expect_text("stderr", cap_err,
        "error: flow bad_out step by_region [value] cannot write data/sub/EU.ndjson: Not a directory; record: {\"id\":1,\"region\":\"EU\",\"total\":1500}\n"
        "error: flow bad_out step by_region [value] cannot write data/sub/US.ndjson: Not a directory; record: {\"id\":2,\"region\":\"US\",\"total\":50}\n"
        "error: flow bad_out step by_region [value] cannot write data/sub/US.ndjson: Not a directory; record: {\"id\":3,\"region\":\"US\",\"total\":500}\n"
        "flow bad_out: exported 3, ignored 0, imported good=3 by_region=0, errors 3 (value=3)\n");
    expect_file("data/good.ndjson", fan_ndjson);
    check(leftover_temp_files() == 0, "temporary files left in data/");
    unlink("data/sub");
    unlink("data/good.ndjson");

    cur_case = "connection-dir-not-a-directory";
    rc = run_cli(&shop, NULL, "run", "no_dir", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err,
        "error: flow no_dir: connection nodir: dir data/fan.ndjson: Not a directory\n"
        "flow no_dir: failed; exported 0, ignored 0, imported good=0, errors 0\n");

    cur_case = "unknown-setting";
    rc = run_cli(&shop, NULL, "run", "bad_setting", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err,
        "error: flow bad_setting: export fan_in: file exports take no setting `method` (known: file, format, mode, page_size)\n"
        "flow bad_setting: failed; exported 0, ignored 0, errors 0\n");

    cur_case = "secret-in-error";
    rc = run_cli(&shop, NULL, "run", "vault", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err,
        "error: flow vault: connection vault: cannot open <redacted>: No such file or directory\n"
        "flow vault: failed; exported 0, ignored 0, errors 0\n");

    cur_case = "unknown-flow";
    rc = run_cli(&shop, NULL, "run", "orders", "nope", NULL);
    expect_rc(rc, 1);
    check(starts_with(cap_err, "shop: unknown flow `nope` (flows: orders, fan, pick, csv_in,"), "stderr: %s", cap_err);
}

static void big_line(FILE *f, int id, size_t n) {
    fprintf(f, "{\"id\":%d,\"s\":\"", id);
    for (size_t i = 0; i < n; i++) putc('x', f);
    fputs("\"}\n", f);
}

static void case_too_large(void) {
    cur_case = "page-over-5MB";
    FILE *f = fopen("data/big.ndjson", "w");
    for (int i = 1; i <= 3; i++) big_line(f, i, 2u << 20);
    big_line(f, 4, 6u << 20);
    fclose(f);
    int rc = run_cli(&shop, NULL, "run", "big", "--json", NULL);
    expect_rc(rc, 3);
    expect_text("stdout", cap_out, "{\"flow\":\"big\",\"exported\":4,\"ignored\":0,\"errors\":4,\"imported\":{\"big_out\":0}}\n");
    check(strstr(cap_err, "error: flow big step huge [too_large] line 4 of data/big.ndjson is 6.0 MB, over the 5 MB page limit; record: null\n") != NULL,
          "stderr: %.300s", cap_err);
    check(strstr(cap_err, "error: flow big step huge [too_large] page 1 holds 6.0 MB as exported, over the 5 MB page limit; record: {\"id\":1,\"s\":\"xxx") != NULL,
          "stderr: %.300s", cap_err);
    check(strstr(cap_err, "... (2097167 bytes)\n") != NULL, "record data is cut: %.300s", cap_err);
    check(strlen(cap_err) < 20000, "stderr holds %zu bytes", strlen(cap_err));
    check(strstr(cap_err, "flow big: exported 4, ignored 0, imported big_out=0, errors 4 (too_large=4)\n") != NULL, "summary: %s", cap_err);
    check(!exists("data/big_out.ndjson"), "big_out written");

    cur_case = "page-over-5MB-after-a-step";
    write_file("data/grow.ndjson", "{\"id\":1}\n{\"id\":2}\n");
    rc = run_cli(&shop, NULL, "run", "grow", NULL);
    expect_rc(rc, 3);
    /* the record data of an error line is cut after 4096 bytes */
    const char *head = "{\"id\":2,\"blob\":\"";
    size_t want_len = 8192;
    char *want = malloc(want_len);
    int n = snprintf(want, want_len,
        "error: flow grow step transform (line 60) [too_large] page 1 holds 6.0 MB after step transform (line 60), over the 5 MB page limit; record: {\"id\":1}\n"
        "error: flow grow step transform (line 60) [too_large] page 1 holds 6.0 MB after step transform (line 60), over the 5 MB page limit; record: %s", head);
    memset(want + n, 'g', 4096 - strlen(head));
    n += (int)(4096 - strlen(head));
    snprintf(want + n, want_len - (size_t)n, "... (%zu bytes)\nflow grow: exported 2, ignored 0, imported big_out=0, errors 2 (too_large=2)\n",
             strlen(head) + (6u << 20) + 2);
    expect_text("stderr", cap_err, want);
    free(want);
}

static void case_lookups(void) {
    sql_exec("shop.db",
             "create table customers (id integer, name text, email text);"
             "insert into customers values (1, 'ann', 'a@x.com'), (2, 'bob', 'b@x.com'), (3, 'bob2', 'b@x.com');");
    write_file("data/emails.ndjson", "{\"email\":\"a@x.com\"}\n{\"email\":\"b@x.com\"}\n{\"email\":\"z@x.com\"}\n");

    cur_case = "lookup-fail";
    int rc = run_cli(&shop, NULL, "run", "enrich", NULL);
    expect_rc(rc, 3);
    expect_text("stderr", cap_err,
        "error: flow enrich step customer [value] lookup customer matched 2 rows; record: {\"email\":\"b@x.com\"}\n"
        "error: flow enrich step customer [missing] lookup customer matched no rows; record: {\"email\":\"z@x.com\"}\n"
        "flow enrich: exported 3, ignored 0, imported enriched=1, errors 2 (value=1 missing=1)\n");
    expect_file("data/enriched.ndjson", "{\"email\":\"a@x.com\",\"customer\":\"ann\"}\n");

    cur_case = "lookup-skip-first";
    unlink("data/enriched.ndjson");   /* each case writes it anew (write = append keeps what is there) */
    rc = run_cli(&shop, NULL, "run", "enrich2", NULL);
    expect_rc(rc, 0);
    expect_text("stderr", cap_err, "flow enrich2: exported 3, ignored 1, imported enriched=2, errors 0\n");
    expect_file("data/enriched.ndjson", "{\"email\":\"a@x.com\",\"customer\":\"ann\"}\n{\"email\":\"b@x.com\",\"customer\":\"bob\"}\n");

    cur_case = "lookup-null";
    unlink("data/enriched.ndjson");   /* each case writes it anew (write = append keeps what is there) */
    rc = run_cli(&shop, NULL, "run", "enrich3", NULL);
    expect_rc(rc, 0);
    expect_file("data/enriched.ndjson",
                "{\"email\":\"a@x.com\",\"customer\":\"ann\"}\n{\"email\":\"b@x.com\",\"customer\":\"bob\"}\n{\"email\":\"z@x.com\",\"customer\":null}\n");
}

static void case_nested(void) {
    cur_case = "nested-branches";
    int rc = run_cli(&shop, NULL, "run", "nested", "--json", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out, "{\"flow\":\"nested\",\"exported\":3,\"ignored\":1,\"errors\":0,\"imported\":{\"nested\":3}}\n");
    expect_file("data/nested.ndjson",
                "{\"id\":1,\"region\":\"EU\",\"total\":1500,\"who\":\"ann\"}\n"
                "{\"id\":2,\"region\":\"US\",\"total\":50,\"two\":true}\n"
                "{\"id\":3,\"region\":\"US\",\"total\":500,\"who\":\"bob2\"}\n");
}

static void case_many_files(void) {
    cur_case = "many-output-files";
    FILE *f = fopen("data/many.ndjson", "w");
    for (int i = 0; i < 150; i++) fprintf(f, "{\"id\":%d}\n", i);
    fclose(f);
    int rc = run_cli(&shop, NULL, "run", "many", NULL);
    expect_rc(rc, 0);
    expect_text("stderr", cap_err, "flow many: exported 150, ignored 0, imported spread=150, errors 0\n");
    expect_file("data/spread/m-0.json", "[\n{\"id\":0},\n{\"id\":70},\n{\"id\":140}\n]\n");
    expect_file("data/spread/m-9.json", "[\n{\"id\":9},\n{\"id\":79},\n{\"id\":149}\n]\n");
    expect_file("data/spread/m-69.json", "[\n{\"id\":69},\n{\"id\":139}\n]\n");
    check(exists("data/spread/m-35.json") && !exists("data/spread/m-70.json"), "the set of m-*.json files");
    check(leftover_temp_files() == 0, "temporary files left in data/");
}

static void case_sqlite(void) {
    cur_case = "sqlite-export";
    sql_exec("shop.db",
             "create table things (id integer, name text, score real, pic blob, gone);"
             "insert into things values (1, 'x', 1.5, x'00010203', null), (2, 'y', 2, null, null), (0, 'zero', 0, null, null);");
    int rc = run_cli(&shop, NULL, "run", "from_db", NULL);
    expect_rc(rc, 0);
    expect_file("data/things.ndjson",
                "{\"id\":1,\"name\":\"x\",\"score\":1.5,\"pic\":\"AAECAw==\",\"gone\":null}\n"
                "{\"id\":2,\"name\":\"y\",\"score\":2,\"pic\":null,\"gone\":null}\n");

    cur_case = "sqlite-to-sqlite";
    rc = run_cli(&shop, NULL, "run", "db2db", NULL);
    expect_rc(rc, 0);
    char *copied = sql_rows("shop.db", "select id, name, score, pic, gone from things_copy order by id");
    expect_text("things_copy", copied, "1|x|1.5|AAECAw==|NULL\n2|y|2.0|NULL|NULL\n");
    free(copied);

    cur_case = "sqlite-insert-errors";
    sql_exec("shop.db", "create table plain (id integer unique, name text);");
    write_file("data/ins.ndjson", "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n{\"id\":1,\"name\":\"c\"}\n{\"id\":3,\"zzz\":1}\n");
    rc = run_cli(&shop, NULL, "run", "ins", NULL);
    expect_rc(rc, 3);
    expect_text("stderr", cap_err,
        "error: flow ins step plain [duplicate] table plain: UNIQUE constraint failed: plain.id; record: {\"id\":1,\"name\":\"c\"}\n"
        "error: flow ins step plain [value] table plain has no column named zzz; record: {\"id\":3,\"zzz\":1}\n"
        "flow ins: exported 4, ignored 0, imported plain=2, errors 2 (value=1 duplicate=1)\n");
    char *rows = sql_rows("shop.db", "select id, name from plain order by id");
    expect_text("plain rows", rows, "1|a\n2|b\n");
    free(rows);
}

static void case_stdio(void) {
    cur_case = "stdio";
    write_file("stdin.ndjson", "{\"a\":1}\n\n{\"a\":2}\nnot json\n");
    int rc = run_cli(&shop, "stdin.ndjson", "run", "std", "--json", NULL);
    expect_rc(rc, 3);
    expect_text("stdout", cap_out,
                "{\"a\":1,\"flow\":\"std\"}\n{\"a\":2,\"flow\":\"std\"}\n"
                "{\"flow\":\"std\",\"exported\":3,\"ignored\":0,\"errors\":1,\"imported\":{\"output\":2}}\n");
    expect_text("stderr", cap_err,
        "error: flow std step input [parse] line 4 of stdin: malformed JSON at column 1: unexpected `n`; record: \"not json\"\n"
        "flow std: exported 3, ignored 0, imported output=2, errors 1 (parse=1)\n");
}

static void case_cli(void) {
    cur_case = "version";
    int rc = run_cli(&shop, NULL, "--version", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out, "shop 1.2.3 (flowc 0.1.0)\n");

    cur_case = "unknown-command";
    rc = run_cli(&shop, NULL, "frobnicate", NULL);
    expect_rc(rc, 2);
    check(starts_with(cap_err, "shop: unknown command `frobnicate`\nusage: shop run"), "stderr: %s", cap_err);

    cur_case = "no-command";
    rc = run_cli(&shop, NULL, NULL);
    expect_rc(rc, 2);

    cur_case = "unknown-option";
    rc = run_cli(&shop, NULL, "run", "--frob", NULL);
    expect_rc(rc, 2);

    cur_case = "state-since-accepted";
    rc = run_cli(&shop, NULL, "run", "fan", "--state", "st", "--since", "2024-01-01T00:00:00Z", "--until=2024-02-01", NULL);
    expect_rc(rc, 0);
    rc = run_cli(&shop, NULL, "run", "fan", "--since", "yesterday", NULL);
    expect_rc(rc, 1);

    cur_case = "param";
    rc = run_cli(&shop, NULL, "run", "rich", "--param", "min_total=100", "--json", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out, "{\"flow\":\"rich\",\"exported\":3,\"ignored\":1,\"errors\":0,\"imported\":{\"rich\":2}}\n");
    expect_file("data/rich.ndjson", "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n{\"id\":3,\"region\":\"US\",\"total\":500}\n");
    rc = run_cli(&shop, NULL, "run", "rich", "--json", NULL);   /* the default, 0 */
    expect_text("stdout (default)", cap_out, "{\"flow\":\"rich\",\"exported\":3,\"ignored\":0,\"errors\":0,\"imported\":{\"rich\":3}}\n");

    cur_case = "param-errors";
    rc = run_cli(&shop, NULL, "run", "rich", "--param", "min_total=lots", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err, "shop: param min_total: `lots` is not a number\n");
    rc = run_cli(&shop, NULL, "run", "rich", "--param=max=1", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err, "shop: unknown param `max` (params: min_total)\n");
    rc = run_cli(&shop, NULL, "run", "rich", "--param", "min_total", NULL);
    expect_rc(rc, 1);

    cur_case = "required-param";
    rc = run_cli(&tiny, NULL, "run", NULL);
    expect_rc(rc, 1);
    expect_text("stderr", cap_err, "shop: param region is required (pass --param region=...)\n");

    cur_case = "run-all-in-order";
    rc = run_cli(&tiny, NULL, "run", "--param", "region=US", "--json", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out,
                "{\"flow\":\"one\",\"exported\":3,\"ignored\":1,\"errors\":0,\"imported\":{\"one\":2}}\n"
                "{\"flow\":\"two\",\"exported\":2,\"ignored\":0,\"errors\":0,\"imported\":{\"two\":2}}\n");
    expect_file("data/one-2.ndjson", "{\"id\":2,\"region\":\"US\",\"total\":50}\n");
    expect_file("data/one-3.ndjson", "{\"id\":3,\"region\":\"US\",\"total\":500}\n");
    expect_file("data/two.ndjson", "{\"id\":1,\"region\":\"EU\",\"total\":1500}\n{\"id\":2,\"region\":\"US\",\"total\":50}\n");

    cur_case = "describe";
    rc = run_cli(&tiny, NULL, "describe", "--param", "region=EU", NULL);
    expect_rc(rc, 0);
    expect_text("stdout", cap_out,
        "{\"integration\":\"tiny\",\"version\":\"0.0.1\",\"source\":\"tiny.flow\",\"environment\":null,"
        "\"params\":[{\"name\":\"region\",\"kind\":\"string\",\"value\":\"EU\"},{\"name\":\"limit\",\"kind\":\"int\",\"value\":5}],"
        "\"connections\":[{\"name\":\"files\",\"kind\":\"file\",\"settings\":{\"dir\":\"data\"}},"
        "{\"name\":\"pg\",\"kind\":\"postgres\",\"settings\":{\"dsn\":\"<redacted>\"}}],"
        "\"flows\":[{\"name\":\"one\",\"page_size\":20,\"settings\":{\"schedule\":{\"ctor\":\"every\",\"interval\":900000}},\"steps\":["
        "{\"kind\":\"export\",\"name\":\"a\",\"connection\":\"files\",\"line\":5,\"settings\":{\"file\":\"fan.ndjson\"}},"
        "{\"kind\":\"filter\",\"line\":6},"
        "{\"kind\":\"import\",\"name\":\"one\",\"connection\":\"files\",\"line\":7,\"settings\":{\"file\":\"<per record>\"}}]},"
        "{\"name\":\"two\",\"page_size\":20,\"steps\":["
        "{\"kind\":\"export\",\"name\":\"b\",\"connection\":\"files\",\"line\":10,\"settings\":{\"file\":\"fan.ndjson\",\"mode\":{\"ctor\":\"limit\",\"n\":2}}},"
        "{\"kind\":\"import\",\"name\":\"two\",\"connection\":\"files\",\"line\":11,\"settings\":{\"file\":\"two.ndjson\"}}]}]}\n");
    check(!strstr(cap_out, "hunter2"), "describe shows the secret");

    cur_case = "describe-shop";
    rc = run_cli(&shop, NULL, "describe", NULL);
    expect_rc(rc, 0);
    check(strstr(cap_out, "{\"name\":\"vault\",\"kind\":\"sqlite\",\"settings\":{\"path\":\"<redacted>\"}}") != NULL, "vault: %.400s", cap_out);
    check(!strstr(cap_out, "secret-vault"), "describe shows the secret");
    check(strstr(cap_out, "{\"kind\":\"branch\",\"line\":19,\"match\":\"first_match\",\"arms\":[{\"name\":\"big\",\"when\":true,\"steps\":"
                          "[{\"kind\":\"import\",\"name\":\"deals\",\"connection\":\"db\",\"line\":21,\"settings\":{\"table\":\"deals\","
                          "\"mode\":{\"ctor\":\"upsert\",\"key\":\"id\"}}}]},{\"name\":\"rest\",\"when\":false,") != NULL,
          "branch: %.2000s", cap_out);
    cJSON *j = cJSON_Parse(cap_out);
    check(j != NULL, "describe prints valid JSON");
    cJSON_Delete(j);
}

/* ---- the settings table: the checker's type and the runtime's agree on every line ---- */

static void case_settings_table(void) {
    cur_case = "settings-table";
    check(flow_nsetting_specs > 0, "the table is empty");
    for (int i = 0; i < flow_nsetting_specs; i++) {
        const FlowSettingSpec *sp = &flow_setting_specs[i];
        const char *t = sp->ctype;
        int word = starts_with(t, "word:"), ctor = starts_with(t, "ctor:");
        check(word == (sp->type == FLOW_SETT_WORD), "%s %s: type %s but runtime type %d", sp->kind, sp->name, t, (int)sp->type);
        check(ctor == (sp->type == FLOW_SETT_CTOR), "%s %s: type %s but runtime type %d", sp->kind, sp->name, t, (int)sp->type);
        check((strcmp(t, "cond") == 0) == (sp->type == FLOW_SETT_EXPR), "%s %s: only `cond` is evaluated by the connector", sp->kind, sp->name);
        check((strcmp(t, "args") == 0) == (sp->type == FLOW_SETT_ARGS), "%s %s: `args` is an array", sp->kind, sp->name);
        check((strcmp(t, "bool") == 0) == (sp->type == FLOW_SETT_BOOL), "%s %s: `bool` is true or false at run time", sp->kind, sp->name);
        if (strcmp(t, "string") == 0 || strcmp(t, "template") == 0 || strcmp(t, "jsonpath") == 0 || strcmp(t, "sql") == 0 ||
            strcmp(t, "urlpath") == 0)
            check(sp->type == FLOW_SETT_STRING, "%s %s: type %s is a string at run time", sp->kind, sp->name, t);
        if (strcmp(t, "int") == 0 || strcmp(t, "duration") == 0)
            check(sp->type == FLOW_SETT_INT, "%s %s: type %s is a whole number at run time", sp->kind, sp->name, t);
        char choices[200];
        flow_setting_choices(sp, choices, sizeof choices);
        if (word || ctor) check(choices[0] != 0, "%s %s: %s accepts nothing", sp->kind, sp->name, t);
        check(flow_setting_spec(sp->kind, sp->at, sp->name) == sp, "%s %s is listed twice at one place", sp->kind, sp->name);
    }
    const FlowSettingSpec *stop = flow_setting_spec("http", FLOW_AT_EXPORT, "stop");
    check(stop && stop->type == FLOW_SETT_EXPR, "http exports' stop is evaluated by the connector");
    const FlowSettingSpec *mode = flow_setting_spec("file", FLOW_AT_EXPORT, "mode");
    check(mode && flow_setting_accepts(mode, "once") && flow_setting_accepts(mode, "delta") && !flow_setting_accepts(mode, "insert"),
          "file exports' mode takes the mode constructors");
    const FlowSettingSpec *dsn = flow_setting_spec("postgres", FLOW_AT_CONN, "dsn");
    check(dsn && dsn->secret && dsn->required, "postgres dsn is a required secret");
    double lo = 0, hi = 0;
    check(flow_setting_range("page_size", &lo, &hi) && lo == 1 && hi == 10000, "page_size is 1..10000");
    char why[200];
    check(flow_setting_check_range("timeout", "duration", 7200000, why, sizeof why) && strcmp(why, "must be between 1ms and 1h, got 2h") == 0,
          "a 2h timeout is out of range, said in durations");
    check(!flow_setting_check_range("requests_per_second", "number", 0.5, why, sizeof why), "0.5 requests per second is in range");
}

int main(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/flowc-engine-XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    char cwd[4096];
    if (!dir || !getcwd(cwd, sizeof cwd) || chdir(dir) != 0) { perror("tmp"); return 2; }
    mkdir("data", 0755);
    write_file("data/fan.ndjson", fan_ndjson);

    case_settings_table();
    case_orders();
    case_branches();
    case_formats();
    case_failures();
    case_too_large();
    case_lookups();
    case_nested();
    case_many_files();
    case_sqlite();
    case_stdio();
    case_cli();

    free(cap_out);
    free(cap_err);
    if (chdir(cwd) != 0) perror(cwd);
    if (!nfail) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    } else fprintf(stderr, "files kept in %s\n", dir);
    printf("engine: %d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
