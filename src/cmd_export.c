/*
 * agentwatch export: the stored findings as NDJSON, CSV or ECS, whole or
 * incrementally under a named cursor (see export.h, cursor.h).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "agentwatch/cursor.h"
#include "agentwatch/export.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives. */
struct export_args {
    struct aw_query_filter filter;
    int format;
    const char *cursor;       /* NULL: no cursor */
    bool list_cursors;
    const char *reset_cursor;
};

static const struct aw_opt_word export_formats[] = {
    { "ndjson", AW_EXPORT_NDJSON },
    { "csv", AW_EXPORT_CSV },
    { "ecs", AW_EXPORT_ECS },
    { NULL, 0 }
};

static const struct aw_opt export_opts[] = {
    AW_OPT_ROWS_WINDOW(struct export_args, filter),
    AW_OPT_ROWS_FILTER(struct export_args, filter),
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = export_formats,
      .offset = offsetof(struct export_args, format),
      .help = "ndjson (default: one JSON object per line), csv, or ecs\n"
              "(one JSON object per line in Elastic Common Schema names)" },
    { .name = "cursor", .kind = AW_OPT_TEXT, .arg = "NAME", .min = 1, .max = AW_CURSOR_NAME_MAX,
      .offset = offsetof(struct export_args, cursor),
      .help = "only the findings not exported under NAME before, then\n"
              "remember them as exported (after the output is written\n"
              "and flushed; a second call writes nothing)" },
    { .name = "list-cursors", .kind = AW_OPT_FLAG,
      .offset = offsetof(struct export_args, list_cursors),
      .help = "list the cursors: name, last id, exported, pending, updated" },
    { .name = "reset-cursor", .kind = AW_OPT_TEXT, .arg = "NAME", .min = 1,
      .max = AW_CURSOR_NAME_MAX, .offset = offsetof(struct export_args, reset_cursor),
      .help = "forget cursor NAME (its next export writes everything)" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_export_spec = AW_CLI_SPEC(
    "export",
    "Usage: agentwatch [--db PATH] export [options]\n"
    "       agentwatch [--db PATH] export --list-cursors\n"
    "       agentwatch [--db PATH] export --reset-cursor NAME\n"
    "\n"
    "Write every stored finding, one per line with every stored field, for a\n"
    "log pipeline (Fluent Bit, Vector, Filebeat, a SIEM).\n"
    "\n"
    "Options:\n",
    export_opts,
    AW_CLI_WHEN_NOTE
);

static int print_cursor(void *ctx, const struct aw_cursor_row *r, struct aw_err *err)
{
    char updated[AW_TIME_ISO_MAX];

    (void)ctx;
    (void)err;
    aw_time_format_iso(r->updated_ms, updated);
    printf("%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%s\n", r->name, r->last_id, r->exported,
           r->pending, updated);
    return AW_OK;
}

/* --list-cursors and --reset-cursor: no findings written. */
static int cursor_admin(struct aw_store *store, const struct export_args *a, struct aw_err *err)
{
    int rc;

    if (a->list_cursors) {
        printf("cursor\tlast_id\texported\tpending\tupdated\n");
        rc = aw_cursor_list(store, print_cursor, NULL, err);
    } else {
        rc = aw_cursor_reset(store, a->reset_cursor, err);
    }
    if (rc == AW_OK && fflush(stdout) != 0) {
        rc = aw_err_set(err, AW_EIO, "cannot write the cursor list");
    }
    return rc;
}

/* The findings, all of them or those new under a->cursor. */
static int export_findings(struct aw_store *store, const struct export_args *a,
                           struct aw_err *err)
{
    uint64_t written = 0;

    if (a->cursor == NULL) {
        return aw_export_run(store, &a->filter, (enum aw_export_format)a->format, stdout, err);
    }
    return aw_export_cursor(store, &a->filter, (enum aw_export_format)a->format, a->cursor,
                            stdout, &written, err);
}

int aw_cmd_export(struct aw_cli *cli, int argc, char **argv)
{
    struct export_args a = {
        .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL },
        .format = AW_EXPORT_NDJSON
    };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    bool admin, writes;
    int rc, status = AW_EXIT_FAILURE;

    rc = aw_cli_parse_window(&aw_export_spec, cli, argc, argv, &a, &a.filter);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i == 0 ? a.cursor : a.reset_cursor;

        if (name != NULL && !aw_cursor_name_valid(name)) {
            return aw_cli_usage_error("export", "invalid cursor name '%s': expected 1 to %d"
                                      " letters, digits, '.', '_' or '-'", name,
                                      AW_CURSOR_NAME_MAX);
        }
    }
    if ((a.cursor != NULL) + a.list_cursors + (a.reset_cursor != NULL) > 1) {
        return aw_cli_usage_error("export", "--cursor, --list-cursors and --reset-cursor"
                                  " exclude each other");
    }
    /* A cursor is written back (or reset): the database is opened for
     * writing (but not as the one writer of findings, so it works beside
     * follow). */
    admin = a.list_cursors || a.reset_cursor != NULL;
    writes = a.reset_cursor != NULL || a.cursor != NULL;
    if (aw_cli_open_store(cli, writes ? 0 : AW_STORE_READONLY, &store) != AW_OK) {
        goto out;
    }
    rc = admin ? cursor_admin(store, &a, &err) : export_findings(store, &a, &err);
    if (rc != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    return status;
}
