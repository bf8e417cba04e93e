/* clone.h — flowc clone: a flow copied under a new name within its integration. */
#ifndef FLOWC_CLONE_H
#define FLOWC_CLONE_H

/* flowc clone FILE FLOW NEW_NAME [-o OUT]: an exit code (0, 1 the result does not check, 2 usage). */
int clone_main(int argc, char **argv);

#endif
