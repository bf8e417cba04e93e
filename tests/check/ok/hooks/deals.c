/* hooks of tests/check/ok/hooks.flow's deals import: flowc check compiles them and finds each function */
#include "flow.h"

int before_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_submit(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_response(FlowHookPage *page) {
    (void)page;
    return 0;
}
