/* secrets.h — the secrets a workspace's connections take from env(): kept encrypted at rest with
 * libsodium's secretbox under the workspace key (DIR/secret.key, 32 random bytes, mode 0600, made by
 * `flowc server init`: server/cli.c), and decrypted only into a run's environment. No function here returns a
 * secret's value to anything but a child's environment. */
#ifndef FLOWC_SERVER_SECRETS_H
#define FLOWC_SERVER_SECRETS_H
#include <stddef.h>
#include "db.h"
#include <cjson/cJSON.h>

#define SRV_KEY_FILE "secret.key"
#define SRV_KEY_BYTES 32
#define SRV_SECRET_MAX 65536          /* bytes of one secret value */

typedef struct SrvKey { unsigned char k[SRV_KEY_BYTES]; } SrvKey;

/* Reads DIR/secret.key: it must be a regular file of 32 bytes that only its owner can read or write
 * (as ssh refuses a readable private key). 0, or -1 with why. Wipe the key with srv_key_wipe. */
int  srv_key_load(const char *dir, SrvKey *key, char *why, size_t cap);
void srv_key_wipe(SrvKey *key);
/* Binds the key to the store: the store keeps the key's id (a SHA-256 of it, in meta `key_id`),
 * recorded by the first to bind; a key whose id is not the store's is refused (another DIR's
 * secret.key: the secrets would not decrypt). 0, or -1 with why. */
int  srv_key_bind(FlowDb *db, const SrvKey *key, char *why, size_t cap);

/* The secrets table in the workspace store (CREATE IF NOT EXISTS): 0, or -1 with why. */
int  srv_secrets_schema(FlowDb *db, char *why, size_t cap);
/* Sets NAME's value for an integration (its env("NAME")), encrypted with a fresh nonce; conn: the
 * connection it was set through. 0, or -1 with why. value is not kept anywhere else. */
int  srv_secret_put(FlowDb *db, const SrvKey *key, const char *integration, const char *conn, const char *name,
                    const char *value, size_t len, long long now_ms, char *why, size_t cap);
/* Removes one (name) or every (name NULL) secret of an integration: how many, or -1 with why. */
int  srv_secret_delete(FlowDb *db, const char *integration, const char *name, char *why, size_t cap);
/* The names set for an integration, as [{"name","connection","updated_at"}] — never a value. NULL
 * with why on a store error. */
cJSON *srv_secret_names(FlowDb *db, const char *integration, char *why, size_t cap);
/* A child's environment: FLOW_STATE_DB=state_db when state_db is a PostgreSQL DSN (the store's: the
 * runs keep their state there, runtime/state.c), NAME=value for each secret of the integration,
 * decrypted, then the entries of base (NULL-terminated, e.g. environ) whose name is not a secret's;
 * a FLOW_STATE_DB of base or of a secret is left out (the server's alone). NULL with why (a value that
 * does not decrypt: the key is not the one it was stored with). Free with srv_secret_env_free, which
 * wipes the values. */
char **srv_secret_env(FlowDb *db, const SrvKey *key, const char *integration, const char *state_db, char *const *base, char *why, size_t cap);
void   srv_secret_env_free(char **env);

#endif
