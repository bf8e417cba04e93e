/* child.h — the one way the control plane starts a process (builds, runs, previews, pushes): fork and
 * exec from a threaded server, the child with a clean signal mask, SIGTERM when the server dies
 * (PR_SET_PDEATHSIG), no descriptor of the server's but the three it is given. */
#ifndef FLOWC_SERVER_CHILD_H
#define FLOWC_SERVER_CHILD_H
#include <sys/types.h>

/* Starts exe with argv and env (NULL: the server's) in dir (NULL: here), stdin/stdout/stderr from
 * in_fd/out_fd/err_fd (-1: /dev/null). The pid, or -1 with errno. */
pid_t srv_spawn(const char *exe, char *const argv[], char *const env[], const char *dir, int in_fd, int out_fd, int err_fd);

#endif
