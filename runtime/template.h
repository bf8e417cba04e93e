/* template.h — numbers as text, the one definition shared by templates, to_string and join
 * (runtime/template.c; the rest of that file is declared in flow.h, for generated code). */
#ifndef FLOW_TEMPLATE_H
#define FLOW_TEMPLATE_H
#include <stddef.h>

/* A number as JavaScript's String(n) writes it (Handlebars and the Mustache spec): 85 -> "85",
 * 1.210 -> "1.21", 1e21 -> "1e+21", 0.000001 -> "0.000001", -0 -> "0"; NaN / Infinity by name.
 * Writes at most 32 bytes including the NUL into out; returns the length. */
size_t flow_tpl_format_number(double d, char out[32]);

#endif
