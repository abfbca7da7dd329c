# SPDX-License-Identifier: LGPL-2.1-only
"""After login: the UPDATE state, RSET, the maildrop lock, the logout log
line, the idle timeout, big messages, RFC 1939 byte-exact RETR/TOP of
awkwardly stored messages, UIDL stability and CAPA.

Tests take proto (stock pop3 and altpop) where both must behave the same;
altpop_only tests cover altpop's own settings and defaults."""

import re
import threading
import time

import pytest

import harness
import mailgen
import popclient
from servercheck import (assert_log_clean, capa_lines, is_closed, login,
                         maildir_contents, read_until_closed, wait_until)

CRLF = b"\r\n"


def deliver_numbered(instance, count, user="alice"):
    msgs = [mailgen.numbered(i) for i in range(1, count + 1)]
    for raw in msgs:
        instance.deliver(user, raw)
    return msgs


def wait_session_end(instance, proto, start=0, count=1, timeout=10):
    """Wait until the post-login process logged count more 'Disconnected'
    lines after offset start (the session is over and unlocked)."""
    rx = re.compile(r"%s\(\w+\)<\d+><[^>]*>: Info: Disconnected" % proto)
    assert wait_until(lambda: len(rx.findall(instance.log_text()[start:])) >= count,
                      timeout), instance.log_tail(20)


# --------------------------------------------------------------------------
# UPDATE state


def test_dele_without_quit_deletes_nothing(endpoint, instance):
    msgs = deliver_numbered(instance, 3)
    before = maildir_contents(instance, "alice")
    start = len(instance.log_text())
    c = login(endpoint.port)
    assert c.cmd("DELE 1").startswith(b"+OK")
    assert c.cmd("DELE 3").startswith(b"+OK")
    assert c.stat()[0] == 1
    c.close()                       # dropped connection, no QUIT
    wait_session_end(instance, endpoint.name, start)
    assert sorted(maildir_contents(instance, "alice")) == sorted(before)
    c = login(endpoint.port)
    assert c.stat()[0] == 3
    for i, raw in enumerate(msgs, 1):
        assert c.retr(i) == mailgen.expected_pop3_bytes(raw)
    c.quit()
    assert_log_clean(instance)


def test_dele_quit_removes_message_files(endpoint, instance):
    msgs = deliver_numbered(instance, 3)
    c = login(endpoint.port)
    assert c.cmd("DELE 2").startswith(b"+OK")
    reply = c.quit()
    assert reply.startswith(b"+OK"), reply
    # The message file itself is gone from the maildir, the others stay.
    left = maildir_contents(instance, "alice")
    assert sorted(left) == sorted([msgs[0], msgs[2]])
    assert instance.message_count("alice") == 2
    c = login(endpoint.port)
    assert c.stat()[0] == 2
    assert c.retr(1) == mailgen.expected_pop3_bytes(msgs[0])
    assert c.retr(2) == mailgen.expected_pop3_bytes(msgs[2])
    c.quit()
    assert_log_clean(instance)


def test_rset_undoes_dele(endpoint, instance):
    msgs = deliver_numbered(instance, 3)
    c = login(endpoint.port)
    c.ok("DELE 1")
    c.ok("DELE 2")
    assert c.stat()[0] == 1
    assert c.cmd("RETR 1").startswith(b"-ERR")
    assert c.cmd("RSET").startswith(b"+OK")
    assert c.stat() == (3, sum(mailgen.expected_pop3_size(m) for m in msgs))
    assert c.retr(1) == mailgen.expected_pop3_bytes(msgs[0])
    assert c.quit().startswith(b"+OK")
    assert instance.message_count("alice") == 3
    assert_log_clean(instance)


def test_dele_twice_refused(endpoint, instance):
    deliver_numbered(instance, 2)
    c = login(endpoint.port)
    c.ok("DELE 1")
    assert c.cmd("DELE 1").startswith(b"-ERR")
    assert c.cmd("LIST 1").startswith(b"-ERR")
    assert c.cmd("TOP 1 0").startswith(b"-ERR")
    assert c.cmd("UIDL 1").startswith(b"-ERR")
    c.quit()
    assert instance.message_count("alice") == 1


# --------------------------------------------------------------------------
# one session per maildrop


def _login_in_thread(port, result):
    def run():
        t0 = time.monotonic()
        try:
            c = popclient.RawPop3(port, timeout=30)
            c.ok("USER alice")
            result["reply"] = c.cmd("PASS alicepw")
            result["client"] = c
        except Exception as e:       # reported by the test
            result["error"] = e
        result["elapsed"] = time.monotonic() - t0
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def _second_login(port):
    """USER/PASS alice on port: the client, the PASS reply and how long
    the login took."""
    t0 = time.monotonic()
    second = popclient.RawPop3(port, timeout=30)
    second.ok("USER alice")
    reply = second.cmd("PASS alicepw")
    return second, reply, time.monotonic() - t0


