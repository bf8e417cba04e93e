/* secrets.c — a workspace's env() secrets encrypted at rest: libsodium secretbox (XSalsa20-Poly1305)
 * under the 32-byte key in DIR/secret.key (0600), a fresh random nonce per value, stored as nonce ||
 * ciphertext in the store's `secrets` table; decrypted only into a run's environment, the plaintext
 * wiped after. */
#define _DEFAULT_SOURCE 1
#include "secrets.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sodium_ready(char *why, size_t cap) {
    if (sodium_init() < 0) { snprintf(why, cap, "libsodium could not start"); return -1; }
    return 0;
}

static void key_path(const char *dir, char *out, size_t cap) { snprintf(out, cap, "%s/%s", dir, SRV_KEY_FILE); }

int srv_key_load(const char *dir, SrvKey *key, char *why, size_t cap) {
    if (sodium_ready(why, cap)) return -1;
    char path[4200];
    key_path(dir, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) { snprintf(why, cap, "cannot open the key file %s: %s", path, strerror(errno)); return -1; }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0) snprintf(why, cap, "cannot read the key file %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) snprintf(why, cap, "the key file %s is not a regular file", path);
    else if (st.st_mode & 077) snprintf(why, cap, "the key file %s can be read by others (mode %04o): make it 0600", path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size != SRV_KEY_BYTES) snprintf(why, cap, "the key file %s is not a key (%lld bytes, not %d)", path, (long long)st.st_size, SRV_KEY_BYTES);
    else if (read(fd, key->k, sizeof key->k) != (ssize_t)sizeof key->k) snprintf(why, cap, "cannot read the key file %s: %s", path, strerror(errno));
    else rc = 0;
    close(fd);
    if (rc) srv_key_wipe(key);
    return rc;
}

void srv_key_wipe(SrvKey *key) { sodium_memzero(key->k, sizeof key->k); }

int srv_key_bind(FlowDb *db, const SrvKey *key, char *why, size_t cap) {
    if (sodium_ready(why, cap)) return -1;
    static const char label[] = "flowc workspace key id\n";
    unsigned char h[crypto_hash_sha256_BYTES], in[sizeof label - 1 + SRV_KEY_BYTES];
    memcpy(in, label, sizeof label - 1);
    memcpy(in + sizeof label - 1, key->k, SRV_KEY_BYTES);
    crypto_hash_sha256(h, in, sizeof in);
    sodium_memzero(in, sizeof in);
    char id[2 * sizeof h + 1];
    sodium_bin2hex(id, sizeof id, h, sizeof h);
    FlowDbStmt *s = flow_db_prepare(db, "INSERT INTO meta(key, value) VALUES('key_id', ?) ON CONFLICT(key) DO NOTHING");
    if (s) flow_db_bind_text(s, 1, id);
    if (flow_db_run(s)) { snprintf(why, cap, "the store: %s", flow_db_error(db)); return -1; }
    s = flow_db_prepare(db, "SELECT value FROM meta WHERE key = 'key_id'");
    int r = s ? flow_db_step(s) : -1, same = r == FLOW_DB_ROW && flow_db_column_text(s, 0) && strcmp(flow_db_column_text(s, 0), id) == 0;
    flow_db_finalize(s);
    if (r != FLOW_DB_ROW) { snprintf(why, cap, "the store: %s", flow_db_error(db)); return -1; }
    if (!same) {
        snprintf(why, cap, "%s is not this workspace's key (the store's secrets were encrypted under another): copy secret.key from the "
                 "workspace directory `flowc server init` made", SRV_KEY_FILE);
        return -1;
    }
    return 0;
}

int srv_secrets_schema(FlowDb *db, char *why, size_t cap) {
    return flow_db_schema(db,
                      "CREATE TABLE IF NOT EXISTS secrets (integration TEXT NOT NULL, name TEXT NOT NULL, connection TEXT NOT NULL,"
                      "  box {blob} NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY (integration, name));",
                      "secrets", why, cap);
}

