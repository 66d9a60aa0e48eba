/*
 * agentwatch probe: check management servers from this endpoint with the
 * agent's own trust engine and name the cause of a failure (see probe.h;
 * the command, its JSON and its exit codes are a contract, README.md).
 *
 * Exit: 0 every target ok, 1 a problem found for at least one target (or
 * the probe could not run), 2 a usage error -- a bad target or an
 * unreadable or invalid --ca-file, checked before any network traffic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/config.h"
#include "agentwatch/journal.h"
#include "agentwatch/notify.h"
#include "agentwatch/platform.h"
#include "agentwatch/probe.h"
#include "agentwatch/probe_store.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"

enum probe_format { PROBE_TEXT, PROBE_JSON };

/* What the command line gives. */
struct probe_args {
    const char *ca_file;
    uint64_t timeout_s;
    bool no_revocation;
    bool no_store;
    int format;
};

static const struct aw_opt_word probe_formats[] = {
    { "text", PROBE_TEXT },
    { "json", PROBE_JSON },
    { NULL, 0 }
};

static const struct aw_opt probe_opts[] = {
    { .name = "ca-file", .kind = AW_OPT_STRING, .arg = "PEM",
      .offset = offsetof(struct probe_args, ca_file),
      .help = "trust exactly the certificates in PEM instead of the\n"
              "system's trust store" },
    { .name = "timeout", .kind = AW_OPT_UINT, .arg = "SECONDS", .min = 1,
      .max = AW_PROBE_TIMEOUT_MAX_S, .unit = "seconds",
      .offset = offsetof(struct probe_args, timeout_s),
      .help = "bound every network step (default 10)" },
    { .name = "no-revocation", .kind = AW_OPT_FLAG,
      .offset = offsetof(struct probe_args, no_revocation),
      .help = "do not fetch CRLs or ask OCSP responders" },
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = probe_formats,
      .offset = offsetof(struct probe_args, format),
      .help = "text (default) or json (one object per target and line)" },
    { .name = "no-store", .kind = AW_OPT_FLAG, .offset = offsetof(struct probe_args, no_store),
      .help = "do not record the probe in the database" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_probe_spec = AW_CLI_SPEC(
    "probe",
    "Usage: agentwatch [--db PATH] probe [--ca-file PEM] [--timeout SECONDS]\n"
    "                  [--no-revocation] [--format text|json] [--no-store] [TARGET...]\n"
    "\n"
    "Connect to each management server TARGET as the agent does (DNS, TCP, TLS,\n"
    "certificate chain with missing issuers fetched from AIA, trust, validity,\n"
    "name, revocation from the CRL distribution points) and name the first step\n"
    "that fails, with its cause and remedy. TARGET is https://host[:port][/path]\n"
    "or host[:port] (port 443 by default). Without TARGET: the servers named by\n"
    "the findings of the last 7 days, then the configuration's servers: list.\n"
    "\n"
    "Options:\n",
    probe_opts,
    "\n"
    "Verdicts, in the order the steps run: dns-failure, tcp-refused, tcp-timeout,\n"
    "tls-no-serverhello, tls-alert, tls-protocol, chain-incomplete, root-untrusted,\n"
    "cert-expired, cert-not-yet-valid, name-mismatch, revoked, revocation-offline, ok.\n"
    "\n"
    "Exit status: 0 every target ok, 1 a problem found, 2 usage error.\n"
);


/* Without TARGET: the servers named by the findings of the last days,
 * then the configuration's servers:. */
#define PROBE_STORED_DAYS 7

struct target_list {
    struct aw_probe_target *items;
    size_t count, cap;
};

static int add_target(struct target_list *l, const char *text, struct aw_err *err)
{
    struct aw_probe_target t;
    struct aw_err perr = { 0 };

    if (aw_probe_parse_target(text, &t, &perr) != AW_OK) {
        return aw_err_set(err, AW_ESYNTAX, "%s", perr.msg);
    }
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i].host, t.host) == 0 && l->items[i].port == t.port) {
            return AW_OK;
        }
    }
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        struct aw_probe_target *n = realloc(l->items, ncap * sizeof(*n));
        if (n == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory");
        }
        l->items = n;
        l->cap = ncap;
    }
    l->items[l->count++] = t;
    return AW_OK;
}

/* A stored target that is no server name (a captured URL of another
 * scheme, say) is left out with a note, not an error. */
static int stored_target(void *ctx, const char *target, struct aw_err *err)
{
    struct aw_err terr = { 0 };
    int rc = add_target(ctx, target, &terr);

    if (rc == AW_ESYNTAX) {
        fprintf(stderr, "agentwatch: probe: leaving out the stored target: %s\n", terr.msg);
        return AW_OK;
    }
    if (rc != AW_OK) {
        *err = terr;
    }
    return rc;
}

/* The configuration's servers: after the stored targets; the loader has
 * checked each one already. */
static int config_targets(const struct aw_config *cfg, struct target_list *tl,
                          struct aw_err *err)
{
    for (size_t i = 0; cfg != NULL && i < cfg->nservers; i++) {
        int rc = add_target(tl, cfg->servers[i], err);
        if (rc != AW_OK) {
            return rc;
        }
    }
    return AW_OK;
}

