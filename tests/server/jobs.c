/* tests/server/jobs.c — unit test of the control plane's secrets (server/secrets.c), build cache
 * (server/build_cache.c) and jobs (server/jobs.c) without the router, over a real SQLite store and
 * real child processes. Usage: server_jobs WORKSPACE FLOWC SECRET
 *   WORKSPACE  an empty directory (the suite greps it for SECRET afterwards)
 *   FLOWC      the flowc that builds revisions
 *   SECRET     the secret value set for env("API_TOKEN"); records whose token equals it are imported
 * Prints `N passed, N failed`; exit 1 on a failure. */
#define _DEFAULT_SOURCE 1
#include "../unit/check.h"
#include "build_cache.h"
#include "jobs.h"
#include "secrets.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *FLOW_TEXT =
    "integration \"shop\" version \"1\"\n"
    "connection data = file { dir = \"data\" }\n"
    "\n"
    "flow push {\n"
    "  schedule = manual()\n"
    "  export items from data { file = \"in.ndjson\" }\n"
    "  filter record.token == env(\"API_TOKEN\")\n"
    "  import kept into data { file = \"out.ndjson\", map { id = record.id } }\n"
    "}\n";

/* 25 pages of one record, 400 ms each: running long enough to be killed or canceled */
static const char *SLOW_TEXT =
    "integration \"slow\" version \"1\"\n"
    "param base: string = \"%s\"\n"
    "connection api = http { base_url = param.base, timeout = 30s }\n"
    "connection out = file { dir = \"out\" }\n"
    "\n"
    "flow pages {\n"
    "  schedule = manual()\n"
    "  export rows from api {\n"
    "    path = \"/pages/number\"\n"
    "    query = { per_page: page.size, delay_ms: 400 }\n"
    "    records = \"$.data\"\n"
    "    paginate = page_number()\n"
    "    page_size = 1\n"
    "  }\n"
    "  import copy into out { file = \"rows.ndjson\" }\n"
    "}\n";

