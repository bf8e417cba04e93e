/* cli.c — the `flowc server` command: `init DIR` (a workspace: its store, the secrets' key file and
 * the first full-access token, printed alone on the last line), `DIR [--listen ADDR:PORT]` (serves
 * until SIGTERM or SIGINT, then stops cleanly) and `DIR audit verify` (the audit chain). Returns exit
 * codes to main.c: 0 ok, 1 failed (a broken chain), 2 usage. */
#define _GNU_SOURCE
#include "server.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(const char *msg) {
    if (msg) fprintf(stderr, "flowc server: %s\n", msg);
    fprintf(stderr, "usage: flowc server init DIR\n"
                    "       flowc server DIR [--listen ADDR:PORT]\n"
                    "       flowc server DIR audit verify\n");
    return 2;
}

/* DIR/secret.key: 32 random bytes, mode 0600, never replaced */
static int make_key(const char *dir, char *why, size_t cap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/secret.key", dir);
    unsigned char key[32];
    size_t got = 0;
    while (got < sizeof key) {
        ssize_t n = getrandom(key + got, sizeof key - got, 0);
        if (n <= 0) { snprintf(why, cap, "no random bytes from the system"); return -1; }
        got += (size_t)n;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) { snprintf(why, cap, "cannot create %s: %s", path, strerror(errno)); return -1; }
    int ok = write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
    memset(key, 0, sizeof key);
    if (close(fd) != 0 || !ok) { snprintf(why, cap, "cannot write %s", path); return -1; }
    return 0;
}

static int cmd_init(const char *dir) {
    char why[5000], path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "flowc server init: cannot make %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct stat sb;
    snprintf(path, sizeof path, "%s/store.db", dir);
    if (stat(path, &sb) == 0) {
        fprintf(stderr, "flowc server init: %s is already a workspace (it has store.db)\n", dir);
        return 1;
    }
    SrvStore *st = store_open(dir, NULL, 1, why, sizeof why);
    if (!st) { fprintf(stderr, "flowc server init: %s\n", why); return 1; }
    char id[40], secret[80];
    int rc = make_key(dir, why, sizeof why) || tokens_create(st, "init", NULL, 0, id, secret, why, sizeof why);
    if (!rc) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", "init");
        cJSON_AddStringToObject(d, "scope", "full");
        rc = audit_append(st, 0, NULL, "", "token.create", SRV_K_TOKEN, id, d) != 0;
        if (rc) snprintf(why, sizeof why, "cannot write the audit log");
    }
    store_close(st);
    if (rc) { fprintf(stderr, "flowc server init: %s\n", why); return 1; }
    printf("workspace %s: store %s, secrets' key %s/secret.key\n", dir, path, dir);
    printf("token %s (full access) is shown only now; keep it:\n%s\n", id, secret);
    memset(secret, 0, sizeof secret);
    return 0;
}

static int cmd_verify(const char *dir) {
    char why[5000];
    SrvStore *st = store_open(dir, NULL, 0, why, sizeof why);
    if (!st) { fprintf(stderr, "flowc server: %s\n", why); return 2; }
    long bad = audit_verify(st, why, sizeof why);
    store_close(st);
    if (bad) {
        fprintf(stderr, "flowc server: audit: %s\n", why);
        return 1;
    }
    printf("audit: %s\n", why);
    return 0;
}

static int cmd_serve(const char *dir, const char *listen) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* before any thread starts: only sigwait below takes them */
    signal(SIGPIPE, SIG_IGN);
    char why[5000];
    SrvConfig cfg = { dir, listen };
    Srv *s = srv_start(&cfg, why, sizeof why);
    if (!s) { fprintf(stderr, "flowc server: %s\n", why); return 1; }
    fprintf(stderr, "flowc server: %s listening on http://%s\n", dir, srv_address(s));
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "flowc server: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(s);
    fprintf(stderr, "flowc server: stopped\n");
    return 0;
}

int server_main(int argc, char **argv) {
    /* argv[0] flowc, argv[1] "server" */
    if (argc < 3) return usage(NULL);
    if (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) { usage(NULL); return 0; }
    if (strcmp(argv[2], "init") == 0) {
        if (argc != 4) return usage("init takes one DIR");
        return cmd_init(argv[3]);
    }
    const char *dir = argv[2], *listen = "127.0.0.1:8080";
    if (argc >= 4 && strcmp(argv[3], "audit") == 0) {
        if (argc != 5 || strcmp(argv[4], "verify") != 0) return usage("audit takes `verify`");
        return cmd_verify(dir);
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen = argv[++i];
        else if (strncmp(argv[i], "--listen=", 9) == 0) listen = argv[i] + 9;
        else {
            char m[300];
            snprintf(m, sizeof m, "unknown argument `%.200s`", argv[i]);
            return usage(m);
        }
    }
    return cmd_serve(dir, listen);
}
