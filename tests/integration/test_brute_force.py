# SPDX-License-Identifier: LGPL-2.1-only
"""Password guessing against altpop-login and Dovecot's pop3-login side by
side, in one instance: every failed login kind (USER/PASS, AUTH PLAIN,
APOP, SDPS names; KPOP with a forged ticket on altpop-kpop-login) gets
its failure reply after the same delay (auth_failure_delay, 2 s), the
auth penalty grows the same way for attempts from one source address,
and the login process's failure lines are the same and are matched by
altpop's fail2ban filter (contrib/fail2ban/altpop.conf, on 2.3 and 2.4)
and, on Dovecot 2.3, by Debian's own `dovecot` filter (run with
fail2ban-regex from the
fail2ban package of the release the test runs on, unpacked, never
installed: no fail2ban daemon starts on the machine).

Dovecot's auth penalty is kept per source address inside the auth
process, shared by both login services: each protocol's attempts come
from an address of their own, and the two protocols run at the same
time (threads), so that both see the same machine load."""

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import harness
import oldservers
import popclient
import test_kpop
from test_kpop import kinst, kpop_stage, realm  # noqa: F401 (fixtures)
import test_login
import test_sdps

pytestmark = pytest.mark.altpop_only

PROTOS = ("pop3", "altpop")
METHODS = ("userpass", "plain", "apop", "sdps")
SDPS_NAME = "fred@" + test_sdps.HOST
# auth_failure_delay is 2 s; Dovecot's auth process sends the delayed
# failures from a timer, so the first one takes 1.5 to 2.5 s
MIN_DELAY = 1.4
# how far the two protocols' reply times for the same step may differ
SAME_WITHIN = 0.75
FILTER = "etc/fail2ban/filter.d/dovecot.conf"
# Debian 13's fail2ban dovecot filter matches none of Dovecot 2.4's
# failure lines ("Login aborted: ... (auth_failed): ..."), not even
# pop3-login's: altpop ships a filter that does (it includes dovecot.conf)
ALTPOP_FILTER = Path(__file__).resolve().parents[2] / "contrib/fail2ban/altpop.conf"


@pytest.fixture(scope="module")
def inst(stage):
    with harness.DovecotInstance(
            ["pop3", "altpop"], stage=stage, name="brute",
            users={test_sdps.HOST: test_sdps.HOST_PW},
            # guessers do not bother with TLS: a client from 127.0.x.y is
            # not "secured", allow plaintext there all the same
            extra=harness.setting("disable_plaintext_auth", "no"),
            # SDPS names on altpop's pop3s (APOP is not offered where
            # SDPS names are parsed)
            extra_altpop=harness.setting("altpop_sdps_listeners",
                                         "pop3s")) as i:
        yield i


@pytest.fixture(scope="module")
def fail2ban():
    """The unpacked fail2ban package (fail2ban-regex and its filters)."""
    reason = oldservers.unavailable("fail2ban")
    if reason:
        test_kpop._unavailable("fail2ban: %s" % reason)
    return oldservers.unpacked("fail2ban")


def fail2ban_ips(root, lines, workdir, filter_path=None):
    """The source addresses a fail2ban filter (Debian's dovecot filter by
    default) finds in lines, one per matched line."""
    log = os.path.join(workdir, "f2b-%d.log" % len(lines))
    with open(log, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root / "usr/lib/python3/dist-packages")
    res = subprocess.run(["python3", str(root / "usr/bin/fail2ban-regex"),
                          "-o", "ip", log, str(filter_path or root / FILTER)],
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120)
    assert res.returncode == 0, res.stderr.decode()[-3000:]
    return re.findall(r"^(\d+\.\d+\.\d+\.\d+)$", res.stdout.decode(), re.M)


def altpop_filter_ips(root, lines, workdir):
    """The addresses altpop's own filter (contrib/fail2ban/altpop.conf,
    installed beside the release's dovecot.conf, which it includes)
    finds in lines."""
    filter_d = os.path.join(workdir, "filter.d")
    if not os.path.isdir(filter_d):
        shutil.copytree(root / "etc/fail2ban/filter.d", filter_d)
        shutil.copy(ALTPOP_FILTER, filter_d)
    return fail2ban_ips(root, lines, workdir,
                        os.path.join(filter_d, "altpop.conf"))


