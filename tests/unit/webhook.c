/* tests/unit/webhook.c — flow_webhooks_* (runtime/webhook.c) as the listener calls them, on a program
 * table written by hand the way generated code writes it, with a real state store in a temporary
 * directory: verification against published vectors (RFC 2202 / RFC 4231 HMACs in hex, base64 and
 * the URL alphabet; GitHub's documented X-Hub-Signature-256 example; a Shopify-style base64 header),
 * tokens in a header and the query, basic credentials, secret_url, routing and the 404/405/413
 * answers, bodies as records (JSON, arrays, NDJSON, `records`, 400 with the reader's error),
 * challenge handshakes, redelivery keys (and their 24 hours), the durable queue taken by `run` in
 * arrival order, many threads at once (group commit: each request once, a key sent at once by several
 * threads queued once, a refused request alone refused), the queue's batch, and describe's
 * redaction. Prints `webhook: N passed, N failed`. */
#include "flow.h"
#include "engine.h"
#include "webhook.h"
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"      /* check(), cur_case, npass, nfail */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    FlowSb b = { 0 };
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) flow_sb_put(&b, buf, n);
    fclose(f);
    return flow_sb_take(&b);
}

/* ---- the program: one flow per verification ---- */

static FlowVal js(FlowCtx *cx, const char *text) {
    cJSON *j = flow_json_parse(text, strlen(text), NULL);
    if (!j) { fprintf(stderr, "bad JSON in the test: %s\n", text); abort(); }
    return flow_json(flow_scratch_keep(cx, j));
}
static FlowVal str(const char *s) { return flow_string(s, strlen(s)); }

#define TRIGGER(name, json) static FlowVal name(FlowCtx *cx) { return js(cx, json); }
TRIGGER(t_gh, "{\"ctor\":\"webhook\",\"path\":\"/gh\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha256\",\"header\":\"X-Hub-Signature-256\","
              "\"secret\":\"It's a Secret to Everybody\",\"prefix\":\"sha256=\"}}")
TRIGGER(t_sha1, "{\"ctor\":\"webhook\",\"path\":\"/sha1\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha1\",\"header\":\"X-Hub-Signature\","
                "\"secret\":\"Jefe\",\"encoding\":\"hex\",\"prefix\":\"sha1=\"}}")
TRIGGER(t_s256, "{\"ctor\":\"webhook\",\"path\":\"/s256\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha256\",\"header\":\"X-Sig\","
                "\"secret\":\"Jefe\",\"encoding\":\"base64\"}}")
TRIGGER(t_s384, "{\"ctor\":\"webhook\",\"path\":\"/s384\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha384\",\"header\":\"X-Sig\","
                "\"secret\":\"Jefe\",\"encoding\":\"base64\",\"prefix\":\"v1=\"}}")
TRIGGER(t_s512, "{\"ctor\":\"webhook\",\"path\":\"/s512\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha512\",\"header\":\"X-Sig\","
                "\"secret\":\"Jefe\"}}")
TRIGGER(t_shop, "{\"ctor\":\"webhook\",\"path\":\"/shop\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha256\",\"header\":\"X-Shopify-Hmac-Sha256\","
                "\"secret\":\"shopsecret\",\"encoding\":\"base64\"}}")
TRIGGER(t_tok, "{\"ctor\":\"webhook\",\"path\":\"/tok\",\"verify\":{\"ctor\":\"token\",\"header\":\"X-Token\",\"value\":\"t0ken-value\"}}")
TRIGGER(t_tokq, "{\"ctor\":\"webhook\",\"path\":\"/tokq\",\"verify\":{\"ctor\":\"token\",\"query\":\"token\",\"value\":\"q secret&=\"}}")
TRIGGER(t_basic, "{\"ctor\":\"webhook\",\"path\":\"/basic\",\"verify\":{\"ctor\":\"basic\",\"user\":\"partner\",\"password\":\"p@ss:word\"}}")
TRIGGER(t_secret, "{\"ctor\":\"webhook\",\"path\":\"/secret\",\"verify\":\"secret_url\"}")
TRIGGER(t_chal, "{\"ctor\":\"webhook\",\"path\":\"/chal\",\"verify\":{\"ctor\":\"token\",\"header\":\"X-Token\",\"value\":\"t0ken-value\"},"
                "\"status\":202,\"challenge\":\"$.challenge\"}")
TRIGGER(t_open, "{\"ctor\":\"webhook\",\"path\":\"/open\"}")
TRIGGER(t_ping, "{\"ctor\":\"webhook\",\"path\":\"/ping\"}")

static FlowVal k_data(FlowCtx *cx) { (void)cx; return str("data"); }
static FlowVal k_none_file(FlowCtx *cx) { (void)cx; return str("none.ndjson"); }
static FlowVal k_items(FlowCtx *cx) { (void)cx; return str("$.items"); }
static FlowVal k_two(FlowCtx *cx) { (void)cx; return flow_int(2); }
static FlowVal k_open_out(FlowCtx *cx) { (void)cx; return str("open.ndjson"); }
static FlowVal k_tok_out(FlowCtx *cx) { (void)cx; return str("tok.ndjson"); }
static FlowVal k_ping_out(FlowCtx *cx) { (void)cx; return str("ping.ndjson"); }

enum { C_WEBHOOK, C_FILES };
static const FlowSettingDef files_set[] = { { "dir", k_data, NULL, 0 } };
static const FlowConnDef conns[] = { { "webhook", "webhook", NULL, 0 }, { "files", "file", files_set, 1 } };

/* verification-only flows: their export is a file (the body is no records for them) */
static const FlowSettingDef none_set[] = { { "file", k_none_file, NULL, 0 } };
static const FlowStepDef file_steps[] = { { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "x", .conn = C_FILES, .settings = none_set, .nsettings = 1 } };
static const FlowStepDef hook_steps[] = { { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "in", .conn = C_WEBHOOK } };
static const FlowSettingDef items_set[] = { { "records", k_items, NULL, 0 } };
static const FlowSettingDef tok_out_set[] = { { "file", k_tok_out, NULL, 0 } };
static const FlowStepDef tok_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "in", .conn = C_WEBHOOK, .settings = items_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "out", .conn = C_FILES, .settings = tok_out_set, .nsettings = 1 },
};
static const FlowSettingDef open_in_set[] = { { "page_size", k_two, NULL, 0 } };
static const FlowSettingDef open_out_set[] = { { "file", k_open_out, NULL, 0 } };
static const FlowStepDef open_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "in", .conn = C_WEBHOOK, .settings = open_in_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "out", .conn = C_FILES, .settings = open_out_set, .nsettings = 1 },
};
static const FlowSettingDef ping_out_set[] = { { "file", k_ping_out, NULL, 0 } };
static const FlowStepDef ping_steps[] = {
    { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "x", .conn = C_FILES, .settings = none_set, .nsettings = 1 },
    { .kind = FLOW_STEP_IMPORT, .id = 1, .name = "out", .conn = C_FILES, .settings = ping_out_set, .nsettings = 1 },
};

