/* child.c — starting a child process from the threaded server (child.h). Between fork and exec only
 * async-signal-safe calls: the signal mask the server's threads block SIGTERM/SIGINT with is cleared,
 * PR_SET_PDEATHSIG makes the child stop (at its next safe point, as runs do on SIGTERM) when the
 * server dies, and every other descriptor is closed. */
#define _GNU_SOURCE 1   /* close_range */
#include "child.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

pid_t srv_spawn(const char *exe, char *const argv[], char *const env[], const char *dir, int in_fd, int out_fd, int err_fd) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(143);   /* the server died before the line above */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int nul = open("/dev/null", O_RDWR);
    if (nul < 0) _exit(126);
    int fds[3] = { in_fd >= 0 ? in_fd : nul, out_fd >= 0 ? out_fd : nul, err_fd >= 0 ? err_fd : nul };
    /* dup2 onto 0..2 in order; a source already below 3 is moved up first so no dup2 clobbers it */
    for (int i = 0; i < 3; i++)
        if (fds[i] < 3) { int c = fcntl(fds[i], F_DUPFD, 3); if (c < 0) _exit(126); fds[i] = c; }
    for (int i = 0; i < 3; i++) if (dup2(fds[i], i) < 0) _exit(126);
    close_range(3, ~0U, 0);
    if (dir && chdir(dir) != 0) _exit(126);
    execve(exe, argv, env ? env : environ);
    _exit(127);
}
