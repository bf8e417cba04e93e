/* tag.c — the hook the vscode grammar case names (never built: the case is only checked). */
#include "flow.h"
int tag(FlowHookPage *page) { (void)page; return 0; }
