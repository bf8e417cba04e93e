/* parser.y — pure bison grammar of the Flow language (LANGUAGE.md). It builds the AST only through
 * the ast_* constructors and reports syntax errors into the diagnostics list, recovering at the
 * nearest list of items (declarations, settings, steps, map entries) so every error is reported. */
%code requires {
#include "parse.h"
/* locations are byte spans: a rule covers its first to its last symbol; an empty rule sits at the end of the previous one */
#define YYLLOC_DEFAULT(Cur, Rhs, N) do { \
    if (N) { (Cur).start = YYRHSLOC(Rhs, 1).start; (Cur).end = YYRHSLOC(Rhs, N).end; } \
    else { (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end; } } while (0)
}
%code provides {
int flowyylex(YYSTYPE *lval, Span *lloc, void *scanner);
}
%code {
#include <string.h>
#define AR (ctx->ar)
#define N1(k, sp, a) ast_node1(AR, AST_##k, sp, a)
#define N2(k, sp, a, b) ast_node2(AR, AST_##k, sp, a, b)
#define N3(k, sp, a, b, c) ast_node3(AR, AST_##k, sp, a, b, c)
#define LEAF(k, sp) ast_new(AR, AST_##k, sp)
/* A node deeper than AST_MAX_DEPTH ends the parse with one error: later stages recurse over the tree. */
#define DEEP(n) do { if ((n)->depth > AST_MAX_DEPTH) { \
    diag_error(ctx->diags, ctx->src, (n)->span, "expression nested too deeply (more than %d levels)", AST_MAX_DEPTH); \
    YYABORT; } } while (0)
static void yyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg);
static AstNode *named(ParseCtx *ctx, AstKind k, Span sp, AstNode *name);
static AstNode *kw_name(ParseCtx *ctx, Span sp);
static AstNode *binop(ParseCtx *ctx, Span sp, int op, AstNode *a, AstNode *b);
}

%define api.pure full
%define api.prefix {flowyy}
%define api.location.type {Span}
%define parse.error custom
%define lr.type ielr
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {ParseCtx *ctx}

%union {
    struct { const char *s; size_t len; } str;
    int64_t i;
    double d;
    AstNode *node;
}

%token <str> IDENT "name" STRING "string"
%token <i> INT "integer" DURATION "duration" SIZE "size"
%token <d> NUMBER "number"
%token KW_INTEGRATION "integration" KW_VERSION "version" KW_PARAM "param" KW_ENV "env"
%token KW_TABLE "table" KW_TYPE "type" KW_CONNECTION "connection" KW_FLOW "flow" KW_TEST "test"
%token KW_EXPORT "export" KW_LOOKUP "lookup" KW_TRANSFORM "transform" KW_FILTER "filter"
%token KW_BRANCH "branch" KW_IMPORT "import" KW_HOOK "hook" KW_FROM "from" KW_INTO "into"
%token KW_REMOVE "remove" KW_MAP "map" KW_RESPONSE "response" KW_GIVEN "given" KW_EXPECT "expect"
%token KW_FOR "for"
%token KW_WHEN "when" KW_IF "if" KW_THEN "then" KW_ELSE "else" KW_EACH "each" KW_IN "in"
%token KW_WHERE "where" KW_AND "and" KW_OR "or" KW_NOT "not"
%token KW_TRUE "true" KW_FALSE "false" KW_NULL "null"
%token QQ "??" ARROW "=>" EQEQ "==" NE "!=" LE "<=" GE ">="
%token START_EXPR "start of an expression"   /* never in a file: parse_expression() starts with it */

%type <node> file decls decl opt_version opt_default settings setting flow_items flow_item step
%type <node> opt_type type type_atom type_fields type_field import_items map_entries map_entry opt_when
%type <node> transform_items transform_item lvalue arms arm arm_steps test_items test_item hook
%type <node> expr coalesce or_e and_e not_e cmp add mul unary postfix primary args arglist arg
%type <node> obj_entries obj_entry elems elemlist opt_where name anyname key soft_kw op_kw opt_name primary_name

%%

/* file: decl* ; or, for `flowc eval`, one expression */
file: decls                       { $$ = $1; $$->span = (Span){ 0, (uint32_t)ctx->src->len }; ctx->root = $$; }
    | START_EXPR expr             { $$ = $2; ctx->root = $$; }
    ;

