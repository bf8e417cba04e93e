/* the hook the flows of tests/adversarial/16-hook-files name when they name a good file */
#include "flow.h"

int drop_test_orders(FlowHookPage *page) {
    (void)page;
    return 0;
}
