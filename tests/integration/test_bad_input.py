# SPDX-License-Identifier: LGPL-2.1-only
"""Bad input, before and after login, against stock pop3 and altpop.

Each test checks that the client gets a clean -ERR and/or a disconnect
(never a hang), that the server keeps serving afterwards (a fresh session
logs in and retrieves every message intact, so nothing was lost) and that
no Dovecot or altpop process crashed (no Panic/Fatal/signal lines)."""

import random
import socket
import ssl
import time

import pytest

import harness
import mailgen
import popclient
from servercheck import (Drain, assert_log_clean, assert_still_serving,
                         is_closed, login, mail_process_name, mail_process_rss,
                         proxy_client, read_until_closed)

CRLF = b"\r\n"

# Found by these tests: Debian's Dovecot 2.3.19.1 pop3 (post-login) aborts
# on a command name containing ':' ("Panic: event_reason_code_prefix():
# name has ':'"); the client is disconnected and the process killed with
# signal 6.  altpop answers -ERR.
STOCK_COLON_PANIC = ("stock Dovecot 2.3.19.1 pop3 panics on a command name "
                     "containing ':' (event_reason_code_prefix)")


def xfail_stock_colon_panic(request, proto):
    # Stock 2.4.1 pop3 answers -ERR: there the test must pass for both.
    if proto == "pop3" and not harness.IS_24:
        request.applymarker(pytest.mark.xfail(reason=STOCK_COLON_PANIC,
                                              strict=False))


@pytest.fixture
def msgs(instance):
    """Three small messages and a 1 MB one for alice."""
    out = [mailgen.numbered(1), mailgen.dots(), mailgen.lf_only(),
           mailgen.large(1024 * 1024)]
    for raw in out:
        instance.deliver("alice", raw)
    return out


def reply_lines(data):
    return [line for line in data.split(CRLF) if line]


def assert_fine(endpoint, instance, msgs):
    assert_still_serving(endpoint.port, msgs)
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# overlong lines


