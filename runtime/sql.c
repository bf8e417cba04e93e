/* sql.c — SQL text shared by the sqlite and postgres connectors: quoted identifiers, the table an
 * export's query reads, the UPDATE that sets a once() flag, and result columns' names as keys. */
#include "engine.h"
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void flow_sql_ident(FlowSb *b, const char *s) {
    flow_sb_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"') flow_sb_put(b, "\"\"", 2);
        else flow_sb_put(b, p, 1);
    }
    flow_sb_put(b, "\"", 1);
}

char *flow_sql_from_table(const char *sql) {
    for (const char *p = sql; *p; p++) {
        if (strncasecmp(p, "from", 4) != 0 || (p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) continue;
        const char *q = p + 4;
        if (!isspace((unsigned char)*q)) continue;
        while (isspace((unsigned char)*q)) q++;
        const char *b = q;
        if (*q == '"') { q = strchr(q + 1, '"'); if (!q) return NULL; return strndup(b + 1, (size_t)(q - b - 1)); }
        while (isalnum((unsigned char)*q) || *q == '_' || *q == '.') q++;
        return q > b ? strndup(b, (size_t)(q - b)) : NULL;
    }
    return NULL;
}

char *flow_sql_once_update(const char *sql, const cJSON *marks, const char *true_text, const char *param, const char **key,
                           FlowErr *err) {
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(marks ? marks->child : NULL, "mode");
    const char *flag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mode, "flag"));
    *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mode, "key"));
    if (!*key) *key = "id";
    char *table = flow_sql_from_table(sql ? sql : "");
    if (!table || !flag) {
        free(table);
        flow_err_set(err, FLOW_ERR_VALUE, "once(): cannot tell which table the sql reads (it needs `from TABLE`)");
        return NULL;
    }
    FlowSb b = { 0 };
    flow_sb_puts(&b, "UPDATE ");
    flow_sql_ident(&b, table);
    flow_sb_puts(&b, " SET ");
    flow_sql_ident(&b, flag);
    flow_sb_puts(&b, " = ");
    flow_sb_puts(&b, true_text);
    flow_sb_puts(&b, " WHERE ");
    flow_sql_ident(&b, *key);
    flow_sb_puts(&b, " = ");
    flow_sb_puts(&b, param);
    free(table);
    return flow_sb_take(&b);
}

int flow_sql_import_target(const FlowSettings *s, char **table, char **key, FlowErr *err) {
    *table = *key = NULL;
    const char *t = flow_setting_str(s, NULL, "table", NULL);
    if (!t || !t[0]) {
        flow_err_set(err, FLOW_ERR_VALUE, "table must be a constant name");
        return -1;
    }
    if (strcmp(flow_setting_ctor(s, NULL, "mode", "insert"), "upsert") == 0) {
        const cJSON *m = flow_setting(s, NULL, "mode");
        const cJSON *k = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "key") : NULL;
        if (!cJSON_IsString(k) || !k->valuestring[0]) {
            flow_err_set(err, FLOW_ERR_VALUE, "upsert needs a key: mode = upsert(key = \"id\")");
            return -1;
        }
        *key = flow_xstrdup(k->valuestring);
    }
    *table = flow_xstrdup(t);
    return 0;
}

/* the interned names: open addressing, never freed (reachable until the process ends) */
#define SQL_KEYS_CAP 8192      /* slots; at most half of them are used */
static const char *sql_keys[SQL_KEYS_CAP];
static int sql_nkeys;
static pthread_mutex_t sql_keys_mu = PTHREAD_MUTEX_INITIALIZER;

const char *flow_sql_key(const char *name) {
    unsigned h = 2166136261u;
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    const char *out = NULL;
    pthread_mutex_lock(&sql_keys_mu);
    for (unsigned i = h & (SQL_KEYS_CAP - 1);; i = (i + 1) & (SQL_KEYS_CAP - 1)) {
        if (!sql_keys[i]) {
            if (sql_nkeys < SQL_KEYS_CAP / 2) {
                sql_keys[i] = out = flow_xstrdup(name);
                sql_nkeys++;
            }
            break;
        }
        if (strcmp(sql_keys[i], name) == 0) { out = sql_keys[i]; break; }
    }
    pthread_mutex_unlock(&sql_keys_mu);
    return out;
}
