/* cron.h — schedules as data: IANA time zones read from the system's tzdata (tz.c), cron
 * expressions and every(...) presets, and their next fire times (cron.c). Used by the checker
 * (which reports the parser's messages at compile time), by `flowc cron`, and by serve, which asks
 * flow_sched_next for each flow's next run. Nothing here touches TZ= or localtime: every zone is an
 * object of its own, so threads may use different zones at once. */
#ifndef FLOW_CRON_H
#define FLOW_CRON_H
#include <stddef.h>
#include <stdint.h>

/* ---- time zones (tz.c) ---- */

typedef struct FlowTz FlowTz;
/* Zone NAME ("Europe/Berlin"; NULL, "" or "UTC": UTC, which needs no file) from the TZif file
 * $TZDIR/NAME (default /usr/share/zoneinfo). NULL with a message in err when the name is not a
 * zone there or the file is not a valid TZif file. The caller frees it with flow_tz_free. */
FlowTz *flow_tz_load(const char *name, char *err, size_t errlen);
/* The same from the bytes of a TZif file (the fuzzer and the unit tests). */
FlowTz *flow_tz_parse(const char *name, const unsigned char *data, size_t n, char *err, size_t errlen);
void flow_tz_free(FlowTz *tz);
const char *flow_tz_name(const FlowTz *tz);
/* The message into err[0..errlen) (nothing when err is NULL): how tz.c and cron.c report. */
void flow_tz_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The offset from UTC in seconds (east positive) at Unix second t. */
int32_t flow_tz_offset(const FlowTz *tz, int64_t t);
/* The first change of offset strictly after t: 1 with its instant and the offset from then on;
 * 0 when the offset never changes again. */
int flow_tz_next_change(const FlowTz *tz, int64_t t, int64_t *at, int32_t *off_after);
/* The last change of offset at or before t: 1 with its instant and the offset before it; 0 when
 * there is none. */
int flow_tz_prev_change(const FlowTz *tz, int64_t t, int64_t *at, int32_t *off_before);
/* ISO 8601 local time of Unix ms in the zone, with its offset: 2026-03-29T03:00:00+02:00
 * (milliseconds only when not zero; "Z" never: UTC prints +00:00). */
void flow_tz_format(const FlowTz *tz, int64_t ms, char out[48]);

/* ---- schedules (cron.c) ---- */

typedef struct FlowSched FlowSched;
/* cron(expr, timezone): 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first),
 * or an @-name. NULL with a message naming the field and the reason in err. */
FlowSched *flow_sched_cron(const char *expr, const char *tz, char *err, size_t errlen);
/* Only the expression's syntax (the checker; the fuzzer): NULL when it is valid, else err. */
const char *flow_cron_check(const char *expr, char *err, size_t errlen);
/* every(interval, between = [from, to], on_days = [...], timezone = tz): interval_ms whole seconds,
 * under a day or whole days; from/to "HH:MM" or "HH:MM:SS" (NULL: the whole day); days a mask of
 * weekdays, bit 0 Sunday .. bit 6 Saturday (0: every day). NULL with a message in err. */
FlowSched *flow_sched_every(int64_t interval_ms, const char *from, const char *to, unsigned days, const char *tz,
                            char *err, size_t errlen);
/* The weekday bit of a three-letter name (sun..sat, any case); -1 for anything else. */
int flow_sched_weekday(const char *name);
/* The first fire time strictly after `after_ms` (Unix ms, UTC), in ms; -1 when there is none
 * before the year 10000. */
int64_t flow_sched_next(const FlowSched *s, int64_t after_ms);
const FlowTz *flow_sched_tz(const FlowSched *s);
void flow_sched_free(FlowSched *s);

#endif