def test_overlong_line_before_login(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    try:
        c.send(b"USER " + b"a" * 8000 + b"\r\nCAPA\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_until_closed(c.sock, 10)
    assert closed, "no disconnect after an overlong line (got %r)" % data[:200]
    lines = reply_lines(data)
    assert lines, "disconnected without a reply"
    assert all(line.startswith(b"-ERR") for line in lines), lines
    assert_fine(endpoint, instance, msgs)


def test_overlong_line_after_login(endpoint, instance, msgs):
    c = login(endpoint.port)
    try:
        c.send(b"RETR 1" + b" " * 8000 + b"\r\nDELE 1\r\nQUIT\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_until_closed(c.sock, 10)
    assert closed, "no disconnect after an overlong line (got %r)" % data[:200]
    assert data.startswith(b"-ERR"), data[:200]
    assert b"+OK" not in data
    # DELE/QUIT behind the overlong line were not executed.
    assert_fine(endpoint, instance, msgs)


def test_long_but_acceptable_line(endpoint, instance, msgs):
    """A line a little over RFC 1939's 255 octets is just a bad argument."""
    c = login(endpoint.port)
    reply = c.cmd(b"LIST " + b"9" * 400)
    assert reply.startswith(b"-ERR"), reply
    assert c.cmd("NOOP").startswith(b"+OK")
    c.quit()
    assert_fine(endpoint, instance, msgs)


# --------------------------------------------------------------------------
# NUL, bare CR, bare LF, empty lines


def test_nul_bytes(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd(b"CA\0PA").startswith(b"-ERR")
    c.login("alice", "alicepw")
    assert c.cmd(b"NO\0OP").startswith(b"-ERR")
    assert c.cmd(b"\0").startswith(b"-ERR")
    assert c.cmd(b"NOOP").startswith(b"+OK")
    c.quit()
    assert_fine(endpoint, instance, msgs)


@pytest.mark.altpop_only
def test_nul_in_arguments_refused(instance, msgs):
    """altpop refuses a line with NUL anywhere instead of acting on the part
    before it (stock Dovecot cuts the line at the NUL)."""
    port = instance.port("altpop")
    c = popclient.RawPop3(port)
    assert c.cmd(b"USER alice\0bob").startswith(b"-ERR")
    c.login("alice", "alicepw")
    reply = c.cmd(b"RETR 1\0junk")
    assert reply.startswith(b"-ERR"), reply
    assert c.cmd(b"DELE 1\0").startswith(b"-ERR")
    c.quit()
    assert_still_serving(port, msgs)
    assert_log_clean(instance)


def test_bare_cr(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd(b"CAPA\rQUIT").startswith(b"-ERR")
    c.login("alice", "alicepw")
    assert c.cmd(b"NOOP\rDELE 1").startswith(b"-ERR")
    assert c.cmd(b"\r").startswith(b"-ERR")
    assert c.stat()[0] == len(msgs)
    c.quit()
    assert_fine(endpoint, instance, msgs)


@pytest.mark.altpop_only
def test_bare_cr_not_echoed(instance, msgs):
    """altpop never echoes a bare CR back to the client."""
    c = login(instance.port("altpop"))
    c.send(b"NO\rOP\r\nRETR 1\rX\r\nNOOP\r\n")
    data, _ = read_until_closed(c.sock, 1)
    lines = data.split(CRLF)
    assert lines[0].startswith(b"-ERR") and lines[1].startswith(b"-ERR"), data
    assert lines[2] == b"+OK"
    assert b"\r" not in data.replace(CRLF, b"")


def test_bare_lf_line_ends(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    c.send(b"CAPA\nUSER alice\nPASS alicepw\nSTAT\nRETR 1\nLIST 2\n")
    assert c.readline().startswith(b"+OK")            # CAPA
    c.read_multiline()
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK %d " % len(msgs))
    assert c.readline().startswith(b"+OK")
    data, _ = c.read_multiline()
    assert data == mailgen.expected_pop3_bytes(msgs[0])
    assert c.readline() == b"+OK 2 %d" % mailgen.expected_pop3_size(msgs[1])
    c.send(b"QUIT\n")
    assert c.readline().startswith(b"+OK")
    assert_fine(endpoint, instance, msgs)


def test_empty_lines(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd(b"").startswith(b"-ERR")
    assert c.cmd(b"").startswith(b"-ERR")
    capa = c.multi("CAPA")
    assert capa[0].startswith(b"+OK")
    c.login("alice", "alicepw")
    for _ in range(5):
        assert c.cmd(b"").startswith(b"-ERR")
        assert c.cmd(b"   ").startswith(b"-ERR")
        assert c.cmd(b"NOOP").startswith(b"+OK")
    c.quit()
    assert_fine(endpoint, instance, msgs)


# --------------------------------------------------------------------------
# floods


def _expected_list(msgs):
    sizes = [mailgen.expected_pop3_size(raw) for raw in msgs]
    return (b"+OK", b"".join(b"%d %d\r\n" % (i, s) for i, s in enumerate(sizes, 1))
            + b".\r\n", sum(sizes))


def test_pipelined_flood(endpoint, instance, msgs):
    c = login(endpoint.port, timeout=60)
    rounds = 3000
    c.send(b"NOOP\r\nSTAT\r\nLIST\r\n" * rounds + b"QUIT\r\n")
    _, list_body, total = _expected_list(msgs)
    stat = b"+OK %d %d\r\n" % (len(msgs), total)
    drain = Drain(c.sock)
    drain.join(60)
    assert drain.closed, "server did not finish the flood within 60 s"
    data = bytes(drain.data)
    pos = 0
    for i in range(rounds):
        assert data.startswith(b"+OK", pos) and data.index(CRLF, pos) > pos, i
        pos = data.index(CRLF, pos) + 2                  # NOOP
        assert data.startswith(stat, pos), (i, data[pos:pos + 80])
        pos += len(stat)
        assert data.startswith(b"+OK", pos), (i, data[pos:pos + 80])
        pos = data.index(CRLF, pos) + 2                  # LIST status
        assert data.startswith(list_body, pos), (i, data[pos:pos + 80])
        pos += len(list_body)
    assert data[pos:].startswith(b"+OK"), data[pos:pos + 80]   # QUIT
    assert data.index(CRLF, pos) + 2 == len(data)
    assert_fine(endpoint, instance, msgs)


def test_pipelined_flood_long_listings(endpoint, instance):
    """Pipelined LIST/UIDL whose replies are much bigger than the server's
    output buffer: every reply complete and in order."""
    many = [b"Subject: m%d\n\nbody %d\n" % (i, i) for i in range(3000)]
    for raw in many:
        instance.deliver("alice", raw)
    c = login(endpoint.port, timeout=60)
    uidl = c.uidl()
    expected_list = b"".join(b"%d %d\r\n" % (i, mailgen.expected_pop3_size(raw))
                             for i, raw in enumerate(many, 1)) + b".\r\n"
    expected_uidl = b"".join(b"%d %s\r\n" % (i, uidl[i].encode())
                             for i in range(1, len(many) + 1)) + b".\r\n"
    rounds = 40
    drain = Drain(c.sock)
    c.send(b"LIST\r\nUIDL\r\nSTAT\r\n" * rounds + b"QUIT\r\n")
    drain.join(120)
    assert drain.closed, "flood not finished within 120 s"
    data = bytes(drain.data)
    stat = b"+OK %d %d\r\n" % (len(many), sum(mailgen.expected_pop3_size(r) for r in many))
    pos = 0
    for i in range(rounds):
        for body in (expected_list, expected_uidl):
            assert data.startswith(b"+OK", pos), (i, data[pos:pos + 80])
            pos = data.index(CRLF, pos) + 2
            assert data.startswith(body, pos), (i, data[pos:pos + 80])
            pos += len(body)
        assert data.startswith(stat, pos), (i, data[pos:pos + 80])
        pos += len(stat)
    assert data[pos:].startswith(b"+OK") and data.endswith(CRLF)
    assert data.count(CRLF, pos) == 1
    c = login(endpoint.port)
    assert c.stat()[0] == len(many)
    assert c.retr(len(many)) == mailgen.expected_pop3_bytes(many[-1])
    c.quit()
    assert_log_clean(instance)


def test_pipelined_flood_before_login(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port, timeout=30)
    n = 150
    c.send(b"CAPA\r\n" * n + b"USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n")
    for i in range(n):
        status, data = c.readline(), c.read_multiline()[0]
        assert status.startswith(b"+OK"), (i, status)
        assert b"TOP\r\n" in data
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK %d " % len(msgs))
    assert c.readline().startswith(b"+OK")
    assert is_closed(c.sock)
    assert_fine(endpoint, instance, msgs)


def test_client_that_never_reads(endpoint, instance):
    """Many RETRs of a big message, never read: the server's memory stays
    bounded, other clients are served meanwhile, and the stalled client
    gets everything, complete and in order, once it reads."""
    big = mailgen.large(3 * 1024 * 1024)
    instance.deliver("bob", big)
    small = [mailgen.numbered(1), mailgen.numbered(2)]
    for raw in small:
        instance.deliver("alice", raw)
    count = 30
    stalled = login(endpoint.port, "bob", "bobpw", timeout=60)
    stalled.send(b"RETR 1\r\n" * count)
    time.sleep(2)
    # Meanwhile another user is served normally.
    assert_still_serving(endpoint.port, small)
    # The stalled session's process did not buffer the 90 MB it owes.
    rss = mail_process_rss(instance, mail_process_name(endpoint.name))
    assert 0 < rss < 48 * 1024, "post-login process RSS %d kB" % rss
    # Reading now gets every RETR complete and in order.
    expected = mailgen.expected_pop3_bytes(big)
    for i in range(count):
        status = stalled.readline()
        assert status == b"+OK %d octets" % mailgen.expected_pop3_size(big), i
        data, _ = stalled.read_multiline()
        assert data == expected, i
    assert stalled.quit().startswith(b"+OK")
    assert_still_serving(endpoint.port, [big], "bob", "bobpw")
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_idle_timeout", "10s"))
def test_client_that_never_reads_is_disconnected(instance):
    big = mailgen.large(3 * 1024 * 1024)
    instance.deliver("alice", big)
    port = instance.port("altpop")
    stalled = login(port, timeout=60)
    stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    stalled.send(b"RETR 1\r\n" * 20)
    instance.wait_log(r"altpop\(alice\).*Disconnected: Client has not read "
                      r"server output", timeout=25)
    # What was sent before the disconnect can be read; then EOF, and far
    # less than the 60 MB that was asked for.
    data, closed = read_until_closed(stalled.sock, 10)
    assert closed
    assert len(data) < 20 * len(big) // 2
    assert_still_serving(port, [big])
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# STLS with commands pipelined behind it


def _only_tls_alerts(data):
    """True when data is nothing or only TLS alert records.  After +OK to
    STLS the server reads what follows as the TLS handshake: bytes that are
    not a ClientHello may get a TLS alert back (Dovecot 2.4.1 with OpenSSL
    3.5 on Debian 13 sends one; 2.3.19.1 with OpenSSL 3.0 on Debian 12 just
    closes).  Any POP3 text fails this."""
    while data:
        if len(data) < 7 or data[0] != 0x15 or data[1] != 3 or data[3:5] != b"\0\2":
            return False
        data = data[7:]
    return True


def _stls_injection(client):
    """Send STLS with a command behind it in the same packet; the command
    must not run in the TLS session (the handshake may fail instead)."""
    client.send(b"STLS\r\nCAPA\r\n")
    status = client.readline()
    assert status.startswith(b"+OK"), status
    # Nothing in plaintext after the STLS reply either.
    extra = client.buf + client.read_available(0.5)
    assert _only_tls_alerts(extra), "plaintext after +OK to STLS: %r" % extra
    try:
        tls = popclient.client_tls_context().wrap_socket(client.sock)
    except (ssl.SSLError, OSError):
        return "handshake refused"
    tls.settimeout(1.0)
    try:
        data = tls.recv(4096)
    except (socket.timeout, TimeoutError):
        data = None
    except (ssl.SSLError, OSError):
        return "closed"
    assert data is None or data == b"", \
        "server answered a command pipelined before TLS inside TLS: %r" % data
    if data == b"":
        return "closed"
    # The TLS session itself works: it answers what is sent inside it.
    tls.settimeout(10)
    tls.sendall(b"CAPA\r\n")
    reply = b""
    while not reply.endswith(b"\r\n.\r\n"):
        chunk = tls.recv(4096)
        assert chunk, reply
        reply += chunk
    assert reply.startswith(b"+OK") and b"STLS" not in reply
    tls.close()
    return "ok"


def test_stls_pipelined_plain_port(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    _stls_injection(c)
    assert_fine(endpoint, instance, msgs)


def test_stls_pipelined_haproxy_port(endpoint, instance, msgs):
    c = proxy_client(endpoint.haproxy_port)
    _stls_injection(c)
    # A normal STLS on the same path still works.
    c = proxy_client(endpoint.haproxy_port)
    c.starttls()
    c.login("alice", "alicepw")
    assert c.stat()[0] == len(msgs)
    c.quit()
    assert_fine(endpoint, instance, msgs)


def test_stls_pipelined_login_not_run(endpoint, instance, msgs):
    """Credentials pipelined behind STLS never log in (neither in plaintext
    nor inside TLS) and DELE/QUIT behind them never run."""
    c = proxy_client(endpoint.haproxy_port)
    c.send(b"STLS\r\nUSER alice\r\nPASS alicepw\r\nDELE 1\r\nQUIT\r\n")
    assert c.readline().startswith(b"+OK")
    extra = c.buf + c.read_available(0.5)
    assert _only_tls_alerts(extra), "plaintext after +OK to STLS: %r" % extra
    try:
        tls = popclient.client_tls_context().wrap_socket(c.sock)
        tls.settimeout(1.5)
        try:
            data = tls.recv(4096)
        except (socket.timeout, TimeoutError):
            data = None
        assert not data, data
        tls.close()
    except (ssl.SSLError, OSError):
        pass
    time.sleep(0.5)
    assert "%s: user=<alice>" % harness.LOG_LOGGED_IN not in instance.log_text()
    assert_fine(endpoint, instance, msgs)


# --------------------------------------------------------------------------
# garbage


def _garbage(seed, size):
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize("after_login", [False, True], ids=["before", "after"])
def test_random_garbage(endpoint, instance, msgs, after_login, request):
    if after_login:
        xfail_stock_colon_panic(request, endpoint.name)
    c = login(endpoint.port) if after_login else popclient.RawPop3(endpoint.port)
    drain = Drain(c.sock)
    junk = _garbage(1939 + after_login, 64 * 1024)
    try:
        c.sock.sendall(junk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    drain.join(15)
    assert drain.closed, "server still reading garbage after 15 s"
    for line in bytes(drain.data).split(CRLF):
        assert line == b"" or line.startswith(b"-ERR"), line[:100]
    assert_fine(endpoint, instance, msgs)


def test_command_name_with_colon(endpoint, instance, msgs, request):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("CA:PA").startswith(b"-ERR")
    c.login("alice", "alicepw")
    xfail_stock_colon_panic(request, endpoint.name)
    reply = c.cmd("NO:OP")
    assert reply.startswith(b"-ERR"), reply
    assert c.cmd("X-FOO:BAR 1").startswith(b"-ERR")
    assert c.cmd("NOOP").startswith(b"+OK")
    c.quit()
    assert_fine(endpoint, instance, msgs)


# --------------------------------------------------------------------------
# a client that leaves in the middle of a RETR


def test_disconnect_mid_retr(endpoint, instance, msgs):
    start = len(instance.log_text())
    c = login(endpoint.port)
    c.send(b"DELE 1\r\nRETR 4\r\n")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    got = 0
    while got < 100 * 1024:
        got += len(c.sock.recv(65536))
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    c.close()                                   # reset, mid-message
    instance.wait_log(r"%s\(alice\)<\d+><[^>]*>: Info: Disconnected" % endpoint.name,
                      start=start)
    assert instance.message_count("alice") == len(msgs)
    assert_fine(endpoint, instance, msgs)


# --------------------------------------------------------------------------
# bad message numbers and arguments


BAD_ARGS = [
    "RETR 0", "RETR -1", "RETR 5", "RETR 4294967297", "RETR 4294967296",
    "RETR 99999999999999999999999", "RETR abc", "RETR", "RETR 1 2",
    "RETR 0x1", "DELE 0", "DELE -1", "DELE 99", "DELE", "DELE x",
    "LIST 0", "LIST 5", "LIST -1", "LIST abc", "UIDL 0", "UIDL 5", "UIDL x",
    "TOP 1", "TOP 1 -1", "TOP 1 abc", "TOP x 1", "TOP 0 1", "TOP 5 1", "TOP",
    "TOP -1 1", "TOP 4294967297 0",
]


def test_bad_message_numbers(endpoint, instance, msgs):
    c = login(endpoint.port)
    for cmd in BAD_ARGS:
        reply = c.cmd(cmd)
        assert reply.startswith(b"-ERR"), (cmd, reply)
        assert b"\r" not in reply and b"\n" not in reply
        # the session goes on (and the good command resets the bad counter)
        assert c.cmd("NOOP").startswith(b"+OK"), cmd
    assert c.stat()[0] == len(msgs)
    assert c.quit().startswith(b"+OK")
    assert_fine(endpoint, instance, msgs)


def test_unknown_and_wrong_state_commands(endpoint, instance, msgs):
    c = popclient.RawPop3(endpoint.port)
    for cmd in ("STAT", "RETR 1", "DELE 1", "LIST"):
        assert c.cmd(cmd).startswith(b"-ERR"), cmd
        c.multi("CAPA")                         # resets the bad counter
    c.login("alice", "alicepw")
    for cmd in ("XYZZY", "USER alice", "PASS alicepw", "APOP a b", "AUTH PLAIN",
                "LAST1", "RETRR 1"):
        assert c.cmd(cmd).startswith(b"-ERR"), cmd
        assert c.cmd("NOOP").startswith(b"+OK")
    c.quit()
    assert_fine(endpoint, instance, msgs)


def test_bad_command_limit_after_login(endpoint, instance, msgs):
    """Many bad commands in a row after login end the session (altpop:
    altpop_max_bad_commands, default 20) without deleting anything."""
    c = login(endpoint.port)
    c.send(b"DELE 1\r\n" + b"BOGUS\r\n" * 100)
    data, closed = read_until_closed(c.sock, 10)
    assert closed, "not disconnected after 100 bad commands"
    lines = reply_lines(data)
    assert lines[0].startswith(b"+OK")
    assert all(line.startswith(b"-ERR") for line in lines[1:])
    assert len(lines) < 60
    assert_fine(endpoint, instance, msgs)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_max_bad_commands", "4"))
def test_max_bad_commands_setting(instance, msgs):
    """altpop_max_bad_commands = 4: four bad commands in a row are answered
    and tolerated, the next one in a row ends the session (as stock pop3
    counts its limit)."""
    c = login(instance.port("altpop"))
    c.send(b"BOGUS\r\n" * 4 + b"NOOP\r\n" + b"BOGUS\r\n" * 10)
    data, closed = read_until_closed(c.sock, 10)
    assert closed
    lines = reply_lines(data)
    bogus = b"-ERR Unknown command: BOGUS"
    assert lines[:5] == [bogus] * 4 + [b"+OK"], lines
    assert lines[5:10] == [bogus] * 5, lines
    assert lines[10].startswith(b"-ERR Too many bad commands"), lines
    assert len(lines) == 11, lines
    instance.wait_log(r"altpop\(alice\).*Disconnected: Too many bad commands")
    assert_still_serving(instance.port("altpop"), msgs)
    assert_log_clean(instance)
