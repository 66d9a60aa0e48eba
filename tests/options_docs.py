#!/usr/bin/env python3
"""The options of every command, as three documents name them, must agree:

  - `agentwatch COMMAND --help` (generated from the command's option table,
    src/cli_opt.h), and `agentwatch --help` for the global options;
  - README.md: the usage block under "## Usage", and every synopsis of a
    command section ("### follow", ...) that has one;
  - docs/agentwatch.1: the SYNOPSIS, and the option entries (.TP tags) of
    the command's section under COMMANDS (GLOBAL OPTIONS for the global ones).

The Windows service (`agentwatch service`, its table in src/cli.c) is
compared too: its --help from SERVICE_HELP (a test program that prints it on
any platform) with the README usage block's service line, and with the
synopsis and the .TP entries of the man page's WINDOWS section.

--db and -h/--help are accepted by every command and documented once, as
global options, so they are left out of the per-command comparison.  Exit 0
when all agree; otherwise one line per disagreement and exit 1.

usage: options_docs.py AGENTWATCH_BINARY SOURCE_DIR SERVICE_HELP
"""
import re
import subprocess
import sys

COMMON = {"db", "help"}
LONG = re.compile(r"(?<![a-z0-9-])--([a-z][a-z-]*)")


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s %s: exit %d: %s" % (binary, " ".join(args), p.returncode, p.stderr))
    return p.stdout


def help_options(text):
    """The options of a --help text: its "  --name" and "  -x, --name" lines."""
    return set(re.findall(r"^  (?:-\w, )?--([a-z][a-z-]*)", text, re.M))


def commands(binary):
    main = run(binary, "--help")
    block = main.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()], main


def readme(src, names):
    text = open(src + "/README.md", encoding="utf-8").read()
    usage = text.split("## Usage", 1)[1].split("```", 2)[1]
    found = {"usage": {}, "sections": {}, "global": set()}
    cmd = None
    for line in usage.splitlines():
        m = re.match(r"agentwatch (?:\[--db PATH\] )?(\w+)\b(.*)", line)
        if m and m.group(1) in names:
            cmd, rest = m.group(1), m.group(2)
        elif line.startswith(" ") and cmd is not None:
            rest = line          # a command's continuation line
        else:
            cmd = None
            found["global"].update(LONG.findall(line))
            continue
        found["usage"].setdefault(cmd, set()).update(LONG.findall(rest))
    # A section's synopsis: the indented or fenced lines that start with
    # "agentwatch" right under "### name", up to the first prose line.
    for m in re.finditer(r"^### (\w+)\n\n((?:```\n)?(?:(?:    )?agentwatch .*\n(?: {10,}.*\n)*)+)",
                         text, re.M):
        if m.group(1) in names:
            found["sections"][m.group(1)] = set(LONG.findall(m.group(2)))
    return found


def man(src, names):
    text = open(src + "/docs/agentwatch.1", encoding="utf-8").read().replace("\\-", "-")
    synopsis = {}
    for m in re.finditer(r"^\.SY agentwatch\n(.*?)^\.YS", text, re.M | re.S):
        body = m.group(1)
        first = re.match(r"\.B (\w+)\n", body)
        key = first.group(1) if first and first.group(1) in names else "(global)"
        synopsis.setdefault(key, set()).update(LONG.findall(body))
    sections = {}
    for m in re.finditer(r"^\.SS (\w+)\n(.*?)(?=^\.SS |^\.SH )", text, re.M | re.S):
        tags = re.findall(r"^\.TP\n(.*)\n", m.group(2), re.M)
        sections[m.group(1)] = set(o for t in tags for o in LONG.findall(t))
    g = re.search(r"^\.SH GLOBAL OPTIONS\n(.*?)^\.SH ", text, re.M | re.S).group(1)
    global_entries = set(o for t in re.findall(r"^\.TP\n(.*)\n", g, re.M) for o in LONG.findall(t))
    w = re.search(r"^\.SH WINDOWS\n(.*?)^\.SH ", text, re.M | re.S).group(1)
    line = re.search(r"^agentwatch service .*$", w, re.M)
    synopsis["service"] = set(LONG.findall(line.group(0))) if line else None
    sections["service"] = set(o for t in re.findall(r"^\.TP\n(.*)\n", w, re.M)
                              for o in LONG.findall(t))
    return synopsis, sections, global_entries


def compare(problems, what, expected, got):
    if got is None:
        problems.append("%s: missing" % what)
    elif got != expected:
        extra, lacking = sorted(got - expected), sorted(expected - got)
        problems.append("%s: %s%s" % (what, "lacks --%s" % ", --".join(lacking) if lacking else "",
                                      (" " if lacking else "") + "has unknown --%s" % ", --".join(extra)
                                      if extra else ""))


def main():
    binary, src, service_help = sys.argv[1], sys.argv[2], sys.argv[3]
    names, main_help = commands(binary)
    rd = readme(src, names + ["service"])
    syn, secs, man_global = man(src, names)
    problems = []
    for cmd in names:
        expected = help_options(run(binary, cmd, "--help")) - COMMON
        compare(problems, "README usage block, %s" % cmd, expected, rd["usage"].get(cmd))
        if cmd in rd["sections"]:
            compare(problems, "README section '### %s' synopsis" % cmd, expected,
                    rd["sections"][cmd] - COMMON)
        compare(problems, "agentwatch.1 SYNOPSIS, %s" % cmd, expected, syn.get(cmd))
        compare(problems, "agentwatch.1 COMMANDS '.SS %s' entries" % cmd, expected, secs.get(cmd))
    expected = help_options(run(service_help)) - COMMON
    compare(problems, "README usage block, service", expected, rd["usage"].get("service", set()) - COMMON)
    compare(problems, "agentwatch.1 WINDOWS synopsis, service", expected,
            syn["service"] - COMMON if syn["service"] is not None else None)
    compare(problems, "agentwatch.1 WINDOWS entries, service", expected, secs["service"] - COMMON)
    expected = help_options(main_help)
    compare(problems, "agentwatch.1 GLOBAL OPTIONS entries", expected, man_global)
    compare(problems, "agentwatch.1 SYNOPSIS, global", expected, syn.get("(global)"))
    compare(problems, "README usage block, global", expected, rd["global"])
    for p in problems:
        print("options disagree: " + p)
    print("%d commands, %d problems" % (len(names), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
