/* lsp_complete.h — the language server's completion (lsp_complete.c), and the settings' doc text. */
#ifndef FLOWC_LSP_COMPLETE_H
#define FLOWC_LSP_COMPLETE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "ir.h"
#include "source.h"

/* The completion items at byte offset off of src (an array), or NULL. ir: src's checked program when
 * it has one (the text being typed rarely parses: the member before `.` is then completed from a copy
 * of the text without the `.`). */
cJSON *lspc_complete(const Source *src, const IrProgram *ir, uint32_t off);

/* A setting's doc text (DOC lines of runtime/connectors.def) for a connection kind, or NULL. */
const char *lsp_setting_doc(const char *kind, const char *name);

#endif
