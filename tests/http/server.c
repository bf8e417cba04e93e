/*
 * tests/http/server.c — the one HTTP test server for flowc's HTTP connector tests.
 *
 * Its job: listen on 127.0.0.1, serve a generated record collection through every pagination
 * style the connector supports (page number, offset, cursor, next URL, Link header, 404 end,
 * a self-loop, next links to another server), redirect, echo the credentials a request carried, fail on purpose (500, 429 + Retry-After, slow answers, malformed JSON, huge
 * bodies, HTML), check bearer / basic / API-key auth, accept imports into in-memory sinks, and
 * measure what the client did (request counts, peak concurrency, peak requests per second).
 * It runs until SIGTERM or SIGINT and then exits 0 after freeing everything.
 *
 * Usage: http_server --port 0 --ready FILE [--records N] [--delay-ms D]
 *                    [--token T] [--user U] [--password P]
 * See tests/http/README.md for the endpoints.
 */
#include <microhttpd.h>
#include <cjson/cJSON.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ---- limits ---------------------------------------------------------------------------- */
#define MAX_RECORDS 1000000LL
#define MAX_PER_PAGE 1000LL
#define DEFAULT_PER_PAGE 10LL
#define MAX_SLEEP_MS 60000LL
#define MAX_HUGE_MB 64LL
#define MAX_BODY_BYTES (16u * 1024u * 1024u)
#define MAX_PATHS 1000
#define MAX_KEYS 10000
#define MAX_SINKS 1000
#define MAX_SINK_RECORDS 1000000
#define MAX_NAME 128
#define RATE_RING 65536

/* ---- configuration (set once in main, read-only afterwards) ---------------------------- */
static long long g_records = 25;
static long long g_delay_ms = 0;
static const char *g_token = "test-token";
static const char *g_user = "user";
static const char *g_password = "pass";
static unsigned g_port = 0;
static atomic_int g_stopping;

/* ---- shared state, all behind g_lock --------------------------------------------------- */
struct counter { /* a fail-on-purpose counter for one (path, key) */
    char *key;
    long long n;
    struct counter *next;
};

struct sink_entry {
    long long id;
    char method[8];
    char *path;
    cJSON *body; /* owned */
};

