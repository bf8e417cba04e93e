/* a hook file with a C error (an operator without its operand) */
#include "flow.h"

int drop_test_orders(FlowHookPage *page) {
    return page->n +;
}