def attempt(inst, proto, method, source, n, tls=False):
    """One failing login of kind method from source on a new connection
    (on pop3s with tls), the n-th guess (Dovecot does not count a wrong
    password tried again twice). Returns (the failure reply, seconds
    until it came)."""
    tls = tls or method == "sdps"
    port = inst.port(proto, "pop3s" if tls else "pop3")
    c = popclient.RawPop3(port, tls=tls, source=source, timeout=60)
    try:
        guess = "guess%d" % n
        if method in ("userpass", "sdps"):
            c.ok("USER " + ("alice" if method == "userpass" else SDPS_NAME))
            line = "PASS " + guess
        elif method == "plain":
            line = b"AUTH PLAIN " + test_login.plain_token("alice", guess)
        else:
            ts = test_login.banner_timestamp(c.greeting)
            assert ts is not None, c.greeting
            line = "APOP alice " + test_login.apop_digest(ts, guess)
        started = time.monotonic()
        reply = c.cmd(line)
        took = time.monotonic() - started
        c.cmd("QUIT")
        return reply, took
    finally:
        c.close()


def side_by_side(fn, protos=PROTOS):
    """fn(proto) for the protocols at the same time: {proto: result}."""
    out, errors = {}, []

    def run(proto):
        try:
            out[proto] = fn(proto)
        except BaseException as e:       # re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in protos]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return out


def assert_same_times(a, b):
    """Two series of reply times, step by step."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert abs(x - y) <= SAME_WITHIN, (a, b)


def assert_penalty_grows(times):
    """Each guess from the same address waits longer than the one before
    (the penalty: 2 s doubling per failure, at most 15 s, on top of the
    failure delay)."""
    assert times[0] >= MIN_DELAY, times
    for before, after in zip(times, times[1:]):
        assert after >= before + 2.5, times


def login_lines(inst, service, ips, timeout=20.0):
    """The login process's failure line of each address in ips, in order
    (each address made one failing connection)."""
    lines = []
    for ip in ips:
        m = inst.wait_log(r"(?m)^.* %s: Info: .*\(auth failed, .*rip=%s,.*$"
                          % (re.escape(service), re.escape(ip)),
                          timeout=timeout)
        lines.append(m.group(0))
    return lines


def normalized(line):
    """A failure line without what differs by nature: time stamp, service
    name, address, session id, seconds."""
    line = re.sub(r"^.*? (?:altpop|pop3)-login: ", "", line)
    line = re.sub(r"rip=[\d.]+", "rip=IP", line)
    line = re.sub(r"session=<[^>]*>", "session=<S>", line)
    return re.sub(r"in \d+ secs", "in N secs", line)


@pytest.mark.parametrize("method", METHODS)
def test_failure_delay(inst, method):
    """The first failure from an address: both answer -ERR [AUTH] after
    auth_failure_delay."""
    ips = {p: harness.next_source_ip() for p in PROTOS}
    got = side_by_side(lambda p: attempt(inst, p, method, ips[p], 1))
    for proto, (reply, took) in got.items():
        assert reply.startswith(b"-ERR [AUTH]"), (proto, reply)
        assert took >= MIN_DELAY, (proto, took)
    assert got["pop3"][0] == got["altpop"][0]
    assert_same_times([got["pop3"][1]], [got["altpop"][1]])


def test_penalty_grows_alike_across_login_kinds(inst):
    """Guesses from one address, a new connection each, one login kind
    after the other: the penalty is the address's, whatever the kind, and
    grows the same way for both."""
    ips = {p: harness.next_source_ip() for p in PROTOS}

    def series(proto):
        return [attempt(inst, proto, method, ips[proto], n)
                for n, method in enumerate(METHODS, 1)]

    got = side_by_side(series)
    times = {}
    for proto, results in got.items():
        for method, (reply, _) in zip(METHODS, results):
            assert reply.startswith(b"-ERR [AUTH]"), (proto, method, reply)
        times[proto] = [took for _, took in results]
        assert_penalty_grows(times[proto])
    assert_same_times(times["pop3"], times["altpop"])


def test_guesses_on_one_connection(inst):
    """A guesser that stays connected: the same replies, the same delays,
    the connection ends the same way, and one failure line counting the
    attempts."""
    ips = {p: harness.next_source_ip() for p in PROTOS}

    def session(proto):
        c = popclient.RawPop3(inst.port(proto, "pop3"), source=ips[proto],
                              timeout=60)
        replies, times = [], []
        try:
            for n in range(1, 4):
                c.ok("USER alice")
                started = time.monotonic()
                replies.append(c.cmd("PASS guess%d" % n))
                times.append(time.monotonic() - started)
            replies.append(c.cmd("QUIT"))
        finally:
            c.close()
        return replies, times

    got = side_by_side(session)
    assert got["pop3"][0] == got["altpop"][0]
    assert got["altpop"][0][:3] == [b"-ERR [AUTH] Authentication failed."] * 3
    assert_penalty_grows(got["altpop"][1])
    assert_same_times(got["pop3"][1], got["altpop"][1])
    lines = {p: login_lines(inst, p + "-login", [ips[p]]) for p in PROTOS}
    assert "auth failed, 3 attempts" in lines["altpop"][0]
    assert normalized(lines["pop3"][0]) == normalized(lines["altpop"][0])


def test_fail2ban_filter_matches_altpop(inst, fail2ban, workdir):
    """One failed login of each kind per protocol, each from its own
    address: the login processes log the same failure lines, and Debian's
    dovecot filter finds every address in altpop-login's lines as it does
    in pop3-login's (the lines of the auth process, logged only with
    auth_verbose, are left out)."""
    ips = {(p, m): harness.next_source_ip() for p in PROTOS for m in METHODS}

    side_by_side(lambda p: side_by_side(
        lambda m: attempt(inst, p, m, ips[p, m], 1), METHODS))
    lines = {p: login_lines(inst, p + "-login", [ips[p, m] for m in METHODS])
             for p in PROTOS}
    for method, stock, ours in zip(METHODS, lines["pop3"], lines["altpop"]):
        if method == "sdps":
            # altpop logs the account an SDPS name logs in as
            assert "user=<%s>" % test_sdps.HOST in ours
            ours = ours.replace("user=<%s>" % test_sdps.HOST,
                                "user=<%s>" % SDPS_NAME)
        assert normalized(stock) == normalized(ours), method
    for proto in PROTOS:
        want = [ips[proto, m] for m in METHODS]
        # altpop's filter on every Dovecot
        assert altpop_filter_ips(fail2ban, lines[proto], workdir) == want, \
            (proto, lines)
        # Debian's own dovecot filter where it knows the lines (2.3)
        if not harness.IS_24:
            assert fail2ban_ips(fail2ban, lines[proto], workdir) == want, \
                (proto, lines)


def forged_ticket(port, source):
    """A KPOP client with a forged AP-REQ: seconds from sending it until
    the verdict (the KRB-ERROR) arrives, and the verdict's first bytes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((source, 0))
        s.settimeout(60)
        s.connect(("127.0.0.1", port))
        s.sendall(test_kpop.OPENING)
        assert s.recv(1) == b"\0"          # versions accepted
        junk = b"\x6e\x82\x01\x00" + os.urandom(256)
        started = time.monotonic()
        s.sendall(test_kpop.frame(junk))
        verdict = b""
        while len(verdict) < 5:
            got = s.recv(4096)
            if not got:
                break
            verdict += got
        return time.monotonic() - started, verdict
    finally:
        s.close()


