/* the hooks of tests/graph/hooks.flow: they only need to compile; the picture names their points */
#include "flow.h"

int drop_tests(FlowHookPage *page) {
    (void)page;
    return 0;
}

int every_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int before_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_submit(FlowHookPage *page) {
    (void)page;
    return 0;
}
