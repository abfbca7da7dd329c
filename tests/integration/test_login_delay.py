# SPDX-License-Identifier: LGPL-2.1-only
"""RFC 2449 LOGIN-DELAY (altpop_login_delay, per user through userdb):
the refusal, CAPA before and after login (with the USER variant), the
last login surviving a Dovecot restart, racing logins, and what mpop and
fetchmail make of the refusal."""

import re
import threading
import time

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines, is_closed, wait_until
from test_fetchmail import run_fetchmail
from test_mpop import run_mpop

pytestmark = pytest.mark.altpop_only

LAST_LOGIN_FILE = "dovecot-altpop-last-login"
REFUSED_LOG = re.compile(r"altpop\((\w+)\)<\d+><[^>]*>: Info: Disconnected: "
                         r"Login refused by LOGIN-DELAY (\d+)")


def delay_instance(make_instance, delay, per_user=None, fields=None, users=None):
    # global scope: on Dovecot 2.4 a value inside protocol altpop { }
    # would win over the userdb field (README)
    extra = harness.setting("altpop_login_delay", delay)
    if per_user is not None:
        extra += harness.setting("altpop_limits_per_user", per_user)
    return make_instance(protocols=["altpop"], extra=extra,
                         users=users, passdb_fields=fields)


def try_login(port, user="alice", password="alicepw"):
    """USER/PASS; returns (client, PASS reply)."""
    c = popclient.RawPop3(port)
    assert c.greeting.startswith(b"+OK"), c.greeting
    assert c.cmd("USER %s" % user).startswith(b"+OK")
    return c, c.cmd("PASS %s" % password)


def login_and_quit(port, user="alice", password="alicepw"):
    """A login that must work; returns the CAPA lines after it."""
    c, reply = try_login(port, user, password)
    assert reply.startswith(b"+OK"), reply
    capa = capa_lines(c)
    c.quit()
    return capa


def refused_count(inst):
    return len(REFUSED_LOG.findall(inst.log_text()))


def test_second_login_within_delay_is_refused(make_instance):
    inst = delay_instance(make_instance, 60)
    inst.deliver("alice", mailgen.numbered(1))
    port = inst.port("altpop")
    with popclient.RawPop3(port) as c:
        assert "LOGIN-DELAY 60" in [l.decode() for l in capa_lines(c)]
    c, reply = try_login(port)
    assert reply.startswith(b"+OK"), reply
    assert "LOGIN-DELAY 60" in [l.decode() for l in capa_lines(c)]
    assert c.stat()[0] == 1
    c.quit()
    assert (inst.maildir("alice") / LAST_LOGIN_FILE).exists()

    c, reply = try_login(port)
    assert reply.startswith(b"-ERR [LOGIN-DELAY] "), reply
    assert is_closed(c.sock), "the refused session stays open"
    c.close()
    assert wait_until(lambda: refused_count(inst) == 1, 5), inst.log_tail(20)
    log = inst.log_text()
    # neither an authentication failure nor a session
    assert "auth failed" not in log and "Authentication failure" not in log
    assert len(re.findall(r"Disconnected: Logged out", log)) == 1
    # other users are not held up
    login_and_quit(port, "bob", "bobpw")


def test_refused_login_does_not_restart_the_delay(make_instance):
    inst = delay_instance(make_instance, 3)
    port = inst.port("altpop")
    login_and_quit(port)
    first = time.monotonic()
    time.sleep(1)
    c, reply = try_login(port)
    assert reply.startswith(b"-ERR [LOGIN-DELAY] "), reply
    c.close()
    time.sleep(max(0, first + 3.2 - time.monotonic()))
    c, reply = try_login(port)
    assert reply.startswith(b"+OK"), reply
    c.quit()


def test_off_by_default_writes_nothing(make_instance):
    inst = make_instance(protocols=["altpop"])
    port = inst.port("altpop")
    with popclient.RawPop3(port) as c:
        assert not [l for l in capa_lines(c) if l.startswith(b"LOGIN-DELAY")]
    for _ in range(2):
        capa = login_and_quit(port)
        assert not [l for l in capa if l.startswith(b"LOGIN-DELAY")]
    assert not (inst.maildir("alice") / LAST_LOGIN_FILE).exists()


def test_per_user_delay_and_capa_user_variant(make_instance):
    inst = delay_instance(
        make_instance, 0, per_user="yes", users={"carol": "carolpw"},
        fields={"carol": "userdb_altpop_login_delay=45"})
    port = inst.port("altpop")
    with popclient.RawPop3(port) as c:
        assert "LOGIN-DELAY 0 USER" in [l.decode() for l in capa_lines(c)]
    c, reply = try_login(port, "carol", "carolpw")
    assert reply.startswith(b"+OK"), reply
    # after login: the user's own value, without USER (RFC 2449 6.5)
    assert "LOGIN-DELAY 45" in [l.decode() for l in capa_lines(c)]
    c.quit()
    c, reply = try_login(port, "carol", "carolpw")
    assert reply.startswith(b"-ERR [LOGIN-DELAY] "), reply
    assert b"45" in reply
    c.close()
    # alice has no delay
    for _ in range(2):
        capa = login_and_quit(port)
        assert not [l for l in capa if l.startswith(b"LOGIN-DELAY")]


def test_last_login_survives_restart(make_instance):
    inst = delay_instance(make_instance, 120)
    port = inst.port("altpop")
    login_and_quit(port)
    inst.stop()
    inst.start()
    c, reply = try_login(inst.port("altpop"))
    assert reply.startswith(b"-ERR [LOGIN-DELAY] "), reply
    c.close()


def test_racing_logins_only_one_gets_in(make_instance):
    """Logins at the same moment (as from two front servers sharing the
    maildrop): the last-login file's lock lets exactly one in."""
    inst = delay_instance(make_instance, 60)
    port = inst.port("altpop")
    clients = []
    for _ in range(4):
        c = popclient.RawPop3(port)
        assert c.cmd("USER alice").startswith(b"+OK")
        clients.append(c)
    replies = [None] * len(clients)

    def run(i):
        replies[i] = clients[i].cmd("PASS alicepw")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ok = [r for r in replies if r is not None and r.startswith(b"+OK")]
    refused = [r for r in replies if r is not None and r.startswith(b"-ERR [LOGIN-DELAY]")]
    assert len(ok) == 1 and len(refused) == len(clients) - 1, replies
    for c in clients:
        c.close()


def _fetch_twice(make_instance, workdir, run):
    inst = delay_instance(make_instance, 60)
    inst.deliver("alice", mailgen.numbered(1))
    port = inst.port("altpop")
    res, _ = run(workdir, port, keep=True)
    assert res.returncode == 0, res.text[-3000:]
    start = time.monotonic()
    res, _ = run(workdir, port, keep=True)
    assert "LOGIN-DELAY" in res.text, res.text[-3000:]
    # the refusal ends the run at once, not a timeout
    assert time.monotonic() - start < 20
    return res


def test_mpop_gets_the_refusal(make_instance, workdir):
    res = _fetch_twice(make_instance, workdir, run_mpop)
    assert res.returncode != 0, res.text[-3000:]


def test_fetchmail_gets_the_refusal(make_instance, workdir):
    res = _fetch_twice(make_instance, workdir, run_fetchmail)
    # neither "mail delivered" (0) nor "no new mail" (1)
    assert res.returncode not in (0, 1), res.text[-3000:]
