/* conn_debug.h — connection debug windows (conn_debug.c): the store's windows and recorded requests,
 * what a job worker does around a run (tell it which connections to record, then keep what it
 * recorded), and the two routes (routes.def). */
#ifndef FLOWC_SERVER_CONN_DEBUG_H
#define FLOWC_SERVER_CONN_DEBUG_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "db.h"

#define SRV_DEBUG_MAX_MINUTES 60     /* the longest window one POST opens (documented in docs/cli.md) */
#define SRV_DEBUG_MAX_ENTRIES 1000   /* entries kept per connection; older ones are dropped */
#define SRV_DEBUG_MAX_BYTES 65536    /* a recorded line longer than this is dropped (bodies are excerpts of 1000 bytes) */

/* the tables (CREATE ... IF NOT EXISTS): 0, or -1 with why */
int  srv_debug_schema(FlowDb *db, char *why, size_t cap);
/* Before a run of integ: when windows of its connections are open now, their names (comma-separated)
 * in conns and an empty file (0600) for the run's lines, dir/.debug-JOB.ndjson, in path: 1; else 0. */
int  srv_debug_begin(FlowDb *db, const char *integ, const char *dir, const char *job, char *conns, size_t ccap, char *path, size_t pcap);
/* After the run: its lines into the store (those recorded while their window was open), the file
 * removed; what could not be kept is counted on log (may be NULL). */
void srv_debug_end(FlowDb *db, const char *integ, const char *job, const char *path, FILE *log);

/* the debug window of connection `conn` (integration.name): {"debugging", "until"}, until null when
 * none is open now */
cJSON *srv_debug_window(FlowDb *db, const char *conn);

#endif
