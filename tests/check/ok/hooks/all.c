/* the flow-level import hooks of tests/check/ok/hooks.flow */
#include "flow.h"

int before_every_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_every_map(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_every_submit(FlowHookPage *page) {
    (void)page;
    return 0;
}

int after_every_response(FlowHookPage *page) {
    (void)page;
    return 0;
}
