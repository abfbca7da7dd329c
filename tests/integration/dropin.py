# SPDX-License-Identifier: LGPL-2.1-only
"""Differential sessions for "altpop as a drop-in for Dovecot's pop3": one
instance runs stock pop3 with a pop3_* setting and altpop with its altpop_*
equivalent; the same mail goes to two users (one per server), the same
session runs against each, and the replies and the mailbox state
afterwards (messages left, flags, keywords) are compared.

Both users' maildrops are filled the same way in the same order, so their
UIDs agree; UIDVALIDITY does not, so UIDLs are compared with a format of
the UID alone (UIDL_FORMAT on both sides unless a test sets its own)."""

import subprocess

import harness
import popclient

# both servers' UIDL format for these tests: the UID alone
UIDL_FORMAT = "%08Xu"
STOCK_USER = "stockuser"
ALTPOP_USER = "altpopuser"
PASSWORD = "dropinpw"
DOVEADM = "/usr/bin/doveadm"

# commands whose reply is multi-line: without an argument (LIST, UIDL)
# or always (RETR, TOP, CAPA)
_MULTI_ALWAYS = ("RETR", "TOP", "CAPA")
_MULTI_WITHOUT_ARG = ("LIST", "UIDL")


def instance(make_instance, stock=(), alt=(), extra=""):
    """An instance with pop3 (settings stock, as (name, value) pairs) and
    altpop (settings alt) and the two users."""
    stock = [("pop3_uidl_format", UIDL_FORMAT)] + list(stock)
    alt = [("altpop_uidl_format", UIDL_FORMAT)] + list(alt)
    return make_instance(protocols=["pop3", "altpop"],
                         users={STOCK_USER: PASSWORD, ALTPOP_USER: PASSWORD},
                         default_users=False, extra=extra,
                         extra_pop3=harness.settings(stock),
                         extra_altpop=harness.settings(alt))


def deliver_both(inst, raws, flags=None):
    """The same messages, in the same order, to both users."""
    for raw in raws:
        for user in (STOCK_USER, ALTPOP_USER):
            inst.deliver(user, raw, flags=flags)


def doveadm(inst, *args):
    """doveadm ARGS against the instance (in its namespace)."""
    res = subprocess.run(
        inst.ns_command([DOVEADM, "-c", str(inst.conf)] + list(args)),
        capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, (args, res.stderr)
    return res.stdout


def both_users(inst, command, *args):
    """doveadm COMMAND -u USER ARGS for both users (command: a list of
    words, e.g. ["flags", "add"])."""
    for user in (STOCK_USER, ALTPOP_USER):
        doveadm(inst, *command, "-u", user, *args)


def is_multi(command):
    words = command.split()
    name = words[0].upper()
    return name in _MULTI_ALWAYS or (name in _MULTI_WITHOUT_ARG
                                     and len(words) == 1)


def run_session(inst, service, user, commands):
    """USER/PASS as user, then each command; returns the replies as bytes
    (a multi-line reply with its lines; the QUIT reply last)."""
    c = popclient.RawPop3(inst.port(service))
    replies = []
    try:
        c.ok("USER %s" % user)
        reply = c.cmd("PASS %s" % PASSWORD)
        assert reply.startswith(b"+OK"), (service, reply)
        for command in commands:
            if is_multi(command):
                status, data = c.multi(command)
                replies.append(status + b"\r\n" + (data or b""))
            else:
                replies.append(c.cmd(command))
    finally:
        c.close()
    return replies


def mailbox_state(inst, user):
    """(uid, flags) of every message in user's INBOX, by doveadm (flags
    as Dovecot lists them, keywords included; \\Recent left out, as it
    belongs to whichever session saw the message first)."""
    out = doveadm(inst, "fetch", "-u", user, "uid flags", "mailbox",
                  "INBOX")
    state, uid = [], None
    for line in out.splitlines():
        if line.startswith("uid: "):
            uid = int(line[5:])
        elif line.startswith("flags:"):
            flags = sorted(f for f in line[6:].split() if f != "\\Recent")
            state.append((uid, tuple(flags)))
    return state


def compare(inst, commands, sessions=1):
    """Run the session (sessions times, one after the other) against stock
    pop3 as STOCK_USER and altpop as ALTPOP_USER; assert byte-identical
    replies and the same mailbox state after each. Returns altpop's
    replies of the last session."""
    alt = None
    for _ in range(sessions):
        stock = run_session(inst, "pop3", STOCK_USER, commands)
        alt = run_session(inst, "altpop", ALTPOP_USER, commands)
        for command, s, a in zip(commands, stock, alt):
            assert s == a, "%s: stock %r, altpop %r" % (command, s, a)
        assert len(stock) == len(alt) == len(commands)
        assert mailbox_state(inst, STOCK_USER) == \
            mailbox_state(inst, ALTPOP_USER)
    return alt
