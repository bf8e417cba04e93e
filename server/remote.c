/* remote.c — `flowc remote URL [--token T] RESOURCE ACTION [ARGS...]`: the API of `flowc server` from
 * the command line (libcurl), so scripts need not hand-write curl. Each command is one request (a list
 * follows its Link rel="next" pages and prints them as one array); the answer's JSON is printed on
 * stdout; an error answer prints `flowc remote: STATUS CODE: MESSAGE` per error on stderr and exits
 * 1. The token comes from --token (wiped from the command line) or $FLOWC_TOKEN. */
#define _GNU_SOURCE 1   /* memmem, strncasecmp */
#include "remote.h"
#include "engine.h"   /* FlowSb, the JSON reader and printer */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct Remote { const char *base; char *token; } Remote;
typedef struct Answer { long status; FlowSb body; char *next; } Answer;

static int usage(const char *why) {
    if (why) fprintf(stderr, "flowc remote: %s\n", why);
    fprintf(stderr,
            "usage: flowc remote URL [--token T] integrations list|get ID|create FILE|put ID FILE|delete ID\n"
            "       flowc remote URL [--token T] flows list|get ID|run ID [--since T] [--until T] [--wait]\n"
            "       flowc remote URL [--token T] jobs list [--flow ID] [--status S]|get ID|cancel ID|wait ID\n"
            "       flowc remote URL [--token T] errors list FLOW STEP [--resolved]|resolve FLOW STEP ID...|retry FLOW STEP [ID...] [--wait]\n"
            "       flowc remote URL [--token T] connections list|get ID|test ID [--timeout S]|debug ID [--minutes N]\n"
            "       flowc remote URL [--token T] tokens list|create NAME [--scope JSON] [--expires D]|revoke ID\n"
            "       flowc remote URL [--token T] audit [--resource ID] [--from T] [--to T]\n"
            "  the token: --token T or $FLOWC_TOKEN\n");
    return 2;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    flow_sb_put(&((Answer *)ud)->body, p, size * n);
    return size * n;
}

/* the Link header's rel="next" target */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    Answer *a = ud;
    size_t len = size * n;
    if (len > 5 && strncasecmp(p, "Link:", 5) == 0 && memmem(p, len, "rel=\"next\"", 10)) {
        const char *lt = memchr(p, '<', len), *gt = lt ? memchr(lt, '>', len - (size_t)(lt - p)) : NULL;
        if (lt && gt) { free(a->next); a->next = strndup(lt + 1, (size_t)(gt - lt - 1)); }
    }
    return len;
}

static void answer_free(Answer *a) { free(a->body.p); free(a->next); memset(a, 0, sizeof *a); }

/* one request: path (with its query) under the URL; body with its type, or NULL. 0 with a, or -1
 * after saying why (the server could not be reached) */
static int request(const Remote *r, const char *method, const char *path, const char *body, size_t blen, const char *ctype, Answer *a) {
    memset(a, 0, sizeof *a);
    CURL *c = curl_easy_init();
    if (!c) { fprintf(stderr, "flowc remote: libcurl could not start\n"); return -1; }
    FlowSb url = { NULL, 0, 0 };
    flow_sb_puts(&url, r->base);
    while (url.n && url.p[url.n - 1] == '/') url.n--;
    flow_sb_puts(&url, path);
    struct curl_slist *h = NULL;
    char auth[300];
    if (r->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %.250s", r->token);
        h = curl_slist_append(h, auth);
    }
    char ct[120];
    if (ctype) { snprintf(ct, sizeof ct, "Content-Type: %s", ctype); h = curl_slist_append(h, ct); }
    curl_easy_setopt(c, CURLOPT_URL, url.p);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    else fprintf(stderr, "flowc remote: %s %s: %s\n", method, url.p, curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url.p);
    flow_sb_put(&a->body, "", 0);
    if (a->body.p) a->body.p[a->body.n] = 0;
    if (rc != CURLE_OK) answer_free(a);
    return rc == CURLE_OK ? 0 : -1;
}

