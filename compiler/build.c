/* build.c — `flowc build`: writes the emitted C to a temporary file and runs $CC -O2 on it, linking
 * libflowrt.a and the system libraries (cJSON, SQLite). The only place flowc starts a process. */
#define _DEFAULT_SOURCE 1   /* mkstemps */
#include "build.h"
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

int build_find_runtime(char *inc, size_t inclen, char *lib, size_t liblen, FILE *err) {
    const char *over = getenv("FLOWC_RUNTIME_DIR");
    if (over && *over) {
        snprintf(inc, inclen, "%s", over);
        snprintf(lib, liblen, "%s/libflowrt.a", over);
        if (exists(lib)) return 0;
        fprintf(err, "flowc: FLOWC_RUNTIME_DIR=%s has no libflowrt.a\n", over);
        return -1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) { fprintf(err, "flowc: cannot find where flowc is installed: %s\n", strerror(errno)); return -1; }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    /* (include dir, library) pairs, most specific first */
    static const char *const cands[][2] = {
        { "%s/../include/flowc", "%s/../lib/flowc/libflowrt.a" },   /* installed: PREFIX/bin/flowc */
        { "%s/../runtime", "%s/rel/libflowrt.a" },                   /* source tree: build/flowc */
        { "%s/../../runtime", "%s/../rel/libflowrt.a" },             /* source tree: build/asan/flowc */
    };
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char hdr[4200];
        snprintf(inc, inclen, cands[i][0], exe);
        snprintf(lib, liblen, cands[i][1], exe);
        snprintf(hdr, sizeof hdr, "%s/flow.h", inc);
        if (exists(hdr) && exists(lib)) return 0;
    }
    fprintf(err, "flowc: cannot find the runtime (flow.h and libflowrt.a) near %s; set FLOWC_RUNTIME_DIR\n", exe);
    return -1;
}

int build_native(const char *c_text, size_t len, const char *out, FILE *err) {
    char inc[4200], lib[4200];
    if (build_find_runtime(inc, sizeof inc, lib, sizeof lib, err) < 0) return -1;
    const char *tmpdir = getenv("TMPDIR");
    char cpath[4300];
    snprintf(cpath, sizeof cpath, "%s/flowc-XXXXXX.c", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemps(cpath, 2);
    if (fd < 0) { fprintf(err, "flowc: cannot create a temporary file: %s\n", strerror(errno)); return -1; }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, c_text + done, len - done);
        if (w <= 0) { fprintf(err, "flowc: cannot write %s: %s\n", cpath, strerror(errno)); close(fd); unlink(cpath); return -1; }
        done += (size_t)w;
    }
    close(fd);
    /* $CC may be a command with arguments ("ccache gcc") */
    const char *cc = getenv("CC");
    char ccbuf[1024];
    snprintf(ccbuf, sizeof ccbuf, "%s", cc && *cc ? cc : "cc");
    char *argv[64];
    int argc = 0;
    for (char *tok = strtok(ccbuf, " \t"); tok && argc < 40; tok = strtok(NULL, " \t")) argv[argc++] = tok;
    char incflag[4300];
    snprintf(incflag, sizeof incflag, "-I%s", inc);
    /* FLOWC_RUNTIME_LIB and FLOWC_CFLAGS let the tests build sanitized executables */
    const char *lib_over = getenv("FLOWC_RUNTIME_LIB");
    const char *rest1[] = { "-std=c11", "-O2", "-w", incflag, NULL };
    for (int i = 0; rest1[i] && argc < 63; i++) argv[argc++] = (char *)rest1[i];
    char flagbuf[1024];
    const char *extra = getenv("FLOWC_CFLAGS");
    snprintf(flagbuf, sizeof flagbuf, "%s", extra ? extra : "");
    for (char *tok = strtok(flagbuf, " \t"); tok && argc < 50; tok = strtok(NULL, " \t")) argv[argc++] = tok;
    const char *rest2[] = { cpath, lib_over && *lib_over ? lib_over : lib, "-lcjson", "-lsqlite3", "-lcurl", "-lpq", "-lutf8proc", "-lm", "-o", out, NULL };
    for (int i = 0; rest2[i] && argc < 63; i++) argv[argc++] = (char *)rest2[i];
    argv[argc] = NULL;
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(err, "flowc: cannot run the C compiler `%s`: %s\n", argv[0], strerror(rc));
        unlink(cpath);
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(err, "flowc: internal error: the C compiler rejected the generated code (kept in %s)\n", cpath);
        return -1;
    }
    unlink(cpath);
    return 0;
}

int build_hook_path(const char *flow_file, const char *hook_file, char *out, size_t cap) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", flow_file);
    char *slash = strrchr(dir, '/');
    if (hook_file[0] == '/') snprintf(dir, sizeof dir, "%s", "");
    else if (slash) slash[1] = 0;
    else snprintf(dir, sizeof dir, "./");
    char joined[8300];
    snprintf(joined, sizeof joined, "%s%s", dir, hook_file);
    char *real = realpath(joined, NULL);
    if (!real) { snprintf(out, cap, "%s", joined); return 0; }
    snprintf(out, cap, "%s", real);
    free(real);
    return 1;
}
