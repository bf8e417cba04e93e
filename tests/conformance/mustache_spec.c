/* mustache_spec.c — Mustache spec conformance runner: renders every test of the given spec files with `FLOWC eval --template T --data D --escape html` and compares standard output byte for byte with the expected text.
 *
 *   build/tests/mustache_spec FLOWC FILE.json...
 *
 * Prints `FAIL file: name` (with expected and actual output, escaped) and `SKIP file: name (why)`
 * lines, then `mustache: N passed, N failed, N skipped`. Exit 0 when nothing failed, 1 otherwise,
 * 2 on bad usage. A case fails on different output, a non-zero exit, a crash, a sanitizer report
 * in standard error, or after 10 seconds. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TIMEOUT_MS 10000
#define CAPTURE_MAX ((size_t)16 << 20)   /* bytes kept of each output stream */
#define SHOW_MAX 400                     /* bytes of text shown per expected/actual line */

typedef struct {
    char *data;
    size_t len, cap;
    int truncated;
} Capture;

typedef struct {
    Capture out, err;
    int status;                  /* from waitpid, when ran */
    int ran, timed_out;
    char why[160];               /* could not run: the reason */
} Result;

typedef struct {
    int passed, failed, skipped;
} Counts;

static void cap_add(Capture *c, const char *s, size_t n) {
    if (c->len + n > CAPTURE_MAX) {
        n = CAPTURE_MAX - c->len;
        c->truncated = 1;
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1) cap *= 2;
        char *p = realloc(c->data, cap);
        if (!p) { c->truncated = 1; return; }
        c->data = p;
        c->cap = cap;
    }
    memcpy(c->data + c->len, s, n);
    c->len += n;
    c->data[c->len] = 0;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv with stdin from /dev/null, capturing stdout and stderr, within TIMEOUT_MS. */
static void run(char *const argv[], Result *r) {
    memset(r, 0, sizeof *r);
    int po[2], pe[2];
    if (pipe(po) != 0) { snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno)); return; }
    if (pipe(pe) != 0) { snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno)); close(po[0]); close(po[1]); return; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    posix_spawn_file_actions_addclose(&fa, po[1]);
    posix_spawn_file_actions_addclose(&fa, pe[1]);
    posix_spawnattr_t at;                /* its own process group: a timeout kills whatever it started */
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        snprintf(r->why, sizeof r->why, "cannot run %s: %s", argv[0], strerror(rc));
        close(po[0]);
        close(pe[0]);
        return;
    }
    r->ran = 1;
    struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
    Capture *caps[2] = { &r->out, &r->err };
    int open_fds = 2;
    long deadline = now_ms() + TIMEOUT_MS;
    char buf[65536];
    while (open_fds > 0) {
        long left = deadline - now_ms();
        if (left <= 0) { r->timed_out = 1; break; }
        int n = poll(fds, 2, (int)left);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                cap_add(caps[i], buf, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    if (r->timed_out) kill(-pid, SIGKILL);
    for (int i = 0; i < 2; i++) if (fds[i].fd >= 0) close(fds[i].fd);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR) {}
}

/* s as a C string literal's content, cut after SHOW_MAX bytes. */
static void show(FILE *out, const char *s, size_t n) {
    fputc('"', out);
    for (size_t i = 0; i < n && i < SHOW_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        default:
            if (c < 0x20 || c >= 0x7f) fprintf(out, "\\x%02X", c);
            else fputc(c, out);
        }
    }
    fputc('"', out);
    if (n > SHOW_MAX) fprintf(out, "... (%zu bytes)", n);
}

/* Does the data use a lambda (the spec's {"__tag__": "code", ...} objects)? */
static int has_lambda(const cJSON *v) {
    if (!v) return 0;
    if (cJSON_IsObject(v)) {
        const cJSON *tag = cJSON_GetObjectItemCaseSensitive(v, "__tag__");
        if (cJSON_IsString(tag) && strcmp(tag->valuestring, "code") == 0) return 1;
    }
    for (const cJSON *c = v->child; c; c = c->next) if (has_lambda(c)) return 1;
    return 0;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

static int sanitizer_report(const Capture *c) {
    if (!c->data) return 0;
    static const char *const marks[] = { "AddressSanitizer", "LeakSanitizer", "runtime error:" };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) if (strstr(c->data, marks[i])) return 1;
    return 0;
}

static void fail_line(Counts *n, const char *file, const char *name) {
    n->failed++;
    printf("FAIL %s: %s\n", file, name);
}