struct sink {
    char name[MAX_NAME + 1];
    struct sink_entry *items;
    size_t len, cap;
    long long next_id;
    long long writes; /* write requests seen, for fail_every */
    struct sink *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long long g_requests;
static long long g_in_flight, g_max_in_flight, g_max_per_second;
static cJSON *g_by_path; /* object: path -> count */
static cJSON *g_creds;   /* object: path -> requests that carried Authorization or X-Api-Key */
static int g_paths;
static struct counter *g_counters;
static int g_ncounters;
static struct sink *g_sinks;
static int g_nsinks;
static char *g_keep; /* the bodies POSTed to /keep, as received, one per line */
static size_t g_keep_len;
static long long g_ring[RATE_RING]; /* request start times in ms, oldest at g_ring_head */
static size_t g_ring_head, g_ring_len;

/* ---- per-request state ----------------------------------------------------------------- */
struct req {
    char *body;
    size_t len, cap;
    int too_big;
    int measured; /* counted in requests / in-flight */
};

/* ---- small helpers --------------------------------------------------------------------- */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* Sleeps ms milliseconds in small steps so that shutdown is not held up. */
static void sleep_ms(long long ms)
{
    while (ms > 0 && !atomic_load(&g_stopping)) {
        long long step = ms < 10 ? ms : 10;
        struct timespec ts = { 0, (long)(step * 1000000L) };
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* Parses a decimal integer in [lo, hi]; returns 0 on success, -1 on bad text or range. */
static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Reads an optional integer query argument; absent -> def. Returns -1 if present but invalid. */
static int arg_ll(struct MHD_Connection *c, const char *name, long long lo, long long hi,
                  long long def, long long *out)
{
    const char *s = arg(c, name);
    if (s == NULL) {
        *out = def;
        return 0;
    }
    return parse_ll(s, lo, hi, out);
}

/* ---- responses ------------------------------------------------------------------------- */
static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                 const char *text, const char *hname, const char *hvalue)
{
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return MHD_NO;
    memcpy(copy, text, n + 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (hname != NULL && hvalue != NULL)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends a JSON value (consumed) with an optional extra header. */
static enum MHD_Result send_json_h(struct MHD_Connection *c, unsigned status, cJSON *v,
                                   const char *hname, const char *hvalue)
{
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    if (text == NULL)
        return send_text(c, 500, "application/json", "{\"error\":\"out of memory\"}", NULL, NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hname != NULL && hvalue != NULL)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *v)
{
    return send_json_h(c, status, v, NULL, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(c, status, o);
}

static enum MHD_Result send_ok(struct MHD_Connection *c)
{
    return send_text(c, 200, "application/json", "{\"ok\":true}", NULL, NULL);
}

/* ---- the generated collection ---------------------------------------------------------- */
/* Record i (1-based). updated_at never decreases with i and stays within 2026-11-01..09. */
static cJSON *make_record(long long i)
{
    /* seconds into the 9 days: hourly while that fits, else spread evenly (non-decreasing) */
    long long t = g_records * 3600LL <= 777599LL ? i * 3600LL : i * 777599LL / g_records;
    if (t < 0 || t > 777599LL)
        t = 777599LL;
    char email[64], ts[32];
    snprintf(email, sizeof email, "user%lld@example.com", i);
    snprintf(ts, sizeof ts, "2026-11-0%dT%02d:%02d:%02dZ", (int)(1 + t / 86400),
             (int)(t % 86400 / 3600), (int)(t % 3600 / 60), (int)(t % 60));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)i);
    cJSON_AddStringToObject(o, "email", email);
    cJSON_AddNumberToObject(o, "total", (double)((i * 3719LL) % 100000LL) / 100.0);
    cJSON_AddStringToObject(o, "updated_at", ts);
    return o;
}

/* Records with 0-based offsets [off, off+k) clipped to the collection, as an array. */
static cJSON *make_slice(long long off, long long k)
{
    cJSON *a = cJSON_CreateArray();
    for (long long j = 0; j < k && off + j < g_records; j++)
        cJSON_AddItemToArray(a, make_record(off + j + 1));
    return a;
}

/* Reads page (>= first) and per_page query arguments; 0 ok, -1 bad. off gets the 0-based offset. */
static int page_args(struct MHD_Connection *c, long long first, long long *page, long long *per,
                     long long *off)
{
    if (arg_ll(c, "page", first, 1000000000LL, first, page) != 0)
        return -1;
    if (arg_ll(c, "per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE, per) != 0)
        return -1;
    *off = (*page - first) * *per;
    return 0;
}

/* ---- pagination endpoints -------------------------------------------------------------- */
/* Where next links point: `next_base` (a scheme://host:port, e.g. a second server) or this server.
 * The link does not repeat next_base, so the page it names is served as usual. */
static void next_base(struct MHD_Connection *c, char *out, size_t cap)
{
    const char *nb = arg(c, "next_base");
    if (nb != NULL && *nb != '\0' && strlen(nb) < cap)
        snprintf(out, cap, "%s", nb);
    else
        snprintf(out, cap, "http://127.0.0.1:%u", g_port);
}

static enum MHD_Result pages_number(struct MHD_Connection *c)
{
    const char *s0 = arg(c, "start0");
    long long first = (s0 != NULL && strcmp(s0, "1") == 0) ? 0 : 1;
    long long page, per, off;
    if (page_args(c, first, &page, &per, &off) != 0)
        return send_error(c, 400, "bad page or per_page");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", make_slice(off, per));
    cJSON *meta = cJSON_AddObjectToObject(o, "meta");
    cJSON_AddNumberToObject(meta, "page", (double)page);
    cJSON_AddBoolToObject(meta, "last_page", off + per >= g_records);
    return send_json(c, 200, o);
}

static enum MHD_Result pages_offset(struct MHD_Connection *c)
{
    long long skip, limit;
    if (arg_ll(c, "skip", 0, LLONG_MAX / 4, 0, &skip) != 0 ||
        arg_ll(c, "limit", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE, &limit) != 0)
        return send_error(c, 400, "bad skip or limit");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", make_slice(skip, limit));
    return send_json(c, 200, o);
}

#define CURSOR_MASK 0x5eedf00dLL
static enum MHD_Result pages_cursor(struct MHD_Connection *c)
{
    long long limit, off = 0;
    if (arg_ll(c, "limit", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE, &limit) != 0)
        return send_error(c, 400, "bad limit");
    const char *cur = arg(c, "cursor");
    if (cur != NULL && *cur != '\0') {
        char *end = NULL;
        if (strncmp(cur, "cur_", 4) != 0)
            return send_error(c, 400, "bad cursor");
        errno = 0;
        unsigned long long v = strtoull(cur + 4, &end, 16);
        if (errno != 0 || end == cur + 4 || *end != '\0')
            return send_error(c, 400, "bad cursor");
        off = (long long)(v ^ (unsigned long long)CURSOR_MASK);
        if (off < 0 || off > MAX_RECORDS)
            return send_error(c, 400, "bad cursor");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", make_slice(off, limit));
    if (off + limit < g_records) {
        char buf[40];
        snprintf(buf, sizeof buf, "cur_%llx",
                 (unsigned long long)(off + limit) ^ (unsigned long long)CURSOR_MASK);
        cJSON_AddStringToObject(o, "next_cursor", buf);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    return send_json(c, 200, o);
}

static enum MHD_Result pages_next(struct MHD_Connection *c)
{
    long long page, per, off;
    if (page_args(c, 1, &page, &per, &off) != 0)
        return send_error(c, 400, "bad page or per_page");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", make_slice(off, per));
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    if (off + per < g_records) {
        char url[400], base[200];
        next_base(c, base, sizeof base);
        snprintf(url, sizeof url, "%s/pages/next?page=%lld&per_page=%lld", base, page + 1, per);
        cJSON_AddStringToObject(links, "next", url);
    } else {
        cJSON_AddNullToObject(links, "next");
    }
    return send_json(c, 200, o);
}

static enum MHD_Result pages_link(struct MHD_Connection *c)
{
    long long page, per, off;
    if (page_args(c, 1, &page, &per, &off) != 0)
        return send_error(c, 400, "bad page or per_page");
    char link[500], base[200];
    int more = off + per < g_records;
    next_base(c, base, sizeof base);
    if (more)
        snprintf(link, sizeof link, "<%s/pages/link?page=%lld&per_page=%lld>; rel=\"next\"", base,
                 page + 1, per);
    return send_json_h(c, 200, make_slice(off, per), more ? "Link" : NULL, more ? link : NULL);
}

static enum MHD_Result pages_404(struct MHD_Connection *c)
{
    long long page, per, off;
    if (page_args(c, 1, &page, &per, &off) != 0)
        return send_error(c, 400, "bad page or per_page");
    if (off >= g_records)
        return send_error(c, 404, "no such page");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", make_slice(off, per));
    return send_json(c, 200, o);
}

static enum MHD_Result pages_loop(struct MHD_Connection *c)
{
    char url[80], link[120];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/pages/loop", g_port);
    snprintf(link, sizeof link, "<%s>; rel=\"next\"", url);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "data", make_slice(0, 2));
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    cJSON_AddStringToObject(links, "next", url);
    cJSON_AddStringToObject(o, "next_cursor", "cur_loop"); /* same cursor forever */
    return send_json_h(c, 200, o, "Link", link);
}

/* ---- failures on purpose --------------------------------------------------------------- */
/* Increments the counter for (path, key) and returns its new value (1 for the first call). */
static long long bump_counter(const char *path, const char *key)
{
    char k[512];
    snprintf(k, sizeof k, "%s?%s", path, key ? key : "");
    long long n = 0;
    pthread_mutex_lock(&g_lock);
    struct counter *p = g_counters;
    while (p != NULL && strcmp(p->key, k) != 0)
        p = p->next;
    if (p == NULL && g_ncounters < MAX_KEYS) {
        p = calloc(1, sizeof *p);
        if (p != NULL) {
            p->key = strdup(k);
            if (p->key == NULL) {
                free(p);
                p = NULL;
            } else {
                p->next = g_counters;
                g_counters = p;
                g_ncounters++;
            }
        }
    }
    if (p != NULL)
        n = ++p->n;
    pthread_mutex_unlock(&g_lock);
    return n > 0 ? n : LLONG_MAX; /* table full: behave as if the failures are used up */
}

static enum MHD_Result fail_500(struct MHD_Connection *c, const char *url)
{
    long long times;
    if (arg_ll(c, "times", 0, 1000000, 1, &times) != 0)
        return send_error(c, 400, "bad times");
    if (bump_counter(url, arg(c, "key")) <= times)
        return send_error(c, 500, "failing on purpose");
    return send_ok(c);
}

static enum MHD_Result fail_429(struct MHD_Connection *c, const char *url)
{
    long long times, secs;
    if (arg_ll(c, "times", 0, 1000000, 1, &times) != 0 ||
        arg_ll(c, "retry_after", 0, 86400, 1, &secs) != 0)
        return send_error(c, 400, "bad times or retry_after");
    if (bump_counter(url, arg(c, "key")) > times)
        return send_ok(c);
    char value[64];
    const char *d = arg(c, "date");
    if (d != NULL && strcmp(d, "1") == 0) {
        time_t t = time(NULL) + (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(value, sizeof value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    } else {
        snprintf(value, sizeof value, "%lld", secs);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "too many requests");
    return send_json_h(c, 429, o, "Retry-After", value);
}

/* /fail/huge: {"data":"xxxx...x"} of exactly total bytes, produced on the fly. */
static ssize_t huge_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    uint64_t total = *(uint64_t *)cls;
    static const char head[] = "{\"data\":\"";
    static const char tail[] = "\"}";
    const uint64_t hl = sizeof head - 1, tl = sizeof tail - 1;
    if (pos >= total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = 0;
    while (n < max && pos + n < total) {
        uint64_t p = pos + n;
        char ch;
        if (p < hl)
            ch = head[p];
        else if (p >= total - tl)
            ch = tail[p - (total - tl)];
        else
            ch = 'x';
        buf[n++] = ch;
    }
    return (ssize_t)n;
}

static enum MHD_Result fail_huge(struct MHD_Connection *c)
{
    long long mb;
    if (arg_ll(c, "mb", 1, MAX_HUGE_MB, 1, &mb) != 0)
        return send_error(c, 400, "bad mb (1..64)");
    uint64_t *total = malloc(sizeof *total);
    if (total == NULL)
        return MHD_NO;
    *total = (uint64_t)mb * 1024u * 1024u;
    struct MHD_Response *r =
        MHD_create_response_from_callback(*total, 64 * 1024, huge_reader, total, free);
    if (r == NULL) {
        free(total);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- auth ------------------------------------------------------------------------------ */
static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Decodes base64 into out (NUL-terminated); returns 0 on success. */
static int b64decode(const char *in, char *out, size_t outcap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in != '\0' && *in != '='; in++) {
        int v = b64val((unsigned char)*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outcap)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return 0;
}

static enum MHD_Result auth_denied(struct MHD_Connection *c, const char *challenge)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "unauthorized");
    return send_json_h(c, 401, o, challenge ? "WWW-Authenticate" : NULL, challenge);
}

static enum MHD_Result auth_ok(struct MHD_Connection *c, const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "auth", kind);
    return send_json(c, 200, o);
}

static enum MHD_Result auth(struct MHD_Connection *c, const char *kind)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (strcmp(kind, "bearer") == 0) {
        if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, g_token) != 0)
            return auth_denied(c, "Bearer");
        return auth_ok(c, kind);
    }
    if (strcmp(kind, "basic") == 0) {
        char dec[512];
        if (h == NULL || strncmp(h, "Basic ", 6) != 0 || b64decode(h + 6, dec, sizeof dec) != 0)
            return auth_denied(c, "Basic realm=\"test\"");
        char *colon = strchr(dec, ':');
        if (colon == NULL)
            return auth_denied(c, "Basic realm=\"test\"");
        *colon = '\0';
        if (strcmp(dec, g_user) != 0 || strcmp(colon + 1, g_password) != 0)
            return auth_denied(c, "Basic realm=\"test\"");
        return auth_ok(c, kind);
    }
    if (strcmp(kind, "key") == 0) {
        const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
        if (k == NULL || strcmp(k, g_token) != 0)
            return auth_denied(c, NULL);
        return auth_ok(c, kind);
    }
    return send_error(c, 404, "no such auth endpoint");
}

/* ---- redirects and echoes --------------------------------------------------------------- */
/* /redirect?to=URL[&status=S]: S (default 302) with Location: URL */
static enum MHD_Result redirect(struct MHD_Connection *c)
{
    const char *to = arg(c, "to");
    long long st;
    if (to == NULL || *to == '\0' || arg_ll(c, "status", 300, 399, 302, &st) != 0)
        return send_error(c, 400, "bad to or status");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "redirect", to);
    return send_json_h(c, (unsigned)st, o, "Location", to);
}

/* /echo[/...][?status=S]: answers S (default 200) with the credentials the request carried, as a
 * server that echoes them would: {"data":[{"id":1,"path":..,"authorization":..,"x_api_key":..}]} */
static enum MHD_Result echo(struct MHD_Connection *c, const char *url)
{
    long long st;
    if (arg_ll(c, "status", 200, 599, 200, &st) != 0)
        return send_error(c, 400, "bad status");
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
    cJSON *o = cJSON_CreateObject(), *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "id", 1);
    cJSON_AddStringToObject(r, "path", url);
    if (a != NULL)
        cJSON_AddStringToObject(r, "authorization", a);
    else
        cJSON_AddNullToObject(r, "authorization");
    if (k != NULL)
        cJSON_AddStringToObject(r, "x_api_key", k);
    else
        cJSON_AddNullToObject(r, "x_api_key");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "data"), r);
    return send_json(c, (unsigned)st, o);
}

