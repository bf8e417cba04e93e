/* triggers.h — every integration's schedules and webhooks, served by `flowc server` (triggers.c): what the
 * routes that change an integration or its secrets tell it. */
#ifndef FLOWC_SERVER_TRIGGERS_H
#define FLOWC_SERVER_TRIGGERS_H
#include "server.h"

/* Integration id changed (created, replaced, reverted, pulled, cloned, deleted, its secrets set):
 * its schedules and webhooks are reloaded from its head revision (built first; the revision before
 * goes on serving until the new one is ready; a deleted integration's stop at once). */
void triggers_changed(Srv *s, const char *id);

#endif