decls: %empty                     { $$ = LEAF(FILE, @$); }
     | decls decl                 { ast_push(AR, $1, $2); $$ = $1; if (ctx->err_depth == 0) ctx->quiet = 0; }
     | decls sep                  { $$ = $1; }
     | decls error                { $$ = $1; }
     ;

sep: ',' | ';' ;

/* decl: integration STRING [version STRING] | param NAME ':' type ['=' expr] | env NAME '{' settings '}'
 *     | table NAME '=' expr | type NAME '=' type | connection NAME '=' KIND '{' settings '}'
 *     | flow NAME '{' (setting | step | hook)* '}' | test STRING for NAME '{' (given | expect)* '}' */
decl: KW_INTEGRATION STRING opt_version
                                  { $$ = LEAF(INTEGRATION, @$); $$->str = $2.s; $$->slen = $2.len; $$->b = $3; }
    | KW_PARAM name ':' type opt_default
                                  { $$ = N2(PARAM, @$, $4, $5); ast_set_name($$, $2->name, $2->span); }
    | KW_ENV name '{' settings '}'
                                  { $$ = $4; $$->kind = AST_ENV; $$->span = @$; ast_set_name($$, $2->name, $2->span); }
    | KW_TABLE name '=' expr      { $$ = N1(TABLE, @$, $4); ast_set_name($$, $2->name, $2->span); }
    | KW_TYPE name '=' type       { $$ = N1(TYPEDECL, @$, $4); ast_set_name($$, $2->name, $2->span); }
    | KW_CONNECTION name '=' name '{' settings '}'
                                  { $$ = $6; $$->kind = AST_CONNECTION; $$->span = @$; ast_set_name($$, $2->name, $2->span);
                                    $$->str = $4->name; $$->slen = strlen($4->name); $$->c = $4; }
    | KW_FLOW name '{' flow_items '}'
                                  { $$ = $4; $$->span = @$; ast_set_name($$, $2->name, $2->span); }
    | KW_TEST STRING KW_FOR name '{' test_items '}'
                                  { $$ = $6; $$->span = @$; $$->str = $2.s; $$->slen = $2.len; ast_set_name($$, $4->name, $4->span); }
    ;

opt_version: %empty               { $$ = NULL; }
    | KW_VERSION STRING           { $$ = LEAF(STR, @2); $$->str = $2.s; $$->slen = $2.len; }
    ;
opt_default: %empty               { $$ = NULL; }
    | '=' expr                    { $$ = $2; }
    ;

/* settings: (NAME '=' expr)* */
settings: %empty                  { $$ = LEAF(ENV, @$); }
    | settings setting            { ast_push(AR, $1, $2); $$ = $1; }
    | settings sep                { $$ = $1; }
    | settings error              { $$ = $1; }
    ;
setting: key '=' expr             { $$ = named(ctx, AST_SETTING, @$, $1); $$->a = $3; $$->depth = $3->depth + 1; }
    ;

flow_items: %empty                { $$ = LEAF(FLOW, @$); }
    | flow_items flow_item        { ast_push(AR, $1, $2); $$ = $1; }
    | flow_items sep              { $$ = $1; }
    | flow_items error            { $$ = $1; }
    ;
flow_item: setting | step | hook ;

/* hook: hook NAME '=' expr */
hook: KW_HOOK name '=' expr       { $$ = named(ctx, AST_HOOK, @$, $2); $$->a = $4; }
    ;

/* step: export NAME [':' type] from NAME '{' settings '}' | lookup ... | import NAME into NAME '{' ... '}'
 *     | transform '{' ... '}' | filter expr | branch [MODE] '{' arm* '}' */
step: KW_EXPORT name opt_type KW_FROM name '{' settings '}'
                                  { $$ = $7; $$->kind = AST_EXPORT; $$->span = @$; ast_set_name($$, $2->name, $2->span);
                                    $$->a = $3; $$->str = $5->name; $$->slen = strlen($5->name); $$->c = $5; }
    | KW_LOOKUP name opt_type KW_FROM name '{' settings '}'
                                  { $$ = $7; $$->kind = AST_LOOKUP; $$->span = @$; ast_set_name($$, $2->name, $2->span);
                                    $$->a = $3; $$->str = $5->name; $$->slen = strlen($5->name); $$->c = $5; }
    | KW_IMPORT name KW_INTO name '{' import_items '}'
                                  { $$ = $6; $$->span = @$; ast_set_name($$, $2->name, $2->span); $$->str = $4->name; $$->slen = strlen($4->name); $$->c = $4; }
    | KW_TRANSFORM '{' transform_items '}'
                                  { $$ = $3; $$->span = @$; }
    | KW_FILTER expr              { $$ = N1(FILTER, @$, $2); }
    | KW_BRANCH opt_name '{' arms '}'
                                  { $$ = $4; $$->span = @$; if ($2) ast_set_name($$, $2->name, $2->span); }
    ;
