/* cli_diff.h — the `flowc diff` and `flowc merge` commands; main.c dispatches to them. */
#ifndef FLOWC_CLI_DIFF_H
#define FLOWC_CLI_DIFF_H

int cli_diff(int argc, char **argv);    /* 0 same (or different), 1 different with --exit-code, 2 error */
int cli_merge(int argc, char **argv);   /* 0 merged, 1 conflicts, 2 error */

#endif
