/* install.h — flowc install: a verified package written into a directory, and updates over it. */
#ifndef FLOWC_INSTALL_H
#define FLOWC_INSTALL_H

/* flowc install PKG DIR [-P name=value]... [--environment NAME]: an exit code (0, 1 refused or does
 * not check, 2 usage or unreadable). */
int install_main(int argc, char **argv);

#endif
