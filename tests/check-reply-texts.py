#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
"""Every reply text altpop writes itself goes through the language table
(include/pop3-lang.h, module/lib/pop3-lang.c): fails, listing file:line,
for each C string literal in module/login and module/mail that puts
human-readable text into a POP3 reply.

The rule. A string literal is a reply literal when it is
  - (part of) an argument of a reply call: altpop_login_reply()'s text,
    altpop_login_bad_command()'s error, altpop_client_send_line()'s and
    altpop_client_send_linef()'s line, altpop_client_send_msg()'s prefix,
    client_send_raw()'s and client_send_raw_data()'s data, or the value
    assigned to a KPOP action's reply_text; or
  - any literal that begins with "+OK" or "-ERR" (raw replies built apart
    from the calls).
Of a reply literal, escapes (\\r\\n), printf conversions (%s, %u, %llu,
...), the status ("+OK", "-ERR") and response codes ("[SYS/TEMP]", ...)
are protocol; what is left must have no letter. So "+OK", "-ERR
[SYS/TEMP] %s", "+OK %u %s", "." and "%s\\r\\n" are fine, "-ERR [SYS/TEMP]
Couldn't sync mailbox." is not: it belongs in the table as a POP3_MSG_*
id. Texts that come from Dovecot (its macros such as
MAIL_ERRSTR_CRITICAL_MSG, AUTH_FAILED_MSG, storage errors) are not
literals here and stay Dovecot's (English). ALLOWED below lists the few
literals that are protocol by an RFC, with the reason.

Usage: check-reply-texts.py [source root] (default: this file's ..)."""

import os
import re
import sys

DIRS = ("module/login", "module/mail")
# function name -> index of the argument holding the reply text
REPLY_CALLS = {
    "altpop_login_reply": 2,
    "altpop_login_bad_command": 1,
    "altpop_client_send_line": 1,
    "altpop_client_send_linef": 1,
    "altpop_client_send_msg": 1,
    "client_send_raw": 1,
    "client_send_raw_data": 1,
}
# (file, literal text) -> why it is protocol
ALLOWED = {
    ("module/mail/fetch.c", "+OK %% octets"):
        "RFC 1939 RETR/TOP form \"+OK <n> octets\" that clients parse",
    ("module/mail/main.c",
     "-ERR [SYS/PERM] altpop must not be started from inetd: use "
     "altpop-login.\\n"):
        "written to inetd's terminal before any session, no client "
        "language exists",
}

STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def strip_comments(src):
    """Comments to spaces (newlines kept), strings and chars kept."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_args(src, start):
    """Arguments (offset, text) of the call whose "(" is at start."""
    args, depth, i, arg_start = [], 0, start, start + 1
    while i < len(src):
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < len(src) and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append((arg_start, src[arg_start:i]))
                return args
        elif c == "," and depth == 1:
            args.append((arg_start, src[arg_start:i]))
            arg_start = i + 1
        i += 1
    return args


def literal_groups(text):
    """Adjacent literals joined (C concatenation), with the offset of the
    first; anything between them (a macro) joins as "%"."""
    groups = []
    last_end = None
    for m in STRING_RE.finditer(text):
        gap = text[last_end:m.start()] if last_end is not None else None
        if gap is not None and re.fullmatch(r"\s*(\w+\s*)?", gap) and groups:
            joined = groups[-1][1] + ("%" if gap.strip() else "") + m.group(1)
            groups[-1] = (groups[-1][0], joined)
        else:
            groups.append((m.start(), m.group(1)))
        last_end = m.end()
    return groups


def has_text(literal):
    s = re.sub(r"\\.", " ", literal)
    s = re.sub(r"%[-+ #0-9.*]*(hh|h|ll|l|z|j|t)?[a-zA-Z]", " ", s)
    s = s.strip()
    s = re.sub(r"^(\+OK|-ERR)\b", "", s).strip()
    while s.startswith("["):
        end = s.find("]")
        if end < 0:
            break
        s = s[end + 1:].strip()
    return re.search(r"[A-Za-z]", s) is not None


def check_file(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        src = strip_comments(f.read())
    found = {}

    def report(offset, literal):
        if not has_text(literal) or (rel, literal) in ALLOWED:
            return
        line = src.count("\n", 0, offset) + 1
        found[(line, literal)] = None

    for name, index in REPLY_CALLS.items():
        for m in re.finditer(r"\b%s\s*\(" % name, src):
            args = split_args(src, m.end() - 1)
            if index < len(args):
                arg_off, arg = args[index]
                for off, lit in literal_groups(arg):
                    report(arg_off + off, lit)
    for m in re.finditer(r"\breply_text\s*=([^;]*);", src):
        for off, lit in literal_groups(m.group(1)):
            report(m.start(1) + off, lit)
    for off, lit in literal_groups(src):
        if re.match(r"(\+OK|-ERR)\b", lit):
            report(off, lit)
    return ["%s:%d: \"%s\"" % (rel, line, lit) for line, lit in found]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    errors = []
    for d in DIRS:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if name.endswith((".c", ".h")):
                errors += check_file(root, "%s/%s" % (d, name))
    for e in errors:
        print("reply text not in the language table: " + e)
    if errors:
        print("%d reply text(s) written as literals: give each a POP3_MSG_* "
              "id (include/pop3-lang.h) with its English and Italian text"
              % len(errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
