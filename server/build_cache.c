/* build_cache.c — integration revisions compiled once to native executables, cached by content hash
 * (build_cache.h). A build is `flowc build` in a child process (so a compiler crash is a failed build,
 * and build.c's process-wide signal handling stays out of the server's threads), its output renamed
 * into place by build.c; builders of one revision take turns on an flock and the second finds the
 * executable made. */
#define _DEFAULT_SOURCE 1
#include "build_cache.h"
#include "package.h"   /* pkg_sha256_hex */
#include "child.h"
#include "files.h"
#include "source.h"  /* src_write_atomic */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int mkdir_p(const char *path, char *why, size_t cap) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    snprintf(why, cap, "cannot create %s: %s", path, strerror(errno));
    return -1;
}

int srv_build_put(const char *dir, const char *integ, const char *text, size_t len, char hash[SRV_HASH_LEN + 1], char *why, size_t cap) {
    /* the identity of this flowc and of the build's environment goes into the hash with the text */
    struct stat self;
    char ident[1200];
    const char *rl = getenv("FLOWC_RUNTIME_LIB"), *cf = getenv("FLOWC_CFLAGS"), *cc = getenv("CC");
    if (stat("/proc/self/exe", &self) != 0) memset(&self, 0, sizeof self);
    int n = snprintf(ident, sizeof ident, "flowc-build-cache 1\n%lld %lld.%09ld\n%.300s\n%.300s\n%.300s\n", (long long)self.st_size,
                     (long long)self.st_mtim.tv_sec, self.st_mtim.tv_nsec, rl ? rl : "", cf ? cf : "", cc ? cc : "");
    SrvFiles files;
    srv_files_dir_list(dir, integ, &files);
    FlowSb all = { NULL, 0, 0 };
    flow_sb_put(&all, ident, (size_t)n);
    flow_sb_put(&all, text, len);
    for (int i = 0; i < files.n; i++) {   /* each file: NUL, its path, NUL, its size, NUL, its bytes */
        char sz[32];
        flow_sb_put(&all, "", 1);
        flow_sb_put(&all, files.v[i].path, strlen(files.v[i].path) + 1);
        int k = snprintf(sz, sizeof sz, "%zu", files.v[i].len);
        flow_sb_put(&all, sz, (size_t)k + 1);
        flow_sb_put(&all, files.v[i].data, files.v[i].len);
    }
    pkg_sha256_hex(all.p ? all.p : "", all.n, hash);
    free(all.p);
    char path[4200], src[4300];
    snprintf(path, sizeof path, "%s/cache", dir);
    int made = mkdir_p(path, why, cap) == 0;
    snprintf(path, sizeof path, "%s/cache/%s", dir, hash);
    if (!made || mkdir_p(path, why, cap)) { srv_files_free(&files); return -1; }
    snprintf(src, sizeof src, "%s/integration.flow", path);
    if (access(src, F_OK) == 0) { srv_files_free(&files); return 0; }
    /* the files first: integration.flow there says the whole revision is */
    int rc = srv_files_write(path, &files, why, cap);
    srv_files_free(&files);
    if (rc) return -1;
    const char *err;
    if (src_write_atomic(src, text, len, &err)) { snprintf(why, cap, "cannot write %s: %s", src, err); return -1; }
    return 0;
}

static int hash_ok(const char *h) {
    if (strlen(h) != SRV_HASH_LEN) return 0;
    for (const char *c = h; *c; c++) if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return 0;
    return 1;
}

/* the last lines of a build's log, on one line, for a message */
static void log_tail(const char *path, char *out, size_t cap) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char buf[4096];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    const char *start = buf;
    for (int lines = 0; n && lines < 3;) {   /* the last three lines */
        if (buf[--n] == '\n') lines++;
        if (lines < 3) start = buf + n;
        if (!n) break;
    }
    while (*start == '\n') start++;
    size_t k = 0;
    for (const char *c = start; *c && k + 1 < cap; c++) out[k++] = *c == '\n' ? ' ' : *c;
    out[k] = 0;
}

int srv_build_get(const char *dir, const char *flowc, const char *hash, char *exe, size_t excap, int *built, char *why, size_t cap) {
    *built = 0;
    if (!hash_ok(hash)) { snprintf(why, cap, "`%s` is not a revision hash", hash); return -1; }
    char base[4200], src[4300], lockp[4300], logp[4300];
    snprintf(base, sizeof base, "%s/cache/%s", dir, hash);
    snprintf(src, sizeof src, "%s/integration.flow", base);
    snprintf(lockp, sizeof lockp, "%s/lock", base);
    snprintf(logp, sizeof logp, "%s/build.log", base);
    snprintf(exe, excap, "%s/prog", base);
    if (access(exe, X_OK) == 0) return 0;
    if (access(src, R_OK) != 0) { snprintf(why, cap, "revision %.12s has no source in the build cache", hash); return -1; }
    int lk = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lk < 0) { snprintf(why, cap, "cannot open %s: %s", lockp, strerror(errno)); return -1; }
    while (flock(lk, LOCK_EX) != 0 && errno == EINTR) {}
    int rc = 0;
    if (access(exe, X_OK) != 0) {   /* nobody built it while we waited */
        int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        char *const argv[] = { (char *)flowc, "build", src, "-o", exe, NULL };
        pid_t pid = logfd < 0 ? -1 : srv_spawn(flowc, argv, NULL, NULL, -1, logfd, logfd);
        int status = 0;
        if (pid < 0) { snprintf(why, cap, "cannot start the build: %s", strerror(errno)); rc = -1; }
        else {
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || access(exe, X_OK) != 0) {
                char tail[600];
                log_tail(logp, tail, sizeof tail);
                if (WIFSIGNALED(status)) snprintf(why, cap, "the build of revision %.12s crashed (%s): %s", hash, strsignal(WTERMSIG(status)), tail);
                else snprintf(why, cap, "the build of revision %.12s failed: %s", hash, tail[0] ? tail : "no output (see its build.log)");
                rc = -1;
            } else *built = 1;
        }
        if (logfd >= 0) close(logfd);
    }
    flock(lk, LOCK_UN);
    close(lk);
    return rc;
}