opt_name: %empty                  { $$ = NULL; }
    | name
    ;
opt_type: %empty                  { $$ = NULL; }
    | ':' type                    { $$ = $2; }
    ;

import_items: %empty              { $$ = LEAF(IMPORT, @$); }
    | import_items setting        { ast_push(AR, $1, $2); $$ = $1; }
    | import_items hook           { ast_push(AR, $1, $2); $$ = $1; }
    | import_items KW_MAP '{' map_entries '}'
                                  { $4->kind = AST_MAP; $4->span = (Span){ @2.start, @5.end }; ast_push(AR, $1, $4); $$ = $1; }
    | import_items KW_RESPONSE '{' transform_items '}'
                                  { $4->kind = AST_RESPONSE; $4->span = (Span){ @2.start, @5.end }; ast_push(AR, $1, $4); $$ = $1; }
    | import_items sep            { $$ = $1; }
    | import_items error          { $$ = $1; }
    ;

/* map entry: KEY ['=' | ':' type '='] expr [when expr] | KEY '{' entries '}' [when expr] */
map_entries: %empty              { $$ = LEAF(MAP, @$); }
    | map_entries map_entry       { ast_push(AR, $1, $2); $$ = $1; }
    | map_entries sep             { $$ = $1; }
    | map_entries error           { $$ = $1; }
    ;
map_entry: key '=' expr opt_when  { $$ = named(ctx, AST_ENTRY, @$, $1); $$->b = $3; $$->c = $4; }
    | key ':' type '=' expr opt_when
                                  { $$ = named(ctx, AST_ENTRY, @$, $1); $$->a = $3; $$->b = $5; $$->c = $6; }
    | key '{' map_entries '}' opt_when
                                  { $$ = $3; $$->kind = AST_NESTED; $$->span = @$; ast_set_name($$, $1->name, $1->span);
                                    $$->name_quoted = $1->name_quoted; $$->c = $5; }
    ;
opt_when: %empty                  { $$ = NULL; }
    | KW_WHEN expr                { $$ = $2; }
    ;

/* transform: (path '=' expr | remove path)* */
transform_items: %empty           { $$ = LEAF(TRANSFORM, @$); }
    | transform_items transform_item { ast_push(AR, $1, $2); $$ = $1; }
    | transform_items sep         { $$ = $1; }
    | transform_items error       { $$ = $1; }
    ;
transform_item: lvalue '=' expr   { $$ = N2(ASSIGN, @$, $1, $3); }
    | KW_REMOVE lvalue            { $$ = N1(REMOVE, @$, $2); }
    ;
/* lvalue: NAME ('.' NAME | '[' expr ']')* */
lvalue: primary_name
    | lvalue '.' anyname          { $$ = N1(FIELD, @$, $1); ast_set_name($$, $3->name, $3->span); DEEP($$); }
    | lvalue '[' expr ']'         { $$ = N2(INDEX, @$, $1, $3); DEEP($$); }
    ;

/* arm: NAME [when expr] '{' step* '}' */
arms: %empty                      { $$ = LEAF(BRANCH, @$); }
    | arms arm                    { ast_push(AR, $1, $2); $$ = $1; }
    | arms sep                    { $$ = $1; }
    | arms error                  { $$ = $1; }
    ;
arm: name KW_WHEN expr '{' arm_steps '}'
                                  { $$ = $5; $$->span = @$; ast_set_name($$, $1->name, $1->span); $$->a = $3; }
    | name '{' arm_steps '}'      { $$ = $3; $$->span = @$; ast_set_name($$, $1->name, $1->span); }
    ;
arm_steps: %empty                 { $$ = LEAF(ARM, @$); }
    | arm_steps step              { ast_push(AR, $1, $2); $$ = $1; }
    | arm_steps hook              { ast_push(AR, $1, $2); $$ = $1; }
    | arm_steps sep               { $$ = $1; }
    | arm_steps error             { $$ = $1; }
    ;

