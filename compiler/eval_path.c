/* eval_path.c — `flowc eval --path`: an RFC 9535 query over JSON data, printed as a JSON array. */
#include "eval.h"

int eval_path(const char *query, const char *data_file, FILE *out, FILE *err) {
    (void)query; (void)data_file; (void)out;
    fputs("flowc: eval --path is not built yet\n", err);
    return 2;
}
