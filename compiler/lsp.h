/* lsp.h — `flowc lsp`: the Language Server Protocol server over stdin and stdout (lsp.c). */
#ifndef FLOWC_LSP_H
#define FLOWC_LSP_H
#include <stdio.h>
#include <sys/types.h>

/* Serves until `exit`: returns 0 after a shutdown request, 1 otherwise (the spec's exit codes), 2 on
 * usage (arguments other than --stdio). */
int lsp_main(int argc, char **argv);

/* The server on any byte source: messages read through fn(ud, ...) (lsp_rpc.h's RpcReadFn), replies
 * written to out, skipped frames noted on log (may be NULL). Returns the exit code lsp_main gives
 * (0 after shutdown and exit, else 1). The fuzzer calls it on arbitrary bytes. */
int lsp_serve(ssize_t (*fn)(void *ud, char *buf, size_t cap), void *ud, FILE *out, FILE *log);

#endif