/* test items: given NAME '=' expr | expect expr */
test_items: %empty                { $$ = LEAF(TEST, @$); }
    | test_items test_item        { ast_push(AR, $1, $2); $$ = $1; }
    | test_items sep              { $$ = $1; }
    | test_items error            { $$ = $1; }
    ;
test_item: KW_GIVEN name '=' expr { $$ = named(ctx, AST_GIVEN, @$, $2); $$->a = $4; }
    | KW_EXPECT expr              { $$ = N1(EXPECT, @$, $2); }
    ;

/* type: atom ['?'] ; atom: NAME | '[' type ']' | '{' (KEY ':' type)* '}' */
type: type_atom
    | type_atom '?'               { $$ = N1(TY_OPTIONAL, @$, $1); DEEP($$); }
    ;
type_atom: name                   { $$ = $1; $$->kind = AST_TY_NAME; }
    | '[' type ']'                { $$ = N1(TY_ARRAY, @$, $2); DEEP($$); }
    | '{' type_fields '}'         { $$ = $2; $$->span = @$; DEEP($$); }
    ;
type_fields: %empty               { $$ = LEAF(TY_RECORD, @$); }
    | type_fields type_field      { ast_push(AR, $1, $2); $$ = $1; }
    | type_fields sep             { $$ = $1; }
    | type_fields error           { $$ = $1; }
    ;
type_field: key ':' type          { $$ = named(ctx, AST_TY_FIELD, @$, $1); $$->a = $3; $$->depth = $3->depth + 1; }
    ;

/* ---- expressions, loosest first: if/each; ??; or; and; not; comparison; + -; * / %; unary -; postfix ---- */
expr: KW_IF expr KW_THEN expr KW_ELSE expr
                                  { $$ = N3(IF, @$, $2, $4, $6); DEEP($$); }
    | KW_EACH name KW_IN coalesce opt_where '{' map_entries '}'
                                  { $$ = $7; $$->kind = AST_EACH; $$->span = @$; ast_set_name($$, $2->name, $2->span);
                                    $$->a = $4; $$->b = $5; DEEP($$); }
    | KW_EACH name KW_IN coalesce opt_where ARROW expr
                                  { $$ = N3(EACH, @$, $4, $5, $7); ast_set_name($$, $2->name, $2->span); DEEP($$); }
    | coalesce
    ;
opt_where: %empty                 { $$ = NULL; }
    | KW_WHERE coalesce           { $$ = $2; }
    ;
coalesce: coalesce QQ or_e        { $$ = binop(ctx, @$, OP_COALESCE, $1, $3); DEEP($$); }
    | or_e
    ;
or_e: or_e KW_OR and_e            { $$ = binop(ctx, @$, OP_OR, $1, $3); DEEP($$); }
    | and_e
    ;
and_e: and_e KW_AND not_e         { $$ = binop(ctx, @$, OP_AND, $1, $3); DEEP($$); }
    | not_e
    ;
not_e: KW_NOT not_e               { $$ = N1(UNARY, @$, $2); $$->op = OP_NOT; DEEP($$); }
    | cmp
    ;
cmp: add EQEQ add                 { $$ = binop(ctx, @$, OP_EQ, $1, $3); DEEP($$); }
    | add NE add                  { $$ = binop(ctx, @$, OP_NE, $1, $3); DEEP($$); }
    | add '<' add                 { $$ = binop(ctx, @$, OP_LT, $1, $3); DEEP($$); }
    | add LE add                  { $$ = binop(ctx, @$, OP_LE, $1, $3); DEEP($$); }
    | add '>' add                 { $$ = binop(ctx, @$, OP_GT, $1, $3); DEEP($$); }
    | add GE add                  { $$ = binop(ctx, @$, OP_GE, $1, $3); DEEP($$); }
    | add KW_IN add               { $$ = binop(ctx, @$, OP_IN, $1, $3); DEEP($$); }
    | add
    ;
add: add '+' mul                  { $$ = binop(ctx, @$, OP_ADD, $1, $3); DEEP($$); }
    | add '-' mul                 { $$ = binop(ctx, @$, OP_SUB, $1, $3); DEEP($$); }
    | mul
    ;
