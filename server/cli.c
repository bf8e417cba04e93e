/* cli.c — the `flowc server` command: `init DIR [--db DSN]` (a workspace: its store, the secrets' key
 * file and the first full-access token, printed alone on the last line), `DIR [--listen ADDR:PORT]
 * [--db DSN] [--lease T]` (serves until SIGTERM or SIGINT, then stops cleanly) and `DIR audit verify
 * [--db DSN]` (the audit chain). --db names a PostgreSQL store, shown only with its password
 * redacted. Returns exit codes to main.c: 0 ok, 1 failed (a broken chain), 2 usage. */
#define _GNU_SOURCE
#include "server.h"
#include "db.h"
#include "secrets.h"
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
    fprintf(stderr, "usage: flowc server init DIR [--db DSN]\n"
                    "       flowc server DIR [--listen ADDR:PORT] [--db DSN] [--lease DURATION]\n"
                    "       flowc server DIR audit verify [--db DSN]\n");
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

static int cmd_init(const char *dir, const char *dsn) {
    char why[5000], path[4096], shown[1200];
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
    snprintf(path, sizeof path, "%s/secret.key", dir);
    if (stat(path, &sb) == 0) {   /* before the store is touched: a second server's DIR holds a copied key */
        fprintf(stderr, "flowc server init: %s is already a workspace (it holds secret.key): serve it with `flowc server %s%s`\n", dir, dir,
                dsn ? " --db DSN" : "");
        return 1;
    }
    if (dsn) flow_db_redact(dsn, shown, sizeof shown);
    else snprintf(shown, sizeof shown, "%s/store.db", dir);
    SrvStore *st = store_open(dir, dsn, 1, why, sizeof why);
    if (!st) { fprintf(stderr, "flowc server init: %s\n", why); return 1; }
    char id[40], secret[80];
    SrvKey key;
    int rc = make_key(dir, why, sizeof why) || srv_key_load(dir, &key, why, sizeof why);
    if (!rc) {
        store_lock(st);
        rc = srv_key_bind(store_db(st), &key, why, sizeof why) != 0;
        store_unlock(st);
        srv_key_wipe(&key);
    }
    rc = rc || tokens_create(st, "init", NULL, 0, id, secret, why, sizeof why);
    if (!rc) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", "init");
        cJSON_AddStringToObject(d, "scope", "full");
        rc = audit_append(st, 0, NULL, "", "token.create", SRV_K_TOKEN, id, d) != 0;
        if (rc) snprintf(why, sizeof why, "cannot write the audit log");
    }
    store_close(st);
    if (rc) { fprintf(stderr, "flowc server init: %s\n", why); return 1; }
    printf("workspace %s: store %s, secrets' key %s/secret.key\n", dir, shown, dir);
    printf("token %s (full access) is shown only now; keep it:\n%s\n", id, secret);
    memset(secret, 0, sizeof secret);
    return 0;
}

static int cmd_verify(const char *dir, const char *dsn) {
    char why[5000];
    SrvStore *st = store_open(dir, dsn, 0, why, sizeof why);
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

static int cmd_serve(const char *dir, const char *listen, const char *dsn, long long lease_ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* before any thread starts: only sigwait below takes them */
    signal(SIGPIPE, SIG_IGN);
    char why[5000];
    SrvConfig cfg = { dir, listen, dsn, lease_ms };
    Srv *s = srv_start(&cfg, why, sizeof why);
    if (!s) { fprintf(stderr, "flowc server: %s\n", why); return 1; }
    if (dsn) {
        char shown[1200];
        flow_db_redact(dsn, shown, sizeof shown);
        fprintf(stderr, "flowc server: %s (store %s) listening on http://%s\n", dir, shown, srv_address(s));
    } else fprintf(stderr, "flowc server: %s listening on http://%s\n", dir, srv_address(s));
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "flowc server: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(s);
    fprintf(stderr, "flowc server: stopped\n");
    return 0;
}

/* --db DSN / --db=DSN at argv[*i]: 1 taken (*i moved past it), 0 not --db, -1 --db without a value */
static int db_arg(int argc, char **argv, int *i, const char **dsn) {
    if (strcmp(argv[*i], "--db") == 0) {
        if (*i + 1 >= argc) return -1;
        *dsn = argv[++*i];
        return 1;
    }
    if (strncmp(argv[*i], "--db=", 5) == 0) { *dsn = argv[*i] + 5; return 1; }
    return 0;
}

int server_main(int argc, char **argv) {
    /* argv[0] flowc, argv[1] "server" */
    if (argc < 3) return usage(NULL);
    if (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) { usage(NULL); return 0; }
    const char *dsn = NULL;
    if (strcmp(argv[2], "init") == 0) {
        const char *dir = NULL;
        for (int i = 3; i < argc; i++) {
            int d = db_arg(argc, argv, &i, &dsn);
            if (d < 0) return usage("--db takes a PostgreSQL DSN");
            if (d) continue;
            if (dir || argv[i][0] == '-') return usage("init takes one DIR and --db DSN");
            dir = argv[i];
        }
        if (!dir) return usage("init takes one DIR");
        return cmd_init(dir, dsn);
    }
    const char *dir = argv[2], *listen = "127.0.0.1:8080";
    long long lease_ms = 0;
    int audit = 0;
    for (int i = 3; i < argc; i++) {
        int d = db_arg(argc, argv, &i, &dsn);
        if (d < 0) return usage("--db takes a PostgreSQL DSN");
        if (d) continue;
        if (strcmp(argv[i], "audit") == 0 && i == 3) {
            if (i + 1 >= argc || strcmp(argv[i + 1], "verify") != 0) return usage("audit takes `verify`");
            audit = 1;
            i++;
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen = argv[++i];
        else if (strncmp(argv[i], "--listen=", 9) == 0) listen = argv[i] + 9;
        else if ((strcmp(argv[i], "--lease") == 0 && i + 1 < argc) || strncmp(argv[i], "--lease=", 8) == 0) {
            const char *v = argv[i][7] == '=' ? argv[i] + 8 : argv[++i];
            lease_ms = tokens_parse_duration(v);
            if (lease_ms <= 0) return usage("--lease takes a duration: 30s, 2m, 1h");
        } else {
            char m[300], shown[1200];
            flow_db_redact(argv[i], shown, sizeof shown);   /* a misplaced DSN is not echoed with its password */
            snprintf(m, sizeof m, "unknown argument `%.200s`", shown);
            return usage(m);
        }
    }
    if (audit && (lease_ms || strcmp(listen, "127.0.0.1:8080") != 0)) return usage("audit verify takes only --db");
    if (audit) return cmd_verify(dir, dsn);
    return cmd_serve(dir, listen, dsn, lease_ms);
}
