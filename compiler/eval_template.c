/* eval_template.c — `flowc eval --template`: renders a template with the JSON data's members as names. */
#include "eval.h"

int eval_template(const char *text, const char *data_file, const char *escape, FILE *out, FILE *err) {
    (void)text; (void)data_file; (void)escape; (void)out;
    fputs("flowc: eval --template is not built yet\n", err);
    return 2;
}