static void run_test(const char *flowc, const char *file, const cJSON *t, const char *data_path, Counts *n) {
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(t, "name");
    const char *name = cJSON_IsString(jname) ? jname->valuestring : "(unnamed)";
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(t, "template");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(t, "expected");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
    const cJSON *partials = cJSON_GetObjectItemCaseSensitive(t, "partials");
    if (partials && !(cJSON_IsObject(partials) && !partials->child)) {
        n->skipped++;
        printf("SKIP %s: %s (partials are out of scope)\n", file, name);
        return;
    }
    if (has_lambda(data)) {
        n->skipped++;
        printf("SKIP %s: %s (lambdas are out of scope)\n", file, name);
        return;
    }
    if (!cJSON_IsString(tpl) || !cJSON_IsString(exp)) {
        fail_line(n, file, name);
        printf("    malformed test: `template` and `expected` must be strings\n");
        return;
    }
    char *text = data ? cJSON_PrintUnformatted(data) : NULL;
    if (!text || write_file(data_path, text) != 0) {
        free(text);
        fail_line(n, file, name);
        printf("    cannot write the data to %s\n", data_path);
        return;
    }
    free(text);
    char *argv[] = { (char *)flowc, "eval", "--template", tpl->valuestring, "--data", (char *)data_path,
                     "--escape", "html", NULL };
    Result r;
    run(argv, &r);
    const char *want = exp->valuestring;
    size_t want_n = strlen(want);
    char why[200] = "";
    if (!r.ran) snprintf(why, sizeof why, "%s", r.why);
    else if (r.timed_out) snprintf(why, sizeof why, "timed out after %d s", TIMEOUT_MS / 1000);
    else if (WIFSIGNALED(r.status)) snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(r.status));
    else if (sanitizer_report(&r.err)) snprintf(why, sizeof why, "sanitizer report");
    else if (WEXITSTATUS(r.status) != 0) snprintf(why, sizeof why, "exit %d", WEXITSTATUS(r.status));
    else if (r.out.len != want_n || (want_n && memcmp(r.out.data, want, want_n) != 0)) snprintf(why, sizeof why, "different output");
    if (!why[0]) {
        n->passed++;
    } else {
        fail_line(n, file, name);
        printf("    %s\n    template: ", why);
        show(stdout, tpl->valuestring, strlen(tpl->valuestring));
        printf("\n    expected: ");
        show(stdout, want, want_n);
        printf("\n    actual:   ");
        show(stdout, r.out.data ? r.out.data : "", r.out.len);
        putchar('\n');
        if (r.err.len) {
            printf("    stderr:   ");
            show(stdout, r.err.data, r.err.len);
            putchar('\n');
        }
    }
    free(r.out.data);
    free(r.err.data);
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n < 4096) {
            char *p = realloc(buf, cap * 2);
            if (!p) { free(buf); buf = NULL; break; }
            buf = p;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || !buf) { free(buf); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void run_file(const char *flowc, const char *path, const char *data_path, Counts *n) {
    const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = 0;
    char *text = read_all(path, &len);
    cJSON *spec = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(spec, "tests");
    if (!cJSON_IsArray(tests)) {
        n->failed++;
        printf("FAIL %s: %s\n", file, spec ? "no `tests` array" : "cannot read or parse the spec file");
        cJSON_Delete(spec);
        return;
    }
    for (const cJSON *t = tests->child; t; t = t->next) run_test(flowc, file, t, data_path, n);
    cJSON_Delete(spec);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s FLOWC SPEC.json...\n", argv[0]);
        return 2;
    }
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    char data_path[4096];
    if (snprintf(data_path, sizeof data_path, "%s/mustache-spec-XXXXXX", tmpdir) >= (int)sizeof data_path) {
        fprintf(stderr, "mustache_spec: TMPDIR is too long\n");
        return 2;
    }
    int fd = mkstemp(data_path);
    if (fd < 0) {
        fprintf(stderr, "mustache_spec: cannot create a file in %s: %s\n", tmpdir, strerror(errno));
        return 2;
    }
    close(fd);
    Counts n = { 0, 0, 0 };
    for (int i = 2; i < argc; i++) run_file(argv[1], argv[i], data_path, &n);
    unlink(data_path);
    printf("mustache: %d passed, %d failed, %d skipped\n", n.passed, n.failed, n.skipped);
    fflush(stdout);
    return n.failed ? 1 : 0;
}
