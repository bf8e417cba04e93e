/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary requests through
 * flow_webhooks_handle (runtime/webhook.c), as the listener hands them over, against webhooks of
 * every verification (hmac hex with a prefix, hmac base64, a token in the query, basic, secret_url,
 * none) and every body rule (`records`, challenge, plain bodies), with a real state store (on
 * /dev/shm when there is one, so each enqueue's fsync is cheap). The input is a request as text:
 *
 *     METHOD TARGET            (TARGET: the path and an optional ?query)
 *     Name: value              (headers, until an empty line)
 *
 *     BODY                     (the rest, byte for byte)
 *
 * A header `X-Sign-Me` makes the harness sign the body as the /gh webhook expects, so verified bodies
 * reach the parser too. Nothing may crash, leak or read out of bounds, and each answer must hold up:
 * a status the contract lists, an error body that is valid JSON, no secret in any answer (but what
 * the request itself carried: a challenge is echoed), a queued flow only with a success status and
 * the flow the path routes to. */
#define _GNU_SOURCE   /* mkdtemp, memmem */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "flow.h"
#include "engine.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FlowVal js(FlowCtx *cx, const char *text) { return flow_json(flow_scratch_keep(cx, flow_json_parse(text, strlen(text), NULL))); }
#define TRIGGER(name, json) static FlowVal name(FlowCtx *cx) { return js(cx, json); }
#define GH_SECRET "fuzz-gh-secret-7e1f"
TRIGGER(t_gh, "{\"ctor\":\"webhook\",\"path\":\"/gh\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha256\",\"header\":\"X-Hub-Signature-256\","
              "\"secret\":\"" GH_SECRET "\",\"prefix\":\"sha256=\"},\"challenge\":\"$.challenge\"}")
TRIGGER(t_shop, "{\"ctor\":\"webhook\",\"path\":\"/shop\",\"verify\":{\"ctor\":\"hmac\",\"algorithm\":\"sha512\",\"header\":\"X-Sig\","
                "\"secret\":\"fuzz-shop-secret-2b9c\",\"encoding\":\"base64\"}}")
TRIGGER(t_tokq, "{\"ctor\":\"webhook\",\"path\":\"/tokq\",\"verify\":{\"ctor\":\"token\",\"query\":\"token\",\"value\":\"fuzz-token-5d3a\"}}")
TRIGGER(t_basic, "{\"ctor\":\"webhook\",\"path\":\"/basic\",\"verify\":{\"ctor\":\"basic\",\"user\":\"u\",\"password\":\"fuzz-pass-88e0\"}}")
TRIGGER(t_secret, "{\"ctor\":\"webhook\",\"path\":\"/secret\",\"verify\":\"secret_url\"}")
TRIGGER(t_open, "{\"ctor\":\"webhook\",\"path\":\"/open\",\"challenge\":\"$..challenge\",\"status\":202}")
TRIGGER(t_items, "{\"ctor\":\"webhook\",\"path\":\"/items\"}")
static const char *const secrets[] = { GH_SECRET, "fuzz-shop-secret-2b9c", "fuzz-token-5d3a", "fuzz-pass-88e0" };

static FlowVal k_items(FlowCtx *cx) { (void)cx; return flow_string("$.items[?@.id]", 14); }
static FlowVal k_none(FlowCtx *cx) { (void)cx; return flow_string("none.ndjson", 11); }
static FlowVal k_dir(FlowCtx *cx) { (void)cx; return flow_string("data", 4); }

static const FlowSettingDef files_set[] = { { "dir", k_dir, NULL, 0 } };
static const FlowConnDef conns[] = { { "webhook", "webhook", NULL, 0 }, { "files", "file", files_set, 1 } };
static const FlowSettingDef none_set[] = { { "file", k_none, NULL, 0 } };
static const FlowSettingDef items_set[] = { { "records", k_items, NULL, 0 } };
static const FlowStepDef hook_steps[] = { { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "in", .conn = 0 } };
static const FlowStepDef items_steps[] = { { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "in", .conn = 0, .settings = items_set, .nsettings = 1 } };
static const FlowStepDef file_steps[] = { { .kind = FLOW_STEP_EXPORT, .id = 0, .name = "x", .conn = 1, .settings = none_set, .nsettings = 1 } };
#define SETS(name, fn) static const FlowSettingDef name[] = { { "trigger", fn, NULL, 1 } };
SETS(s_gh, t_gh) SETS(s_shop, t_shop) SETS(s_tokq, t_tokq) SETS(s_basic, t_basic) SETS(s_secret, t_secret) SETS(s_open, t_open)
SETS(s_items, t_items)
#define FLOW(n, steps, sets) { n, steps, 1, sets, 1, 0, 1, NULL, NULL, NULL, NULL, NULL }
static const FlowFlowDef flows[] = {
    FLOW("gh", hook_steps, s_gh), FLOW("shop", file_steps, s_shop), FLOW("tokq", hook_steps, s_tokq), FLOW("basic", hook_steps, s_basic),
    FLOW("secret", hook_steps, s_secret), FLOW("open", hook_steps, s_open), FLOW("items", items_steps, s_items),
};
static const FlowProgram prog = { "fuzzhooks", "1", "fuzz.flow", NULL, 0, conns, 2, flows, 7, NULL, 0, NULL };

static FlowWebhooks *w;
static char url_secret[FLOW_WEBHOOK_SECRET_LEN + 1];
static char state_dir[64];

/* the state store goes with the process */
static void cleanup(void) {
    flow_webhooks_close(w);
    w = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
    if (state_dir[0] && system(cmd) != 0) {}
}

static void setup(void) {
    char dir[] = "/dev/shm/flowc-fuzz-webhook-XXXXXX", alt[] = "/tmp/flowc-fuzz-webhook-XXXXXX";
    char *d = mkdtemp(dir);
    if (!d) d = mkdtemp(alt);
    if (!d) abort();
    snprintf(state_dir, sizeof state_dir, "%s", d);
    atexit(cleanup);
    FlowErr err;
    FlowState *st = flow_state_open(d, prog.name, 0, &err);
    if (!st) { fprintf(stderr, "%s\n", err.msg); abort(); }
    FlowCtx *cx = flow_ctx_new();
    w = flow_webhooks_open(&prog, cx, st, &err);
    if (!w || flow_state_webhook_secret(st, "secret", url_secret, &err)) { fprintf(stderr, "%s\n", err.msg); abort(); }
    /* kept for the process: the set holds its own connection; the state and context are no longer needed */
    flow_ctx_free(cx);
    flow_state_close(st);
}

typedef struct Req { char *name[32], *value[32]; int n; } Req;
static const char *get_header(void *ctx, const char *name) {
    const Req *r = ctx;
    for (int i = 0; i < r->n; i++) if (strcasecmp(r->name[i], name) == 0) return r->value[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!w) setup();
    /* split the text: the request line, the headers, the body (no byte of the input is changed) */
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = 0;
    char *p = text, *end = text + size;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) { free(text); return 0; }
    *nl = 0;
    char *method = p, *sp = strchr(p, ' ');
    char *target = sp ? sp + 1 : (char *)"/open";
    if (sp) *sp = 0;
    p = nl + 1;
    Req r = { .n = 0 };
    int sign = 0;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        if (le == p) { p = le + 1; break; }
        *le = 0;
        char *colon = strchr(p, ':');
        if (colon && r.n < 30) {
            *colon = 0;
            if (strcasecmp(p, "X-Sign-Me") == 0) sign = 1;
            else { r.name[r.n] = p; r.value[r.n++] = colon + 1; }
        }
        p = nl ? nl + 1 : end;
    }
    const char *body = p < end ? p : end;
    size_t blen = (size_t)(end - body);
    char sig[EVP_MAX_MD_SIZE * 2 + 16];
    if (sign && r.n < 31) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        HMAC(EVP_sha256(), GH_SECRET, (int)strlen(GH_SECRET), (const unsigned char *)body, blen, mac, &ml);
        int k = snprintf(sig, sizeof sig, "sha256=");
        for (unsigned i = 0; i < ml; i++) k += snprintf(sig + k, sizeof sig - (size_t)k, "%02x", mac[i]);
        r.name[r.n] = (char *)"X-Hub-Signature-256";
        r.value[r.n++] = sig;
    }
    /* "/secret/SECRET" in the target stands for the real secret */
    char target_buf[4096];
    const char *mark = strstr(target, "SECRET");
    if (mark && strlen(target) + FLOW_WEBHOOK_SECRET_LEN < sizeof target_buf) {
        snprintf(target_buf, sizeof target_buf, "%.*s%s%s", (int)(mark - target), target, url_secret, mark + 6);
        target = target_buf;
    }
    char *path = strdup(target), *q = strchr(path, '?');
    if (!path) abort();
    if (q) *q++ = 0;
    FlowHttpReq rq = { method, path, q, get_header, &r, body, blen, "127.0.0.1" };
    FlowHttpResp resp = { 0 };
    int routed = flow_webhooks_route(w, path);
    int fi = flow_webhooks_handle(w, &rq, &resp);
    /* the answer holds up */
    static const int ok_status[] = { 200, 202, 204, 400, 401, 404, 405, 413, 500, 503 };
    int known = 0;
    for (size_t i = 0; i < sizeof ok_status / sizeof ok_status[0]; i++) known |= resp.status == ok_status[i];
    if (!known) abort();
    if (fi >= 0 && (fi != routed || (resp.status != 202 && resp.status != 204))) abort();
    if (routed < 0 && resp.status != 404) abort();
    if (resp.body) {
        /* a secret in an answer is a leak, unless the request carried it (a challenge echoes what it was sent) */
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
            if (memmem(resp.body, resp.body_len, secrets[i], strlen(secrets[i])) && !memmem(data, size, secrets[i], strlen(secrets[i]))) abort();
        if (memmem(resp.body, resp.body_len, url_secret, strlen(url_secret)) && !memmem(body, blen, url_secret, strlen(url_secret))) abort();
        if (resp.content_type && strcmp(resp.content_type, "application/json") == 0) {
            cJSON *j = flow_json_parse(resp.body, resp.body_len, NULL);
            if (!j || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error"))) abort();
            cJSON_Delete(j);
        }
    } else if (resp.status >= 400) abort();   /* a refusal always says why */
    free(resp.body);
    free(path);
    free(text);
    return 0;
}