/* ---- sinks ----------------------------------------------------------------------------- */
static void sink_clear(struct sink *s)
{
    for (size_t i = 0; i < s->len; i++) {
        free(s->items[i].path);
        cJSON_Delete(s->items[i].body);
    }
    free(s->items);
}

/* Finds a sink by name; creates it if create is set. Caller holds g_lock. */
static struct sink *sink_find(const char *name, int create)
{
    for (struct sink *s = g_sinks; s != NULL; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    if (!create || g_nsinks >= MAX_SINKS)
        return NULL;
    struct sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->next_id = 1;
    s->next = g_sinks;
    g_sinks = s;
    g_nsinks++;
    return s;
}

/* Does any stored record of s have the same value as rec for field? Caller holds g_lock. */
static int sink_conflicts(const struct sink *s, const cJSON *rec, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, field);
    if (v == NULL)
        return 0;
    for (size_t i = 0; i < s->len; i++) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(s->items[i].body, field);
        if (w != NULL && cJSON_Compare(v, w, 1))
            return 1;
    }
    return 0;
}

/* Appends a copy of rec; returns its id or -1. Caller holds g_lock. */
static long long sink_add(struct sink *s, const cJSON *rec, const char *method, const char *path)
{
    if (s->len >= MAX_SINK_RECORDS)
        return -1;
    if (s->len == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        struct sink_entry *ni = realloc(s->items, nc * sizeof *ni);
        if (ni == NULL)
            return -1;
        s->items = ni;
        s->cap = nc;
    }
    struct sink_entry *e = &s->items[s->len];
    e->body = cJSON_Duplicate(rec, 1);
    e->path = strdup(path);
    if (e->body == NULL || e->path == NULL) {
        cJSON_Delete(e->body);
        free(e->path);
        return -1;
    }
    snprintf(e->method, sizeof e->method, "%s", method);
    e->id = s->next_id++;
    s->len++;
    return e->id;
}

