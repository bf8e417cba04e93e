/* lsp.h — `flowc lsp`: the Language Server Protocol server over stdin and stdout (lsp.c). */
#ifndef FLOWC_LSP_H
#define FLOWC_LSP_H

/* Serves until `exit`: returns 0 after a shutdown request, 1 otherwise (the spec's exit codes), 2 on
 * usage (arguments other than --stdio). */
int lsp_main(int argc, char **argv);

#endif