mul: mul '*' unary                { $$ = binop(ctx, @$, OP_MUL, $1, $3); DEEP($$); }
    | mul '/' unary               { $$ = binop(ctx, @$, OP_DIV, $1, $3); DEEP($$); }
    | mul '%' unary               { $$ = binop(ctx, @$, OP_MOD, $1, $3); DEEP($$); }
    | unary
    ;
unary: '-' unary                  { if ($2 && $2->kind == AST_INT && $2->ival == INT64_MIN && !$2->op) {   /* -9223372036854775808 */
                                        $$ = $2; $$->span = @$; $$->op = 1;
                                      } else { $$ = N1(UNARY, @$, $2); $$->op = OP_NEG; DEEP($$); } }
    | postfix
    ;
postfix: primary
    | postfix '.' anyname         { $$ = N1(FIELD, @$, $1); ast_set_name($$, $3->name, $3->span); DEEP($$); }
    | postfix '[' expr ']'        { $$ = N2(INDEX, @$, $1, $3); DEEP($$); }
    ;
primary: INT                      { $$ = LEAF(INT, @$); $$->ival = $1; }
    | NUMBER                      { $$ = LEAF(NUM, @$); $$->num = $1; }
    | DURATION                    { $$ = LEAF(DURATION, @$); $$->ival = $1; }
    | SIZE                        { $$ = LEAF(SIZE, @$); $$->ival = $1; }
    | STRING                      { $$ = LEAF(STR, @$); $$->str = $1.s; $$->slen = $1.len; }
    | KW_TRUE                     { $$ = LEAF(BOOL, @$); $$->ival = 1; }
    | KW_FALSE                    { $$ = LEAF(BOOL, @$); $$->ival = 0; }
    | KW_NULL                     { $$ = LEAF(NULL, @$); }
    | primary_name
    | primary_name '(' args ')'   { $$ = $3; $$->span = @$; ast_set_name($$, $1->name, $1->span); DEEP($$); }
    | '(' expr ')'                { $$ = $2; }
    | '{' obj_entries '}'         { $$ = $2; $$->span = @$; DEEP($$); }
    | '[' elems ']'               { $$ = $2; $$->span = @$; DEEP($$); }
    ;
args: %empty                      { $$ = LEAF(CALL, @$); }
    | arglist
    | arglist ','
    ;
arglist: arg                      { $$ = LEAF(CALL, @$); ast_push(AR, $$, $1); }
    | arglist ',' arg             { ast_push(AR, $1, $3); $$ = $1; }
    ;
arg: expr
    | name '=' expr               { $$ = named(ctx, AST_NAMEDARG, @$, $1); $$->a = $3; $$->depth = $3->depth + 1; }
    ;
obj_entries: %empty               { $$ = LEAF(OBJECT, @$); }
    | obj_entries obj_entry       { ast_push(AR, $1, $2); $$ = $1; }
    | obj_entries sep             { $$ = $1; }
    ;
obj_entry: key '=' expr           { $$ = named(ctx, AST_OBJ_ENTRY, @$, $1); $$->a = $3; $$->depth = $3->depth + 1; }
    | key ':' expr                { $$ = named(ctx, AST_OBJ_ENTRY, @$, $1); $$->a = $3; $$->depth = $3->depth + 1; }
    ;
elems: %empty                     { $$ = LEAF(ARRAY, @$); }
    | elemlist
    | elemlist ','
    ;
elemlist: expr                    { $$ = LEAF(ARRAY, @$); ast_push(AR, $$, $1); }
    | elemlist ',' expr           { ast_push(AR, $1, $3); $$ = $1; }
    ;

/* names: keywords are reserved only where the grammar needs them */
key: name
    | STRING                      { $$ = LEAF(NAME, @$); $$->name = $1.s; $$->name_quoted = 1; }
    ;
name: IDENT                       { $$ = LEAF(NAME, @$); $$->name = $1.s; }
    | soft_kw
    ;
anyname: name | op_kw ;
/* the keywords that also start expressions: param.x, env("X"), flow.name, response.id */
primary_name: IDENT               { $$ = LEAF(NAME, @$); $$->name = $1.s; }
    | KW_PARAM                    { $$ = kw_name(ctx, @$); }
    | KW_ENV                      { $$ = kw_name(ctx, @$); }
    | KW_FLOW                     { $$ = kw_name(ctx, @$); }
    | KW_RESPONSE                 { $$ = kw_name(ctx, @$); }
    ;
