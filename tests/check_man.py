#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The man page says what the commands do.

usage: check_man.py IOMMUSIM MANPAGE

Checks, against the built binary:
  - every command of `iommusim --help` has a SYNOPSIS line and a subsection
    (.SS "iommusim COMMAND ..."), and the man page names no command the
    binary lacks;
  - each SYNOPSIS line says what its subsection's heading says (the same
    words, with the roff markup taken away);
  - every long option that `iommusim COMMAND --help` lists is described in
    the command's subsection, and the subsection describes no long option the
    command does not take.
Prints each difference and exits 1, or prints a summary and exits 0.
"""
import re
import subprocess
import sys


def run_help(exe, *args):
    p = subprocess.run([exe, *args, "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("check_man: %s %s --help exited %d" % (exe, " ".join(args), p.returncode))
    return p.stdout


def plain(roff):
    """A roff line as text: font requests and escapes removed."""
    s = re.sub(r"^\.(B|I|BR|RB|IR|RI|BI|IB)\s+", "", roff)
    s = s.replace("\\-", "-").replace("\\(em", "-").replace("\\ ", " ")
    s = re.sub(r"\\f[BIRP]", "", s)
    if roff.startswith((".BR", ".RB", ".IR", ".RI", ".BI", ".IB")):
        # alternating fonts: the words are glued together
        parts = re.findall(r'"([^"]*)"|(\S+)', s)
        s = "".join(a or b for a, b in parts)
    return s.strip().strip('"')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, man = sys.argv[1], sys.argv[2]
    lines = open(man, encoding="utf-8").read().split("\n")
    problems = []

    # The commands, from the top-level help's "Commands:" block.
    top = run_help(exe)
    block = top.split("Commands:", 1)[1]
    commands = []
    for line in block.split("\n")[1:]:
        m = re.match(r"^  ([a-z]+)\s{2,}\S", line)
        if m:
            commands.append(m.group(1))
        elif line.strip() == "":
            break
    if not commands:
        sys.exit("check_man: no commands found in `%s --help`" % exe)

    # SYNOPSIS: the lines between .SH SYNOPSIS and the next .SH, split at .br.
    start = lines.index(".SH SYNOPSIS") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(".SH "))
    synopsis, cur = [], []
    for line in lines[start:end]:
        if line == ".br":
            synopsis.append(" ".join(cur))
            cur = []
        elif not line.startswith('.\\"'):
            cur.append(plain(line))
    synopsis.append(" ".join(cur))
    synopsis = [re.sub(r"\s+", " ", s).strip() for s in synopsis if s.strip()]

    # Subsections: heading and body.
    sections = {}
    order = []
    i = 0
    while i < len(lines):
        m = re.match(r'^\.SS "(iommusim [^"]+)"', lines[i])
        if m:
            heading = plain(m.group(1))
            j = i + 1
            while j < len(lines) and not lines[j].startswith((".SS", ".SH")):
                j += 1
            sections[heading] = "\n".join(lines[i + 1:j])
            order.append(heading)
            i = j
        else:
            i += 1

    def words(s):
        return re.sub(r"\s+", " ", s.replace("[ ", "[").replace(" ]", "]")
                      .replace(" |", "|").replace("| ", "|")).strip()

    syn_cmds = set()
    for s in synopsis:
        m = re.match(r"^iommusim ([a-z]+)", s)
        if m:
            syn_cmds.add(m.group(1))
    sec_cmds = {re.match(r"^iommusim ([a-z]+)", h).group(1) for h in order}
    for c in commands:
        if c not in syn_cmds:
            problems.append("SYNOPSIS has no line for `iommusim %s`" % c)
        if c not in sec_cmds:
            problems.append("no .SS subsection for `iommusim %s`" % c)
    for c in sorted((syn_cmds | sec_cmds) - set(commands)):
        problems.append("the man page names `iommusim %s`, which the binary does not have" % c)

    syn_words = {words(s) for s in synopsis}
    for h in order:
        if words(h) not in syn_words:
            problems.append('subsection "%s" has no SYNOPSIS line saying the same '
                            "(SYNOPSIS: %s)" % (h, "; ".join(sorted(syn_words))))

    nopts = 0
    for c in commands:
        body = "\n".join(sections[h] for h in order if h.split()[1] == c)
        body_plain = "\n".join(plain(l) for l in body.split("\n"))
        head_plain = " ".join(h for h in order if h.split()[1] == c)
        helped = set(re.findall(r"--[a-z][a-z0-9-]*", run_help(exe, c))) - {"--help"}
        described = set(re.findall(r"--[a-z][a-z0-9-]*", body_plain + "\n" + head_plain))
        described.discard("--help")
        nopts += len(helped)
        for o in sorted(helped - described):
            problems.append("`iommusim %s %s` is in its --help but not in the man page" % (c, o))
        for o in sorted(described - helped):
            problems.append("the man page describes `iommusim %s %s`, which its --help "
                            "does not list" % (c, o))

    if problems:
        for p in problems:
            print("check_man: " + p, file=sys.stderr)
        sys.exit(1)
    print("man page: %d commands, %d subsections, %d options, all as the binary has them"
          % (len(commands), len(order), nopts))


if __name__ == "__main__":
    main()
