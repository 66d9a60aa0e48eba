#!/usr/bin/env python3
"""Write mutated rule and configuration files for tests/identity.sh.

Usage: identity_mutate.py REPO OUTDIR

Deterministic: the same repository gives the same files (no randomness,
no clock).  Each mutation is one file; the names say what was done.
"""
import os
import sys

repo, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "rules"), exist_ok=True)
os.makedirs(os.path.join(out, "config"), exist_ok=True)


def read(rel):
    with open(os.path.join(repo, rel), "rb") as f:
        return f.read().decode("utf-8")


def write(kind, name, text):
    with open(os.path.join(out, kind, name), "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)


valid = read("tests/data/rules/valid.yaml")
small = read("rules/50-resolution.yaml")
health = read("rules/90-health.yaml")

# 1. every line of three rule files deleted in turn
for tag, text in (("valid", valid), ("res", small), ("health", health)):
    lines = text.split("\n")
    for i in range(len(lines)):
        write("rules", "del-%s-%03d.yaml" % (tag, i),
              "\n".join(lines[:i] + lines[i + 1:]))

# 2. every line of valid.yaml indented one space more, and one less
lines = valid.split("\n")
for i in range(len(lines)):
    more = lines[:i] + [" " + lines[i]] + lines[i + 1:]
    write("rules", "indent-more-%03d.yaml" % i, "\n".join(more))
    if lines[i].startswith(" "):
        less = lines[:i] + [lines[i][1:]] + lines[i + 1:]
        write("rules", "indent-less-%03d.yaml" % i, "\n".join(less))

# 3. every value of valid.yaml replaced by other types
values = ["[a, b]", "{x: 1}", "~", "''", "12", "!!str x", "&a x", "*a",
          "|\n      multi\n      line", "\"\\x00nul\"", "Ünïcödé", "'a\tb'"]
for i, line in enumerate(lines):
    if ":" not in line or line.strip().startswith("#"):
        continue
    key, _, rest = line.partition(":")
    if rest.strip() == "":
        continue
    for j, v in enumerate(values):
        write("rules", "type-%03d-%02d.yaml" % (i, j),
              "\n".join(lines[:i] + [key + ": " + v] + lines[i + 1:]))

# 4. patterns: invalid ones, lint triggers, literal-extraction corners
patterns = [
    "(abc", "abc)", "[z-a]", "a{2,1}", "(?<n>a)(?<n>b)", "\\\\", "a**", "(?P<x", "\\k<nope>",
    "(a+)+$", "(.*)*x", "(a|ab)+c", ".*.*x", "\\s*\\s+x", "[a-z]+[a-z]*", "(a?)*b", "(|a)+b",
    "(?:\\s*x+)*", "(a++)+", "(?>a+)+", "a*+a*", "(x|x?)+", "(.|x)*", "(?#c)(a+)*",
    "(?i)(a+){2,}", "(a+){1,5}", "(a{1,})+", "(?<w>\\w+)+", "(?:(?:a+)+)+", "((a)|b)+",
    "error 0x80072efd", "(?i)unable to connect|timed? ?out", "foo(?<code>\\d+)bar",
    "\\b(?:0x)?(?:800b0109|80090325)\\b", "abc?d", "ab{0,3}cde", "ab{2}cd", "a\\.b\\.c",
    "(?x) a b c", "(*UTF)abc", "\\Qa.b\\E", "(abc)\\1", "[[:alpha:]]+xyz", "x{ 2 , 3 }yzw",
    "(?:abc)+def", "(?:abc)?defg", "(?:ab|cd)ef", "(?<host>[\\w.-]+)\\.corp", "^abc$",
    "a\\x41bcd", "\\o{101}bcd", "\\p{L}abc", "\\cAxyz", "\\012abcd", "(?=abc)def",
    "(?-i)ABC", "(?i:abc)def", "[]abc]xyz", "[^]]xyz", "a|b|c", "abc|de", "longer|x",
    "a{,3}bcd", "ab{1,}cd", "(?|(a)|(b))cde", "\\N{U+41}bcd", "é+abc", "a\\ b\\ c",
    "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "(((((((((x)))))))))yz", "a" * 300, "[" * 40,
    "(" * 40 + "a" + ")" * 40, "(?:" * 20 + "ab" + ")" * 20 + "cd",
]
tmpl = ("version: 1\nrules:\n  - id: p.rule\n    category: test\n    severity: error\n"
        "    pattern: %s\n")
ex = "    examples:\n      match:\n        - 'abc def xyz error 0x80072efd'\n"
for i, p in enumerate(patterns):
    q = "'" + p.replace("'", "''") + "'"
    write("rules", "pat-%03d.yaml" % i, tmpl % q)
    write("rules", "patdq-%03d.yaml" % i,
          tmpl % ('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"') + ex)

# 5. whole-file oddities
odd = {
    "empty.yaml": "",
    "comment.yaml": "# nothing\n",
    "scalar.yaml": "just a string\n",
    "seq.yaml": "- a\n- b\n",
    "norules.yaml": "version: 1\n",
    "rules-empty.yaml": "version: 1\nrules: []\n",
    "rules-map.yaml": "version: 1\nrules: {a: b}\n",
    "version2.yaml": valid.replace("version: 1", "version: 2"),
    "dup-id.yaml": valid + "  - id: dns\n    category: x\n    severity: info\n    pattern: abc\n",
    "dup-key.yaml": valid.replace("    severity: error\n", "    severity: error\n    severity: info\n"),
    "two-docs.yaml": valid + "---\n" + valid,
    "anchor.yaml": valid.replace("category: ssl", "category: &c ssl"),
    "alias.yaml": valid.replace("category: resolution", "category: *c"),
    "tab.yaml": valid.replace("  - id: dns", "\t- id: dns"),
    "bom.yaml": "\ufeff" + valid,
    "crlf.yaml": valid.replace("\n", "\r\n"),
    "nul.yaml": valid.replace("test rule", "test\0rule"),
    "badutf8.yaml": None,
    "deep.yaml": "version: 1\nrules:\n" + "  " + "- " * 40 + "x\n",
    "unknown-top.yaml": valid + "extra: 1\n",
    "bad-id.yaml": valid.replace("id: dns", "id: DNS!"),
    "bad-cat.yaml": valid.replace("category: ssl", "category: 9ssl"),
    "bad-sev.yaml": valid.replace("severity: critical", "severity: fatal"),
    "long-id.yaml": valid.replace("id: dns", "id: " + "d" * 70),
    "empty-pattern.yaml": valid.replace('pattern: "No such host"', "pattern: ''"),
    "example-fail.yaml": valid.replace("'root is trusted'", "'UNTRUSTED ROOT here'"),
    "example-map.yaml": valid.replace("        - 'root is trusted'", "        - {a: b}"),
    "examples-unknown.yaml": valid.replace("      no_match:", "      maybe:"),
    "shadow.yaml": valid + "  - id: later\n    category: ssl\n    severity: info\n"
                   "    pattern: 'untrusted'\n    examples:\n      match:\n        - 'untrusted root'\n",
    "many-aliases.yaml": "version: 1\nrules:\n" + "".join("  - *a%d\n" % i for i in range(150)),
    "many-errors.yaml": "version: 1\nrules:\n" + "".join("  - id: r%d\n" % i for i in range(120)),
}
for name, text in sorted(odd.items()):
    if text is None:
        write("rules", name, valid.encode() .replace(b"test rule", b"test \xff\xfe rule"))
    else:
        write("rules", name, text)

# 6. configuration files
cfg = read("packaging/agentwatch.yaml")
clines = cfg.split("\n")
for i in range(len(clines)):
    write("config", "del-%03d.yaml" % i, "\n".join(clines[:i] + clines[i + 1:]))
cvals = ["[a]", "{x: 1}", "'5'", "-1", "0", "99999999999999999999", "/abs/path", "rel/path",
         "~", "''", "&a 1", "*a", "!!int 5"]
for key in ("database", "rules", "host", "retention_days", "commit_ms", "rescan_seconds",
            "poll_interval_ms", "sources"):
    for j, v in enumerate(cvals):
        text = "\n".join(
            (l.split(":")[0] + ": " + v) if l.lstrip().startswith(key + ":") else l
            for l in clines)
        write("config", "val-%s-%02d.yaml" % (key, j), text)
codd = {
    "src-list.yaml": "sources:\n  - /var/log/a.log\n  - { path: /var/log/b.log, format: itms }\n",
    "src-badfmt.yaml": "sources:\n  - { path: /var/log/b.log, format: xml }\n",
    "src-mixed.yaml": "sources:\n  - { path: /a.log, format: itms }\n  - { path: /b.log, format: line }\n",
    "src-unknown.yaml": "sources:\n  - { path: /a.log, fmt: itms }\n",
    "src-nopath.yaml": "sources:\n  - { format: itms }\n",
    "follow-unknown.yaml": "follow:\n  commit: 5\n",
    "follow-seq.yaml": "follow: [1, 2]\n",
    "top-seq.yaml": "- a\n",
    "top-unknown.yaml": "databse: /x.db\n",
    "dup.yaml": "host: a\nhost: b\n",
    "syntax.yaml": "host: [a\n",
    "aliases.yaml": "host: &h a\nrules: *h\n" + "".join("x%d: *h\n" % i for i in range(130)),
    "keys-nonstring.yaml": "? [a]\n: b\n",
    "empty.yaml": "",
}
for name, text in sorted(codd.items()):
    write("config", name, text)

# 7. the raw patterns, one a line, for the extractor comparison
with open(os.path.join(out, "patterns.txt"), "w", encoding="utf-8") as f:
    for p in patterns:
        f.write(p + "\n")
