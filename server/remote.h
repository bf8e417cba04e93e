/* remote.h — `flowc remote`: a command-line client of flowc server's API. */
#ifndef FLOWC_SERVER_REMOTE_H
#define FLOWC_SERVER_REMOTE_H

/* flowc remote URL [--token T] RESOURCE ACTION [ARGS...]: an exit code (0 ok, 1 the server refused
 * or could not be reached, 2 usage) */
int remote_main(int argc, char **argv);

#endif