#define SETS(name, fn) static const FlowSettingDef name[] = { { "trigger", fn, NULL, 1 } };
SETS(s_gh, t_gh) SETS(s_sha1, t_sha1) SETS(s_s256, t_s256) SETS(s_s384, t_s384) SETS(s_s512, t_s512) SETS(s_shop, t_shop)
SETS(s_tok, t_tok) SETS(s_tokq, t_tokq) SETS(s_basic, t_basic) SETS(s_secret, t_secret) SETS(s_chal, t_chal) SETS(s_open, t_open)
SETS(s_ping, t_ping)

enum { F_GH, F_SHA1, F_S256, F_S384, F_S512, F_SHOP, F_TOK, F_TOKQ, F_BASIC, F_SECRET, F_CHAL, F_OPEN, F_PING, F_PLAIN };
#define FLOW(n, steps, ns, sets) { n, steps, ns, sets, 1, 0, 2, NULL, NULL, NULL, NULL, NULL }
static const FlowFlowDef flows[] = {
    FLOW("gh", file_steps, 1, s_gh), FLOW("sha1", file_steps, 1, s_sha1), FLOW("s256", file_steps, 1, s_s256),
    FLOW("s384", file_steps, 1, s_s384), FLOW("s512", file_steps, 1, s_s512), FLOW("shop", hook_steps, 1, s_shop),
    FLOW("tok", tok_steps, 2, s_tok), FLOW("tokq", hook_steps, 1, s_tokq), FLOW("basic", hook_steps, 1, s_basic),
    FLOW("secret", hook_steps, 1, s_secret), FLOW("chal", hook_steps, 1, s_chal), FLOW("open", open_steps, 2, s_open),
    FLOW("ping", ping_steps, 2, s_ping),
    { "plain", file_steps, 1, NULL, 0, 0, 1, NULL, NULL, NULL, NULL, NULL },   /* no trigger */
};
static const FlowProgram prog = { "hooks", "1.0.0", "hooks.flow", NULL, 0, conns, 2, flows, (int)(sizeof flows / sizeof flows[0]), NULL, 0, NULL };

/* two flows on one path, and a path under a secret_url one */
TRIGGER(t_dup, "{\"ctor\":\"webhook\",\"path\":\"/gh\"}")
TRIGGER(t_under, "{\"ctor\":\"webhook\",\"path\":\"/secret/abc\"}")
TRIGGER(t_badpath, "{\"ctor\":\"webhook\",\"path\":\"/healthz\"}")
TRIGGER(t_badstatus, "{\"ctor\":\"webhook\",\"path\":\"/x\",\"status\":500}")
TRIGGER(t_tokboth, "{\"ctor\":\"webhook\",\"path\":\"/x\",\"verify\":{\"ctor\":\"token\",\"header\":\"X-T\",\"query\":\"t\",\"value\":\"v\"}}")
static FlowVal t_env_missing(FlowCtx *cx) { return flow_fn_env(cx, str("FLOWC_TEST_NO_SUCH_VAR")); }
SETS(s_dup, t_dup) SETS(s_under, t_under) SETS(s_badpath, t_badpath) SETS(s_badstatus, t_badstatus) SETS(s_tokboth, t_tokboth)
SETS(s_env_missing, t_env_missing)

/* ---- requests ---- */

typedef struct Req { const char *h[16][2]; int n; } Req;

static const char *get_header(void *ctx, const char *name) {
    const Req *r = ctx;
    for (int i = 0; i < r->n; i++) if (strcasecmp(r->h[i][0], name) == 0) return r->h[i][1];
    return NULL;
}

static FlowHttpResp last;
static int last_fi;

/* POST target (path?query) with headers "Name", "value", ..., NULL; the answer in `last` */
static int post_len(FlowWebhooks *w, const char *method, const char *target, const char *body, size_t blen, ...) {
    Req r = { .n = 0 };
    va_list ap;
    va_start(ap, blen);
    for (const char *n; (n = va_arg(ap, const char *)) && r.n < 16; r.n++) {
        r.h[r.n][0] = n;
        r.h[r.n][1] = va_arg(ap, const char *);
    }
    va_end(ap);
    char *path = flow_xstrdup(target), *q = strchr(path, '?');
    if (q) *q++ = 0;
    FlowHttpReq rq = { method, path, q, get_header, &r, body, blen, "127.0.0.1" };
    free(last.body);
    memset(&last, 0, sizeof last);
    last_fi = flow_webhooks_handle(w, &rq, &last);
    free(path);
    return last.status;
}
#define POST(w, target, body, ...) post_len(w, "POST", target, body, strlen(body), __VA_ARGS__)

static const char *body_of(void) { return last.body ? last.body : ""; }

/* ---- the cases ---- */

static const char *vector_data = "what do ya want for nothing?";

