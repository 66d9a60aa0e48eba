/*
 * The command line (see cli.h).
 *
 * Commands are rows of a table, each implemented in its own src/cmd_*.c;
 * each command's options are rows of its own table (cli_opt.h), and every
 * usage problem is reported as one line naming the command, so a script's
 * log says exactly what was wrong.  Only this
 * module prints; the modules below it return status and messages.
 */
#include "agentwatch/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw_config.h"
#include "agentwatch/config.h"
#include "agentwatch/tz.h"
#include "agentwatch/follow.h"
#include "agentwatch/notify.h"
#include "agentwatch/platform.h"
#include "agentwatch/rules.h"
#include "agentwatch/store.h"
#include "agentwatch/text.h"
#include "cli_internal.h"
#include "cli_opt.h"

int aw_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    aw_text_printf(stderr, "%sagentwatch: ", aw_journal_prefix(AW_PRIO_ERR));
    if (cmd != NULL) {
        aw_text_printf(stderr, "%s: ", cmd);
    }
    va_start(ap, fmt);
    aw_text_vprintf(stderr, fmt, ap);
    va_end(ap);
    aw_text_printf(stderr, " (see 'agentwatch %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    return AW_EXIT_USAGE;
}

int aw_cli_failure(const struct aw_err *err)
{
    aw_text_printf(stderr, "%sagentwatch: %s\n", aw_journal_prefix(AW_PRIO_ERR),
            err->msg[0] ? err->msg : aw_status_text(err->code));
    return AW_EXIT_FAILURE;
}

/* mkdir -p for the directories above path, mode 0700. */
static int make_parent_dirs(const char *path, struct aw_err *err)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        return aw_err_set(err, AW_EIO, "%s: path too long", path);
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        char sep = *p;

        if (!aw_path_is_sep(sep)) {
            continue;
        }
        *p = '\0';
        if (aw_os_mkdir_private(buf) != 0 && errno != EEXIST) {
            return aw_err_set(err, AW_EIO, "%s: cannot create directory: %s", buf,
                              strerror(errno));
        }
        *p = sep;
    }
    return AW_OK;
}

/* The database path: --db, $AGENTWATCH_DB, the configuration's, or the
 * platform default. */
static const char *db_path(const struct aw_cli *cli, char *buf, size_t size, bool *is_default)
{
    const char *env = cli->env_db;

    *is_default = false;
    if (cli->db != NULL) {
        return cli->db;
    }
    if (env != NULL) {
        return env;
    }
    if (cli->config != NULL && cli->config->database != NULL) {
        return cli->config->database;
    }
    *is_default = true;
    return aw_os_default_db_path(buf, size);
}

const char *aw_cli_rules_path(const struct aw_cli *cli, const char *opt)
{
    const char *env = cli->env_rules;

    if (opt != NULL) {
        return opt;
    }
    if (env != NULL) {
        return env;
    }
    if (cli->config != NULL && cli->config->rules != NULL) {
        return cli->config->rules;
    }
    return aw_os_default_rules_dir();
}

int aw_cli_open_tz(const struct aw_cli *cli, const char *cmd, const char *opt,
                   struct aw_tz **tz)
{
    struct aw_err err = { 0 };
    int rc;

    if (opt != NULL) {
        rc = aw_tz_open(opt, tz, &err);
        if (rc == AW_ESYNTAX) {
            return aw_cli_usage_error(cmd, "invalid --timezone: %s", err.msg);
        }
    } else if (cli->config != NULL && cli->config->timezone != NULL) {
        rc = aw_tz_open(cli->config->timezone, tz, &err);
    } else {
        rc = aw_tz_system(cli->env_tz, tz, &err);
    }
    return rc == AW_OK ? AW_EXIT_OK : aw_cli_failure(&err);
}

int aw_cli_rule_sources(const struct aw_cli *cli, const char *cmd, const char *opt, const char *local_opt,
                        struct aw_cli_rules *src)
{
    struct aw_os_stat st;

