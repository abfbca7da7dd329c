# SPDX-License-Identifier: LGPL-2.1-only
"""Defects of issue 10, each with the test that showed it:

2. QUIT must not claim deletions that did not happen (RFC 1939 section 6).
3. CAPA after login still announces USER and SASL (RFC 2449 section 5).
4. The logout line's byte counts are stock pop3's.
8. altpop_idle_timeout has an upper bound (its milliseconds wrapped).
9. The kpop listener is not there until an admin configures it.
"""

import os
import re
import subprocess

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines, login, wait_until

CRLF = b"\r\n"


def disconnected_line(instance, proto, start=0, timeout=10):
    """The post-login process's 'Disconnected' line logged after start."""
    rx = re.compile(r"%s\(\w+\)<\d+><[^>]*>: Info: Disconnected: .*"
                    % ("pop3" if proto == "pop3" else "altpop"))
    found = []

    def seen():
        found[:] = rx.findall(instance.log_text()[start:])
        return bool(found)
    assert wait_until(seen, timeout), instance.log_tail(20)
    return found[0]


# --------------------------------------------------------------------------
# 2. QUIT when the expunge fails


def _make_undeletable(maildir):
    """Make every message file of maildir impossible to remove for the mail
    process (user vmail): its directories read-only.  Returns an undo."""
    dirs = [maildir / d for d in ("cur", "new")]
    modes = [(d, d.stat().st_mode) for d in dirs]
    for d in dirs:
        os.chmod(d, 0o500)
    return lambda: [os.chmod(d, m) for d, m in modes]


@pytest.mark.altpop_only
def test_quit_reports_failed_deletions(instance):
    msgs = [mailgen.numbered(i) for i in range(1, 4)]
    for raw in msgs:
        # in cur/ with the flags they will have: nothing left to rename
        instance.deliver("alice", raw, flags="S")
    port = instance.port("altpop")
    c = login(port)
    assert c.stat()[0] == 3
    before = sorted(p.name for p in instance.messages("alice"))
    undo = _make_undeletable(instance.maildir("alice"))
    try:
        start = len(instance.log_text())
        for n in (1, 2, 3):
            assert c.cmd("DELE %d" % n).startswith(b"+OK")
        reply = c.quit()
    finally:
        undo()
    assert reply.startswith(b"-ERR [SYS/"), reply
    assert b"not removed" in reply, reply
    assert sorted(p.name for p in instance.messages("alice")) == before
    line = disconnected_line(instance, "altpop", start)
    # the logout line does not count deletions that did not happen
    assert "del=0/3" in line, line
    # the admin learns what failed
    log = instance.log_text()[start:]
    assert re.search(r"altpop\(alice\).*(Error|Warning):.*not removed", log), log
    # and the messages are all still there for the next session
    c = login(port)
    assert c.stat()[0] == 3
    c.quit()


# --------------------------------------------------------------------------
# 3. CAPA in both states


@pytest.mark.altpop_only
def test_capa_after_login_keeps_authorization_capabilities(instance):
    port = instance.port("altpop")
    c = popclient.RawPop3(port)
    before = capa_lines(c)
    c.login("alice", "alicepw")
    after = capa_lines(c)
    c.quit()
    auth_caps = [l for l in before
                 if l == b"USER" or l.startswith(b"SASL")]
    assert b"USER" in auth_caps, before
    assert any(l.startswith(b"SASL ") for l in auth_caps), before
    for cap in auth_caps:
        assert cap in after, (cap, before, after)
    # STLS is for the AUTHORIZATION state only
    assert b"STLS" not in after


# --------------------------------------------------------------------------
# 4. logout byte counts


def test_logout_bytes_match_stock(instance):
    raw = mailgen.numbered(1) + b"".join(
        b"line %d of a longer body\n" % i for i in range(300))
    instance.deliver("alice", raw)
    # no line end after the last line: both servers add CRLF before "."
    instance.deliver("alice", b"Subject: no final line end\n\n.dot\nlast")
    lines = {}
    for proto in ("pop3", "altpop"):
        start = len(instance.log_text())
        c = login(instance.port(proto))
        c.retr(1)
        c.top(1, 5)
        c.top(1, 0)
        c.retr(2)
        c.top(2, 1)
        c.quit()
        line = disconnected_line(instance, proto, start)
        lines[proto] = re.search(r"top=\S+ retr=\S+", line.replace(",", "")).group(0)
    assert lines["altpop"] == lines["pop3"], lines


# --------------------------------------------------------------------------
# 8. altpop_idle_timeout bounds


@pytest.mark.altpop_only
@pytest.mark.parametrize("value", ["50 days", "4294968 secs"])
def test_idle_timeout_too_large_is_config_error(make_instance, value):
    with pytest.raises(harness.HarnessError) as exc:
        make_instance(extra_altpop=harness.setting("altpop_idle_timeout", value))
    assert "altpop_idle_timeout" in str(exc.value)


@pytest.mark.altpop_only
def test_idle_timeout_of_a_day_accepted(make_instance):
    inst = make_instance(extra_altpop=harness.setting("altpop_idle_timeout",
                                                      "1 day"))
    c = login(inst.port("altpop"))
    c.quit()


# --------------------------------------------------------------------------
# 9. no kpop listener unless configured


@pytest.mark.altpop_only
def test_no_default_kpop_listener(altpop_stage):
    inst = harness.DovecotInstance(["pop3", "altpop"], stage=altpop_stage)
    inst.setup()
    try:
        path = inst.tmp / "minimal.conf"
        path.write_text(harness.config_header() + harness.settings([
            ("protocols", "altpop"),
            ("base_dir", "%s/run" % inst.tmp),
            ("state_dir", "%s/state" % inst.tmp),
            ("ssl_cert", "<%s/ssl/cert.pem" % inst.tmp),
            ("ssl_key", "<%s/ssl/key.pem" % inst.tmp),
        ]))
        args = ["-a", "service"] if harness.IS_24 else ["-a"]
        res = subprocess.run(inst.ns_command([harness.DOVECONF, "-c", str(path)]
                                             + args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=30)
        out = res.stdout.decode("utf-8", "replace")
        assert res.returncode == 0, res.stderr
        m = re.search(r"^service altpop-login \{\n(.*?)^\}", out, re.M | re.S)
        assert m, out[-2000:]
        listeners = re.findall(r"inet_listener (\S+) \{", m.group(1))
        assert sorted(listeners) == ["pop3", "pop3s"], m.group(1)
    finally:
        inst.cleanup()