/* Splits "/sink/<name>[/...]" into name; returns 0 if the name is usable. */
static int sink_name(const char *url, char name[MAX_NAME + 1])
{
    const char *p = url + strlen("/sink/");
    size_t n = strcspn(p, "/");
    if (n == 0 || n > MAX_NAME)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    return 0;
}

static enum MHD_Result sink_write(struct MHD_Connection *c, const char *url, const char *method,
                                  struct req *rq)
{
    char name[MAX_NAME + 1];
    if (sink_name(url, name) != 0)
        return send_error(c, 400, "bad sink name");
    if (rq->too_big)
        return send_error(c, 413, "body too large");
    long long every;
    if (arg_ll(c, "fail_every", 0, 1000000, 0, &every) != 0)
        return send_error(c, 400, "bad fail_every");
    const char *conflict_on = arg(c, "conflict_on");
    cJSON *body = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    if (body == NULL)
        return send_error(c, 400, "body is not JSON");
    int is_array = cJSON_IsArray(body);
    if (!is_array && !cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return send_error(c, 400, "body must be an object or an array of objects");
    }
    if (is_array) {
        const cJSON *it;
        cJSON_ArrayForEach(it, body)
        {
            if (!cJSON_IsObject(it)) {
                cJSON_Delete(body);
                return send_error(c, 400, "array elements must be objects");
            }
        }
    }
    unsigned status = 201;
    const char *msg = NULL;
    cJSON *reply = NULL;
    pthread_mutex_lock(&g_lock);
    struct sink *s = sink_find(name, 1);
    if (s == NULL) {
        status = 507;
        msg = "too many sinks";
    } else {
        s->writes++;
        if (every > 0 && s->writes % every == 0) {
            status = 500;
            msg = "failing on purpose";
        } else if (conflict_on != NULL) {
            const cJSON *it;
            if (is_array) {
                cJSON_ArrayForEach(it, body)
                {
                    if (sink_conflicts(s, it, conflict_on))
                        status = 409;
                }
            } else if (sink_conflicts(s, body, conflict_on)) {
                status = 409;
            }
            if (status == 409)
                msg = "conflict";
        }
        if (status == 201) {
            if (is_array) {
                reply = cJSON_CreateArray();
                const cJSON *it;
                cJSON_ArrayForEach(it, body)
                {
                    long long id = sink_add(s, it, method, url);
                    if (id < 0) {
                        status = 507;
                        break;
                    }
                    cJSON_AddItemToArray(reply, cJSON_CreateNumber((double)id));
                }
            } else {
                long long id = sink_add(s, body, method, url);
                if (id < 0) {
                    status = 507;
                } else {
                    reply = cJSON_CreateObject();
                    cJSON_AddNumberToObject(reply, "id", (double)id);
                }
            }
            if (status == 507)
                msg = "sink full";
        }
    }
    pthread_mutex_unlock(&g_lock);
    cJSON_Delete(body);
    if (status != 201) {
        cJSON_Delete(reply);
        return send_error(c, status, msg);
    }
    return send_json(c, 201, reply);
}