soft_kw: KW_INTEGRATION { $$ = kw_name(ctx, @$); } | KW_VERSION { $$ = kw_name(ctx, @$); } | KW_PARAM { $$ = kw_name(ctx, @$); } | KW_ENV { $$ = kw_name(ctx, @$); }
    | KW_TABLE { $$ = kw_name(ctx, @$); } | KW_TYPE { $$ = kw_name(ctx, @$); } | KW_CONNECTION { $$ = kw_name(ctx, @$); } | KW_FLOW { $$ = kw_name(ctx, @$); }
    | KW_TEST { $$ = kw_name(ctx, @$); } | KW_EXPORT { $$ = kw_name(ctx, @$); } | KW_LOOKUP { $$ = kw_name(ctx, @$); } | KW_TRANSFORM { $$ = kw_name(ctx, @$); }
    | KW_FILTER { $$ = kw_name(ctx, @$); } | KW_BRANCH { $$ = kw_name(ctx, @$); } | KW_IMPORT { $$ = kw_name(ctx, @$); } | KW_HOOK { $$ = kw_name(ctx, @$); }
    | KW_FROM { $$ = kw_name(ctx, @$); } | KW_INTO { $$ = kw_name(ctx, @$); } | KW_REMOVE { $$ = kw_name(ctx, @$); } | KW_MAP { $$ = kw_name(ctx, @$); }
    | KW_RESPONSE { $$ = kw_name(ctx, @$); } | KW_GIVEN { $$ = kw_name(ctx, @$); } | KW_EXPECT { $$ = kw_name(ctx, @$); } | KW_FOR { $$ = kw_name(ctx, @$); }
    ;
op_kw: KW_WHEN { $$ = kw_name(ctx, @$); } | KW_IF { $$ = kw_name(ctx, @$); } | KW_THEN { $$ = kw_name(ctx, @$); } | KW_ELSE { $$ = kw_name(ctx, @$); }
    | KW_EACH { $$ = kw_name(ctx, @$); } | KW_IN { $$ = kw_name(ctx, @$); } | KW_WHERE { $$ = kw_name(ctx, @$); } | KW_AND { $$ = kw_name(ctx, @$); }
    | KW_OR { $$ = kw_name(ctx, @$); } | KW_NOT { $$ = kw_name(ctx, @$); } | KW_TRUE { $$ = kw_name(ctx, @$); } | KW_FALSE { $$ = kw_name(ctx, @$); }
    | KW_NULL { $$ = kw_name(ctx, @$); }
    ;

%%

/* keyword names are the token text: the span of the keyword gives it back */
static AstNode *kw_name(ParseCtx *ctx, Span sp) {
    AstNode *n = LEAF(NAME, sp);
    n->name = arena_strndup(AR, ctx->src->text + sp.start, sp.end - sp.start);
    return n;
}

static AstNode *named(ParseCtx *ctx, AstKind k, Span sp, AstNode *name) {
    AstNode *n = ast_new(AR, k, sp);
    ast_set_name(n, name->name, name->span);
    n->name_quoted = name->name_quoted;
    return n;
}

static AstNode *binop(ParseCtx *ctx, Span sp, int op, AstNode *a, AstNode *b) {
    AstNode *n = ast_node2(AR, AST_BINARY, sp, a, b);
    n->op = op;
    return n;
}

static void yyerror(Span *loc, void *scanner, ParseCtx *ctx, const char *msg) {
    (void)scanner;
    if (ctx->stopped) return;
    if (strstr(msg, "exhausted"))
        diag_error(ctx->diags, ctx->src, *loc, "input nested too deeply for the parser");
    else
        diag_error(ctx->diags, ctx->src, *loc, "%s", msg);
}

/* How a token is named in a message: keywords and punctuation in backticks, the rest by kind. */
static const char *tok_desc(yysymbol_kind_t t, char *buf, size_t n) {
    switch ((int)t) {
    case YYSYMBOL_YYEOF: return "end of file";
    case YYSYMBOL_IDENT: return "a name";
    case YYSYMBOL_STRING: return "a string";
    case YYSYMBOL_INT: return "an integer";
    case YYSYMBOL_NUMBER: return "a number";
    case YYSYMBOL_DURATION: return "a duration";
    case YYSYMBOL_SIZE: return "a size";
    default: break;
    }
    const char *s = yysymbol_name(t);
    if (s[0] == '\'') snprintf(buf, n, "`%c`", s[1]);
    else snprintf(buf, n, "`%s`", s);
    return buf;
}

