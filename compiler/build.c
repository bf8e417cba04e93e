/* build.c — `flowc build`: writes the emitted C into a private temporary directory beside the output
 * and runs $CC -O2 on it, linking libflowrt.a and the system libraries (cJSON, SQLite, libcurl,
 * libpq); the executable is renamed into place with its final mode (0700 when it bakes in secrets),
 * and the C is removed on every path unless --keep-c. The only place flowc starts a process. */
#define _DEFAULT_SOURCE 1   /* mkdtemp */
#ifndef FLOWC_RT_LIBS   /* (the Makefile gives its RT_LIBS) */
#define FLOWC_RT_LIBS "-lcjson -lsqlite3 -lutf8proc -lcrypto -lpthread -lm"
#endif
#include "build.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* What a build leaves on disk until it ends: a private directory next to the output holding the
 * C file and the executable being linked. Removed on every path, a signal included. */
static char tmp_dir[4200], tmp_c[4300], tmp_out[4300];

static void remove_tmp(void) {
    if (tmp_c[0]) unlink(tmp_c);
    if (tmp_out[0]) unlink(tmp_out);
    if (tmp_dir[0]) rmdir(tmp_dir);
}

static void on_signal(int sig) {   /* async-signal-safe: unlink, rmdir, signal, raise */
    remove_tmp();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Moves from -> to (same directory tree, so rename; 0, or -1 with errno). */
static int move(const char *from, const char *to) { return rename(from, to); }

int build_native(const char *c_text, size_t len, const char *out, int private_out, int keep_c, FILE *err) {
    char inc[4200], lib[4200];
    if (build_find_runtime(inc, sizeof inc, lib, sizeof lib, err) < 0) return -1;
    /* a private (0700) directory beside the output: the C (which holds -P values, masked) and the
     * executable exist only there until the executable is renamed into place, with its final mode */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = 0;
    else snprintf(dir, sizeof dir, ".");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/.flowc-build-XXXXXX", dir);
    if (!mkdtemp(tmp_dir)) {
        fprintf(err, "flowc: cannot create a temporary directory beside %s: %s\n", out, strerror(errno));
        tmp_dir[0] = 0;
        return -1;
    }
    snprintf(tmp_c, sizeof tmp_c, "%s/flow.c", tmp_dir);
    snprintf(tmp_out, sizeof tmp_out, "%s/prog", tmp_dir);
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    int rc = -1;
    int fd = open(tmp_c, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) { fprintf(err, "flowc: cannot create %s: %s\n", tmp_c, strerror(errno)); goto out; }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, c_text + done, len - done);
        if (w <= 0) { fprintf(err, "flowc: cannot write %s: %s\n", tmp_c, strerror(errno)); close(fd); goto out; }
        done += (size_t)w;
    }
    if (close(fd) != 0) { fprintf(err, "flowc: cannot write %s: %s\n", tmp_c, strerror(errno)); goto out; }
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
    argv[argc++] = tmp_c;
    argv[argc++] = (char *)(lib_over && *lib_over ? lib_over : lib);
    /* the libraries a built flow links, as the Makefile lists them (RT_LIBS; libcurl, libpq and
     * libmicrohttpd are loaded when first used: runtime/dynlib.c) */
    char libsbuf[512];
    snprintf(libsbuf, sizeof libsbuf, "%s", FLOWC_RT_LIBS);
    for (char *tok = strtok(libsbuf, " \t"); tok && argc < 60; tok = strtok(NULL, " \t")) argv[argc++] = tok;
    argv[argc++] = "-o";
    argv[argc++] = tmp_out;
    argv[argc] = NULL;
    pid_t pid;
    int sp = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (sp != 0) {
        fprintf(err, "flowc: cannot run the C compiler `%s`: %s\n", argv[0], strerror(sp));
        goto out;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(err, "flowc: internal error: the C compiler rejected the generated code%s\n",
                keep_c ? "" : " (rerun with --keep-c to keep the C file)");
        goto out;
    }
    /* baked-in secrets: only the owner may read (or run) the executable */
    if (private_out && chmod(tmp_out, 0700) != 0) {
        fprintf(err, "flowc: cannot make %s private: %s\n", tmp_out, strerror(errno));
        goto out;
    }
    if (move(tmp_out, out) != 0) { fprintf(err, "flowc: cannot write %s: %s\n", out, strerror(errno)); goto out; }
    tmp_out[0] = 0;
    rc = 0;
out:
    if (keep_c && tmp_c[0] && access(tmp_c, F_OK) == 0) {   /* OUT.c, mode 0600: what the user asked to keep */
        char kept[4300];
        snprintf(kept, sizeof kept, "%s.c", out);
        if (move(tmp_c, kept) == 0) { fprintf(err, "flowc: the generated C is kept in %s%s\n", kept, private_out ? " (it holds secrets, masked)" : ""); tmp_c[0] = 0; }
        else fprintf(err, "flowc: cannot keep the C as %s: %s\n", kept, strerror(errno));
    }
    remove_tmp();
    tmp_c[0] = tmp_out[0] = tmp_dir[0] = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}
