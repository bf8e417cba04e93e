/* a hook the flows of this folder name: it exists, so only their own error is reported */
#include "flow.h"

int drop_test_orders(FlowHookPage *page) {
    (void)page;
    return 0;
}
