/* jsonpath_cts.c — runs the JSONPath Compliance Test Suite against `flowc eval --path`, one process per case.
 *
 *   build/tests/jsonpath_cts [-v] FLOWC CTS_JSON [NAME_FILTER]
 *
 * Each case runs `FLOWC eval --path SELECTOR --data TMPFILE` (10 s timeout) and passes when: for an
 * invalid selector, the exit status is 1 with `flowc: invalid JSONPath:` on stderr; otherwise the
 * exit status is 0 and stdout parses to a JSON array equal (numbers exactly) to `result`, or to one
 * of `results`. A sanitizer report on stderr fails any case. Prints `FAIL name` (and with -v
 * `PASS name`) per case, reasons indented below, then
 *   jsonpath-cts: N passed, N failed, N skipped (of N)
 * and exits 1 when any case failed (2 on usage or setup errors). NAME_FILTER runs only the cases
 * whose name contains it. Uses libc and cJSON only. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 10

/* Cases that cannot be run, with the reason. Must stay empty unless a case is truly impossible. */
static const struct { const char *name, *why; } skips[] = {
    {NULL, NULL},
};

typedef struct {
    int status;        /* exit status, or -1 */
    int signal;        /* terminating signal, or 0 */
    bool timed_out;
    char *out, *err;   /* what it printed (NUL-terminated) */
} Run;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += k;
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static bool write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Runs flowc with the selector and data file; stdout and stderr go to files in dir. */
static bool run_flowc(const char *flowc, const char *selector, const char *data, const char *outp,
                      const char *errp, Run *r) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
        char *argv[] = {(char *)flowc, "eval", "--path", (char *)selector, "--data", (char *)data, NULL};
        execv(flowc, argv);
        _exit(127);
    }
    int st = 0;
    long waited = 0, step = 200;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return false;
        if (waited >= TIMEOUT_SECONDS * 1000000L) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
            r->timed_out = true;
            break;
        }
        sleep_us(step);
        waited += step;
        if (step < 20000) step *= 2;
    }
    if (!r->timed_out) {
        if (WIFEXITED(st)) r->status = WEXITSTATUS(st);
        else if (WIFSIGNALED(st)) r->signal = WTERMSIG(st);
    }
    r->out = read_file(outp, NULL);
    r->err = read_file(errp, NULL);
    if (!r->out) r->out = calloc(1, 1);
    if (!r->err) r->err = calloc(1, 1);
    return r->out && r->err;
}

/* JSON equality with exact number comparison (cJSON_Compare allows an epsilon). */
static bool json_same(const cJSON *a, const cJSON *b) {
    if ((a->type & 0xFF) != (b->type & 0xFF)) return false;
    switch (a->type & 0xFF) {
    case cJSON_Number:
        return a->valuedouble == b->valuedouble;
    case cJSON_String: case cJSON_Raw:
        return strcmp(a->valuestring ? a->valuestring : "", b->valuestring ? b->valuestring : "") == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!json_same(x, y)) return false;
        return !x && !y;
    }
    case cJSON_Object: {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        if (na != nb) return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !json_same(x, y)) return false;
        }
        return true;
    }
    default:
        return true;
    }
}

/* The first line of s, at most 160 bytes, for a reason line. */
static void first_line(const char *s, char *buf, size_t n) {
    size_t i = 0;
    while (s[i] && s[i] != '\n' && i + 1 < n && i < 160) { buf[i] = s[i]; i++; }
    buf[i] = 0;
}

static void print_clipped(const char *label, const cJSON *j) {
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    const char *s = t ? t : "(none)";
    size_t n = strlen(s);
    printf("    %s %.*s%s\n", label, (int)(n > 300 ? 300 : n), s, n > 300 ? "..." : "");
    free(t);
}

static const char *sanitizer_report(const char *s) {
    static const char *marks[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        const char *at = strstr(s, marks[i]);
        if (at) return at;
    }
    return NULL;
}