/* True if field value v matches text x (strings compare as-is, numbers as printed). */
static int value_matches(const cJSON *v, const char *x)
{
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, x) == 0;
    if (cJSON_IsNumber(v)) {
        char buf[64];
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(buf, sizeof buf, "%lld", (long long)v->valuedouble);
        else
            snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
        return strcmp(buf, x) == 0;
    }
    return 0;
}

static enum MHD_Result sink_read(struct MHD_Connection *c, const char *url)
{
    char name[MAX_NAME + 1];
    if (sink_name(url, name) != 0)
        return send_error(c, 400, "bad sink name");
    const char *ext = arg(c, "external_id");
    const char *field = arg(c, "field");
    const char *m = arg(c, "meta");
    int meta = m != NULL && strcmp(m, "1") == 0;
    if (field == NULL)
        field = "external_id";
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&g_lock);
    struct sink *s = sink_find(name, 0);
    for (size_t i = 0; s != NULL && i < s->len; i++) {
        const struct sink_entry *e = &s->items[i];
        if (ext != NULL && !value_matches(cJSON_GetObjectItemCaseSensitive(e->body, field), ext))
            continue;
        if (meta) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "id", (double)e->id);
            cJSON_AddStringToObject(w, "method", e->method);
            cJSON_AddStringToObject(w, "path", e->path);
            cJSON_AddItemToObject(w, "body", cJSON_Duplicate(e->body, 1));
            cJSON_AddItemToArray(arr, w);
        } else {
            cJSON_AddItemToArray(arr, cJSON_Duplicate(e->body, 1));
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (ext != NULL) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "items", arr);
        return send_json(c, 200, o);
    }
    return send_json(c, 200, arr);
}

