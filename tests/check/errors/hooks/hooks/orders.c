/* a hook file for tests/check/errors/hooks: drop_test_orders, and a static helper no hook can name */
#include "flow.h"

static int private_helper(FlowHookPage *page) { return page->n < 0; }

int drop_test_orders(FlowHookPage *page) {
    return private_helper(page);
}