/* an error answer on stderr: 1 */
static int refused(const Answer *a) {
    cJSON *j = a->body.p ? flow_json_parse(a->body.p, a->body.n, NULL) : NULL;
    cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    int any = 0;
    for (const cJSON *e = cJSON_IsArray(errs) ? errs->child : NULL; e; e = e->next, any = 1) {
        const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
        fprintf(stderr, "flowc remote: %ld %s: %s%s%s\n", a->status, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")),
                f ? f : "", f ? ": " : "", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")));
    }
    if (!any) fprintf(stderr, "flowc remote: %ld: %.300s\n", a->status, a->body.p ? a->body.p : "");
    cJSON_Delete(j);
    return 1;
}

static int print_json_text(const char *text, size_t n) {
    cJSON *j = flow_json_parse(text, n, NULL);
    char *t = j ? flow_json_print_pretty(j) : NULL;
    if (t) printf("%s\n", t);
    else if (n) printf("%s\n", text);
    cJSON_free(t);
    cJSON_Delete(j);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* one request, its answer printed: 0, 1 */
static int call(const Remote *r, const char *method, const char *path, const char *body, size_t blen, const char *ctype, cJSON **keep) {
    Answer a;
    if (request(r, method, path, body, blen, ctype, &a)) return 1;
    int rc = a.status >= 200 && a.status < 300 ? 0 : refused(&a);
    if (!rc && keep) *keep = flow_json_parse(a.body.p ? a.body.p : "", a.body.n, NULL);
    else if (!rc) rc = print_json_text(a.body.p ? a.body.p : "", a.body.n);
    answer_free(&a);
    return rc;
}

/* a list, every page (Link rel="next"), printed as one array */
static int list(const Remote *r, const char *path) {
    cJSON *all = cJSON_CreateArray();
    char *p = strdup(path);
    int rc = 0;
    for (int pages = 0; p && pages < 10000; pages++) {
        Answer a;
        if (request(r, "GET", p, NULL, 0, NULL, &a)) { rc = 1; break; }
        if (a.status != 200) { rc = refused(&a); answer_free(&a); break; }
        cJSON *j = flow_json_parse(a.body.p ? a.body.p : "", a.body.n, NULL);
        while (cJSON_IsArray(j) && j->child) cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(j, j->child));
        cJSON_Delete(j);
        free(p);
        p = a.next;   /* a path under the server */
        a.next = NULL;
        answer_free(&a);
    }
    free(p);
    if (!rc) {
        char *t = flow_json_print_pretty(all);
        printf("%s\n", t ? t : "[]");
        cJSON_free(t);
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
    cJSON_Delete(all);
    return rc;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    FlowSb b = { NULL, 0, 0 };
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) flow_sb_put(&b, buf, n);
    if (f != stdin) fclose(f);
    flow_sb_put(&b, "", 0);
    *len = b.n;
    return b.p ? b.p : strdup("");
}

/* a path segment or query value, percent-encoded */
static char *enc(const char *s) {
    char *e = curl_easy_escape(NULL, s, 0);
    char *d = strdup(e ? e : "");
    curl_free(e);
    return d;
}

/* --name VALUE among args[from..]: the value, or NULL; *used marks it taken */
static const char *opt(int argc, char **argv, int from, const char *name, int *taken) {
    for (int i = from; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) { taken[i] = taken[i + 1] = 1; return argv[i + 1]; }
    return NULL;
}

static int flag(int argc, char **argv, int from, const char *name, int *taken) {
    for (int i = from; i < argc; i++) if (strcmp(argv[i], name) == 0) { taken[i] = 1; return 1; }
    return 0;
}

/* waits for a job to end, printing it then: 0 completed, 1 otherwise */
static int wait_job(const Remote *r, const char *id) {
    char *e = enc(id), path[400];
    snprintf(path, sizeof path, "/v1/jobs/%s", e);
    free(e);
    for (;;) {
        cJSON *j = NULL;
        if (call(r, "GET", path, NULL, 0, NULL, &j)) return 1;
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
        if (st && strcmp(st, "queued") && strcmp(st, "running")) {
            char *t = flow_json_print_pretty(j);
            printf("%s\n", t ? t : "null");
            cJSON_free(t);
            int ok = strcmp(st, "completed") == 0;
            if (!ok) fprintf(stderr, "flowc remote: job %s %s: %s\n", id, st, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message")));
            cJSON_Delete(j);
            return fflush(stdout) == 0 && ok ? 0 : 1;
        }
        cJSON_Delete(j);
        usleep(200000);
    }
}

/* POSTs and, with wait, waits for the job it answers */
static int start_job(const Remote *r, const char *path, const char *body, int wait) {
    if (!wait) return call(r, "POST", path, body, body ? strlen(body) : 0, body ? "application/json" : NULL, NULL);
    cJSON *j = NULL;
    if (call(r, "POST", path, body, body ? strlen(body) : 0, body ? "application/json" : NULL, &j)) return 1;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
    int rc = id ? wait_job(r, id) : 1;
    cJSON_Delete(j);
    return rc;
}

static int dispatch(const Remote *r, int argc, char **argv, int *taken) {
    /* argv[0] RESOURCE, argv[1] ACTION, ... */
    const char *res = argv[0], *act = argc > 1 ? argv[1] : "list";
    char path[4096];
    int rc = -1;
    if (!strcmp(res, "audit")) {
        FlowSb q = { NULL, 0, 0 };
        flow_sb_puts(&q, "/v1/audit?");
        static const char *const fs[] = { "--resource", "--from", "--to" };
        for (int i = 0; i < 3; i++) {
            const char *v = opt(argc, argv, 1, fs[i], taken);
            if (!v) continue;
            char *e = enc(v);
            flow_sb_puts(&q, fs[i] + 2);
            flow_sb_puts(&q, "=");
            flow_sb_puts(&q, e);
            flow_sb_puts(&q, "&");
            free(e);
        }
        q.p[--q.n] = 0;
        taken[0] = 1;
        if (argc > 1 && !strcmp(argv[1], "list")) taken[1] = 1;
        for (int i = 0; i < argc; i++) if (!taken[i]) { free(q.p); return usage("audit takes --resource, --from, --to"); }
        rc = list(r, q.p);
        free(q.p);
        return rc;
    }
    taken[0] = taken[1] = 1;
    char *a2 = argc > 2 ? enc(argv[2]) : NULL;
    if (!strcmp(res, "integrations") || !strcmp(res, "flows")) {
        const char *plural = res;
        if (!strcmp(act, "list") && argc == 2) { snprintf(path, sizeof path, "/v1/%s", plural); rc = list(r, path); }
        else if (!strcmp(act, "get") && argc == 3) { snprintf(path, sizeof path, "/v1/%s/%s", plural, a2); rc = call(r, "GET", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(act, "delete") && argc == 3) { snprintf(path, sizeof path, "/v1/%s/%s", plural, a2); rc = call(r, "DELETE", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(res, "integrations") && ((!strcmp(act, "create") && argc == 3) || (!strcmp(act, "put") && argc == 4))) {
            size_t n;
            const char *file = argv[argc - 1];
            char *text = slurp(file, &n);
            if (!text) { fprintf(stderr, "flowc remote: cannot read %s\n", file); rc = 1; }
            else {
                int gz = n > 2 && (unsigned char)text[0] == 0x1f && (unsigned char)text[1] == 0x8b;   /* a package */
                if (!strcmp(act, "create")) snprintf(path, sizeof path, "/v1/integrations");
                else snprintf(path, sizeof path, "/v1/integrations/%s", a2);
                rc = call(r, !strcmp(act, "create") ? "POST" : "PUT", path, text, n, gz ? "application/gzip" : "text/plain", NULL);
                free(text);
            }
        } else if (!strcmp(res, "flows") && !strcmp(act, "run") && argc >= 3) {
            taken[2] = 1;
            const char *since = opt(argc, argv, 3, "--since", taken), *until = opt(argc, argv, 3, "--until", taken);
            int wait = flag(argc, argv, 3, "--wait", taken);
            for (int i = 0; i < argc; i++) if (!taken[i]) { free(a2); return usage("flows run takes ID [--since T] [--until T] [--wait]"); }
            cJSON *b = cJSON_CreateObject();
            if (since) cJSON_AddStringToObject(b, "since", since);
            if (until) cJSON_AddStringToObject(b, "until", until);
            char *body = b->child ? cJSON_PrintUnformatted(b) : NULL;
            cJSON_Delete(b);
            snprintf(path, sizeof path, "/v1/flows/%s/run", a2);
            rc = start_job(r, path, body, wait);
            cJSON_free(body);
        }
    } else if (!strcmp(res, "jobs")) {
        if (!strcmp(act, "list")) {
            const char *fl = opt(argc, argv, 2, "--flow", taken), *st = opt(argc, argv, 2, "--status", taken);
            for (int i = 0; i < argc; i++) if (!taken[i]) { free(a2); return usage("jobs list takes --flow ID, --status S"); }
            char *ef = fl ? enc(fl) : NULL, *es = st ? enc(st) : NULL;
            snprintf(path, sizeof path, "/v1/jobs%s%s%s%s%s%s", ef || es ? "?" : "", ef ? "flow=" : "", ef ? ef : "", ef && es ? "&" : "", es ? "status=" : "", es ? es : "");
            free(ef);
            free(es);
            rc = list(r, path);
        } else if (!strcmp(act, "get") && argc == 3) { snprintf(path, sizeof path, "/v1/jobs/%s", a2); rc = call(r, "GET", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(act, "cancel") && argc == 3) { snprintf(path, sizeof path, "/v1/jobs/%s/cancel", a2); rc = call(r, "POST", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(act, "wait") && argc == 3) rc = wait_job(r, argv[2]);
    } else if (!strcmp(res, "errors") && argc >= 4) {
        char *a3 = enc(argv[3]);
        taken[2] = taken[3] = 1;
        if (!strcmp(act, "list")) {
            int resolved = flag(argc, argv, 4, "--resolved", taken);
            if (argc == 4 + resolved) {
                snprintf(path, sizeof path, "/v1/flows/%s/%s/%s", a2, a3, resolved ? "resolved" : "errors");
                rc = list(r, path);
            }
        } else if (!strcmp(act, "resolve") || !strcmp(act, "retry")) {
            int wait = !strcmp(act, "retry") && flag(argc, argv, 4, "--wait", taken);
            cJSON *b = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(b, "errors");
            for (int i = 4; i < argc; i++) if (!taken[i]) { cJSON_AddItemToArray(ids, cJSON_CreateString(argv[i])); taken[i] = 1; }
            char *body = ids->child ? cJSON_PrintUnformatted(b) : NULL;
            cJSON_Delete(b);
            snprintf(path, sizeof path, "/v1/flows/%s/%s/%s", a2, a3, !strcmp(act, "resolve") ? "resolved" : "retry");
            if (!strcmp(act, "resolve")) rc = body ? call(r, "PUT", path, body, strlen(body), "application/json", NULL) : usage("errors resolve needs error ids");
            else rc = start_job(r, path, body, wait);
            cJSON_free(body);
        }
        free(a3);
    } else if (!strcmp(res, "connections")) {
        if (!strcmp(act, "list") && argc == 2) rc = list(r, "/v1/connections");
        else if (!strcmp(act, "get") && argc == 3) { snprintf(path, sizeof path, "/v1/connections/%s", a2); rc = call(r, "GET", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(act, "test") && argc >= 3) {
            /* the answer printed; exit 1 when the connection does not work */
            taken[2] = 1;
            const char *to = opt(argc, argv, 3, "--timeout", taken);
            for (int i = 0; i < argc; i++) if (!taken[i]) { free(a2); return usage("connections test takes ID [--timeout S]"); }
            char *et = to ? enc(to) : NULL;
            snprintf(path, sizeof path, "/v1/connections/%s/test%s%s", a2, et ? "?timeout=" : "", et ? et : "");
            free(et);
            cJSON *j = NULL;
            rc = call(r, "POST", path, NULL, 0, NULL, &j);
            if (!rc) {
                char *t = flow_json_print_pretty(j);
                printf("%s\n", t ? t : "null");
                cJSON_free(t);
                rc = fflush(stdout) == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) ? 0 : 1;
            }
            cJSON_Delete(j);
        } else if (!strcmp(act, "debug") && argc >= 3) {
            /* --minutes N opens (0 stops) a window; without it, what the window recorded */
            taken[2] = 1;
            const char *mins = opt(argc, argv, 3, "--minutes", taken);
            for (int i = 0; i < argc; i++) if (!taken[i]) { free(a2); return usage("connections debug takes ID [--minutes N]"); }
            snprintf(path, sizeof path, "/v1/connections/%s/debug", a2);
            if (!mins) rc = list(r, path);
            else {
                char *end, body[64];
                long m = strtol(mins, &end, 10);
                if (!*mins || *end) { free(a2); return usage("--minutes takes a whole number (0 stops the window)"); }
                snprintf(body, sizeof body, "{\"minutes\":%ld}", m);
                rc = call(r, "POST", path, body, strlen(body), "application/json", NULL);
            }
        }
    } else if (!strcmp(res, "tokens")) {
        if (!strcmp(act, "list") && argc == 2) rc = list(r, "/v1/tokens");
        else if (!strcmp(act, "revoke") && argc == 3) { snprintf(path, sizeof path, "/v1/tokens/%s", a2); rc = call(r, "DELETE", path, NULL, 0, NULL, NULL); }
        else if (!strcmp(act, "create") && argc >= 3) {
            taken[2] = 1;
            const char *scope = opt(argc, argv, 3, "--scope", taken), *exp = opt(argc, argv, 3, "--expires", taken);
            for (int i = 0; i < argc; i++) if (!taken[i]) { free(a2); return usage("tokens create takes NAME [--scope JSON] [--expires D]"); }
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "name", argv[2]);
            cJSON *sc = scope && strcmp(scope, "full") ? flow_json_parse(scope, strlen(scope), NULL) : cJSON_CreateString("full");
            if (!sc) { cJSON_Delete(b); free(a2); return usage("--scope takes \"full\" or a JSON object of id lists"); }
            cJSON_AddItemToObject(b, "scope", sc);
            if (exp) cJSON_AddStringToObject(b, "expires", exp);
            char *body = cJSON_PrintUnformatted(b);
            cJSON_Delete(b);
            rc = call(r, "POST", "/v1/tokens", body, strlen(body), "application/json", NULL);
            cJSON_free(body);
        }
    }
    free(a2);
    if (rc < 0) {
        char m[200];
        snprintf(m, sizeof m, "`%s %s` is not a command (or not with these arguments)", res, act);
        return usage(m);
    }
    return rc;
}

int remote_main(int argc, char **argv) {
    /* argv[0] flowc, argv[1] "remote", argv[2] URL */
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) return argc < 3 ? usage(NULL) : (usage(NULL), 0);
    Remote r = { argv[2], NULL };
    if (strncmp(r.base, "http://", 7) && strncmp(r.base, "https://", 8)) return usage("URL must start with http:// or https://");
    int i = 3;
    if (i + 1 < argc && !strcmp(argv[i], "--token")) {
        r.token = strdup(argv[i + 1]);
        memset(argv[i + 1], 'x', strlen(argv[i + 1]));   /* out of `ps` */
        i += 2;
    } else if (getenv("FLOWC_TOKEN") && *getenv("FLOWC_TOKEN")) r.token = strdup(getenv("FLOWC_TOKEN"));
    if (i >= argc) { free(r.token); return usage("give a resource: integrations, flows, jobs, errors, connections, tokens, audit"); }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int n = argc - i;
    int *taken = calloc((size_t)n + 1, sizeof *taken);
    if (!taken) abort();
    int rc = dispatch(&r, n, argv + i, taken);
    free(taken);
    if (r.token) { memset(r.token, 0, strlen(r.token)); free(r.token); }
    curl_global_cleanup();
    return rc;
}