@pytest.mark.altpop_only
def test_second_session_gets_in_use(instance):
    deliver_numbered(instance, 2)
    port = instance.port("altpop")
    first = login(port)
    assert first.stat()[0] == 2
    second, reply, elapsed = _second_login(port)
    assert reply.startswith(b"-ERR [IN-USE]"), reply
    # By default the answer comes at once (no wait for the lock).
    assert elapsed < 2, elapsed
    assert is_closed(second.sock)
    # The first session was not disturbed.
    assert first.stat()[0] == 2
    assert first.quit().startswith(b"+OK")
    instance.wait_log(r"altpop\(alice\).*Maildrop is in use")
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_lock_session_wait", "15s"))
def test_second_session_gets_lock_when_first_quits(instance):
    """altpop_lock_session_wait: a second session waits for the lock and
    gets it when the first one quits."""
    deliver_numbered(instance, 2)
    port = instance.port("altpop")
    first = login(port)
    first.ok("DELE 1")
    result = {}
    th = _login_in_thread(port, result)
    time.sleep(2)
    assert "reply" not in result, "second login did not wait for the lock"
    assert first.quit().startswith(b"+OK")
    th.join(20)
    assert "error" not in result, result.get("error")
    assert result["reply"].startswith(b"+OK"), result["reply"]
    # It sees the maildrop as the first session left it.
    assert result["client"].stat()[0] == 1
    result["client"].quit()


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_lock_session_wait", "3s"))
def test_lock_session_wait_gives_up_with_in_use(instance):
    """altpop_lock_session_wait = 3s: a second session waits about that
    long, then gets -ERR [IN-USE]; the first is undisturbed."""
    deliver_numbered(instance, 2)
    port = instance.port("altpop")
    first = login(port)
    second, reply, elapsed = _second_login(port)
    assert reply.startswith(b"-ERR [IN-USE]"), reply
    assert 2 <= elapsed <= 10, elapsed
    assert first.stat()[0] == 2
    assert first.quit().startswith(b"+OK")
    instance.wait_log(r"altpop\(alice\).*Maildrop is in use")
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_pop3=harness.setting("pop3_lock_session", "yes"))
def test_lock_shared_with_stock_pop3(instance):
    """An altpop session locks out a stock pop3 session on the same
    maildrop (pop3_lock_session = yes): it is the same lock."""
    deliver_numbered(instance, 1)
    first = login(instance.port("altpop"))
    second = popclient.RawPop3(instance.port("pop3"), timeout=60)
    second.ok("USER alice")
    reply = second.cmd("PASS alicepw")
    assert reply.startswith(b"-ERR [IN-USE]"), reply
    first.quit()
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_lock_session", "no"))
def test_lock_session_no_allows_concurrent_sessions(instance):
    msgs = deliver_numbered(instance, 3)
    port = instance.port("altpop")
    a = login(port)
    t0 = time.monotonic()
    b = login(port)
    assert time.monotonic() - t0 < 5
    assert a.stat()[0] == 3 and b.stat()[0] == 3
    assert a.retr(1) == mailgen.expected_pop3_bytes(msgs[0])
    assert b.retr(3) == mailgen.expected_pop3_bytes(msgs[2])
    b.ok("DELE 3")
    assert b.quit().startswith(b"+OK")
    assert a.quit().startswith(b"+OK")
    assert instance.message_count("alice") == 2
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# the logout log line


def _logout_line(instance, proto, start=0):
    m = instance.wait_log(r"%s\(alice\)<\d+><[^>]*>: Info: Disconnected: Logged out (.*)"
                          % proto, start=start)
    return m.group(1)


def _del_second_is_bytes(proto):
    """The default logout line ends "del=N/M, size=S" everywhere, but M is
    not the same thing everywhere: stock 2.3 pop3 (%d/%m) and altpop on both
    versions log deleted/total messages; stock 2.4 pop3's default
    pop3_logout_format has del=%{deleted_count}/%{deleted_bytes} instead
    (Dovecot changed its own default), so there M is the deleted bytes."""
    return proto == "pop3" and harness.IS_24