    src->path = aw_cli_rules_path(cli, opt);
    src->flags = 0;
    if (local_opt != NULL) {
        src->local = local_opt;
    } else if (cli->config != NULL && cli->config->local_rules != NULL) {
        src->local = cli->config->local_rules;
    } else {
        src->local = aw_os_default_local_rules_dir(src->buf, sizeof(src->buf));
        src->flags = AW_RULES_LOAD_LOCAL_OPTIONAL;
        return AW_EXIT_OK;
    }
    /* a named layer that is not there is a typo, not an empty layer */
    if (aw_os_stat(src->local, &st) != 0) {
        return aw_cli_usage_error(cmd, "local rules '%s': %s", src->local, strerror(errno));
    }
    return AW_EXIT_OK;
}

/* Load a rule set, printing every problem.  Returns AW_OK or the status. */
int aw_cli_load_rules(const struct aw_cli_rules *src, unsigned flags, struct aw_ruleset **rs)
{
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    int rc = aw_rules_load_layers(src->path, src->local, flags | src->flags, rs, &diags, &err);

    for (size_t i = 0; i < diags.count; i++) {
        aw_text_printf(stderr, "%s\n", diags.items[i]);
    }
    if (rc != AW_OK) {
        if (rc == AW_ESYNTAX && diags.count > 0) {
            aw_text_printf(stderr, "agentwatch: %s: %zu problem%s in the rule set\n", src->path,
                    aw_diags_total(&diags), aw_diags_total(&diags) == 1 ? "" : "s");
        } else {
            aw_cli_failure(&err);
        }
    }
    aw_diags_free(&diags);
    return rc;
}

int aw_cli_open_store(const struct aw_cli *cli, unsigned flags, struct aw_store **store)
{
    struct aw_err err = { 0 };
    int rc = aw_cli_open_store_err(cli, flags, store, &err);

    if (rc != AW_OK) {
        aw_cli_failure(&err);
    }
    return rc;
}

int aw_cli_open_store_err(const struct aw_cli *cli, unsigned flags, struct aw_store **store,
                          struct aw_err *err)
{
    char buf[PATH_MAX];
    bool is_default;
    const char *path = db_path(cli, buf, sizeof(buf), &is_default);
    int rc = AW_OK;

    /* Only the default location is created on demand: an explicit path in
     * a directory that does not exist is more likely a typo. */
    if (is_default && !(flags & AW_STORE_READONLY)) {
        rc = make_parent_dirs(path, err);
    }
    if (cli->allow_unsafe_dir) {
        flags |= AW_STORE_ALLOW_UNSAFE_DIR;
    }
    if (rc == AW_OK) {
        rc = aw_store_open(store, path, flags, err);
    }
    if (rc == AW_OK && aw_store_notice(*store) != NULL) {
        aw_text_printf(stderr, "agentwatch: %s\n", aw_store_notice(*store));
    }
    return rc;
}

void aw_cli_follow_defaults(const struct aw_cli *cli, struct aw_follow_opts *opts)
{
    const struct aw_config *cfg = cli->config;

    if (cfg == NULL) {
        return;
    }
    opts->host = cfg->host;
    opts->retention_days = cfg->retention_days;
    opts->commit_ms = cfg->commit_ms;
    opts->rescan_ms = cfg->rescan_seconds * 1000u;
    opts->poll_ms = cfg->poll_interval_ms;
}

/* scan and follow read all their paths in one format, so sources of
 * different formats cannot be read together; rather than guess, say so. */
static void free_paths(struct aw_cli *cli)
{
    for (size_t i = 0; i < cli->npaths; i++) {
        free(cli->paths[i]);
    }
    free(cli->paths);
    cli->paths = NULL;
    cli->npaths = 0;
}

/* The stored and printed form of paths[0..n) into cli->paths. */
static int absolute_paths(struct aw_cli *cli, char *const *given, size_t n,
                          char *const **paths, size_t *npaths)
{
    free_paths(cli);
    cli->paths = calloc(n ? n : 1, sizeof(char *));
    if (cli->paths == NULL) {
        aw_text_printf(stderr, "%sagentwatch: out of memory\n", aw_journal_prefix(AW_PRIO_ERR));
        return AW_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        cli->paths[i] = aw_os_path_absolute(given[i]);
        if (cli->paths[i] == NULL) {
            aw_text_printf(stderr, "%sagentwatch: %s: cannot make the path absolute: %s\n",
                    aw_journal_prefix(AW_PRIO_ERR), given[i], strerror(errno));
            return AW_EXIT_FAILURE;
        }
        cli->npaths++;
    }
    *paths = cli->paths;
    *npaths = cli->npaths;
    return AW_EXIT_OK;
}

