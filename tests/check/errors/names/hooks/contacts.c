/* a hook the flows of this folder name: it exists, so only their own error is reported */
#include "flow.h"

int skip_internal(FlowHookPage *page) {
    (void)page;
    return 0;
}
