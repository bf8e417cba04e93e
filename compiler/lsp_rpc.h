/* lsp_rpc.h — the language server's wire: Content-Length framing and JSON-RPC 2.0 messages (lsp_rpc.c). */
#ifndef FLOWC_LSP_RPC_H
#define FLOWC_LSP_RPC_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* JSON-RPC and LSP error codes */
enum {
    RPC_PARSE_ERROR = -32700, RPC_INVALID_REQUEST = -32600, RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602, RPC_INTERNAL_ERROR = -32603, RPC_SERVER_NOT_INITIALIZED = -32002,
    RPC_REQUEST_FAILED = -32803,
};

/* The largest message body read (a document is at most 64 MB; its JSON escaping may grow it). */
#define RPC_MAX_BODY (160u << 20)
#define RPC_MAX_HEADER 8192

typedef struct RpcReader RpcReader;
/* Reads up to cap bytes into buf: the count, 0 at the end of input, -1 on an error. */
typedef ssize_t (*RpcReadFn)(void *ud, char *buf, size_t cap);

RpcReader *rpc_reader_new(RpcReadFn fn, void *ud);
void rpc_reader_free(RpcReader *r);

typedef enum {
    RPC_MSG,       /* *body (malloc'd, NUL-terminated, *len bytes): one message's content */
    RPC_BADFRAME,  /* a header block that frames nothing (no or a bad Content-Length, too long): *why
                      says what; it was skipped, and reading goes on after it */
    RPC_EOF        /* end of input (a message cut short by it is dropped) */
} RpcStatus;
RpcStatus rpc_read(RpcReader *r, char **body, size_t *len, const char **why);

/* A message's body, classified. */
typedef enum { RPC_REQUEST, RPC_NOTIFICATION, RPC_RESPONSE, RPC_INVALID } RpcKind;
typedef struct RpcMsg {
    RpcKind kind;
    cJSON *root;            /* owned; NULL when the body is not JSON */
    const char *method;     /* REQUEST, NOTIFICATION */
    cJSON *id;              /* REQUEST, RESPONSE (in root), or NULL */
    cJSON *params;          /* in root, or NULL */
    int error;              /* RPC_INVALID: RPC_PARSE_ERROR or RPC_INVALID_REQUEST */
    char why[400];          /* RPC_INVALID: what is wrong */
} RpcMsg;
/* Parses a body with the runtime's strict JSON reader and classifies it. Free with rpc_msg_free. */
void rpc_parse(RpcMsg *m, const char *body, size_t len);
void rpc_msg_free(RpcMsg *m);

/* Writers: each writes one framed message and flushes. They take ownership of result/params. The id
 * is copied (NULL: `"id": null`). */
void rpc_send_result(FILE *out, const cJSON *id, cJSON *result);
void rpc_send_error(FILE *out, const cJSON *id, int code, const char *message);
void rpc_send_notification(FILE *out, const char *method, cJSON *params);

#endif
