/*
 * Thresholds as the monitoring plugins spell them (private to the cli):
 * a range "[@]start:end" where "start:" may be left out when it is 0, "~"
 * is minus infinity, an omitted end is infinity.  A value alerts when it
 * lies outside [start, end], or inside it with a leading "@" (monitoring
 * plugins development guidelines, "Threshold and ranges",
 * https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT).
 * So "10" alerts above 10 (and below 0), "10:" below 10, "~:10" above 10,
 * "10:20" outside 10..20 and "@10:20" inside it.
 */
#ifndef AGENTWATCH_THRESHOLD_H
#define AGENTWATCH_THRESHOLD_H

#include <stdbool.h>

/* Longest range text accepted (perfdata repeats it). */
#define AW_THRESHOLD_MAX 40

struct aw_threshold {
    bool inside;              /* "@": alert inside the range */
    bool no_start;            /* "~": start is minus infinity */
    bool no_end;              /* "N:": end is infinity */
    double start, end;
    char text[AW_THRESHOLD_MAX + 1];   /* as given, for perfdata */
};

/* Parse text (decimal numbers: an optional sign, digits, an optional
 * fraction) into *t.  false when it is not a range, or start > end. */
bool aw_threshold_parse(const char *text, struct aw_threshold *t);

/* Does value alert under t? */
bool aw_threshold_alerts(const struct aw_threshold *t, double value);

#endif
