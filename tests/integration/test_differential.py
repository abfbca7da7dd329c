# SPDX-License-Identifier: LGPL-2.1-only
"""Differential tests: the same raw POP3 sessions against stock pop3 and
altpop on the same maildrop of the same instance; responses must match.

Compared exactly: every data line of multi-line responses, and the whole
status line of STAT, LIST n and UIDL n (their text is defined by RFC 1939).
Elsewhere only +OK / -ERR (the text after it is free-form).  The greeting is
ignored.  The self-check runs the comparison stock-plain vs stock-pop3s so the
machinery is exercised even when altpop is not built.
"""

import pytest

import mailgen
import popclient

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

EXACT, STATUS, MULTI = "exact", "status", "multi"
CLOSED = b"<connection closed>"


def read_only_script(count):
    steps = [("STAT", EXACT), ("LIST", MULTI), ("UIDL", MULTI), ("NOOP", STATUS),
             ("stat", EXACT), ("list", MULTI)]
    for n in range(1, count + 1):
        steps += [("LIST %d" % n, EXACT), ("UIDL %d" % n, EXACT),
                  ("TOP %d 0" % n, MULTI), ("TOP %d 3" % n, MULTI),
                  ("RETR %d" % n, MULTI)]
    bad = count + 1
    errors = [
        "LIST 0", "LIST %d" % bad, "LIST x", "LIST -1", "LIST 4294967297",
        "UIDL 0", "UIDL %d" % bad,
        "RETR 0", "RETR %d" % bad, "RETR", "RETR x",
        "TOP 1", "TOP", "TOP 1 x", "TOP 0 0", "TOP %d 0" % bad, "TOP 1 -1",
        "DELE 0", "DELE %d" % bad, "DELE",
        "XYZZY", "USER alice", "PASS alicepw",
    ]
    # Servers drop a client after ~20 bad commands in a row (Dovecot: more
    # than 20): a good command between a few bad ones resets the count.
    for i, line in enumerate(errors):
        steps.append((line, STATUS))
        if i % 5 == 4:
            steps.append(("NOOP", STATUS))
    steps.append(("STAT", EXACT))
    return steps


def mutating_script(count):
    """DELE/RSET without QUIT: the maildrop stays as it was."""
    return [
        ("DELE 2", STATUS), ("DELE 2", STATUS), ("RETR 2", STATUS), ("TOP 2 0", STATUS),
        ("LIST 2", STATUS), ("UIDL 2", STATUS), ("STAT", EXACT), ("LIST", MULTI),
        ("UIDL", MULTI), ("DELE 1", STATUS), ("DELE %d" % count, STATUS),
        ("STAT", EXACT), ("LIST", MULTI), ("RETR 3", MULTI), ("RSET", STATUS),
        ("STAT", EXACT), ("LIST", MULTI), ("RETR 2", MULTI), ("DELE 3", STATUS),
        ("LIST 3", STATUS), ("STAT", EXACT),
    ]


def run_session(port, steps, tls=False, user="alice", password="alicepw", quit=False):
    out = []
    with popclient.RawPop3(port, tls=tls) as c:
        c.login(user, password)
        if quit:
            steps = list(steps) + [("QUIT", STATUS)]
        for line, kind in steps:
            try:
                if kind == MULTI:
                    status, data = c.multi(line)
                    out.append((line, kind, status,
                                c.last_raw if data is not None else None))
                else:
                    out.append((line, kind, c.cmd(line), None))
            except (EOFError, ConnectionError):
                out.append((line, kind, CLOSED, None))
                break
    return out


def compare(a, b, names=("A", "B")):
    problems = []
    for (line, kind, sa, da), (_, _, sb, db) in zip(a, b):
        if kind == EXACT or CLOSED in (sa, sb):
            if sa != sb:
                problems.append("%s: %s %r != %s %r" % (line, names[0], sa, names[1], sb))
            continue
        ia, ib = sa.split(b" ", 1)[0], sb.split(b" ", 1)[0]
        if ia != ib:
            problems.append("%s: %s %r vs %s %r" % (line, names[0], sa, names[1], sb))
        elif kind == MULTI and da != db:
            problems.append("%s: data differs (%s %d bytes, %s %d bytes)%s"
                            % (line, names[0], len(da or b""), names[1], len(db or b""),
                               _first_diff(da or b"", db or b"")))
    if len(a) != len(b):
        problems.append("sessions ended differently: %s after %r, %s after %r"
                        % (names[0], a[-1][:3], names[1], b[-1][:3]))
    return problems


def _first_diff(x, y):
    for i, (p, q) in enumerate(zip(x, y)):
        if p != q:
            return " at byte %d: %r vs %r" % (i, x[max(0, i - 20):i + 20],
                                              y[max(0, i - 20):i + 20])
    return " (one is a prefix of the other)"


def _load(instance, user="alice"):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver(user, raw)
    return msgs