/* A stored probe's verdict as a system-log event (journal, syslog, Event
 * Log): what follow's automatic probes find reaches the operator where
 * incidents do.  Not for --no-store, a look that leaves no trace. */
static void verdict_event(const struct aw_probe_result *r)
{
    const struct aw_probe_verdict_info *vi = aw_probe_verdict_info(r->verdict);
    char rule[64], target[AW_PROBE_HOST_MAX + 16], msg[AW_PROBE_DETAIL_MAX + AW_PROBE_HOST_MAX + 128];
    struct aw_journal j;
    struct aw_event e;

    snprintf(rule, sizeof(rule), "probe.%s", vi->name);
    snprintf(target, sizeof(target), "%s:%u", r->target.host, r->target.port);
    snprintf(msg, sizeof(msg), "probe %s: %s: %s", target, vi->name, r->detail);
    e.event = AW_EVENT_PROBE_VERDICT;
    e.priority = r->verdict == AW_PV_OK ? AW_PRIO_INFO : AW_PRIO_WARNING;
    e.rule = rule;
    e.message = msg;
    e.category = vi->category;
    e.target = target;
    aw_journal_open(&j);
    (void)aw_journal_send(&j, &e);
    aw_journal_close(&j);
}

/* Probe every target in turn, print each result as it comes and store it
 * when store is not NULL; the command's exit status. */
static int probe_all(const struct probe_args *a, const struct target_list *tl,
                     struct aw_store *store, const char *host, struct aw_probe_result *r)
{
    struct aw_probe_opts opts = { .ca_file = a->ca_file, .no_revocation = a->no_revocation,
                                  .timeout_ms = (unsigned)a->timeout_s * 1000u };
    struct aw_err err = { 0 };
    int status = AW_EXIT_OK;

    for (size_t i = 0; i < tl->count; i++) {
        if (aw_probe_run(&tl->items[i], &opts, r, &err) != AW_OK ||
            (store != NULL && aw_probe_store_result(store, r, host, &err) != AW_OK)) {
            return aw_cli_failure(&err);
        }
        if (store != NULL) {
            verdict_event(r);
        }
        if (a->format == PROBE_JSON) {
            aw_probe_write_json(stdout, r);
        } else {
            aw_probe_write_text(stdout, r);
        }
        fflush(stdout);
        if (r->verdict != AW_PV_OK) {
            status = AW_EXIT_FAILURE;
        }
    }
    return fflush(stdout) != 0 ? AW_EXIT_FAILURE : status;
}

int aw_cmd_probe(struct aw_cli *cli, int argc, char **argv)
{
    struct probe_args a = { NULL, AW_PROBE_TIMEOUT_DEFAULT_S, false, false, PROBE_TEXT };
    struct target_list tl = { NULL, 0, 0 };
    struct aw_probe_result *r = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    char host[256] = "";
    int n = 0, status = aw_cli_parse(&aw_probe_spec, cli, argc, argv, &a, &n);

    if (status != AW_CLI_CONTINUE) {
        return status;
    }
    if (!aw_probe_available()) {
        fprintf(stderr, "agentwatch: probe: not available on this platform (no TLS engine)\n");
        return AW_EXIT_USAGE;
    }
    /* Every usage problem before the first packet. */
    for (int i = 1; i <= n; i++) {
        int rc = add_target(&tl, argv[i], &err);
        if (rc != AW_OK) {
            status = rc == AW_ESYNTAX ? aw_cli_usage_error("probe", "%s", err.msg)
                                      : aw_cli_failure(&err);
            goto out;
        }
    }
    if (a.ca_file != NULL && aw_probe_check_ca_file(a.ca_file, &err) != AW_OK) {
        status = aw_cli_usage_error("probe", "%s", err.msg);
        goto out;
    }
    status = AW_EXIT_FAILURE;
    r = malloc(sizeof(*r));
    if (r == NULL) {
        aw_err_set(&err, AW_ENOMEM, "out of memory");
        aw_cli_failure(&err);
        goto out;
    }
    if ((!a.no_store || n == 0) &&
        aw_cli_open_store(cli, a.no_store ? AW_STORE_READONLY : 0, &store) != AW_OK) {
        goto out;
    }
    if (n == 0) {
        int64_t since = aw_time_now_ms() - (int64_t)PROBE_STORED_DAYS * 86400000;
        if (aw_probe_store_targets(store, since, stored_target, &tl, &err) != AW_OK ||
            config_targets(cli->config, &tl, &err) != AW_OK) {
            aw_cli_failure(&err);
            goto out;
        }
        if (tl.count == 0) {
            status = aw_cli_usage_error("probe", "no TARGET given, no finding of the last %d "
                                        "days names a server, and the configuration has no "
                                        "servers:", PROBE_STORED_DAYS);
            goto out;
        }
    }
    if (cli->config != NULL && cli->config->host != NULL) {
        snprintf(host, sizeof(host), "%s", cli->config->host);
    } else if (aw_os_hostname(host, sizeof(host)) != 0 || host[0] == '\0') {
        snprintf(host, sizeof(host), "localhost");
    }
    status = probe_all(&a, &tl, a.no_store ? NULL : store, host, r);
out:
    aw_store_close(&store);
    free(tl.items);
    free(r);
    return status;
}