static const char *str(const cJSON *o, const char *k) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)); }
static double num(const cJSON *o, const char *k) { return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

static long job_id(const cJSON *j) { const char *s = j ? str(j, "id") : NULL; return s ? atol(s) : -1; }

/* the process id of job id once its process has started (the store's jobs.pid; up to 60 s), or 0 */
static long job_pid(const char *spec, long id) {
    char why[600];
    long pid = 0;
    for (int i = 0; i < 600 && !pid; i++) {
        usleep(100000);
        FlowDb *d2 = flow_db_open(spec, 0, why, sizeof why);
        FlowDbStmt *s = d2 ? flow_db_prepare(d2, "SELECT pid FROM jobs WHERE id = ?1") : NULL;
        if (s) flow_db_bind_int64(s, 1, id);
        if (s && flow_db_step(s) == FLOW_DB_ROW) pid = (long)flow_db_column_int64(s, 0);
        flow_db_finalize(s);
        flow_db_close(d2);
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: server_jobs WORKSPACE FLOWC SECRET BASE\n"); return 2; }
    const char *ws = argv[1], *flowc = argv[2], *secret = argv[3];
    char slow[4096];
    snprintf(slow, sizeof slow, SLOW_TEXT, argv[4]);
    char why[2048], path[4200];

    cur_case = "key";
    /* the key as `flowc server init` makes it: 32 random bytes, 0600 */
    snprintf(path, sizeof path, "%s/secret.key", ws);
    unsigned char raw[32];
    FILE *rf = fopen("/dev/urandom", "rb"), *kf = fopen(path, "wb");
    check(rf && kf && fread(raw, 1, 32, rf) == 32 && fwrite(raw, 1, 32, kf) == 32, "write a key");
    if (rf) fclose(rf);
    if (kf) fclose(kf);
    struct stat st;
    check(stat(path, &st) == 0 && st.st_size == 32, "size %lld", (long long)st.st_size);
    SrvKey key;
    chmod(path, 0644);
    check(srv_key_load(ws, &key, why, sizeof why) < 0 && strstr(why, "0600"), "a key others can read must be refused: %s", why);
    chmod(path, 0600);
    check(srv_key_load(ws, &key, why, sizeof why) == 0, "load: %s", why);
    SrvKey short_key;
    truncate(path, 16);
    check(srv_key_load(ws, &short_key, why, sizeof why) < 0 && strstr(why, "not a key"), "a short key file must be refused: %s", why);

    cur_case = "secrets";
    snprintf(path, sizeof path, "%s/store.db", ws);
    FlowDb *db = flow_db_open(path, 1, why, sizeof why);
    check(db != NULL, "open the store: %s", why);
    check(srv_secrets_schema(db, why, sizeof why) == 0, "schema: %s", why);
    check(srv_secret_put(db, &key, "shop", "data", "API_TOKEN", "first", 5, 1, why, sizeof why) == 0, "put: %s", why);
    check(srv_secret_put(db, &key, "shop", "data", "API_TOKEN", secret, strlen(secret), 2, why, sizeof why) == 0, "put again: %s", why);
    cJSON *names = srv_secret_names(db, "shop", why, sizeof why);
    char *nt = cJSON_PrintUnformatted(names);
    check(names && cJSON_GetArraySize(names) == 1 && strcmp(str(names->child, "name"), "API_TOKEN") == 0 && !strstr(nt, secret),
          "names: %s", nt);
    cJSON_free(nt);
    cJSON_Delete(names);
    char *base[] = { "PATH=/usr/bin", "API_TOKEN=from-the-server-environment", "FLOW_STATE_DB=host=elsewhere dbname=x", NULL };
    char **env = srv_secret_env(db, &key, "shop", "/ws/store.db", base, why, sizeof why);   /* (a SQLite store: no FLOW_STATE_DB) */
    int found = 0, shadow = 0, n = 0;
    for (int i = 0; env && env[i]; i++, n++) {
        if (strncmp(env[i], "API_TOKEN=", 10) == 0 && strcmp(env[i] + 10, secret) == 0) found++;
        if (strcmp(env[i], "API_TOKEN=from-the-server-environment") == 0) shadow++;
    }
    check(env && found == 1 && !shadow && n == 2, "env: the secret once, in place of the server's own (found %d, shadow %d, n %d): %s", found,
          shadow, n, env ? "" : why);
    srv_secret_env_free(env);
    /* a PostgreSQL store: its DSN as FLOW_STATE_DB, once, whatever the server's environment says */
    env = srv_secret_env(db, &key, "shop", "host=h dbname=d password=pw", base, why, sizeof why);
    int sdb = 0;
    n = 0;
    for (int i = 0; env && env[i]; i++, n++) sdb += strncmp(env[i], "FLOW_STATE_DB=", 14) == 0 && strcmp(env[i] + 14, "host=h dbname=d password=pw") == 0;
    check(env && sdb == 1 && n == 3, "env on a PostgreSQL store: FLOW_STATE_DB %d, n %d", sdb, n);
    srv_secret_env_free(env);
    SrvKey other;
    memset(&other, 7, sizeof other);
    env = srv_secret_env(db, &other, "shop", NULL, base, why, sizeof why);
    check(!env && strstr(why, "does not decrypt") && !strstr(why, secret), "another key must not decrypt: %s", why);
    srv_secret_env_free(env);
    check(srv_secret_put(db, &key, "other", "c", "X", "x", 1, 3, why, sizeof why) == 0 && srv_secret_delete(db, "other", NULL, why, sizeof why) == 1,
          "delete: %s", why);
    flow_db_close(db);

    cur_case = "build-cache";
    char h1[SRV_HASH_LEN + 1], h2[SRV_HASH_LEN + 1], exe[4400];
    int built = 0;
    check(srv_build_put(ws, NULL, FLOW_TEXT, strlen(FLOW_TEXT), h1, why, sizeof why) == 0, "put: %s", why);
    check(srv_build_put(ws, NULL, FLOW_TEXT, strlen(FLOW_TEXT), h2, why, sizeof why) == 0 && strcmp(h1, h2) == 0, "the same text, the same hash");
    check(srv_build_get(ws, flowc, h1, exe, sizeof exe, &built, why, sizeof why) == 0 && built == 1, "build: %s", why);
    check(srv_build_get(ws, flowc, h1, exe, sizeof exe, &built, why, sizeof why) == 0 && built == 0, "cached: built %d", built);
    const char *broken = "flow {";
    check(srv_build_put(ws, NULL, broken, strlen(broken), h2, why, sizeof why) == 0 && strcmp(h1, h2) != 0, "another text, another hash");
    check(srv_build_get(ws, flowc, h2, exe, sizeof exe, &built, why, sizeof why) < 0 && strstr(why, "build of revision"), "a failed build says so: %s", why);
    check(srv_build_get(ws, flowc, "../../etc", exe, sizeof exe, &built, why, sizeof why) < 0, "not a hash");

    cur_case = "jobs";
    snprintf(path, sizeof path, "%s/work", ws);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/work/shop", ws);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/work/shop/data", ws);
    mkdir(path, 0700);
    char rec[8192];
    snprintf(rec, sizeof rec, "{\"id\":1,\"token\":\"%s\"}\n{\"id\":2,\"token\":\"nope\"}\n{\"id\":3,\"token\":\"%s\"}\n", secret, secret);
    snprintf(path, sizeof path, "%s/work/shop/data/in.ndjson", ws);
    write_file(path, rec);
    snprintf(path, sizeof path, "%s/store.db", ws);
    SrvJobsConfig cfg = { ws, path, &key, flowc, "test", "test-place", 2, stderr, 0 };
    SrvJobs *J = srv_jobs_start(&cfg, why, sizeof why);
    check(J != NULL, "start: %s", why);
    if (!J) goto out;
    int code = 0;
    SrvJobReq rq = { .integration = "shop", .flow = "push", .kind = "run", .source = FLOW_TEXT, .source_len = strlen(FLOW_TEXT) };
    rq.since = "yesterday";
    check(!srv_job_create(J, &rq, &code, why, sizeof why) && code == 400 && strstr(why, "since"), "a bad since: %d %s", code, why);
    rq.since = "2026-01-02T00:00:00Z";
    rq.until = "2026-01-01T00:00:00Z";
    check(!srv_job_create(J, &rq, &code, why, sizeof why) && code == 400 && strstr(why, "window"), "an inverted window: %d %s", code, why);
    rq.since = rq.until = NULL;
    cJSON *j = srv_job_create(J, &rq, &code, why, sizeof why);
    check(j && (strcmp(str(j, "status"), "queued") == 0 || strcmp(str(j, "status"), "running") == 0), "created: %s", why);
    long id = job_id(j);
    cJSON_Delete(j);
    j = srv_job_wait(J, id, 60000, &code, why, sizeof why);
    char *jt = j ? cJSON_PrintUnformatted(j) : NULL;
    check(j && strcmp(str(j, "status"), "completed") == 0 && num(j, "exported") == 3 && num(j, "ignored") == 1
              && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "imported"), "kept")) == 2,
          "the run: the secret reached it (2 of 3 records kept): %s", jt ? jt : why);
    check(jt && !strstr(jt, secret), "the job shows no secret");
    check(j && str(j, "run_id") && strcmp(str(j, "run_id"), "job-1") == 0, "its run id names the job");
    cJSON_free(jt);
    cJSON_Delete(j);
    /* a job whose process is killed (kill -9, as a crash): failed, and the server goes on */
    SrvJobReq sq = { .integration = "slow", .flow = "pages", .kind = "run", .source = slow, .source_len = strlen(slow) };
    j = srv_job_create(J, &sq, &code, why, sizeof why);
    long id2 = job_id(j);
    cJSON_Delete(j);
    long pid = job_pid(cfg.db_spec, id2);
    check(pid > 0, "the job's process id is recorded");
    /* a second job of the same flow waits for the first */
    cJSON *j3 = srv_job_create(J, &sq, &code, why, sizeof why);
    long id3 = job_id(j3);
    cJSON_Delete(j3);
    usleep(300000);
    j3 = srv_job_get(J, id3, &code, why, sizeof why);
    check(j3 && strcmp(str(j3, "status"), "queued") == 0, "one job of a flow at a time: %s", j3 ? str(j3, "status") : why);
    cJSON_Delete(j3);
    if (pid > 0) kill((pid_t)pid, SIGKILL);
    j = srv_job_wait(J, id2, 30000, &code, why, sizeof why);
    check(j && strcmp(str(j, "status"), "failed") == 0 && strstr(str(j, "message"), "crashed"), "a killed run is a failed job: %s %s",
          j ? str(j, "status") : why, j ? str(j, "message") : "");
    cJSON_Delete(j);
    /* the third now runs: cancel it once its process has started (running is set at the claim, before
     * the build); it stops at its next page */
    check(job_pid(cfg.db_spec, id3) > 0, "the third job's process started");
    j3 = srv_job_cancel(J, id3, &code, why, sizeof why);
    check(j3 != NULL, "cancel: %s", why);
    cJSON_Delete(j3);
    j3 = srv_job_wait(J, id3, 30000, &code, why, sizeof why);
    check(j3 && strcmp(str(j3, "status"), "canceled") == 0 && strstr(str(j3, "message"), "safe point"), "canceled: %s %s", j3 ? str(j3, "status") : why, j3 ? str(j3, "message") : "");
    cJSON_Delete(j3);
    check(!srv_job_cancel(J, id3, &code, why, sizeof why) && code == 409, "cancel an ended job: 409, got %d", code);
    check(!srv_job_get(J, 999, &code, why, sizeof why) && code == 404, "no such job: 404");
    cJSON *l = srv_jobs_list(J, "slow", "pages", "failed", 0, 0, 10, &code, why, sizeof why);
    check(l && cJSON_GetArraySize(l) == 1 && job_id(l->child) == id2, "list by status");
    cJSON_Delete(l);
    l = srv_jobs_list(J, NULL, NULL, "bogus", 0, 0, 10, &code, why, sizeof why);
    check(!l && code == 400, "a bad status filter: 400");
    l = srv_jobs_list(J, NULL, NULL, NULL, 0, id3, 10, &code, why, sizeof why);
    check(l && cJSON_GetArraySize(l) == 2 && job_id(l->child) == id2, "paging: before an id");
    cJSON_Delete(l);
    srv_jobs_stop(J);
out:
    srv_key_wipe(&key);
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