def test_logout_log_line(endpoint, instance):
    msgs = deliver_numbered(instance, 3)
    c = login(endpoint.port)
    c.retr(1)
    raw1 = c.last_raw
    c.retr(3)
    raw3 = c.last_raw
    c.top(2, 0)
    rawtop = c.last_raw
    c.ok("DELE 2")
    c.quit()
    stats = _logout_line(instance, endpoint.name)
    m = re.fullmatch(r"top=(\d+)/(\d+), retr=(\d+)/(\d+), del=(\d+)/(\d+), size=(\d+)",
                     stats)
    assert m, stats
    top, top_bytes, retr, retr_bytes, dele, del2, size = map(int, m.groups())
    assert (top, retr, dele) == (1, 2, 1)
    if _del_second_is_bytes(endpoint.name):
        assert del2 == mailgen.expected_pop3_size(msgs[1])
    else:
        assert del2 == 3            # total messages
    assert size == sum(mailgen.expected_pop3_size(raw) for raw in msgs)
    # Both count what stock pop3 counts (the +OK line, not the final
    # "."); test_defects compares altpop's counts with stock's exactly.
    sent = len(raw1) + len(raw3)
    assert sent <= retr_bytes <= sent + 64
    assert len(rawtop) - 3 <= top_bytes <= len(rawtop) + 32
    assert_log_clean(instance)


def test_logout_log_line_without_quit(endpoint, instance):
    """A dropped connection logs its counts too, and del=0 (nothing was
    deleted)."""
    deliver_numbered(instance, 2)
    c = login(endpoint.port)
    c.retr(1)
    c.ok("DELE 1")
    c.close()
    m = instance.wait_log(r"%s\(alice\)<\d+><[^>]*>: Info: Disconnected: .*"
                          r"retr=1/\d+, del=(\d+)/(\d+)" % endpoint.name)
    assert m.group(1) == "0"
    # deleted bytes (stock 2.4) or total messages (see _del_second_is_bytes)
    assert m.group(2) == ("0" if _del_second_is_bytes(endpoint.name) else "2")


# A custom logout format with the variables of the installed version: the
# one-letter keys (as stock pop3_logout_format has them) exist on 2.3 only;
# 2.4 names them (as stock 2.4 pop3 does).
LOGOUT_FORMAT_CUSTOM = (
    "user=%{user} in=%{input} out=%{output} retr=%{retr_count} "
    "dels=%{deleted_count} of %{message_count} freed=%{deleted_bytes}"
    if harness.IS_24 else
    "user=%u in=%i out=%o retr=%r dels=%d of %m freed=%{deleted_bytes}")


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_logout_format",
                                                  LOGOUT_FORMAT_CUSTOM))
def test_logout_format_custom(instance):
    msgs = deliver_numbered(instance, 2)
    c = login(instance.port("altpop"))
    c.retr(2)
    c.ok("DELE 1")
    c.send(b"QUIT\r\n")
    assert c.readline().startswith(b"+OK")
    stats = _logout_line(instance, "altpop")
    m = re.fullmatch(r"user=alice in=(\d+) out=(\d+) retr=1 dels=1 of 2 freed=(\d+)",
                     stats)
    assert m, stats
    assert int(m.group(1)) == len(b"RETR 2\r\nDELE 1\r\nQUIT\r\n")
    assert int(m.group(2)) > mailgen.expected_pop3_size(msgs[1])
    assert int(m.group(3)) == mailgen.expected_pop3_size(msgs[0])


# --------------------------------------------------------------------------
# idle timeout


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_idle_timeout", "10s"))
def test_idle_timeout(instance):
    deliver_numbered(instance, 1)
    c = login(instance.port("altpop"))
    t0 = time.monotonic()
    data, closed = read_until_closed(c.sock, 20)
    elapsed = time.monotonic() - t0
    assert closed, "idle client not disconnected within 20 s"
    assert data == b"-ERR Disconnected for inactivity.\r\n"
    assert 9 <= elapsed <= 15, elapsed
    instance.wait_log(r"altpop\(alice\).*Disconnected: Inactivity")
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_idle_timeout", "10s"))
def test_activity_resets_idle_timeout(instance):
    deliver_numbered(instance, 1)
    c = login(instance.port("altpop"))
    t0 = time.monotonic()
    while time.monotonic() - t0 < 16:
        time.sleep(3)
        assert c.cmd("NOOP").startswith(b"+OK")
    assert c.quit().startswith(b"+OK")


# --------------------------------------------------------------------------
# message content


def test_big_message_retr(endpoint, instance):
    big = mailgen.large(6 * 1024 * 1024)
    small = mailgen.numbered(2)
    instance.deliver("alice", big)
    instance.deliver("alice", small)
    c = login(endpoint.port, timeout=60)
    assert c.list() == {1: mailgen.expected_pop3_size(big),
                        2: mailgen.expected_pop3_size(small)}
    status = c.cmd("RETR 1")
    assert status == b"+OK %d octets" % mailgen.expected_pop3_size(big)
    data, raw = c.read_multiline()
    assert len(data) == len(mailgen.expected_pop3_bytes(big))
    assert data == mailgen.expected_pop3_bytes(big)
    assert raw == mailgen.dot_stuff(mailgen.expected_pop3_bytes(big)) + b".\r\n"
    # The session continues normally after the big transfer.
    assert c.retr(2) == mailgen.expected_pop3_bytes(small)
    c.quit()
    assert_log_clean(instance)


