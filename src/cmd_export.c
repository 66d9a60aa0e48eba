/*
 * agentwatch export: the stored findings as NDJSON or CSV (see export.h).
 */
#include <stddef.h>
#include <stdio.h>

#include "agentwatch/export.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives. */
struct export_args {
    struct aw_query_filter filter;
    int format;
};

static const struct aw_opt_word export_formats[] = {
    { "ndjson", AW_EXPORT_NDJSON },
    { "csv", AW_EXPORT_CSV },
    { NULL, 0 }
};

static const struct aw_opt export_opts[] = {
    AW_OPT_ROWS_WINDOW(struct export_args, filter),
    AW_OPT_ROWS_FILTER(struct export_args, filter),
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = export_formats,
      .offset = offsetof(struct export_args, format),
      .help = "ndjson (default: one JSON object per line) or csv" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_export_spec = {
    "export",
    "Usage: agentwatch [--db PATH] export [options]\n"
    "\n"
    "Write every stored finding, one per line with every stored field, for a\n"
    "log pipeline (Fluent Bit, Vector, Filebeat, a SIEM).\n"
    "\n"
    "Options:\n",
    export_opts,
    AW_CLI_WHEN_NOTE
};

int aw_cmd_export(struct aw_cli *cli, int argc, char **argv)
{
    struct export_args a = {
        .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL },
        .format = AW_EXPORT_NDJSON
    };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int n, rc, status = AW_EXIT_FAILURE;

    rc = aw_cli_parse(&aw_export_spec, cli, argc, argv, &a, &n);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    rc = aw_cli_window_check("export", n, argv, &a.filter);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    if (aw_cli_open_store(cli, AW_STORE_READONLY, &store) != AW_OK) {
        goto out;
    }
    if (aw_export_run(store, &a.filter, (enum aw_export_format)a.format, stdout, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    return status;
}