def _check(problems):
    assert not problems, "\n".join(problems)


# ---- self-check on stock Dovecot (always runs) ---------------------------

def test_selfcheck_stock_plain_vs_pop3s(instance):
    msgs = _load(instance)
    a = run_session(instance.port("pop3"), read_only_script(len(msgs)))
    b = run_session(instance.port("pop3", "pop3s"), read_only_script(len(msgs)), tls=True)
    _check(compare(a, b, ("pop3", "pop3s")))
    # The retrieved data is what mailgen predicts.
    got = {line: data for line, kind, status, data in a if kind == MULTI and data}
    for n, (name, raw) in enumerate(msgs, 1):
        assert got["RETR %d" % n] == \
            mailgen.dot_stuff(mailgen.expected_pop3_bytes(raw)) + b".\r\n", name
    a = run_session(instance.port("pop3"), mutating_script(len(msgs)))
    b = run_session(instance.port("pop3", "pop3s"), mutating_script(len(msgs)), tls=True)
    _check(compare(a, b, ("pop3", "pop3s")))
    assert instance.message_count("alice") == len(msgs)


# ---- stock pop3 vs altpop --------------------------------------------------

@pytest.mark.altpop_only
def test_read_only_session(instance):
    msgs = _load(instance)
    a = run_session(instance.port("pop3"), read_only_script(len(msgs)))
    b = run_session(instance.port("altpop"), read_only_script(len(msgs)))
    _check(compare(a, b, ("pop3", "altpop")))
    # And the other way round (altpop first on a fresh maildrop).
    _load(instance, "bob")
    b = run_session(instance.port("altpop"), read_only_script(len(msgs)), user="bob",
                    password="bobpw")
    a = run_session(instance.port("pop3"), read_only_script(len(msgs)), user="bob",
                    password="bobpw")
    _check(compare(a, b, ("pop3", "altpop")))


@pytest.mark.altpop_only
def test_read_only_session_tls(instance):
    msgs = _load(instance)
    a = run_session(instance.port("pop3", "pop3s"), read_only_script(len(msgs)), tls=True)
    b = run_session(instance.port("altpop", "pop3s"), read_only_script(len(msgs)), tls=True)
    _check(compare(a, b, ("pop3s", "altpop pop3s")))


@pytest.mark.altpop_only
def test_mutating_session_without_quit(instance):
    msgs = _load(instance)
    a = run_session(instance.port("pop3"), mutating_script(len(msgs)))
    b = run_session(instance.port("altpop"), mutating_script(len(msgs)))
    _check(compare(a, b, ("pop3", "altpop")))
    assert instance.message_count("alice") == len(msgs)


@pytest.mark.altpop_only
@pytest.mark.dovecot(users={"carol": "carolpw", "dave": "davepw"})
def test_quit_expunges_alike(instance):
    """DELE + QUIT on two identical maildrops (different users, so UIDLs are
    not compared), then the listings after reconnecting."""
    for user in ("carol", "dave"):
        for _, raw in mailgen.standard_set():
            instance.deliver(user, raw)
    script = [("DELE 1", STATUS), ("DELE 3", STATUS), ("DELE 7", STATUS),
              ("STAT", EXACT), ("LIST", MULTI)]
    a = run_session(instance.port("pop3"), script, user="carol", password="carolpw",
                    quit=True)
    b = run_session(instance.port("altpop"), script, user="dave", password="davepw",
                    quit=True)
    _check(compare(a, b, ("pop3", "altpop")))
    n = len(mailgen.standard_set()) - 3
    after = [("STAT", EXACT), ("LIST", MULTI)] + \
        [("RETR %d" % i, MULTI) for i in range(1, n + 1)] + \
        [("TOP %d 2" % i, MULTI) for i in range(1, n + 1)]
    a = run_session(instance.port("pop3"), after, user="carol", password="carolpw")
    b = run_session(instance.port("altpop"), after, user="dave", password="davepw")
    _check(compare(a, b, ("pop3", "altpop")))
    assert instance.message_count("carol") == instance.message_count("dave") == n


def too_many_bad_script():
    return [("XYZZY %d" % i, STATUS) for i in range(1, 31)] + [("NOOP", STATUS)]


def test_selfcheck_too_many_bad(instance):
    """Stock Dovecot answers the 22nd bad command in a row with
    "-ERR Too many bad commands." and closes; the session recorder notices."""
    a = run_session(instance.port("pop3"), too_many_bad_script())
    assert a[-1][2] == CLOSED
    assert a[-2][2].startswith(b"-ERR") and len(a) == 23, a[-3:]


@pytest.mark.altpop_only
def test_too_many_bad_commands(instance):
    a = run_session(instance.port("pop3"), too_many_bad_script())
    b = run_session(instance.port("altpop"), too_many_bad_script())
    _check(compare(a, b, ("pop3", "altpop")))