AWKWARD = [
    ("lf_only", mailgen.lf_only),
    ("no_final_newline", mailgen.no_final_newline),
    ("dots", mailgen.dots),
    ("no_final_newline_dot", mailgen.no_final_newline_dot),
    ("crlf", mailgen.crlf),
    ("mixed_endings", mailgen.mixed_endings),
    ("headers_only", mailgen.headers_only),
    ("empty_body", mailgen.empty_body),
]


def test_retr_wire_format(endpoint, instance):
    """RFC 1939: CRLF line ends, dot-stuffing, a CRLF before the final '.'
    even when the stored message lacks a final newline; the octet count in
    +OK and LIST is the CRLF size."""
    msgs = [(name, fn()) for name, fn in AWKWARD]
    for _, raw in msgs:
        instance.deliver("alice", raw)
    c = login(endpoint.port)
    for i, (name, raw) in enumerate(msgs, 1):
        expected = mailgen.expected_pop3_bytes(raw)
        status = c.cmd("RETR %d" % i)
        assert status == b"+OK %d octets" % mailgen.expected_pop3_size(raw), name
        _, wire = c.read_multiline()
        assert wire == mailgen.dot_stuff(expected) + b".\r\n", name
        # No bare LF and no line that would end the response early.
        assert b"\n" not in wire.replace(CRLF, b"")
        assert b"\r\n.\r\n" not in wire[:-3], name
        assert c.list()[i] == mailgen.expected_pop3_size(raw), name
    c.quit()


def test_top_exact(endpoint, instance):
    body = b"".join(b"body line %d\n" % i for i in range(1, 8))
    raw = (b"From: a@example.org\nTo: b@example.org\nSubject: top\n\n"
           + b".dotted first line\n" + body)
    instance.deliver("alice", raw)
    instance.deliver("alice", mailgen.headers_only())
    c = login(endpoint.port)
    status, data = c.multi("TOP 1 0")
    assert status.startswith(b"+OK")
    assert data == (b"From: a@example.org\r\nTo: b@example.org\r\n"
                    b"Subject: top\r\n\r\n")
    status, data = c.multi("TOP 1 3")
    assert status.startswith(b"+OK")
    assert data == (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: top\r\n\r\n"
                    b".dotted first line\r\nbody line 1\r\nbody line 2\r\n")
    assert c.last_raw.endswith(b"\r\n..dotted first line\r\nbody line 1\r\n"
                               b"body line 2\r\n.\r\n")
    # More lines than the body has: the whole message.
    status, data = c.multi("TOP 1 1000")
    assert data == mailgen.expected_pop3_bytes(raw)
    # A message without body: TOP gives the header.
    status, data = c.multi("TOP 2 5")
    assert data == mailgen.expected_top_bytes(mailgen.headers_only(), 5)
    # TOP does not delete or mark anything: RETR still gives all of it.
    assert c.retr(1) == mailgen.expected_pop3_bytes(raw)
    c.quit()
    assert_log_clean(instance)


def test_uidl_stable_across_sessions(endpoint, instance):
    deliver_numbered(instance, 3)
    c = login(endpoint.port)
    first = c.uidl()
    assert len(set(first.values())) == 3
    for n, uid in first.items():
        assert re.fullmatch(r"[\x21-\x7e]{1,70}", uid)
        assert c.cmd("UIDL %d" % n) == b"+OK %d %s" % (n, uid.encode())
    c.quit()
    instance.deliver("alice", mailgen.numbered(4))
    c = login(endpoint.port)
    second = c.uidl()
    assert {n: second[n] for n in (1, 2, 3)} == first
    assert second[4] not in first.values()
    c.ok("DELE 1")
    c.quit()
    c = login(endpoint.port)
    assert list(c.uidl().values()) == [first[2], first[3], second[4]]
    c.quit()


def test_capa_after_login(endpoint, instance):
    c = login(endpoint.port)
    caps = capa_lines(c)
    names = {line.split()[0] for line in caps}
    for cap in (b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING"):
        assert cap in names, caps
    # TLS is over: no STLS.  Stock pop3 drops USER and SASL too; altpop
    # keeps announcing them as before login (RFC 2449 section 5: the
    # capabilities of the AUTHORIZATION state), test_defects checks that.
    assert b"STLS" not in names, caps
    for cap in (b"USER", b"SASL"):
        if endpoint.name == "altpop":
            assert cap in names, caps
        else:
            assert cap not in names, caps
    # Login commands are refused now.
    assert c.cmd("USER bob").startswith(b"-ERR")
    assert c.cmd("STLS").startswith(b"-ERR")
    assert c.stat()[0] == 0
    c.quit()