static int is_get(const char *m)
{
    return strcmp(m, "GET") == 0;
}

/* ---- raw bodies: /raw answers given bytes, /keep keeps bodies as they came ---------------- */

/* GET /raw?hex=HEX[&type=T]: 200 with the bytes HEX spells (any bytes: NUL, invalid UTF-8) */
static enum MHD_Result raw_body(struct MHD_Connection *c)
{
    const char *hex = arg(c, "hex");
    const char *type = arg(c, "type");
    size_t n = hex ? strlen(hex) : 0;
    if (n % 2 != 0 || n > 2 * 65536)
        return send_error(c, 400, "bad hex");
    char *b = malloc(n / 2 + 1);
    if (b == NULL)
        return send_error(c, 500, "out of memory");
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(b);
            return send_error(c, 400, "bad hex");
        }
        b[i] = (char)v;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n / 2, b, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* POST /keep[?tag=X]: keeps the body byte for byte, after `tag=X ` when given (the query as the
 * server read it) → 200 {"ok":true}; GET /keep: every kept body, one per line, as text */
static enum MHD_Result keep(struct MHD_Connection *c, const char *method, struct req *rq)
{
    if (strcmp(method, "POST") == 0) {
        if (rq->too_big)
            return send_error(c, 413, "body too large");
        const char *tag = arg(c, "tag");
        size_t tn = tag ? strlen(tag) + 5 : 0;
        pthread_mutex_lock(&g_lock);
        char *more = realloc(g_keep, g_keep_len + tn + rq->len + 2);
        if (more != NULL) {
            g_keep = more;
            if (tag)
                g_keep_len += (size_t)sprintf(g_keep + g_keep_len, "tag=%s ", tag);
            if (rq->len)
                memcpy(g_keep + g_keep_len, rq->body, rq->len);
            g_keep_len += rq->len;
            g_keep[g_keep_len++] = '\n';
            g_keep[g_keep_len] = 0;
        }
        pthread_mutex_unlock(&g_lock);
        return more ? send_ok(c) : send_error(c, 500, "out of memory");
    }
    if (!is_get(method))
        return send_error(c, 405, "use GET or POST");
    pthread_mutex_lock(&g_lock);
    size_t n = g_keep_len;
    char *copy = malloc(n + 1);
    if (copy != NULL && n)
        memcpy(copy, g_keep, n);
    pthread_mutex_unlock(&g_lock);
    if (copy == NULL)
        return send_error(c, 500, "out of memory");
    struct MHD_Response *r = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- measurements ---------------------------------------------------------------------- */
static void free_sinks_and_counters(void) /* caller holds g_lock (or is single-threaded) */
{
    free(g_keep);
    g_keep = NULL;
    g_keep_len = 0;
    while (g_sinks != NULL) {
        struct sink *n = g_sinks->next;
        sink_clear(g_sinks);
        free(g_sinks);
        g_sinks = n;
    }
    g_nsinks = 0;
    while (g_counters != NULL) {
        struct counter *n = g_counters->next;
        free(g_counters->key);
        free(g_counters);
        g_counters = n;
    }
    g_ncounters = 0;
}

static int is_stats_path(const char *url)
{
    return strcmp(url, "/stats") == 0 || strcmp(url, "/stats/reset") == 0;
}

/* Counts a request by path; measured requests also count toward the totals and peaks. cred: the
 * request carried a credential header (counted in `credentials`). */
static void note_start(const char *url, int measured, int cred)
{
    char key[201];
    snprintf(key, sizeof key, "%s", url);
    pthread_mutex_lock(&g_lock);
    if (cred && g_paths < MAX_PATHS) {
        cJSON *k = cJSON_GetObjectItemCaseSensitive(g_creds, key);
        if (k != NULL)
            cJSON_SetNumberValue(k, k->valuedouble + 1);
        else
            cJSON_AddNumberToObject(g_creds, key, 1);
    }
    cJSON *n = cJSON_GetObjectItemCaseSensitive(g_by_path, key);
    if (n != NULL) {
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    } else {
        const char *k = g_paths < MAX_PATHS ? key : "(other)";
        n = cJSON_GetObjectItemCaseSensitive(g_by_path, k);
        if (n != NULL) {
            cJSON_SetNumberValue(n, n->valuedouble + 1);
        } else if (cJSON_AddNumberToObject(g_by_path, k, 1) != NULL) {
            g_paths++;
        }
    }
    if (measured) {
        g_requests++;
        g_in_flight++;
        if (g_in_flight > g_max_in_flight)
            g_max_in_flight = g_in_flight;
        long long t = now_ms();
        while (g_ring_len > 0 && g_ring[g_ring_head] <= t - 1000) {
            g_ring_head = (g_ring_head + 1) % RATE_RING;
            g_ring_len--;
        }
        if (g_ring_len == RATE_RING) { /* full: drop the oldest (undercounts past 65536/s) */
            g_ring_head = (g_ring_head + 1) % RATE_RING;
            g_ring_len--;
        }
        g_ring[(g_ring_head + g_ring_len) % RATE_RING] = t;
        g_ring_len++;
        if ((long long)g_ring_len > g_max_per_second)
            g_max_per_second = (long long)g_ring_len;
    }
    pthread_mutex_unlock(&g_lock);
}

static enum MHD_Result stats_get(struct MHD_Connection *c)
{
    cJSON *o = cJSON_CreateObject();
    pthread_mutex_lock(&g_lock);
    cJSON_AddNumberToObject(o, "requests", (double)g_requests);
    cJSON_AddItemToObject(o, "by_path", cJSON_Duplicate(g_by_path, 1));
    cJSON_AddItemToObject(o, "credentials", cJSON_Duplicate(g_creds, 1));
    cJSON_AddNumberToObject(o, "max_in_flight", (double)g_max_in_flight);
    cJSON_AddNumberToObject(o, "max_per_second", (double)g_max_per_second);
    cJSON_AddNumberToObject(o, "in_flight", (double)g_in_flight);
    pthread_mutex_unlock(&g_lock);
    return send_json(c, 200, o);
}

static enum MHD_Result stats_reset(struct MHD_Connection *c)
{
    cJSON *fresh = cJSON_CreateObject(), *fresh_creds = cJSON_CreateObject();
    if (fresh == NULL || fresh_creds == NULL) {
        cJSON_Delete(fresh);
        cJSON_Delete(fresh_creds);
        return send_error(c, 500, "out of memory");
    }
    pthread_mutex_lock(&g_lock);
    cJSON_Delete(g_creds);
    g_creds = fresh_creds;
    g_requests = 0;
    g_max_in_flight = g_in_flight;
    g_max_per_second = 0;
    g_ring_head = g_ring_len = 0;
    cJSON_Delete(g_by_path);
    g_by_path = fresh;
    g_paths = 0;
    free_sinks_and_counters();
    pthread_mutex_unlock(&g_lock);
    return send_ok(c);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method,
                             struct req *rq)
{
    if (strcmp(url, "/stats") == 0)
        return is_get(method) ? stats_get(c) : send_error(c, 405, "use GET");
    if (strcmp(url, "/stats/reset") == 0)
        return strcmp(method, "POST") == 0 ? stats_reset(c) : send_error(c, 405, "use POST");

