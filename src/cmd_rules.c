/*
 * agentwatch rules: check or list a rule set (see rules.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/rules.h"
#include "cli_internal.h"

const char aw_rules_usage[] =
    "Usage: agentwatch rules check [--rules PATH]\n"
    "       agentwatch rules list  [--rules PATH] [--format table|tsv]\n"
    "\n"
    "check  load and validate a rule set (YAML structure, fields, patterns,\n"
    "       examples); every problem is printed as FILE:LINE:COLUMN: message.\n"
    "       Exit 0 when valid, 1 when not.\n"
    "list   print the rules in the order they are tried: id, category,\n"
    "       severity and pattern.\n"
    "\n"
    "Options:\n"
    "  --rules PATH       rule file or folder (default: $AGENTWATCH_RULES, else\n"
    "                     " AW_RULES_DIR ")\n"
    "  --format FORMAT    list only: table (default) or tsv\n"
    "  -h, --help         show this help\n";

static void print_rules(const struct aw_ruleset *rs, bool tsv)
{
    size_t n = aw_rules_count(rs);

    if (!tsv) {
        printf("%-36s %-12s %-9s %s\n", "ID", "CATEGORY", "SEVERITY", "PATTERN");
    }
    for (size_t i = 0; i < n; i++) {
        const struct aw_rule_info *r = aw_rules_get(rs, i);
        printf(tsv ? "%s\t%s\t%s\t%s\n" : "%-36s %-12s %-9s %s\n", r->id, r->category,
               aw_rule_severity_name(r->severity), r->pattern);
    }
}

int aw_cmd_rules(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, OPT_RULES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_ruleset *rs = NULL;
    const char *rules_opt = NULL, *action = NULL, *path;
    bool tsv = false, format_given = false;
    int c, status;

    (void)cli;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RULES: rules_opt = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "tsv") != 0 && strcmp(optarg, "table") != 0) {
                return aw_cli_usage_error("rules", "invalid --format '%s': expected table or tsv",
                                   optarg);
            }
            tsv = strcmp(optarg, "tsv") == 0;
            format_given = true;
            break;
        case 'h': fputs(aw_rules_usage, stdout); return AW_EXIT_OK;
        default: return aw_cli_bad_option("rules", argv, c);
        }
    }
    if (optind >= argc) {
        return aw_cli_usage_error("rules", "missing action: check or list");
    }
    action = argv[optind];
    if (strcmp(action, "check") != 0 && strcmp(action, "list") != 0) {
        return aw_cli_usage_error("rules", "unknown action '%s': expected check or list", action);
    }
    if (optind + 1 < argc) {
        return aw_cli_usage_error("rules", "unexpected argument '%s'", argv[optind + 1]);
    }
    if (format_given && strcmp(action, "list") != 0) {
        return aw_cli_usage_error("rules", "--format applies to 'rules list' only");
    }
    path = aw_cli_rules_path(rules_opt);
    if (aw_cli_load_rules(path, &rs) != AW_OK) {
        return AW_EXIT_FAILURE;
    }
    if (strcmp(action, "check") == 0) {
        size_t n = aw_rules_count(rs);
        printf("%s: %zu rule%s OK\n", path, n, n == 1 ? "" : "s");
    } else {
        print_rules(rs, tsv);
    }
    status = AW_EXIT_OK;
    aw_rules_free(&rs);
    return status;
}

