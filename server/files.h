/* files.h — the files a package brings beside its .flow file (hooks' C files, test blocks' data
 * files), kept with every revision of an integration in the store and written out for its head under
 * DIR/files/INTEGRATION/, beside which the integration's text is checked and from which it is built
 * (files.c). */
#ifndef FLOWC_SERVER_FILES_H
#define FLOWC_SERVER_FILES_H
#include "server.h"

typedef struct SrvFile { char *path; char *role; char *data; size_t len; } SrvFile;   /* role: hook, data */
typedef struct SrvFiles { SrvFile *v; int n; } SrvFiles;

void   srv_files_free(SrvFiles *f);
void   srv_files_add(SrvFiles *f, const char *path, const char *role, const char *data, size_t len);
/* [{"path", "role", "size", "sha256"}] */
cJSON *srv_files_json(const SrvFiles *f);
/* In rev_commit's transaction: revision rev of integ gets files, or (files NULL) the files of
 * from_integ's revision from_rev (0: none). 0, or -1 (flow_db_error). */
int    srv_files_commit(struct FlowDb *db, const char *integ, long rev, const SrvFiles *files, const char *from_integ, long from_rev);
/* the files of a revision (none: n 0); 0, or -1 */
int    srv_files_read(Srv *s, const char *integ, long rev, SrvFiles *out);
/* The name a text of integ is checked under, DIR/files/INTEGRATION/base: its files resolve beside it
 * (the head's: written there first when another server changed them, srv_files_sync). */
void   srv_files_name(Srv *s, const char *integ, const char *base, char *out, size_t cap);
/* The head's files written to DIR/files/INTEGRATION/ (replacing what was there; none, or no
 * integration: the directory removed) unless its mark says they are there already. 0, or -1 with why.
 * srv_files_ensure: the same for workspace directory wsdir, reading the store through st (locked
 * for it) or, st NULL, through db (a job worker's own connection). */
int    srv_files_sync(Srv *s, const char *integ, char *why, size_t cap);
int    srv_files_ensure(const char *wsdir, SrvStore *st, struct FlowDb *db, const char *integ, char *why, size_t cap);
/* files written into a fresh directory under DIR/files/ (for a check before they are stored): its
 * path in out; remove it with srv_files_unstage. 0, or -1 with why. */
int    srv_files_stage(Srv *s, const SrvFiles *f, char *out, size_t cap, char *why, size_t wcap);
void   srv_files_unstage(const char *dir);
/* Writes each file under dir at its path (its directories made; a path a package may not hold is
 * refused), mode 0600. 0, or -1 with why. */
int    srv_files_write(const char *dir, const SrvFiles *f, char *why, size_t cap);
/* the files beside a build's source: the hash of what DIR/files/INTEGRATION/ holds folded into h (a
 * SHA-256 context's text), and the files copied into dest. (build_cache.c) */
int    srv_files_dir_list(const char *wsdir, const char *integ, SrvFiles *out);

#endif
