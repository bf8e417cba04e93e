/* types.h — the type representation: scalars, arrays, open records, nullability; printing and assignability. */
#ifndef FLOWC_TYPES_H
#define FLOWC_TYPES_H
#include "arena.h"
#include "source.h"

#define TYPE_KINDS(X) \
    X(ERROR, "<error>")      /* poison: an error was already reported; accepted everywhere */ \
    X(NULL, "null") X(STRING, "string") X(INT, "int") X(NUMBER, "number") X(BOOL, "bool") \
    X(DATETIME, "datetime") X(DURATION, "duration") X(SIZE, "size") \
    X(JSON, "json")          /* dynamic: checked at run time */ \
    X(ARRAY, "array") X(RECORD, "record") \
    X(CTOR, "ctor")          /* a settings constructor value: auth, paginate, mode, ... (name says which) */ \
    X(WORD, "word")          /* a bare word in a setting: POST, ndjson, sha256 */

typedef enum {
#define X(k, s) TY_##k,
    TYPE_KINDS(X)
#undef X
} TypeKind;

typedef struct Type Type;
typedef struct TypeField { const char *name; Type *type; Span span; } TypeField;

struct Type {
    TypeKind kind;
    int nullable;            /* T? : may be null or absent */
    const char *name;        /* named type (printing), or the CTOR kind */
    Type *elem;              /* ARRAY */
    TypeField *fields;       /* RECORD */
    int nfields;
};

extern Type ty_error, ty_null, ty_string, ty_int, ty_number, ty_bool, ty_datetime, ty_duration, ty_size, ty_json;
extern const char *const ty_kind_names[];

Type *ty_new(Arena *a, TypeKind k);
Type *ty_array(Arena *a, Type *elem);
Type *ty_ctor(Arena *a, const char *name);
Type *ty_nullable(Arena *a, Type *t);        /* t? (t itself if already nullable) */
Type *ty_strip(Arena *a, Type *t);           /* t without ? */
Type *ty_record_copy(Arena *a, const Type *r, int extra);
const TypeField *ty_field(const Type *rec, const char *name);
/* Returns a record like r with field `name` set to t (added or replaced). */
Type *ty_with_field(Arena *a, const Type *r, const char *name, Type *t, Span sp);
Type *ty_without_field(Arena *a, const Type *r, const char *name);
int  ty_is_numeric(const Type *t);          /* int or number (not nullable-checked) */
int  ty_is_dynamic(const Type *t);          /* json or error */
/* Can a value of type `from` be used where `to` is expected? Nullability included; json goes both ways. */
int  ty_assignable(const Type *from, const Type *to);
/* Least common type of two branches (if/else, ??): NULL if none. */
Type *ty_join(Arena *a, Type *x, Type *y);
/* Human text: "string?", "[Item]", "{ id: int, ... }". Allocated in the arena. */
const char *ty_str(Arena *a, const Type *t);
/* Same, with every field of every record spelled out (IR dumps). */
const char *ty_str_full(Arena *a, const Type *t);

#endif