static int store_fail(FlowDb *db, FlowDbStmt *s, const char *what, char *why, size_t cap) {
    snprintf(why, cap, "the store: %s: %s", what, flow_db_error(db));
    flow_db_finalize(s);
    return -1;
}

int srv_secret_put(FlowDb *db, const SrvKey *key, const char *integration, const char *conn, const char *name,
                   const char *value, size_t len, long long now_ms, char *why, size_t cap) {
    if (sodium_ready(why, cap)) return -1;
    if (len > SRV_SECRET_MAX) { snprintf(why, cap, "a secret's value is at most %d bytes", SRV_SECRET_MAX); return -1; }
    size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *box = malloc(blen);
    if (!box) abort();
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)value, len, box, key->k);
    FlowDbStmt *s = NULL;
    int rc = 0;
    if ((s = flow_db_prepare(db, "INSERT INTO secrets (integration, name, connection, box, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
                               " ON CONFLICT (integration, name) DO UPDATE SET connection = ?3, box = ?4, updated_ms = ?5")) == NULL)
        rc = store_fail(db, s, "set a secret", why, cap);
    else {
        flow_db_bind_text(s, 1, integration);
        flow_db_bind_text(s, 2, name);
        flow_db_bind_text(s, 3, conn);
        flow_db_bind_blob(s, 4, box, blen);
        flow_db_bind_int64(s, 5, now_ms);
        if (flow_db_step(s) != FLOW_DB_DONE) rc = store_fail(db, s, "set a secret", why, cap), s = NULL;
        flow_db_finalize(s);
    }
    free(box);
    return rc;
}

int srv_secret_delete(FlowDb *db, const char *integration, const char *name, char *why, size_t cap) {
    FlowDbStmt *s = NULL;
    if ((s = flow_db_prepare(db, name ? "DELETE FROM secrets WHERE integration = ?1 AND name = ?2" : "DELETE FROM secrets WHERE integration = ?1")) == NULL)
        return store_fail(db, s, "remove secrets", why, cap);
    flow_db_bind_text(s, 1, integration);
    if (name) flow_db_bind_text(s, 2, name);
    if (flow_db_step(s) != FLOW_DB_DONE) return store_fail(db, s, "remove secrets", why, cap);
    int n = (int)flow_db_changes(s);
    flow_db_finalize(s);
    return n;
}

cJSON *srv_secret_names(FlowDb *db, const char *integration, char *why, size_t cap) {
    FlowDbStmt *s = NULL;
    if ((s = flow_db_prepare(db, "SELECT name, connection, updated_ms FROM secrets WHERE integration = ?1 ORDER BY name")) == NULL) {
        store_fail(db, s, "list secrets", why, cap);
        return NULL;
    }
    flow_db_bind_text(s, 1, integration);
    cJSON *arr = cJSON_CreateArray();
    int r;
    while ((r = flow_db_step(s)) == FLOW_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", flow_db_column_text(s, 0));
        cJSON_AddStringToObject(o, "connection", flow_db_column_text(s, 1));
        cJSON_AddNumberToObject(o, "updated_ms", (double)flow_db_column_int64(s, 2));
        cJSON_AddItemToArray(arr, o);
    }
    if (r != FLOW_DB_DONE) { cJSON_Delete(arr); store_fail(db, s, "list secrets", why, cap); return NULL; }
    flow_db_finalize(s);
    return arr;
}

void srv_secret_env_free(char **env) {
    for (size_t i = 0; env && env[i]; i++) {
        sodium_memzero(env[i], strlen(env[i]));
        free(env[i]);
    }
    free(env);
}

#define STATE_DB_VAR "FLOW_STATE_DB"

/* whether an environment entry (or a secret's NAME=) is FLOW_STATE_DB's: only the server sets it */
static int is_state_db(const char *entry) {
    size_t n = strlen(STATE_DB_VAR);
    return strncmp(entry, STATE_DB_VAR, n) == 0 && entry[n] == '=';
}

