/* hooks of tests/check/ok/integration_ats_to_hris.flow */
#include "flow.h"

int check_employee(FlowHookPage *page) {
    (void)page;
    return 0;
}

int strip_test_candidates(FlowHookPage *page) {
    (void)page;
    return 0;
}