int aw_cli_paths(struct aw_cli *cli, const char *cmd, int n, char **operands,
                 bool format_given, enum aw_format *format, char *const **paths,
                 size_t *npaths)
{
    const struct aw_config *cfg = cli->config;

    if (n > 0) {
        return absolute_paths(cli, operands, (size_t)n, paths, npaths);
    }
    if (cfg == NULL || cfg->nsources == 0) {
        return aw_cli_usage_error(cmd, "no PATH given and no sources in the configuration");
    }
    if (!format_given) {
        const struct aw_config_source *s = cfg->sources;
        for (size_t i = 1; i < cfg->nsources; i++) {
            if (s[i].format != s[0].format) {
                aw_text_printf(stderr, "agentwatch: %s:%u:%u: source format %s differs from %s "
                        "(%s:%u:%u); %s reads all sources in one format: give them "
                        "the same format, or auto\n", cfg->file, s[i].line, s[i].column,
                        aw_format_name(s[i].format), aw_format_name(s[0].format), cfg->file,
                        s[0].line, s[0].column, cmd);
                return AW_EXIT_FAILURE;
            }
        }
        *format = s[0].format;
    }
    return absolute_paths(cli, cfg->source_paths, cfg->nsources, paths, npaths);
}

int aw_cli_inputs(struct aw_cli *cli, const char *cmd, int n, char **operands,
                  enum aw_format *format, struct aw_cli_inputs *in)
{
    int rc = aw_cli_paths(cli, cmd, n, operands, in->format >= 0, format, &in->paths,
                          &in->npaths);

    in->tz = NULL;
    if (rc == AW_EXIT_OK) {
        rc = aw_cli_rule_sources(cli, cmd, in->rules, in->local_rules, &in->src);
    }
    if (rc == AW_EXIT_OK) {
        rc = aw_cli_open_tz(cli, cmd, in->timezone, &in->tz);
    }
    return rc;
}

/* status speaks the monitoring convention, where a broken check is
 * UNKNOWN (3), not 1. */
int aw_cli_load_config(struct aw_cli *cli, struct aw_config *cfg, const char *cmd)
{
    const char *path = cli->config_path != NULL ? cli->config_path : AW_CONFIG_FILE;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    int rc = aw_config_load(path, cli->config_path != NULL, cfg, &diags, &err);

    for (size_t i = 0; i < diags.count; i++) {
        aw_text_printf(stderr, "%s\n", diags.items[i]);
    }
    aw_diags_free(&diags);
    if (rc != AW_OK) {
        aw_cli_failure(&err);
        return strcmp(cmd, "status") == 0 ? 3 : AW_EXIT_FAILURE;
    }
    cli->config = cfg;
    return AW_EXIT_OK;
}

/* Does a command's argument list ask for its help? */
static bool asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return true;
        }
    }
    return false;
}

/* ---- dispatch ------------------------------------------------------ */

static const struct aw_command commands[] = {
    { "export", "write the stored findings as NDJSON, ECS or CSV", &aw_export_spec, aw_cmd_export },
    { "follow", "follow logs as they are written until stopped", &aw_follow_spec, aw_cmd_follow },
    { "probe", "check a management server as the agent does, name the cause",
      &aw_probe_spec, aw_cmd_probe },
    { "prune", "delete old findings and reclaim their space", &aw_prune_spec, aw_cmd_prune },
    { "report", "summarise the stored findings", &aw_report_spec, aw_cmd_report },
    { "rules", "check, list or test a rule set (its examples, or on log files)", &aw_rules_spec,
      aw_cmd_rules },
    { "scan", "classify log files and store the findings", &aw_scan_spec, aw_cmd_scan },
    { "status", "health for monitoring and consoles (exit 0-3)", &aw_status_spec,
      aw_cmd_status },
};

