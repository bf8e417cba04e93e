/* 03's other writer: appends to out/race.ndjson while the run has copied it and not yet renamed */
#include "flow.h"
#include <stdio.h>

int other_writer(FlowHookPage *page) {
    (void)page;
    FILE *f = fopen("out/race.ndjson", "a");
    if (!f) return 1;
    fputs("{\"id\":\"other writer\"}\n", f);
    return fclose(f) != 0;
}