static void test_hmac(FlowWebhooks *w) {
    cur_case = "hmac github";
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", NULL) == 204,
          "GitHub's documented signature: %d %s", last.status, body_of());
    check(last_fi == F_GH, "queued for gh: %d", last_fi);
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", NULL) == 204,
          "upper-case hex: %d", last.status);
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "  sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 ", NULL) == 204,
          "white space around the header: %d", last.status);
    check(POST(w, "/gh", "Hello, World?", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", NULL) == 401,
          "another body: %d", last.status);
    check(last_fi == -1 && strstr(body_of(), "does not match") && !strstr(body_of(), "Secret to Everybody"), "refused, no secret: %s", body_of());
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e16", NULL) == 401,
          "last digit wrong: %d", last.status);
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", NULL) == 401,
          "without the prefix: %d", last.status);
    check(strstr(body_of(), "does not start with `sha256=`") != NULL, "says the prefix: %s", body_of());
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e", NULL) == 401,
          "odd hex: %d", last.status);
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1717", NULL) == 401,
          "one byte more: %d", last.status);
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature-256", "sha256=", NULL) == 401, "empty signature: %d", last.status);
    check(POST(w, "/gh", "Hello, World!", NULL) == 401 && strstr(body_of(), "no X-Hub-Signature-256 header"), "unsigned: %s", body_of());
    check(POST(w, "/gh", "Hello, World!", "X-Hub-Signature", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", NULL) == 401,
          "another header: %d", last.status);

    cur_case = "hmac rfc vectors";
    check(POST(w, "/sha1", vector_data, "X-Hub-Signature", "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", NULL) == 204, "sha1 hex: %d %s",
          last.status, body_of());
    check(POST(w, "/sha1", vector_data, "X-Hub-Signature", "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c78", NULL) == 401, "sha1 wrong: %d", last.status);
    check(POST(w, "/s256", vector_data, "X-Sig", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=", NULL) == 204, "sha256 base64: %d %s", last.status, body_of());
    check(POST(w, "/s256", vector_data, "X-Sig", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM", NULL) == 204, "sha256 base64 unpadded: %d", last.status);
    check(POST(w, "/s256", vector_data, "X-Sig", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOFM=", NULL) == 401, "sha256 base64 wrong: %d", last.status);
    check(POST(w, "/s256", vector_data, "X-Sig", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEN=", NULL) == 401,
          "sha256 base64 with stray bits after the last byte (not canonical): %d", last.status);
    check(POST(w, "/s256", vector_data, "X-Sig", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", NULL) == 401,
          "hex where base64 is expected: %d", last.status);
    check(POST(w, "/s384", vector_data, "X-Sig", "v1=r0XS43ZIQDFhf3jStYprG5x+9GT1oBtH5C7Dc2MiRF6OIkDKXmnix4syOez6shZJ", NULL) == 204,
          "sha384 base64 with a prefix: %d %s", last.status, body_of());
    check(POST(w, "/s384", vector_data, "X-Sig", "v1=r0XS43ZIQDFhf3jStYprG5x-9GT1oBtH5C7Dc2MiRF6OIkDKXmnix4syOez6shZJ", NULL) == 204,
          "sha384 in the URL alphabet: %d", last.status);
    check(POST(w, "/s384", vector_data, "X-Sig", "v1=r0XS43ZIQDFhf3jStYprG5x+9GT1oBtH5C7Dc2MiRF6OIkDKXmnix4syOez6sh", NULL) == 401,
          "sha384 cut short: %d", last.status);
    check(POST(w, "/s384", vector_data, "X-Sig", "v1=r0XS43ZIQDFhf3jStYprG5x+9GT1oBtH5C7Dc2MiRF6OIkDKXmnix4syOez6shZJ!", NULL) == 401,
          "sha384 with a stray byte: %d", last.status);
    check(POST(w, "/s512", vector_data, "X-Sig", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737", NULL) == 204,
          "sha512 hex: %d %s", last.status, body_of());
    check(POST(w, "/s512", "what do ya want for nothing!", "X-Sig", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737", NULL) == 401,
          "sha512 another body: %d", last.status);

    cur_case = "hmac shopify";
    const char *body = "{\"id\":1,\"email\":\"a@example.com\"}";
    check(POST(w, "/shop", body, "X-Shopify-Hmac-Sha256", "BCvsrKcFP5zK2AdXXO6c5k2cEC4sEj0rckwQsASb9NY=", NULL) == 204, "shopify: %d %s", last.status,
          body_of());
    check(POST(w, "/shop", "{\"id\":1, \"email\":\"a@example.com\"}", "X-Shopify-Hmac-Sha256", "BCvsrKcFP5zK2AdXXO6c5k2cEC4sEj0rckwQsASb9NY=", NULL) == 401,
          "the raw body is signed (a space more): %d", last.status);
}

static void test_token_basic_secret(FlowWebhooks *w, FlowState *st) {
    cur_case = "token header";
    check(POST(w, "/tok", "{\"items\":[{\"id\":1}]}", "X-Token", "t0ken-value", NULL) == 204, "right token: %d %s", last.status, body_of());
    check(POST(w, "/tok", "{\"items\":[{\"id\":1}]}", "X-Token", "t0ken-valuf", NULL) == 401, "wrong token: %d", last.status);
    check(POST(w, "/tok", "{\"items\":[{\"id\":1}]}", "X-Token", "t0ken-value2", NULL) == 401, "longer token: %d", last.status);
    check(POST(w, "/tok", "{\"items\":[{\"id\":1}]}", "X-Token", "", NULL) == 401, "empty token: %d", last.status);
    check(POST(w, "/tok", "{\"items\":[{\"id\":1}]}", NULL) == 401 && strstr(body_of(), "no X-Token header"), "no token: %s", body_of());
    check(!strstr(body_of(), "t0ken"), "the answer never holds the token: %s", body_of());

    cur_case = "token query";
    check(POST(w, "/tokq?token=q%20secret%26%3D", "{}", NULL) == 204, "percent-encoded token: %d %s", last.status, body_of());
    check(POST(w, "/tokq?a=1&token=q+secret%26%3d&b", "{}", NULL) == 204, "among other parameters, + as a space: %d %s", last.status, body_of());
    check(POST(w, "/tokq?token=q%20secret", "{}", NULL) == 401, "wrong token: %d", last.status);
    check(POST(w, "/tokq?token=q%20secret%26%3D&token=q%20secret%26%3D", "{}", NULL) == 401 && strstr(body_of(), "twice"),
          "given twice: %s", body_of());
    check(POST(w, "/tokq", "{}", NULL) == 401 && strstr(body_of(), "no `token` in the query"), "no query: %s", body_of());
    check(POST(w, "/tokq?tokens=q%20secret%26%3D", "{}", NULL) == 401, "another parameter: %d", last.status);
    check(POST(w, "/tokq", "{}", "token", "q secret&=", NULL) == 401, "a header is not the query: %d", last.status);

    cur_case = "basic";
    /* partner:p@ss:word */
    check(POST(w, "/basic", "{}", "Authorization", "Basic cGFydG5lcjpwQHNzOndvcmQ=", NULL) == 204, "right credentials: %d %s", last.status, body_of());
    check(POST(w, "/basic", "{}", "Authorization", "basic   cGFydG5lcjpwQHNzOndvcmQ=", NULL) == 204, "the scheme in any case: %d", last.status);
    check(POST(w, "/basic", "{}", "Authorization", "Basic cGFydG5lcjpwQHNzOndvcmR4", NULL) == 401, "wrong password: %d", last.status);   /* p@ss:wordx */
    check(POST(w, "/basic", "{}", "Authorization", "Basic cGFydG5lcnM6cEBzczp3b3Jk", NULL) == 401, "wrong user: %d", last.status);     /* partners: */
    check(POST(w, "/basic", "{}", "Authorization", "Bearer cGFydG5lcjpwQHNzOndvcmQ=", NULL) == 401, "another scheme: %d", last.status);
    check(POST(w, "/basic", "{}", "Authorization", "Basic ***", NULL) == 401, "not base64: %d", last.status);
    check(POST(w, "/basic", "{}", NULL) == 401 && strstr(body_of(), "no `Authorization: Basic"), "none: %s", body_of());

    cur_case = "secret_url";
    char secret[FLOW_WEBHOOK_SECRET_LEN + 1];
    FlowErr err;
    check(flow_state_webhook_secret(st, "secret", secret, &err) == 0 && strlen(secret) == FLOW_WEBHOOK_SECRET_LEN, "a secret: %s", err.msg);
    char again[FLOW_WEBHOOK_SECRET_LEN + 1];
    check(flow_state_webhook_secret(st, "secret", again, &err) == 0 && strcmp(secret, again) == 0, "made once, kept");
    char url[128];
    snprintf(url, sizeof url, "/secret/%s", secret);
    check(flow_webhooks_route(w, url) == F_SECRET, "routed with its secret");
    check(POST(w, url, "{\"a\":1}", NULL) == 204, "the right secret: %d %s", last.status, body_of());
    check(flow_webhooks_route(w, "/secret") == F_SECRET && POST(w, "/secret", "{\"a\":1}", NULL) == 401, "no secret: %d", last.status);
    snprintf(url, sizeof url, "/secret/%.31sx", secret);
    check(POST(w, url, "{\"a\":1}", NULL) == 401 && !strstr(body_of(), secret), "a wrong secret: %d %s", last.status, body_of());
    snprintf(url, sizeof url, "/secret/%s/more", secret);
    check(flow_webhooks_route(w, url) == -1 && POST(w, url, "{}", NULL) == 404, "a segment more is no route: %d", last.status);
    struct stat sb;
    check(stat(flow_state_path(st), &sb) == 0 && (sb.st_mode & 077) == 0, "the store holding a secret is 0600: %o", (unsigned)sb.st_mode & 0777);
}

static void test_routes_and_limits(FlowWebhooks *w) {
    cur_case = "routes";
    check(flow_webhooks_count(w) == 13, "13 webhook flows: %d", flow_webhooks_count(w));
    check(flow_webhooks_route(w, "/nope") == -1 && flow_webhooks_route(w, "/gh/") == -1 && flow_webhooks_route(w, "/GH") == -1 &&
          flow_webhooks_route(w, "/g") == -1 && flow_webhooks_route(w, "/ghx") == -1, "only exact paths route");
    check(POST(w, "/nope", "{}", NULL) == 404, "unknown path: %d", last.status);
    check(post_len(w, "GET", "/open", "", 0, NULL) == 405, "GET: %d", last.status);
    check(post_len(w, "PUT", "/open", "{}", 2, NULL) == 405, "PUT: %d", last.status);
    check(post_len(w, "post", "/open", "{}", 2, NULL) == 405, "methods are case-sensitive: %d", last.status);
    cur_case = "413";
    size_t big = FLOW_WEBHOOK_MAX_BODY + 1;
    char *b = malloc(big);
    memset(b, ' ', big);
    b[0] = '{';
    b[big - 1] = '}';
    check(post_len(w, "POST", "/open", b, big, NULL) == 413, "5 MB + 1: %d", last.status);
    check(post_len(w, "POST", "/open", b, big - 1, NULL) == 400, "5 MB exactly is read (and is no JSON): %d", last.status);
    b[big - 2] = '}';
    check(post_len(w, "POST", "/open", b, big - 1, NULL) == 204, "5 MB exactly: %d %s", last.status, body_of());
    free(b);
}

static void test_bodies(FlowWebhooks *w) {
    cur_case = "bodies";
    long before = flow_webhooks_pending(w, F_OPEN);
    check(POST(w, "/open", "{\"id\":1}", NULL) == 204 && last_fi == F_OPEN, "an object: %d", last.status);
    check(POST(w, "/open", "[{\"id\":2},{\"id\":3}]", NULL) == 204, "an array: %d", last.status);
    check(POST(w, "/open", "{\"id\":4}\n\n{\"id\":5}\r\n{\"id\":6}\n", NULL) == 204, "NDJSON: %d %s", last.status, body_of());
    check(POST(w, "/open", "[]", NULL) == 204, "no records: %d", last.status);
    check(POST(w, "/open", "[1, {\"id\":7}]", NULL) == 204, "an array with a value that is no record (a record error later): %d", last.status);
    check(flow_webhooks_pending(w, F_OPEN) == before + 5, "five events queued: %ld", flow_webhooks_pending(w, F_OPEN) - before);
    check(POST(w, "/open", "", NULL) == 400 && strstr(body_of(), "empty"), "empty: %s", body_of());
    check(POST(w, "/open", " \n", NULL) == 400, "blank: %d", last.status);
    check(POST(w, "/open", "{\"id\":", NULL) == 400 && strstr(body_of(), "not JSON") && strstr(body_of(), "line 1, column 7"),
          "cut JSON, with where: %s", body_of());
    check(POST(w, "/open", "id=1&x=2", NULL) == 400 && strstr(body_of(), "not JSON"), "a form: %s", body_of());
    check(POST(w, "/open", "{\"id\":1}\n{\"id\":\n{\"id\":3}", NULL) == 400 && strstr(body_of(), "line 2: malformed JSON"),
          "NDJSON with a bad line refuses the request: %s", body_of());
    check(POST(w, "/open", "\"text\"", NULL) == 400 && strstr(body_of(), "is a string"), "a string: %s", body_of());
    check(POST(w, "/open", "{\"s\":\"\xff\"}", NULL) == 400 && strstr(body_of(), "UTF-8"), "not UTF-8: %s", body_of());
    check(POST(w, "/open", "{\"n\":1e400}", NULL) == 400, "not finite: %d", last.status);
    check(flow_webhooks_pending(w, F_OPEN) == before + 5, "nothing more queued");
    cur_case = "records path";
    check(POST(w, "/tok", "{\"items\":[{\"id\":10},{\"id\":11}],\"other\":1}", "X-Token", "t0ken-value", NULL) == 204, "items: %d", last.status);
    check(POST(w, "/tok", "{\"items\":{\"id\":12}}", "X-Token", "t0ken-value", NULL) == 204, "one object: %d %s", last.status, body_of());
    check(POST(w, "/tok", "{\"items\":[{\"id\":13}]}\n{\"items\":[{\"id\":14}]}", "X-Token", "t0ken-value", NULL) == 204, "per NDJSON line: %d",
          last.status);
    check(POST(w, "/tok", "{\"data\":[],\"meta\":{}}", "X-Token", "t0ken-value", NULL) == 400 &&
          strstr(body_of(), "records path $.items matches nothing in the body (its keys: \\\"data\\\", \\\"meta\\\")"), "no match: %s", body_of());
    check(POST(w, "/tok", "{\"items\":\"x\"}", "X-Token", "t0ken-value", NULL) == 400 && strstr(body_of(), "matches a string, not records"),
          "a string: %s", body_of());
    check(POST(w, "/tok", "{\"items\":[{\"id\":15}]}\n{\"x\":1}", "X-Token", "t0ken-value", NULL) == 400 && strstr(body_of(), "line 2: records path"),
          "a line without: %s", body_of());
}

static void test_challenge(FlowWebhooks *w) {
    cur_case = "challenge";
    long before = flow_webhooks_pending(w, F_CHAL);
    check(POST(w, "/chal", "{\"token\":\"x\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}",
               "X-Token", "t0ken-value", NULL) == 200, "a handshake: %d", last.status);
    check(last.body && last.body_len == 52 && memcmp(last.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", 52) == 0 &&
          last.content_type && strncmp(last.content_type, "text/plain", 10) == 0, "the challenge echoed as text: %s", body_of());
    check(last_fi == -1 && flow_webhooks_pending(w, F_CHAL) == before, "nothing queued");
    check(POST(w, "/chal", "{\"challenge\":12345}", "X-Token", "t0ken-value", NULL) == 200 && last.body && strcmp(last.body, "12345") == 0,
          "a number: %s", body_of());
    check(POST(w, "/chal", "{\"challenge\":\"abc\"}", "X-Token", "wrong", NULL) == 401, "an unverified handshake is refused: %d", last.status);
    check(POST(w, "/chal", "{\"event\":\"order\"}", "X-Token", "t0ken-value", NULL) == 202 && last_fi == F_CHAL, "an event: its status: %d", last.status);
    check(POST(w, "/chal", "{\"challenge\":{\"a\":1}}", "X-Token", "t0ken-value", NULL) == 202, "an object is no challenge: %d", last.status);
    check(flow_webhooks_pending(w, F_CHAL) == before + 2, "two events");
}

static void test_redelivery(FlowWebhooks *w, FlowState *st) {
    cur_case = "redelivery";
    long before = flow_webhooks_pending(w, F_OPEN);
    const char *hs[] = { "X-GitHub-Delivery", "X-Shopify-Webhook-Id", "Idempotency-Key" };
    for (int i = 0; i < 3; i++) {
        char id[64];
        snprintf(id, sizeof id, "72d3162e-cc78-11e3-81ab-4c9367dc0958-%d", i);
        check(POST(w, "/open", "{\"id\":100}", hs[i], id, NULL) == 204 && last_fi == F_OPEN, "%s first: %d", hs[i], last.status);
        check(POST(w, "/open", "{\"id\":100}", hs[i], id, NULL) == 204 && last_fi == -1, "%s again: acknowledged, not queued (%d)", hs[i], last_fi);
        check(POST(w, "/open", "{\"id\":999}", hs[i], id, NULL) == 204 && last_fi == -1, "%s again with another body: not queued", hs[i]);
    }
    check(flow_webhooks_pending(w, F_OPEN) == before + 3, "three events: %ld", flow_webhooks_pending(w, F_OPEN) - before);
    check(POST(w, "/open", "{\"id\":101}", NULL) == 204 && POST(w, "/open", "{\"id\":101}", NULL) == 204 && last_fi == F_OPEN,
          "identical bodies without a key are two events");
    check(POST(w, "/open", "{\"id\":102}", "X-GitHub-Delivery", "", NULL) == 204 && POST(w, "/open", "{\"id\":102}", "X-GitHub-Delivery", "", NULL) == 204 &&
          last_fi == F_OPEN, "an empty key is no key");
    check(POST(w, "/ping", "{}", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958-0", NULL) == 204 && last_fi == F_PING,
          "a key is per flow");
    check(POST(w, "/open", "{}", "X-GitHub-Delivery", "shared", NULL) == 204 && last_fi == F_OPEN &&
          POST(w, "/open", "{}", "Idempotency-Key", "shared", NULL) == 204 && last_fi == F_OPEN, "a key is per header");
    check(POST(w, "/open", "{\"id\":1}", "X-GitHub-Delivery", "  spaced  ", NULL) == 204 && POST(w, "/open", "{\"id\":1}", "X-GitHub-Delivery", "spaced", NULL) == 204 &&
          last_fi == -1, "white space around a key does not count");
    /* 24 hours: the store's own function with the clock given */
    FlowErr err;
    FlowQueue *q = flow_queue_open(st, &err);
    check(q != NULL, "queue: %s", err.msg);
    const char *rec = "{\"id\":1}";
    size_t rl = strlen(rec);
    int64_t id = 0, t0 = 1700000000000;
    check(flow_queue_add(q, "open", "x-github-delivery:old", t0, &rec, &rl, 1, &id, &err) == 0, "queued: %s", err.msg);
    check(flow_queue_add(q, "open", "x-github-delivery:old", t0 + 86400000, &rec, &rl, 1, &id, &err) == 1, "24 h later to the ms: a redelivery");
    check(flow_queue_add(q, "open", "x-github-delivery:old", t0 + 86400001, &rec, &rl, 1, &id, &err) == 0, "after 24 h: a new event");
    flow_queue_close(q);
}

/* ---- many listener threads at once ---- */

/* a statement on the store through a connection of the test's own (another process's, as it were) */
static sqlite3 *store_db(FlowState *st) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(flow_state_path(st), &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open the store: %s\n", db ? sqlite3_errmsg(db) : "?");
        abort();
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}
static long store_count(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}
static int store_exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "store: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

/* the queue's batch: one transaction, a delivery key seen earlier in the same batch, all or nothing */
static void test_batch(FlowState *st) {
    cur_case = "batch";
    FlowErr err;
    FlowQueue *q = flow_queue_open(st, &err);
    check(q != NULL, "queue: %s", err.msg);
    if (!q) return;
    const char *r1[] = { "{\"b\":1}", "{\"b\":2}" }, *r2[] = { "{\"b\":3}" };
    size_t l1[] = { 7, 7 }, l2[] = { 7 };
    FlowQueueItem it[] = {
        { "batch-a", "idempotency-key:k1", r1, l1, 2, 0, 0 },
        { "batch-a", NULL, r2, l2, 1, 0, 0 },
        { "batch-a", "idempotency-key:k1", r2, l2, 1, 0, 0 },   /* the first one's key: a redelivery */
        { "batch-b", "idempotency-key:k1", r2, l2, 1, 0, 0 },   /* ...for another flow: an event */
    };
    int64_t now = 1800000000000;
    check(flow_queue_add_batch(q, it, 4, now, &err) == 0, "a batch: %s", err.msg);
    check(it[0].id > 0 && it[1].id > it[0].id && it[3].id > it[1].id && !it[0].dup && !it[1].dup && !it[3].dup, "ids in order: %lld %lld %lld",
          (long long)it[0].id, (long long)it[1].id, (long long)it[3].id);
    check(it[2].dup == 1 && it[2].id == 0, "the key seen earlier in the batch: dup %d id %lld", it[2].dup, (long long)it[2].id);
    check(flow_queue_pending(q, "batch-a") == 2 && flow_queue_pending(q, "batch-b") == 1, "queued: %ld + %ld", flow_queue_pending(q, "batch-a"),
          flow_queue_pending(q, "batch-b"));
    FlowQueueItem again[] = { { "batch-a", "idempotency-key:k1", r2, l2, 1, 0, 0 }, { "batch-a", "idempotency-key:k2", r2, l2, 1, 0, 0 } };
    check(flow_queue_add_batch(q, again, 2, now + 1000, &err) == 0 && again[0].dup == 1 && again[1].dup == 0 && again[1].id > it[3].id,
          "a later batch: k1 a redelivery, k2 new");
    /* a request the store refuses (no flow: NOT NULL) fails its batch: nothing of it is queued */
    FlowQueueItem bad[] = { { "batch-a", "idempotency-key:k3", r2, l2, 1, 0, 0 }, { NULL, NULL, r2, l2, 1, 0, 0 } };
    check(flow_queue_add_batch(q, bad, 2, now + 2000, &err) == -1 && bad[0].id == 0 && err.cls != FLOW_ERR_INTERMITTENT && *err.msg,
          "a failed batch: -1 with why: %s", err.msg);
    check(flow_queue_pending(q, "batch-a") == 3, "nothing of the failed batch queued: %ld", flow_queue_pending(q, "batch-a"));
    FlowQueueItem k3[] = { { "batch-a", "idempotency-key:k3", r2, l2, 1, 0, 0 } };
    check(flow_queue_add_batch(q, k3, 1, now + 3000, &err) == 0 && k3[0].dup == 0, "the failed batch's key is no redelivery");
    flow_queue_close(q);
}

/* every request verified and queued exactly once */
typedef struct Hammer {
    long t, n;                 /* thread t sends n requests, bodies {"items":[{"thread":t,"i":i}]} */
    const char *key;           /* an Idempotency-Key for each request, or NULL */
    const char *body;          /* this body instead */
    int want;                  /* the status every answer must have */
    long queued, bad;          /* out */
    pthread_t th;
} Hammer;
static FlowWebhooks *tw;
static int arrived, answered;  /* requests about to be handed to handle(), and answered by it */
static pthread_mutex_t arrived_mu = PTHREAD_MUTEX_INITIALIZER;
static void *hammer(void *arg) {
    Hammer *hm = arg;
    Req r = { .n = 1 };
    r.h[0][0] = "X-Token";
    r.h[0][1] = "t0ken-value";
    if (hm->key) { r.h[1][0] = "Idempotency-Key"; r.h[1][1] = hm->key; r.n = 2; }
    for (long i = 0; i < hm->n; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"items\":[{\"thread\":%ld,\"i\":%ld}]}", hm->t, i);
        const char *b = hm->body ? hm->body : body;
        FlowHttpReq rq = { "POST", "/tok", NULL, get_header, &r, b, strlen(b), "127.0.0.1" };
        FlowHttpResp resp = { 0 };
        pthread_mutex_lock(&arrived_mu);
        arrived++;
        pthread_mutex_unlock(&arrived_mu);
        int fi = flow_webhooks_handle(tw, &rq, &resp);
        pthread_mutex_lock(&arrived_mu);
        answered++;
        pthread_mutex_unlock(&arrived_mu);
        if (resp.status != hm->want || (fi != F_TOK && fi != -1) || (fi == -1 && resp.status == 204 && !hm->key)) hm->bad++;
        hm->queued += fi == F_TOK;
        free(resp.body);
    }
    return NULL;
}
static void hammer_run(Hammer *hm, int n) {
    for (int t = 0; t < n; t++) pthread_create(&hm[t].th, NULL, hammer, &hm[t]);
}
static long hammer_join(Hammer *hm, int n, long *queued) {
    long bad = 0;
    *queued = 0;
    for (int t = 0; t < n; t++) {
        pthread_join(hm[t].th, NULL);
        bad += hm[t].bad;
        *queued += hm[t].queued;
    }
    return bad;
}

#define THREADS 16
#define PER_THREAD 40
static void test_threads(FlowWebhooks *w, FlowState *st) {
    cur_case = "threads";
    sqlite3 *db = store_db(st);
    const char *rows = "SELECT count(*) FROM webhook_records r JOIN webhook_events e ON e.id = r.event_id WHERE e.flow = 'tok' AND r.record LIKE '{\"thread\":%'";
    const char *distinct = "SELECT count(DISTINCT r.record) FROM webhook_records r JOIN webhook_events e ON e.id = r.event_id "
                           "WHERE e.flow = 'tok' AND r.record LIKE '{\"thread\":%'";
    long before = flow_webhooks_pending(w, F_TOK), rows0 = store_count(db, rows), commits0 = flow_webhooks_commits(w);
    tw = w;
    Hammer hm[THREADS];
    for (int t = 0; t < THREADS; t++) hm[t] = (Hammer){ .t = t, .n = PER_THREAD, .want = 204 };
    hammer_run(hm, THREADS);
    long queued, bad = hammer_join(hm, THREADS, &queued);
    long n = (long)THREADS * PER_THREAD;
    check(bad == 0 && queued == n, "%ld requests answered wrong, %ld of %ld queued", bad, queued, n);
    check(flow_webhooks_pending(w, F_TOK) == before + n, "%ld events: %ld", n, flow_webhooks_pending(w, F_TOK) - before);
    check(store_count(db, rows) - rows0 == n && store_count(db, distinct) - rows0 == n, "each request's record once: %ld rows, %ld distinct",
          store_count(db, rows) - rows0, store_count(db, distinct) - rows0);
    long commits = flow_webhooks_commits(w) - commits0;
    check(commits >= 1 && commits <= n, "%ld transactions for %ld requests", commits, n);
    sqlite3_close(db);
}

/* Requests that arrive while the store is locked (a run's transaction in another process) wait, and
 * are then written together: one transaction for the first, one for all who came while it waited. A
 * delivery key sent by four threads at once is one event; a request the store refuses fails alone,
 * not the group it was written with. */
static void wait_arrived(int n) {
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&arrived_mu);
        int a = arrived;
        pthread_mutex_unlock(&arrived_mu);
        if (a >= n) break;
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    nanosleep(&(struct timespec){ 0, 200000000 }, NULL);   /* ...and into handle(), past verification and parsing */
}
static void test_groups(FlowWebhooks *w, FlowState *st) {
    cur_case = "group commit";
    sqlite3 *db = store_db(st);
    tw = w;
    long before = flow_webhooks_pending(w, F_TOK), commits0 = flow_webhooks_commits(w);
    Hammer hm[20];
    for (int t = 0; t < 20; t++)
        hm[t] = (Hammer){ .t = 100 + t, .n = 1, .want = 204, .key = t < 16 ? NULL : "group-delivery-1", .body = t < 16 ? NULL : "{\"items\":[{\"k\":1}]}" };
    arrived = answered = 0;
    check(store_exec(db, "BEGIN IMMEDIATE") == 0, "the store locked");
    hammer_run(hm, 20);
    wait_arrived(20);
    pthread_mutex_lock(&arrived_mu);
    int early = answered;
    pthread_mutex_unlock(&arrived_mu);
    check(early == 0, "nothing answered while the store is locked: %d", early);
    store_exec(db, "COMMIT");
    long queued, bad = hammer_join(hm, 20, &queued);
    check(bad == 0 && queued == 17, "16 requests and one of 4 with the same key queued: %ld (%ld answered wrong)", queued, bad);
    check(flow_webhooks_pending(w, F_TOK) == before + 17, "17 events: %ld", flow_webhooks_pending(w, F_TOK) - before);
    long commits = flow_webhooks_commits(w) - commits0;
    check(commits >= 1 && commits <= 3, "the waiting requests written together: %ld transactions for 20 requests", commits);

    cur_case = "group commit, a request refused";
    check(store_exec(db, "BEGIN IMMEDIATE; CREATE TRIGGER poison BEFORE INSERT ON webhook_records WHEN NEW.record LIKE '%poison%' "
                         "BEGIN SELECT RAISE(ABORT, 'poisoned'); END") == 0, "a trigger that refuses one record");
    before = flow_webhooks_pending(w, F_TOK);
    Hammer hp[8];
    for (int t = 0; t < 8; t++) hp[t] = (Hammer){ .t = 200 + t, .n = 1, .want = t == 7 ? 500 : 204, .body = t == 7 ? "{\"items\":[{\"poison\":1}]}" : NULL };
    arrived = answered = 0;
    fflush(stderr);
    int se = dup(2), fe = open("group.err", O_RDWR | O_CREAT | O_TRUNC, 0644);
    dup2(fe, 2);
    close(fe);
    hammer_run(hp, 8);
    wait_arrived(8);
    store_exec(db, "COMMIT");
    bad = hammer_join(hp, 8, &queued);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    check(bad == 0 && queued == 7, "7 queued, the refused one answered 500: %ld queued, %ld answered wrong", queued, bad);
    check(flow_webhooks_pending(w, F_TOK) == before + 7, "7 events: %ld", flow_webhooks_pending(w, F_TOK) - before);
    char *err = read_file("group.err");
    check(err && strstr(err, "poisoned") && !strstr(err, "t0ken-value"), "the reason in the log: %s", err ? err : "");
    free(err);
    store_exec(db, "DROP TRIGGER poison");
    sqlite3_close(db);
}

/* flow_main with stdout/stderr to files */
static int run_cli(const char *out, ...) {
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"hooks";
    va_list ap;
    va_start(ap, out);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 15;) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644), fe = open("cli.err", O_RDWR | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    int rc = flow_main(&prog, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    return rc;
}

static void test_runs(FlowWebhooks *w) {
    cur_case = "run takes the queue";
    /* everything queued for `open` so far, in arrival order, two records a page */
    int rc = run_cli("run.out", "run", "open", "--state", "state", "--json", NULL);
    char *err = read_file("cli.err"), *out = read_file("data/open.ndjson");
    check(rc == 3, "the run ends with a record error (the 1 in an array): %d\n%s", rc, err ? err : "");
    check(out && strcmp(out, "{}\n{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n{\"id\":6}\n{\"id\":7}\n"
                             "{\"id\":100}\n{\"id\":100}\n{\"id\":100}\n{\"id\":101}\n{\"id\":101}\n{\"id\":102}\n{\"id\":102}\n{}\n{}\n"
                             "{\"id\":1}\n{\"id\":1}\n{\"id\":1}\n") == 0,
          "arrival order:\n%s", out ? out : "(none)");
    check(err && strstr(err, "a record must be a JSON object, got a number"), "the record error: %s", err ? err : "");
    check(flow_webhooks_pending(w, F_OPEN) == 0, "nothing left queued: %ld", flow_webhooks_pending(w, F_OPEN));
    free(err);
    free(out);
    rc = run_cli("run.out", "run", "open", "--state", "state", "--json", NULL);
    out = read_file("run.out");
    check(rc == 0 && out && strstr(out, "\"exported\":0,"), "a second run finds nothing: %d %s", rc, out ? out : "");
    free(out);
    cur_case = "trigger without from webhook";
    check(flow_webhooks_pending(w, F_PING) == 1, "a ping queued: %ld", flow_webhooks_pending(w, F_PING));
    FILE *f = fopen("data/none.ndjson", "w");
    fputs("{\"n\":1}\n", f);
    fclose(f);
    rc = run_cli("run.out", "run", "ping", "--state", "state", NULL);
    out = read_file("data/ping.ndjson");
    check(rc == 0 && out && strcmp(out, "{\"n\":1}\n") == 0, "its own export ran: %d %s", rc, out ? out : "");
    check(flow_webhooks_pending(w, F_PING) == 0, "its events are done: %ld", flow_webhooks_pending(w, F_PING));
    free(out);
}

static void test_describe(FlowWebhooks *w, FlowState *st) {
    (void)w;
    cur_case = "describe";
    FlowCtx *cx = flow_ctx_new();
    cJSON *d = flow_webhook_describe(&prog, cx, F_GH, NULL, 0);
    char *t = flow_json_print(d);
    check(t && strstr(t, "\"path\":\"/gh\"") && strstr(t, "\"secret\":\"<redacted>\"") && !strstr(t, "Everybody") &&
          strstr(t, "\"status\":204") && strstr(t, "\"url\":\"/gh\""), "hmac: %s", t ? t : "");
    cJSON_free(t);
    cJSON_Delete(d);
    d = flow_webhook_describe(&prog, cx, F_BASIC, NULL, 0);
    t = flow_json_print(d);
    check(t && strstr(t, "\"user\":\"partner\"") && strstr(t, "\"password\":\"<redacted>\"") && !strstr(t, "p@ss"), "basic: %s", t ? t : "");
    cJSON_free(t);
    cJSON_Delete(d);
    d = flow_webhook_describe(&prog, cx, F_TOKQ, NULL, 0);
    t = flow_json_print(d);
    check(t && strstr(t, "\"query\":\"token\"") && strstr(t, "\"value\":\"<redacted>\"") && !strstr(t, "q secret"), "token: %s", t ? t : "");
    cJSON_free(t);
    cJSON_Delete(d);
    char secret[FLOW_WEBHOOK_SECRET_LEN + 1];
    FlowErr e;
    flow_state_webhook_secret(st, "secret", secret, &e);
    d = flow_webhook_describe(&prog, cx, F_SECRET, st, 0);
    t = flow_json_print(d);
    check(t && strstr(t, "\"url\":\"/secret/<redacted>\"") && !strstr(t, secret) && strstr(t, "\"verify\":{\"ctor\":\"secret_url\"}"),
          "secret_url: %s", t ? t : "");
    cJSON_free(t);
    cJSON_Delete(d);
    d = flow_webhook_describe(&prog, cx, F_SECRET, st, 1);
    t = flow_json_print(d);
    char want[128];
    snprintf(want, sizeof want, "\"url\":\"/secret/%s\"", secret);
    check(t && strstr(t, want), "--show-secrets: %s", t ? t : "");
    cJSON_free(t);
    cJSON_Delete(d);
    check(flow_webhook_describe(&prog, cx, F_PLAIN, st, 1) == NULL, "no trigger: nothing");
    flow_ctx_free(cx);
}

/* a program whose trigger at flow 1 is `sets`: flow_webhooks_open's error, "" when it opened */
static const char *open_error(const FlowSettingDef *sets, FlowState *st) {
    static char msg[1100];
    FlowFlowDef fl[2] = { FLOW("gh", file_steps, 1, s_gh), FLOW("other", file_steps, 1, sets) };
    FlowProgram p2 = { "hooks", "1", "x", NULL, 0, conns, 2, fl, 2, NULL, 0, NULL };
    FlowCtx *cx = flow_ctx_new();
    FlowErr err;
    FlowWebhooks *w = flow_webhooks_open(&p2, cx, st, &err);
    snprintf(msg, sizeof msg, "%s", w ? "" : err.msg);
    flow_webhooks_close(w);
    flow_ctx_free(cx);
    return msg;
}

static void test_open_errors(FlowState *st) {
    cur_case = "open refuses";
    const char *m = open_error(s_dup, st);
    check(strstr(m, "flows gh and other are both served at /gh") != NULL, "two flows on a path: %s", m);
    static const FlowSettingDef s_secret2[] = { { "trigger", t_secret, NULL, 1 } };
    check(*open_error(s_secret2, st) == 0, "two paths");
    FlowFlowDef fl[2] = { FLOW("secret", hook_steps, 1, s_secret), FLOW("under", file_steps, 1, s_under) };
    FlowProgram p2 = { "hooks", "1", "x", NULL, 0, conns, 2, fl, 2, NULL, 0, NULL };
    FlowCtx *cx = flow_ctx_new();
    FlowErr err;
    FlowWebhooks *w = flow_webhooks_open(&p2, cx, st, &err);
    check(!w && strstr(err.msg, "served at /secret/abc (a secret_url() path takes one segment more)"), "under a secret_url: %s", w ? "" : err.msg);
    flow_webhooks_close(w);
    flow_ctx_free(cx);
    m = open_error(s_badpath, st);
    check(strstr(m, "flow other: trigger: webhook path \"/healthz\": /healthz is served by `serve` itself") != NULL, "serve's path: %s", m);
    m = open_error(s_badstatus, st);
    check(strstr(m, "status must be a success status") != NULL, "status 500: %s", m);
    m = open_error(s_tokboth, st);
    check(strstr(m, "give `header` or `query`, not both") != NULL, "token both: %s", m);
    m = open_error(s_env_missing, st);
    check(strstr(m, "flow other: trigger: environment variable FLOWC_TEST_NO_SUCH_VAR is not set") != NULL, "env: %s", m);
    FlowFlowDef one[1] = { FLOW("gh", file_steps, 1, s_gh) };
    FlowProgram p3 = { "hooks", "1", "x", NULL, 0, conns, 2, one, 1, NULL, 0, NULL };
    cx = flow_ctx_new();
    w = flow_webhooks_open(&p3, cx, NULL, &err);
    check(!w && strstr(err.msg, "state store"), "no store: %s", w ? "" : err.msg);
    flow_webhooks_close(w);
    flow_ctx_free(cx);

    cur_case = "path rule";
    char why[300];
    const char *good[] = { "/hooks/orders", "/a", "/", "/a-b_c.d~e/f%20g", "/x:y@z!$&'()*+,;=", "/hooks/" };
    const char *bad[] = { "hooks", "/a?b", "/a#b", "/a b", "//a", "/a//b", "/./a", "/a/..", "/a/../b", "/%zz", "/%2", "/\xc3\xa9", "/metrics",
                          "/flows/x/run", "/flows", "/a\"b", "" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) check(flow_webhook_path_check(good[i], why, sizeof why) == 0, "%s: %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check(flow_webhook_path_check(bad[i], why, sizeof why) != 0, "%s accepted", bad[i]);
}

/* a store that cannot take the request: 500, nothing queued, and the sender told to try again */
static void test_store_fails(FlowWebhooks *w, FlowState *st) {
    cur_case = "store fails";
    char sql[4200];
    snprintf(sql, sizeof sql, "sqlite3 '%s' 'DROP TABLE webhook_records' 2>&1", flow_state_path(st));
    check(system(sql) == 0, "dropped the records' table");
    fflush(stderr);
    int se = dup(2), fe = open("store.err", O_RDWR | O_CREAT | O_TRUNC, 0644);
    dup2(fe, 2);
    close(fe);
    int status = POST(w, "/open", "{\"id\":1}", NULL);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    check(status == 500 && last_fi == -1 && strstr(body_of(), "try again") && !strstr(body_of(), "state.db"), "500: %d %s", status, body_of());
    char *err = read_file("store.err");
    check(err && strstr(err, "webhook /open (flow open): a verified request was not queued (answered 500): ") && strstr(err, "webhook_records"),
          "the reason in the log: %s", err ? err : "");
    free(err);
}

int main(void) {
    char dir[] = "/tmp/flowc-webhook-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char tdir[4096];
    snprintf(tdir, sizeof tdir, "%s/flowc-webhook-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *d = mkdtemp(tmp && *tmp ? tdir : dir);
    if (!d || chdir(d) != 0) { perror("mkdtemp"); return 2; }
    mkdir("data", 0755);
    FlowErr err;
    FlowState *st = flow_state_open("state", prog.name, 0, &err);
    if (!st) { fprintf(stderr, "state: %s\n", err.msg); return 2; }
    FlowCtx *cx = flow_ctx_new();
    FlowWebhooks *w = flow_webhooks_open(&prog, cx, st, &err);
    if (!w) { fprintf(stderr, "open: %s\n", err.msg); return 2; }
    test_hmac(w);
    test_token_basic_secret(w, st);
    test_routes_and_limits(w);
    test_bodies(w);
    test_challenge(w);
    test_redelivery(w, st);
    test_batch(st);
    test_threads(w, st);
    test_groups(w, st);
    test_runs(w);
    test_describe(w, st);
    test_open_errors(st);
    test_store_fails(w, st);
    free(last.body);
    flow_webhooks_close(w);
    flow_ctx_free(cx);
    flow_state_close(st);
    printf("webhook: %d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