int main(int argc, char **argv) {
    bool verbose = false;
    int a = 1;
    if (a < argc && strcmp(argv[a], "-v") == 0) { verbose = true; a++; }
    if (argc - a < 2 || argc - a > 3) {
        fprintf(stderr, "usage: %s [-v] FLOWC CTS_JSON [NAME_FILTER]\n", argv[0]);
        return 2;
    }
    const char *flowc = argv[a], *cts_path = argv[a + 1], *filter = argc - a == 3 ? argv[a + 2] : NULL;
    if (access(flowc, X_OK) != 0) { fprintf(stderr, "jsonpath-cts: %s is not executable\n", flowc); return 2; }
    size_t len = 0;
    char *text = read_file(cts_path, &len);
    if (!text) { fprintf(stderr, "jsonpath-cts: cannot read %s: %s\n", cts_path, strerror(errno)); return 2; }
    cJSON *cts = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(cts, "tests");
    if (!cJSON_IsArray(tests)) { fprintf(stderr, "jsonpath-cts: %s has no \"tests\" array\n", cts_path); cJSON_Delete(cts); return 2; }

    /* sanitizer defaults for the child when the caller set none: leaks count, first error stops */
    setenv("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1", 0);
    setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1", 0);

    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/jsonpath-cts.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) { fprintf(stderr, "jsonpath-cts: cannot create a directory under %s\n", tmp && *tmp ? tmp : "/tmp"); cJSON_Delete(cts); return 2; }
    char datap[4200], outp[4200], errp[4200];
    snprintf(datap, sizeof datap, "%s/data.json", dir);
    snprintf(outp, sizeof outp, "%s/stdout", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);

    int total = cJSON_GetArraySize(tests), passed = 0, failed = 0, skipped = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tests) {
        const cJSON *jname = cJSON_GetObjectItemCaseSensitive(t, "name");
        const cJSON *jsel = cJSON_GetObjectItemCaseSensitive(t, "selector");
        const char *name = cJSON_IsString(jname) ? jname->valuestring : "(unnamed)";
        if (filter && !strstr(name, filter)) continue;
        const char *why = NULL;
        for (size_t i = 0; skips[i].name; i++)
            if (strcmp(skips[i].name, name) == 0) why = skips[i].why;
        if (why) {
            skipped++;
            printf("SKIP %s\n    %s\n", name, why);
            continue;
        }
        bool invalid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "invalid_selector"));
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(t, "document");
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(t, "result");
        const cJSON *results = cJSON_GetObjectItemCaseSensitive(t, "results");
        char reason[512] = "";
        cJSON *got = NULL;
        Run r = {-1, 0, false, NULL, NULL};
        char *doc_text = doc ? cJSON_PrintUnformatted(doc) : NULL;
        if (!cJSON_IsString(jsel)) {
            snprintf(reason, sizeof reason, "the case has no selector");
        } else if (!write_file(datap, doc_text ? doc_text : "null")) {
            snprintf(reason, sizeof reason, "cannot write %.300s", datap);
        } else if (!run_flowc(flowc, jsel->valuestring, datap, outp, errp, &r)) {
            snprintf(reason, sizeof reason, "cannot run %.300s: %s", flowc, strerror(errno));
        } else {
            const char *san = sanitizer_report(r.err);
            if (!san) san = sanitizer_report(r.out);
            char line[200];
            if (r.timed_out) {
                snprintf(reason, sizeof reason, "timed out after %d s", TIMEOUT_SECONDS);
            } else if (r.signal) {
                snprintf(reason, sizeof reason, "killed by signal %d", r.signal);
            } else if (san) {
                first_line(san, line, sizeof line);
                snprintf(reason, sizeof reason, "sanitizer report: %s", line);
            } else if (invalid) {
                if (r.status != 1) {
                    first_line(r.out, line, sizeof line);
                    snprintf(reason, sizeof reason, "invalid selector accepted: exit %d, expected 1; stdout: %s", r.status, line);
                } else if (strncmp(r.err, "flowc: invalid JSONPath: ", 25) != 0) {
                    first_line(r.err, line, sizeof line);
                    snprintf(reason, sizeof reason, "exit 1 but not for the query: %s", line);
                }
            } else if (r.status != 0) {
                first_line(r.err, line, sizeof line);
                snprintf(reason, sizeof reason, "exit %d, expected 0: %s", r.status, line);
            } else {
                const char *end = NULL;
                got = cJSON_ParseWithOpts(r.out, &end, 1);
                if (!cJSON_IsArray(got)) {
                    first_line(r.out, line, sizeof line);
                    snprintf(reason, sizeof reason, "output is not a JSON array: %s", line);
                } else {
                    bool ok = false;
                    if (result) ok = json_same(got, result);
                    const cJSON *alt;
                    if (cJSON_IsArray(results))
                        cJSON_ArrayForEach(alt, results) ok = ok || json_same(got, alt);
                    if (!ok) snprintf(reason, sizeof reason, "wrong node list");
                }
            }
        }
        if (reason[0]) {
            failed++;
            printf("FAIL %s\n    %s\n", name, reason);
            if (cJSON_IsString(jsel)) printf("    selector: %s\n", jsel->valuestring);
            if (got) {
                print_clipped("got:     ", got);
                print_clipped("expected:", result ? result : results);
            }
        } else {
            passed++;
            if (verbose) printf("PASS %s\n", name);
        }
        fflush(stdout);
        cJSON_Delete(got);
        free(doc_text);
        free(r.out);
        free(r.err);
    }
    unlink(datap);
    unlink(outp);
    unlink(errp);
    rmdir(dir);
    cJSON_Delete(cts);
    printf("jsonpath-cts: %d passed, %d failed, %d skipped (of %d)\n", passed, failed, skipped, total);
    return failed ? 1 : 0;
}
