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

#include "agentwatch/probe.h"
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
      .offset = offsetof(struct probe_args, no_revocation), .help = "do not fetch CRLs" },
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = probe_formats,
      .offset = offsetof(struct probe_args, format),
      .help = "text (default) or json (one object per target and line)" },
    { .name = "no-store", .kind = AW_OPT_FLAG, .offset = offsetof(struct probe_args, no_store),
      .help = "do not record the probe in the database" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_probe_spec = {
    "probe",
    "Usage: agentwatch [--db PATH] probe [--ca-file PEM] [--timeout SECONDS]\n"
    "                  [--no-revocation] [--format text|json] [--no-store] [TARGET...]\n"
    "\n"
    "Connect to each management server TARGET as the agent does (DNS, TCP, TLS,\n"
    "certificate chain with missing issuers fetched from AIA, trust, validity,\n"
    "name, revocation from the CRL distribution points) and name the first step\n"
    "that fails, with its cause and remedy. TARGET is https://host[:port][/path]\n"
    "or host[:port] (port 443 by default).\n"
    "\n"
    "Options:\n",
    probe_opts,
    "\n"
    "Verdicts, in the order the steps run: dns-failure, tcp-refused, tcp-timeout,\n"
    "tls-no-serverhello, tls-alert, tls-protocol, chain-incomplete, root-untrusted,\n"
    "cert-expired, cert-not-yet-valid, name-mismatch, revoked, revocation-offline, ok.\n"
    "\n"
    "Exit status: 0 every target ok, 1 a problem found, 2 usage error.\n"
};

int aw_cmd_probe(struct aw_cli *cli, int argc, char **argv)
{
    struct probe_args a = { NULL, AW_PROBE_TIMEOUT_DEFAULT_S, false, false, PROBE_TEXT };
    struct aw_probe_target *targets = NULL;
    struct aw_probe_result *r = NULL;
    struct aw_probe_opts opts;
    struct aw_err err = { 0 };
    size_t ntargets = 0;
    int n = 0, status = aw_cli_parse(&aw_probe_spec, cli, argc, argv, &a, &n);

    if (status != AW_CLI_CONTINUE) {
        return status;
    }
    if (!aw_probe_available()) {
        fprintf(stderr, "agentwatch: probe: not available on this platform yet (the CryptoAPI "
                "engine is still to come)\n");
        return AW_EXIT_USAGE;
    }
    if (n == 0) {
        return aw_cli_usage_error("probe", "no TARGET given");
    }
    targets = calloc((size_t)n, sizeof(*targets));
    r = malloc(sizeof(*r));
    if (targets == NULL || r == NULL) {
        aw_err_set(&err, AW_ENOMEM, "out of memory");
        status = aw_cli_failure(&err);
        goto out;
    }
    /* Every usage problem before the first packet. */
    for (int i = 1; i <= n; i++) {
        if (aw_probe_parse_target(argv[i], &targets[ntargets++], &err) != AW_OK) {
            status = aw_cli_usage_error("probe", "%s", err.msg);
            goto out;
        }
    }
    if (a.ca_file != NULL && aw_probe_check_ca_file(a.ca_file, &err) != AW_OK) {
        status = aw_cli_usage_error("probe", "%s", err.msg);
        goto out;
    }
    opts.ca_file = a.ca_file;
    opts.timeout_ms = (unsigned)a.timeout_s * 1000u;
    opts.no_revocation = a.no_revocation;
    status = AW_EXIT_OK;
    for (size_t i = 0; i < ntargets; i++) {
        if (aw_probe_run(&targets[i], &opts, r, &err) != AW_OK) {
            status = aw_cli_failure(&err);
            goto out;
        }
        if (a.format == PROBE_JSON) {
            aw_probe_write_json(stdout, r);
        } else {
            aw_probe_write_text(stdout, r);
        }
        fflush(stdout);
        if (r->verdict != AW_PV_OK) {
            status = AW_EXIT_FAILURE;
        }
    }
    if (fflush(stdout) != 0) {
        status = AW_EXIT_FAILURE;
    }
out:
    free(targets);
    free(r);
    return status;
}