static void main_usage_head(FILE *out)
{
    fputs("Usage: agentwatch [--db PATH] <command> [options]\n"
          "\n"
          "Tells from an endpoint's management-agent logs whether and why it stopped\n"
          "talking to its management server.\n"
          "\n"
          "Commands:\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        aw_text_printf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "Options:\n", out);
}

/* The global options: before the command word; --config and
 * --allow-unsafe-dir also after it (aw_cli_take()), as --db is a row of
 * every command that opens the database. */
static const struct aw_opt global_opts[] = {
    { .name = "config", .kind = AW_OPT_PATH, .arg = "PATH",
      .flags = AW_OPT_IN_CLI | AW_OPT_ANYWHERE, .offset = offsetof(struct aw_cli, config_path),
      .help = "configuration file (default: " AW_CONFIG_FILE ";\n"
              "it need not exist; also accepted after the command)" },
    { .name = "db", .kind = AW_OPT_PATH, .arg = "PATH", .flags = AW_OPT_IN_CLI,
      .offset = offsetof(struct aw_cli, db),
      .help = "database file (default: $AGENTWATCH_DB, else the\n"
              "configuration's database, else\n" AW_OS_DEFAULT_DB_TEXT ")" },
    { .name = "allow-unsafe-dir", .kind = AW_OPT_FLAG, .flags = AW_OPT_IN_CLI | AW_OPT_ANYWHERE,
      .offset = offsetof(struct aw_cli, allow_unsafe_dir),
      .help = "\nwrite the database even in a folder others may write to\n"
              "(refused by default; also accepted after the command)" },
    AW_OPT_ROW_HELP,
    { .name = "version", .alias = 'V', .kind = AW_OPT_VERSION, .help = "show the version" },
    { .name = NULL }
};

static const struct aw_cli_spec global_spec = {
    .name = NULL,
    .usage_fn = main_usage_head,
    .opts = global_opts,
    .notes = "\n"
             "Exit status: 0 success, 1 failure, 2 usage error.  scan: 4 when it\n"
             "finished, but some files were not read (each named on stderr).\n"
             "Run 'agentwatch COMMAND --help' for the options of a command.\n",
    .column = 17
};

/* The Windows service's own options (src/win_service.c), here so that its
 * --help is built, and the docs test reads it, on every platform. */
struct service_args {
    const char *log;
};

static const struct aw_opt service_opts[] = {
    { .name = "log", .kind = AW_OPT_STRING, .arg = "FILE", .offset = offsetof(struct service_args, log),
      .help = "append the command's output to FILE (a service has\n"
              "no console)" },
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

static const struct aw_cli_spec service_spec = {
    .name = "service",
    .usage =
        "Usage: agentwatch service [--log FILE] [--db PATH] COMMAND [ARGS...]\n"
        "\n"
        "Runs COMMAND (normally follow) as the Windows service that the service\n"
        "control manager started; install.ps1 registers it.  Stop and shutdown\n"
        "stop it cleanly; 'sc.exe control NAME paramchange' reloads the rules.\n"
        "\n"
        "Options:\n",
    .opts = service_opts
};

int aw_cli_service_args(int argc, char **argv, const char **log, int *first)
{
    struct service_args a = { NULL };
    int rc = aw_cli_parse_leading(&service_spec, NULL, argc, argv, &a, true, first);

    *log = a.log;
    return rc;
}

/* Run command c with its arguments argv[0..argc) (argv[0] is its name). */
static int run_command(struct aw_cli *cli, const struct aw_command *c, int argc, char **argv)
{
    struct aw_config cfg;
    int status = aw_cli_take(&global_spec, cli, &argc, argv, NULL);

    if (status == AW_CLI_CONTINUE) {
        status = aw_cli_check_paths(&global_spec, cli, NULL, 0);
    }
    if (status != AW_CLI_CONTINUE) {
        return status;
    }
    status = AW_EXIT_OK;
    memset(&cfg, 0, sizeof(cfg));
    /* Help never depends on a configuration file being valid. */
    if (!asks_for_help(argc, argv)) {
        status = aw_cli_load_config(cli, &cfg, c->name);
    }
    if (status == AW_EXIT_OK) {
        status = c->run(cli, argc, argv);
    }
    cli->config = NULL;
    aw_config_free(&cfg);
    free_paths(cli);
    return status;
}

static int run_cli(struct aw_cli *cli, int argc, char **argv)
{
    int i, rc = aw_cli_parse_leading(&global_spec, cli, argc, argv, NULL, false, &i);

    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    if (i >= argc) {
        aw_cli_help(stderr, &global_spec);
        return AW_EXIT_USAGE;
    }
    /* --config may yet come after the command word: checked then */
    rc = aw_cli_check_paths(&global_spec, cli, NULL, AW_OPT_ANYWHERE);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            return run_command(cli, &commands[k], argc - i, argv + i);
        }
    }
    return aw_cli_usage_error(NULL, "unknown command '%s'", argv[i]);
}