static int is_soft_kw(yysymbol_kind_t t) {
    return t >= YYSYMBOL_KW_INTEGRATION && t <= YYSYMBOL_KW_FOR;
}

static int yyreport_syntax_error(const yypcontext_t *pc, void *scanner, ParseCtx *ctx) {
    (void)scanner;
    yysymbol_kind_t expected[64];
    int n = yypcontext_expected_tokens(pc, expected, 64);
    yysymbol_kind_t got = yypcontext_token(pc);
    Span sp = *yypcontext_location(pc);
    char gotbuf[128], unexpected[256];
    if (got == YYSYMBOL_IDENT || is_soft_kw(got) || (got >= YYSYMBOL_KW_WHEN && got <= YYSYMBOL_KW_NULL))
        snprintf(unexpected, sizeof unexpected, "`%.*s`", (int)(sp.end - sp.start > 40 ? 40 : sp.end - sp.start),
                 ctx->src->text + sp.start);
    else if (got == YYSYMBOL_YYEOF)
        snprintf(unexpected, sizeof unexpected, "end of file");
    else if (got == YYSYMBOL_STRING || got == YYSYMBOL_INT || got == YYSYMBOL_NUMBER || got == YYSYMBOL_DURATION || got == YYSYMBOL_SIZE)
        snprintf(unexpected, sizeof unexpected, "%s `%.*s`", tok_desc(got, gotbuf, sizeof gotbuf) + (got == YYSYMBOL_INT ? 3 : 2),
                 (int)(sp.end - sp.start > 40 ? 40 : sp.end - sp.start), ctx->src->text + sp.start);
    else
        snprintf(unexpected, sizeof unexpected, "%s", tok_desc(got, gotbuf, sizeof gotbuf));
    /* a name slot accepts every soft keyword too: say "a name" once instead of listing them */
    int has_name = 0, m = 0;
    yysymbol_kind_t shown[64];
    for (int i = 0; i < n && i < 64; i++) {
        if (expected[i] == YYSYMBOL_IDENT) has_name = 1;
        if (is_soft_kw(expected[i])) continue;
        shown[m++] = expected[i];
    }
    if (!has_name) {   /* soft keywords wanted for themselves (decl or step starts) */
        m = 0;
        for (int i = 0; i < n && i < 64; i++) shown[m++] = expected[i];
    }
    /* an expression may start here: say "a value" instead of listing every way one can start */
    int value_ok = 0;
    for (int i = 0; i < m; i++) if (shown[i] == YYSYMBOL_INT) value_ok = 1;
    if (value_ok) {
        int k = 0;
        for (int i = 0; i < m; i++) {
            switch ((int)shown[i]) {
            case YYSYMBOL_IDENT: case YYSYMBOL_STRING: case YYSYMBOL_INT: case YYSYMBOL_NUMBER: case YYSYMBOL_DURATION:
            case YYSYMBOL_SIZE: case YYSYMBOL_KW_TRUE: case YYSYMBOL_KW_FALSE: case YYSYMBOL_KW_NULL: case YYSYMBOL_KW_IF:
            case YYSYMBOL_KW_EACH: case YYSYMBOL_KW_NOT: case YYSYMBOL_KW_PARAM: case YYSYMBOL_KW_ENV: case YYSYMBOL_KW_FLOW:
            case YYSYMBOL_KW_RESPONSE:
                break;
            default: {
                const char *nm = yysymbol_name(shown[i]);   /* '-' '(' '{' '[' also start values */
                if (strcmp(nm, "'-'") && strcmp(nm, "'('") && strcmp(nm, "'{'") && strcmp(nm, "'['")) shown[k++] = shown[i];
            }
            }
        }
        m = k;
    }
    if (m > 6) {   /* long list: operators that could continue an expression say little; keep the rest */
        int k = 0;
        for (int i = 0; i < m; i++) {
            switch ((int)shown[i]) {
            case YYSYMBOL_QQ: case YYSYMBOL_EQEQ: case YYSYMBOL_NE: case YYSYMBOL_LE: case YYSYMBOL_GE:
            case YYSYMBOL_KW_AND: case YYSYMBOL_KW_OR: case YYSYMBOL_KW_IN:
                continue;
            default: {
                const char *nm = yysymbol_name(shown[i]);
                if (nm[0] == '\'' && strchr("+-*/%.[(<>?", nm[1])) continue;
                shown[k++] = shown[i];
            }
            }
        }
        m = k;
    }
    char msg[1024];
    int len = snprintf(msg, sizeof msg, "unexpected %s", unexpected);
    if (value_ok && m == 0) {
        len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected a value");
    } else if (value_ok && m <= 6) {
        len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected a value or ");
        for (int i = 0; i < m; i++) {
            char b[128];
            len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s",
                            i == 0 ? "" : i == m - 1 ? " or " : ", ", tok_desc(shown[i], b, sizeof b));
        }
    } else if (n > 0 && m <= 8 && !value_ok) {
        len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected ");
        for (int i = 0; i < m; i++) {
            char b[128];
            len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s",
                            i == 0 ? "" : i == m - 1 ? " or " : ", ", tok_desc(shown[i], b, sizeof b));
        }
    }
    /* an operator word followed by `=` or `:` was meant as a name */
    uint32_t at = sp.end;
    while (flowlex_byte_at(ctx, at) == ' ' || flowlex_byte_at(ctx, at) == '\t') at++;
    int nx = flowlex_byte_at(ctx, at);
    int as_name = (nx == '=' && flowlex_byte_at(ctx, at + 1) != '=') || nx == ':' || nx == '{';
    if (got >= YYSYMBOL_KW_WHEN && got <= YYSYMBOL_KW_NULL && has_name && as_name)
        len += snprintf(msg + len, sizeof msg - (size_t)len, " (`%.*s` is a keyword here; to use it as a name, quote it: \"%.*s\")",
                 (int)(sp.end - sp.start), ctx->src->text + sp.start, (int)(sp.end - sp.start), ctx->src->text + sp.start);
    int wants_eqeq = 0, wants_qmark = 0, wants_eq = 0;
    for (int i = 0; i < n && i < 64; i++) {
        if (expected[i] == YYSYMBOL_EQEQ) wants_eqeq = 1;
        const char *nm = yysymbol_name(expected[i]);
        if (strcmp(nm, "'?'") == 0) wants_qmark = 1;
        if (strcmp(nm, "'='") == 0) wants_eq = 1;
    }
    const char *gotnm = yysymbol_name(got);
    if (strcmp(gotnm, "'='") == 0 && wants_eqeq)
        len += snprintf(msg + len, sizeof msg - (size_t)len, " (to compare, write `==`)");
    else if ((strcmp(gotnm, "'.'") == 0 || strcmp(gotnm, "'['") == 0) && wants_qmark && wants_eq)
        len += snprintf(msg + len, sizeof msg - (size_t)len, " (a map entry is `name = value`; `name: T = value` converts to type T)");
    (void)len;
    if (ctx->stopped) return 0;           /* the scanner already said why the input ended */
    /* After a syntax error the parser resynchronises where it can, which may not be where the
     * author's blocks are: stay quiet until the block around the first error has closed. */
    if (ctx->quiet && ctx->min_depth >= ctx->err_depth) return 0;
    ctx->quiet = 1;
    ctx->err_depth = ctx->tok_depth;
    ctx->min_depth = ctx->depth;
    if (got == YYSYMBOL_YYEOF && sp.start > 0 && sp.start == ctx->src->len) sp.start = sp.end = (uint32_t)ctx->src->len;
    diag_error(ctx->diags, ctx->src, sp, "%s", msg);
    return 0;
}

AstNode *parse_expression(Arena *ar, Diags *diags, const Source *src) {
    ParseCtx c;
    memset(&c, 0, sizeof c);
    c.ar = ar; c.diags = diags; c.src = src;
    c.bad_diag = -1;
    c.start_token = START_EXPR;
    flowlex_begin(&c);
    flowyyparse(c.scanner, &c);
    flowlex_end(&c);
    return c.root && c.root->kind != AST_FILE ? c.root : NULL;
}

AstNode *parse_source(Arena *ar, Diags *diags, const Source *src) {
    ParseCtx c;
    memset(&c, 0, sizeof c);
    c.ar = ar; c.diags = diags; c.src = src;
    c.bad_diag = -1;
    flowlex_begin(&c);
    flowyyparse(c.scanner, &c);
    flowlex_end(&c);
    if (!c.root) c.root = ast_new(ar, AST_FILE, (Span){ 0, (uint32_t)src->len });
    return c.root;
}