char **srv_secret_env(FlowDb *db, const SrvKey *key, const char *integration, const char *state_db, char *const *base, char *why, size_t cap) {
    if (sodium_ready(why, cap)) return NULL;
    FlowDbStmt *s = NULL;
    if ((s = flow_db_prepare(db, "SELECT name, box FROM secrets WHERE integration = ?1 ORDER BY name")) == NULL) {
        store_fail(db, s, "read secrets", why, cap);
        return NULL;
    }
    flow_db_bind_text(s, 1, integration);
    size_t nbase = 0;
    while (base && base[nbase]) nbase++;
    size_t n = 0, have = nbase + 8;
    char **env = calloc(have + 1, sizeof *env);
    char **mine = calloc(8, sizeof *mine);   /* the secrets' NAME= prefixes, to leave base's out */
    size_t nmine = 0, havemine = 8;
    if (!env || !mine) abort();
    if (state_db && flow_db_is_postgres(state_db)) {   /* the runs' state in the store's database (never on argv) */
        size_t len = strlen(STATE_DB_VAR) + 1 + strlen(state_db) + 1;
        if (!(env[n] = malloc(len))) abort();
        snprintf(env[n++], len, "%s=%s", STATE_DB_VAR, state_db);
    }
    int r, rc = 0;
    while ((r = flow_db_step(s)) == FLOW_DB_ROW) {
        const char *name = flow_db_column_text(s, 0);
        const unsigned char *box = flow_db_column_blob(s, 1);
        size_t blen = (size_t)flow_db_column_bytes(s, 1);
        if (blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) { snprintf(why, cap, "secret %s: the stored value is damaged", name); rc = -1; break; }
        size_t plen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, nl = strlen(name);
        char *entry = malloc(nl + 1 + plen + 1);
        if (!entry) abort();
        memcpy(entry, name, nl);
        entry[nl] = '=';
        if (crypto_secretbox_open_easy((unsigned char *)entry + nl + 1, box + crypto_secretbox_NONCEBYTES, blen - crypto_secretbox_NONCEBYTES,
                                       box, key->k) != 0) {
            free(entry);
            snprintf(why, cap, "secret %s of %s does not decrypt with this workspace's key (%s)", name, integration, SRV_KEY_FILE);
            rc = -1;
            break;
        }
        entry[nl + 1 + plen] = 0;
        if (memchr(entry + nl + 1, 0, plen)) {   /* an environment value cannot hold NUL */
            sodium_memzero(entry, nl + 1 + plen);
            free(entry);
            snprintf(why, cap, "secret %s holds a NUL byte, which an environment variable cannot", name);
            rc = -1;
            break;
        }
        if (is_state_db(entry)) {   /* the server's to set */
            sodium_memzero(entry, nl + 1 + plen);
            free(entry);
            continue;
        }
        if (n + 1 >= have) { env = realloc(env, (have *= 2) * sizeof *env); if (!env) abort(); }
        env[n++] = entry;
        if (nmine == havemine) { mine = realloc(mine, (havemine *= 2) * sizeof *mine); if (!mine) abort(); }
        mine[nmine++] = entry;
    }
    if (!rc && r != FLOW_DB_DONE) { store_fail(db, s, "read secrets", why, cap); s = NULL; rc = -1; }
    flow_db_finalize(s);
    for (size_t i = 0; !rc && i < nbase; i++) {
        const char *eq = strchr(base[i], '=');
        size_t nl = eq ? (size_t)(eq - base[i]) : strlen(base[i]);
        int shadowed = 0;
        for (size_t k = 0; k < nmine && !shadowed; k++) shadowed = strncmp(mine[k], base[i], nl) == 0 && mine[k][nl] == '=';
        if (shadowed || is_state_db(base[i])) continue;
        if (n + 1 >= have) { env = realloc(env, (have *= 2) * sizeof *env); if (!env) abort(); }
        env[n] = strdup(base[i]);
        if (!env[n++]) abort();
    }
    free(mine);
    env[n] = NULL;
    if (rc) { srv_secret_env_free(env); return NULL; }
    return env;
}
