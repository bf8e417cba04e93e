/* graph.h — pictures of flows (`flowc graph`): the checked IR drawn as DOT or Mermaid, and DOT made SVG by Graphviz. */
#ifndef FLOWC_GRAPH_H
#define FLOWC_GRAPH_H
#include "ir.h"
#include <stddef.h>
#include <stdio.h>

typedef enum { GRAPH_DOT, GRAPH_MERMAID } GraphFormat;

/* Writes the picture of flow `only`, or of every flow (one cluster each, after() edges between
 * them) when `only` is NULL. p must have checked clean. */
void graph_write(FILE *out, const IrProgram *p, const IrFlow *only, GraphFormat fmt);

/* Runs Graphviz's `dot -Tsvg` on DOT text, for at most timeout_ms (then dot is killed). 0 and *svg
 * (malloc'd, *svglen bytes) on success; -1 and a message in err (naming the Debian package when `dot`
 * is not installed, dot's own complaint, or the time limit). */
int graph_svg(const char *dot, size_t len, long timeout_ms, char **svg, size_t *svglen, char *err, size_t errlen);

#endif
