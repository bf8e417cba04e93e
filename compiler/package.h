/* package.h — .flowpkg archives: an integration's manifest, the reproducible archive (libarchive)
 * that `flowc package` writes, and the one verified reader of package bytes (install and --list). */
#ifndef FLOWC_PACKAGE_H
#define FLOWC_PACKAGE_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "ir.h"

#define PKG_FORMAT 1                      /* manifest.json "format" */
#define PKG_MAX_ENTRIES 4096              /* files in a package */
#define PKG_MAX_TOTAL (256u * 1024 * 1024) /* bytes of all files, unpacked */
#define PKG_MAX_FILE (64u * 1024 * 1024)   /* bytes of one file (as a .flow source may have) */
#define PKG_MAX_PATH 1024

typedef struct PkgFile { char *path; char *data; size_t len; const char *role; /* flow, hook, data */ } PkgFile;

/* A package that was read and verified: every entry a regular file at a safe relative path, listed
 * in the manifest with its size and SHA-256, and nothing listed missing. */
typedef struct Pkg {
    cJSON *manifest;
    char *manifest_text; size_t manifest_len;
    PkgFile *files; int nfiles;           /* sorted by path; manifest.json not among them */
    const char *name, *version, *flow_file, *environment;   /* from the manifest (environment: NULL) */
} Pkg;

/* Reads package bytes (a gzip'd or plain tar). 0, or -1 with why: the first entry or manifest field
 * that is wrong, named. Nothing is written anywhere. */
int  pkg_read(const void *data, size_t len, Pkg *out, char *why, size_t cap);
void pkg_free(Pkg *p);
/* A read package's manifest against what its .flow file says (which must check): the manifest
 * flowc package would write for these files (flowc_version aside) and the files the .flow file
 * names (its hooks, its tests' file() data), no more, no fewer. 0, or -1 with why (the first field
 * that differs). Install and --list run it after pkg_read. */
int  pkg_check_manifest(const Pkg *p, char *why, size_t cap);
const PkgFile *pkg_find(const Pkg *p, const char *path);

/* Whether a path may name a file in a package (and so under an install directory): relative, '/'
 * separated, no empty, `.` or `..` component, no component starting with `.` (so never .git or
 * .flowpkg), no backslash or control character, under PKG_MAX_PATH bytes. 0, or -1 with why. */
int  pkg_path_ok(const char *path, char *why, size_t cap);

/* SHA-256 of bytes as 64 lowercase hex digits and a NUL. */
void pkg_sha256_hex(const void *data, size_t len, char out[65]);

/* The text of src with the defaults of some params replaced (or added, for a param without one):
 * names[i] gets the Flow source text texts[i]; everything else byte for byte. malloc'd; *len set. */
char *pkg_set_defaults(const Source *src, const IrProgram *ir, const char *const *names, const char *const *texts, int n,
                       size_t *len);
/* A -P value as Flow source text for a param of type t (a string quoted and escaped; a number,
 * bool, duration or size checked as one; null for a T?). malloc'd, or NULL with why. */
char *pkg_param_literal(const Type *t, const char *value, char *why, size_t cap);
/* "flowc: no env `ENV` in WHERE (envs: a, b)" on stderr: the usage error of every --env. */
void pkg_no_env(const char *where, const char *env, const IrProgram *ir);
/* The source text of an env block's value for param `name` in env `env` (malloc'd), or NULL. */
char *pkg_env_value(const Source *src, const IrProgram *ir, const char *env, const char *name);

/* Prints a verified package's manifest: text (a review) or its JSON as stored. */
void pkg_print_manifest(const Pkg *p, int json, FILE *out);
/* The env() names of the program, sorted, unique, as a JSON array; and the settings of a connection
 * that come from params or env(), as an object setting -> {"params": [...], "env": [...]} */
cJSON *pkg_env_names(const IrProgram *ir);
cJSON *pkg_conn_bindings(const IrConn *c);

/* flowc package FILE [-o PKG] [--env NAME] | flowc package --list PKG [--format text|json]: an exit code. */
int  pkg_main(int argc, char **argv);

#endif