    long long delay;
    if (arg_ll(c, "delay_ms", 0, MAX_SLEEP_MS, 0, &delay) != 0)
        return send_error(c, 400, "bad delay_ms");
    sleep_ms(g_delay_ms + delay);

    if (strncmp(url, "/sink/", 6) == 0) {
        if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0)
            return sink_write(c, url, method, rq);
        if (is_get(method))
            return sink_read(c, url);
        return send_error(c, 405, "method not allowed");
    }
    if (strcmp(url, "/echo") == 0 || strncmp(url, "/echo/", 6) == 0)
        return echo(c, url);
    if (strcmp(url, "/keep") == 0)
        return keep(c, method, rq);
    if (!is_get(method))
        return send_error(c, 405, "use GET");

    if (strcmp(url, "/redirect") == 0)
        return redirect(c);
    if (strcmp(url, "/raw") == 0 || strncmp(url, "/raw/", 5) == 0)
        return raw_body(c);
    if (strcmp(url, "/pages/number") == 0)
        return pages_number(c);
    if (strcmp(url, "/pages/offset") == 0)
        return pages_offset(c);
    if (strcmp(url, "/pages/cursor") == 0)
        return pages_cursor(c);
    if (strcmp(url, "/pages/next") == 0)
        return pages_next(c);
    if (strcmp(url, "/pages/link") == 0)
        return pages_link(c);
    if (strcmp(url, "/pages/404") == 0)
        return pages_404(c);
    if (strcmp(url, "/pages/loop") == 0)
        return pages_loop(c);
    if (strcmp(url, "/fail/500") == 0)
        return fail_500(c, url);
    if (strcmp(url, "/fail/429") == 0)
        return fail_429(c, url);
    if (strcmp(url, "/fail/timeout") == 0) {
        long long ms;
        if (arg_ll(c, "ms", 0, MAX_SLEEP_MS, 1000, &ms) != 0)
            return send_error(c, 400, "bad ms");
        sleep_ms(ms);
        return send_ok(c);
    }
    if (strcmp(url, "/fail/badjson") == 0)
        return send_text(c, 200, "application/json", "{\"data\": [1, 2,", NULL, NULL);
    if (strcmp(url, "/fail/huge") == 0)
        return fail_huge(c);
    if (strcmp(url, "/fail/html") == 0)
        return send_text(c, 200, "text/html; charset=utf-8",
                         "<!DOCTYPE html><html><body><h1>Not JSON</h1></body></html>", NULL, NULL);
    if (strncmp(url, "/auth/", 6) == 0)
        return auth(c, url + 6);
    return send_error(c, 404, "no such endpoint");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *rq = *con_cls;
    if (rq == NULL) { /* first call for this request: count it */
        rq = calloc(1, sizeof *rq);
        if (rq == NULL)
            return MHD_NO;
        rq->measured = !is_stats_path(url);
        note_start(url, rq->measured,
                   MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization") != NULL ||
                       MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key") != NULL);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) { /* accumulate the body, bounded */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_big || rq->len + n > MAX_BODY_BYTES) {
            rq->too_big = 1;
            return MHD_YES;
        }
        if (rq->len + n + 1 > rq->cap) {
            size_t nc = rq->cap ? rq->cap : 4096;
            while (nc < rq->len + n + 1)
                nc *= 2;
            char *nb = realloc(rq->body, nc);
            if (nb == NULL) {
                rq->too_big = 1;
                return MHD_YES;
            }
            rq->body = nb;
            rq->cap = nc;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        rq->body[rq->len] = '\0';
        return MHD_YES;
    }
    return route(c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *rq = *con_cls;
    if (rq == NULL)
        return;
    if (rq->measured) {
        pthread_mutex_lock(&g_lock);
        g_in_flight--;
        pthread_mutex_unlock(&g_lock);
    }
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

/* ---- main ------------------------------------------------------------------------------ */
static void usage(void)
{
    fprintf(stderr, "usage: http_server --port P --ready FILE [--records N] [--delay-ms D]\n"
                    "                   [--token T] [--user U] [--password P]\n");
}

static int write_ready(const char *path, unsigned port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    int bad = fprintf(f, "%u\n", port) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long long port = -1;
    const char *ready = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        int bad = 0;
        if (strcmp(a, "--port") == 0)
            bad = parse_ll(v, 0, 65535, &port);
        else if (strcmp(a, "--ready") == 0)
            ready = v;
        else if (strcmp(a, "--records") == 0)
            bad = parse_ll(v, 0, MAX_RECORDS, &g_records);
        else if (strcmp(a, "--delay-ms") == 0)
            bad = parse_ll(v, 0, MAX_SLEEP_MS, &g_delay_ms);
        else if (strcmp(a, "--token") == 0)
            g_token = v;
        else if (strcmp(a, "--user") == 0)
            g_user = v;
        else if (strcmp(a, "--password") == 0)
            g_password = v;
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "http_server: bad argument %s %s\n", a, v);
            usage();
            return 2;
        }
    }
    if (port < 0 || ready == NULL) {
        usage();
        return 2;
    }

    /* Block the stop signals in every thread; main waits for them with sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    g_by_path = cJSON_CreateObject();
    g_creds = cJSON_CreateObject();
    if (g_by_path == NULL || g_creds == NULL)
        return 1;

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        (uint16_t)port,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "http_server: cannot listen on 127.0.0.1:%lld\n", port);
        cJSON_Delete(g_by_path);
        cJSON_Delete(g_creds);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    g_port = info != NULL ? info->port : (unsigned)port;
    if (g_port == 0 || write_ready(ready, g_port) != 0) {
        fprintf(stderr, "http_server: cannot report the port to %s\n", ready);
        MHD_stop_daemon(d);
        cJSON_Delete(g_by_path);
        cJSON_Delete(g_creds);
        return 1;
    }

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    atomic_store(&g_stopping, 1);
    MHD_stop_daemon(d);
    free_sinks_and_counters();
    cJSON_Delete(g_by_path);
    cJSON_Delete(g_creds);
    return 0;
}
