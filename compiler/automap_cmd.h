/* automap_cmd.h — the `flowc automap` command (automap_cmd.c; the matcher is automap.c). */
#ifndef FLOWC_AUTOMAP_CMD_H
#define FLOWC_AUTOMAP_CMD_H

/* flowc automap FILE [--flow F] [--import I] [--sample FILE.json] [--type T] [--write] [--json]: an exit
 * code (0; 1 the file does not check, the destination cannot be read, or the result does not check; 2
 * usage, an unreadable FILE, an unknown flow or import). */
int automap_main(int argc, char **argv);

#endif