def test_kpop_forged_tickets(kinst, fail2ban, workdir):
    """Forged KPOP tickets from one address against altpop-kpop-login,
    beside USER/PASS guesses against pop3-login: the verdict (a KRB-ERROR,
    which a client cannot tell from success before it comes) waits for
    the same failure delay and penalty, and the failure lines are found
    by the dovecot filter."""
    ips = {p: harness.next_source_ip() for p in PROTOS}
    port = test_kpop.kport(kinst)

    def series(proto):
        if proto == "altpop":
            return [forged_ticket(port, ips[proto]) for _ in range(3)]
        return [attempt(kinst, proto, "userpass", ips[proto], n, tls=True)
                for n in range(1, 4)]

    got = side_by_side(series)
    for took, verdict in got["altpop"]:
        # a length and a KRB-ERROR ([APPLICATION 30])
        assert verdict[4:5] == b"\x7e", verdict
    times = {"altpop": [took for took, _ in got["altpop"]],
             "pop3": [took for _, took in got["pop3"]]}
    assert_penalty_grows(times["altpop"])
    assert_same_times(times["pop3"], times["altpop"])
    lines, start = [], 0
    for _ in range(3):
        m = kinst.wait_log(r"(?m)^.* altpop-kpop-login: Info: .*KPOP: ticket "
                           r"rejected: .*\(auth failed, .*rip=%s,.*$"
                           % re.escape(ips["altpop"]), timeout=20, start=start)
        lines.append(m.group(0))
        start = m.end()
    assert altpop_filter_ips(fail2ban, lines, workdir) == [ips["altpop"]] * 3
    if not harness.IS_24:
        assert fail2ban_ips(fail2ban, lines, workdir) == [ips["altpop"]] * 3
