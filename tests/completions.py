#!/usr/bin/env python3
"""The shell completions must offer every command and option there is.

Runs the bash completion (packaging/completions/agentwatch.bash) the way
bash does, for `agentwatch <TAB>`, `agentwatch -<TAB>` and
`agentwatch COMMAND -<TAB>`, and compares what it offers with the
commands of `agentwatch --help` and the options of `agentwatch COMMAND
--help` (generated from the option tables, src/cli_opt.c).  The zsh
completion (packaging/completions/_agentwatch) is compared by its text:
its command list, and each command's `_arguments` block; `zsh -n` checks
its syntax when zsh is installed.  A missing or a stale command or option
is one line each, and exit 1.

usage: completions.py AGENTWATCH_BINARY SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from options_docs import LONG, commands, help_options, run  # noqa: E402


def bash_offers(script, words):
    """What _agentwatch puts in COMPREPLY for the words, the last being cur."""
    prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
            '_agentwatch; printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "bash", script, *words],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bash completion failed for %s: %s" % (words, p.stderr))
    return set(w for w in p.stdout.split("\n") if w)


def zsh_blocks(text):
    cmds = set(re.findall(r"^ {8}'([a-z]+):", text, re.M))
    blocks = {}
    for m in re.finditer(r"^ {8}(\w+)\)\n(.*?)^ {10};;", text, re.M | re.S):
        blocks[m.group(1)] = set(LONG.findall(m.group(2)))
    return cmds, blocks


def main():
    binary, src = sys.argv[1], sys.argv[2]
    bash = os.path.join(src, "packaging", "completions", "agentwatch.bash")
    zsh = os.path.join(src, "packaging", "completions", "_agentwatch")
    names, main_help = commands(binary)
    problems = []

    def compare(where, want, got):
        for x in sorted(want - got):
            problems.append("%s: lacks %s" % (where, x))
        for x in sorted(got - want):
            problems.append("%s: offers %s, which agentwatch does not have" % (where, x))

    compare("bash, commands", set(names), bash_offers(bash, ["agentwatch", ""]))
    compare("bash, global options", set("--" + o for o in help_options(main_help)),
            bash_offers(bash, ["agentwatch", "-"]) - {"-"})
    zcmds, zblocks = zsh_blocks(open(zsh, encoding="utf-8").read())
    compare("zsh, commands", set(names), zcmds)
    for name in names:
        want = set("--" + o for o in help_options(run(binary, name, "--help")))
        compare("bash, %s" % name, want, bash_offers(bash, ["agentwatch", name, "--"]))
        compare("zsh, %s" % name, want, set("--" + o for o in zblocks.get(name, set())))
    if shutil.which("zsh"):
        p = subprocess.run(["zsh", "-n", zsh], capture_output=True, text=True)
        if p.returncode != 0:
            problems.append("zsh -n %s: %s" % (zsh, p.stderr.strip()))
    for line in problems:
        print("completions: " + line)
    print("%d commands, %d problems" % (len(names), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