/* Is this "status ... --format intune"?  Found before anything runs, so
 * that not even a usage or configuration error reaches stderr. */
static bool wants_intune(int argc, char **argv)
{
    int i = aw_cli_skip_leading(&global_spec, argc, argv);

    if (i >= argc || strcmp(argv[i], "status") != 0) {
        return false;
    }
    for (i++; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--format=intune") == 0 ||
            (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
             strcmp(argv[i + 1], "intune") == 0)) {
            return true;
        }
    }
    return false;
}

/* Point stderr at a temporary file (Intune takes any byte on stderr for a
 * script error, whatever the exit code); failing that, at the null
 * device.  Never back: nothing later may write there either. */
static FILE *capture_stderr(void)
{
#ifdef _WIN32
    static const char null_device[] = "NUL";
#else
    static const char null_device[] = "/dev/null";
#endif
    FILE *f = tmpfile();

    if (f == NULL) {
        f = fopen(null_device, "w");
    }
    fflush(stderr);
    if (f != NULL && dup2(fileno(f), fileno(stderr)) < 0) {
        fclose(f);
        f = NULL;
    }
    return f;
}

bool aw_cli_captured(const struct aw_cli *cli, char *buf, size_t size)
{
    char line[1024];
    const char *p = line;
    size_t n;

    if (cli->capture == NULL || size == 0) {
        return false;
    }
    fflush(stderr);
    if (fseek(cli->capture, 0, SEEK_SET) != 0 || fgets(line, sizeof(line), cli->capture) == NULL) {
        fseek(cli->capture, 0, SEEK_END);
        return false;
    }
    fseek(cli->capture, 0, SEEK_END);
    if (p[0] == '<' && p[1] >= '0' && p[1] <= '7' && p[2] == '>') {
        p += 3;       /* a journal priority (notify.h) */
    }
    if (strncmp(p, "agentwatch: ", 12) == 0) {
        p += 12;
    }
    n = strcspn(p, "\r\n");
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n > 0;
}

int aw_cli_main(int argc, char **argv, const struct aw_signals *signals)
{
    struct aw_cli cli = { NULL, &signals->stop, signals, NULL, NULL, NULL, NULL, NULL, 0, NULL,
                          false, NULL, false };
    int status = AW_EXIT_FAILURE;

    if (wants_intune(argc, argv)) {
        cli.capture = capture_stderr();
    }

    /* Read once, as UTF-8 (Windows gives UTF-16 here).  A variable that
     * cannot be read is not taken as unset: that could pick another
     * database. */
    cli.env_db = aw_os_getenv_dup("AGENTWATCH_DB");
    if (cli.env_db == NULL && errno != 0) {
        aw_text_printf(stderr, "agentwatch: cannot read $AGENTWATCH_DB: %s\n", strerror(errno));
        goto out;
    }
    cli.env_rules = aw_os_getenv_dup("AGENTWATCH_RULES");
    if (cli.env_rules == NULL && errno != 0) {
        aw_text_printf(stderr, "agentwatch: cannot read $AGENTWATCH_RULES: %s\n", strerror(errno));
        goto out;
    }
    cli.env_tz = aw_os_getenv_dup("TZ");
    if (cli.env_tz == NULL && errno != 0) {
        aw_text_printf(stderr, "agentwatch: cannot read $TZ: %s\n", strerror(errno));
        goto out;
    }
    status = run_cli(&cli, argc, argv);
out:
    if (cli.capture != NULL) {
        char why[512];
        /* Stopped before status could answer (a configuration or global
         * usage error): still one line on stdout, and no remediation. */
        if (!cli.answered) {
            aw_text_printf(stdout, "UNKNOWN: %s\n", aw_cli_captured(&cli, why, sizeof(why)) ? why : "no answer");
            fflush(stdout);
            status = 0;
        }
        fclose(cli.capture);
    }
    free(cli.env_db);
    free(cli.env_rules);
    free(cli.env_tz);
    return status;
}
