/*
 * The configuration file (YAML, /etc/agentwatch/agentwatch.yaml unless
 * --config names another one).
 *
 *     database: /var/lib/agentwatch/agentwatch.db   # absolute paths only
 *     rules: /usr/share/agentwatch/rules
 *     local_rules: /etc/agentwatch/rules.d
 *     local_time: true                             # report in the zone
 *     sources:
 *       - /var/log/agent/agent.log                  # format auto
 *       - { path: /var/log/ccm/LocationServices.log, format: cmtrace }
 *     host: WKS-0042
 *     timezone: Europe/Berlin                      # or +01:00, UTC
 *     retention_days: 90
 *     follow: { commit_ms: 250, rescan_seconds: 30, poll_interval_ms: 1000,
 *               probe_interval_seconds: 600 }
 *     spool: { path: /var/spool/agentwatch, max_size: 10485760, keep: 5 }
 *     servers: [ https://mgmt.corp.example, 10.0.0.5:8443 ]   # probe
 *
 * Every key is optional; an empty value (`key:`, `~`, `null`) means "not
 * set".  Command-line options and environment variables override the
 * file (the command layer applies that order).  Loading reports every
 * problem at once, one "FILE:LINE:COLUMN: message" per problem.
 */
#ifndef AGENTWATCH_CONFIG_H
#define AGENTWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "agentwatch/err.h"
#include "agentwatch/record.h"

/* Limits of the numeric keys; the same as follow's options. */
#define AW_CONFIG_RETENTION_MAX 36500
#define AW_CONFIG_COMMIT_MS_MIN 10
#define AW_CONFIG_COMMIT_MS_MAX 60000
#define AW_CONFIG_RESCAN_MIN 1
#define AW_CONFIG_RESCAN_MAX 86400
#define AW_CONFIG_POLL_MS_MIN 50
#define AW_CONFIG_POLL_MS_MAX 3600000
#define AW_CONFIG_HOST_MAX 255
/* The spool (follow --spool): file size before rotation, files kept. */
#define AW_CONFIG_SPOOL_SIZE_MIN 65536
#define AW_CONFIG_SPOOL_SIZE_MAX 4000000000UL
#define AW_CONFIG_SPOOL_KEEP_MIN 1
#define AW_CONFIG_SPOOL_KEEP_MAX 1000
/* Entries of servers: (probe). */
#define AW_CONFIG_SERVERS_MAX 256

struct aw_config_source {
    char *path;
    enum aw_format format;        /* AW_FORMAT_AUTO unless given */
    unsigned line, column;        /* where it is defined, 1-based */
};

struct aw_config {
    char *file;                   /* the file read; NULL when there was none */
    char *database;               /* NULL: not set */
    char *rules;                  /* NULL: not set */
    char *local_rules;            /* NULL: not set (the default folder) */
    bool local_time;              /* report's --local by default */
    char *host;                   /* NULL: not set */
    char *timezone;               /* NULL: not set (the machine's zone);
                                     checked with aw_tz_open() on load */
    struct aw_config_source *sources;
    char **source_paths;          /* sources[i].path, for aw_follow_run() */
    size_t nsources;
    int retention_days;           /* AW_RETENTION_DAYS_DEFAULT unless set */
    unsigned commit_ms;           /* 0: not set */
    unsigned rescan_seconds;      /* 0: not set */
    unsigned poll_interval_ms;    /* 0: not set (change notifications) */
    unsigned probe_interval_s;    /* follow.probe_interval_seconds;
                                     AW_AUTOPROBE_INTERVAL_DEFAULT unless
                                     set; 0: no automatic probe */
    char *spool_path;             /* spool.path; NULL: not set */
    unsigned long spool_max_size; /* spool.max_size; 0: not set */
    unsigned spool_keep;          /* spool.keep; 0: not set */
    char **servers;               /* what probe checks besides the stored
                                     targets: each a valid probe TARGET
                                     (aw_probe_parse_target), no duplicate */
    size_t nservers;
};

/* Load the configuration at path into *out (always initialised, to the
 * defaults when the file is missing or invalid).  A missing file is
 * AW_OK unless must_exist, then AW_ENOTFOUND.  Problems in the file are
 * appended to diags (which the caller owns and frees) and make the result
 * AW_ESYNTAX; other failures (unreadable, too big, out of memory) are
 * AW_EIO/AW_ENOMEM with err set.  The caller frees *out with
 * aw_config_free(), whatever the result. */
int aw_config_load(const char *path, bool must_exist, struct aw_config *out,
                   struct aw_diags *diags, struct aw_err *err);

/* Release what aw_config_load() allocated and reset *cfg to the defaults.
 * Accepts NULL and an already freed configuration. */
void aw_config_free(struct aw_config *cfg);

#endif
