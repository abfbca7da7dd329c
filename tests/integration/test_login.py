# SPDX-License-Identifier: LGPL-2.1-only
"""Before login: CAPA, USER/PASS, AUTH, APOP, STLS, implicit TLS,
disable_plaintext_auth, the bad-command limit and pipelined logins.

Every test runs against stock pop3 and altpop (proto) where both must
behave the same; altpop_only tests cover altpop's own settings.  Failed
logins come from distinct source addresses (Dovecot's auth penalty)."""

import base64
import hashlib
import re

import pytest

import harness
import mailgen
import popclient
from servercheck import (assert_log_clean, capa_lines, is_closed,
                         read_until_closed, unsecured_client)

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

CRLF = b"\r\n"
# Mechanisms that never appear in CAPA/AUTH (used only through APOP/KPOP).
PRIVATE_MECHS = {"APOP", "KPOP"}


def plain_token(user, password, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode())


def configured_mechs(instance):
    """auth_mechanisms of the instance, upper case, in configured order."""
    return [m.upper() for m in instance.setting_value("auth_mechanisms").split()]


def advertised_mechs(instance):
    return [m for m in configured_mechs(instance) if m not in PRIVATE_MECHS]


def sasl_of(caps):
    """Mechanisms of the SASL capability line ([] when there is none)."""
    for line in caps:
        if line == b"SASL" or line.startswith(b"SASL "):
            return line.decode().split()[1:]
    return []


def names_of(caps):
    return {line.split()[0] for line in caps}


def banner_timestamp(greeting):
    m = re.search(rb"(<[^<>@\s]+@[^<>\s]+>)\s*$", greeting)
    return m.group(1) if m else None


def apop_digest(timestamp, password):
    return hashlib.md5(timestamp + password.encode()).hexdigest()


def from_source(port, source_ip):
    """A client from another loopback address (for failed logins: the auth
    penalty is per address).  Such a connection is not 'secured' (remote
    and local address differ), so it starts TLS before plaintext logins."""
    c = popclient.RawPop3(port, source=source_ip)
    c.starttls()
    return c


def assert_logged_in(client, count=None):
    """The session is in TRANSACTION state (STAT answers)."""
    n, _ = client.stat()
    if count is not None:
        assert n == count


@pytest.fixture
def three(instance):
    msgs = [mailgen.numbered(i) for i in range(1, 4)]
    for raw in msgs:
        instance.deliver("alice", raw)
    return msgs


# --------------------------------------------------------------------------
# CAPA


def test_capa_before_login(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    caps = capa_lines(c)
    names = names_of(caps)
    for cap in (b"CAPA", b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING",
                b"AUTH-RESP-CODE"):
        assert cap in names, caps
    # TLS is configured and not active; loopback counts as secured.
    assert b"STLS" in names
    assert b"USER" in names
    # Dovecot's non-private mechanisms, in the configured order; no APOP.
    assert sasl_of(caps) == advertised_mechs(instance)
    assert "APOP" not in sasl_of(caps)
    # Still before login: CAPA did not end the session.
    assert c.cmd("QUIT").startswith(b"+OK")
    assert_log_clean(instance)


def test_capa_after_stls_has_no_stls(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert b"STLS" in names_of(capa_lines(c))
    c.starttls()
    caps = capa_lines(c)
    assert b"STLS" not in names_of(caps)
    assert b"USER" in names_of(caps)
    assert sasl_of(caps) == advertised_mechs(instance)
    # A second STLS inside TLS is refused.
    assert c.cmd("STLS").startswith(b"-ERR")
    c.login("alice", "alicepw")
    assert_logged_in(c)
    c.quit()
    assert_log_clean(instance)


def test_capa_on_pop3s_has_no_stls(endpoint, instance):
    c = popclient.RawPop3(endpoint.ssl_port, tls=True)
    assert c.greeting.startswith(b"+OK")
    caps = capa_lines(c)
    assert b"STLS" not in names_of(caps)
    assert b"USER" in names_of(caps)
    assert sasl_of(caps) == advertised_mechs(instance)
    assert c.cmd("STLS").startswith(b"-ERR")
    c.quit()


@pytest.mark.dovecot(extra_pop3=harness.setting("ssl", "no"),
                     extra_altpop=harness.setting("ssl", "no"))
def test_no_stls_without_tls(endpoint, instance):
    """With ssl = no for the protocol, STLS is neither offered nor accepted."""
    c = popclient.RawPop3(endpoint.port)
    caps = capa_lines(c)
    assert b"STLS" not in names_of(caps)
    assert b"USER" in names_of(caps)
    assert c.cmd("STLS").startswith(b"-ERR")
    # The session is still usable in plaintext.
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# USER / PASS


def test_user_pass(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("USER alice").startswith(b"+OK")
    assert c.cmd("PASS alicepw").startswith(b"+OK")
    assert_logged_in(c, 3)
    assert c.retr(2) == mailgen.expected_pop3_bytes(three[1])
    c.quit()
    instance.wait_log(r"%s-login: Info: %s: user=<alice>, method=PLAIN"
                      % (endpoint.name, harness.LOG_LOGGED_IN))
    assert_log_clean(instance)


def test_user_pass_wrong_password(endpoint, instance, source_ip):
    c = from_source(endpoint.port, source_ip)
    assert c.cmd("USER alice").startswith(b"+OK")
    reply = c.cmd("PASS wrong")
    assert reply.startswith(b"-ERR [AUTH]"), reply
    # Not logged in: transaction commands are refused.
    assert c.cmd("STAT").startswith(b"-ERR")
    c.close()
    instance.wait_log(r"%s-login: Info: .*auth failed.*user=<alice>.*rip=%s"
                      % (endpoint.name, re.escape(source_ip)), timeout=10)
    assert_log_clean(instance)


def test_user_pass_unknown_user(endpoint, instance, source_ip):
    c = from_source(endpoint.port, source_ip)
    # USER alone does not reveal whether the user exists.
    assert c.cmd("USER nosuchuser").startswith(b"+OK")
    reply = c.cmd("PASS whatever")
    assert reply.startswith(b"-ERR [AUTH]"), reply
    c.close()


@pytest.mark.dovecot(users={"spacey": "  two leading and one trailing "})
def test_pass_argument_is_rest_of_line(endpoint, instance):
    """RFC 1939: the PASS argument may contain spaces, leading and trailing
    ones included; it is everything after the single separating space."""
    c = popclient.RawPop3(endpoint.port)
    c.ok("USER spacey")
    reply = c.cmd("PASS   two leading and one trailing ")
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 0)
    c.quit()


@pytest.mark.dovecot(users={"spacey": "  two leading and one trailing "})
def test_pass_spaces_are_significant(endpoint, instance, source_ip):
    """A password without its leading spaces is a wrong password."""
    c = from_source(endpoint.port, source_ip)
    c.ok("USER spacey")
    reply = c.cmd("PASS two leading and one trailing ")
    assert reply.startswith(b"-ERR [AUTH]"), reply
    c.close()


def test_failed_login_then_retry(endpoint, three, instance, source_ip):
    """A failed PASS leaves the session in AUTHORIZATION: a retry works."""
    c = from_source(endpoint.port, source_ip)
    c.ok("USER alice")
    assert c.cmd("PASS wrong").startswith(b"-ERR [AUTH]")
    c.ok("USER alice")
    assert c.cmd("PASS alicepw").startswith(b"+OK")
    assert_logged_in(c, 3)
    c.quit()


def test_pass_without_user(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd("PASS alicepw")
    assert reply.startswith(b"-ERR"), reply
    assert b"user" in reply.lower()
    # Still in AUTHORIZATION and usable.
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()


def test_quit_before_login(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("QUIT").startswith(b"+OK")
    assert is_closed(c.sock)


# --------------------------------------------------------------------------
# AUTH


def test_auth_plain_initial_response(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd(b"AUTH PLAIN " + plain_token("alice", "alicepw"))
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 3)
    c.quit()


def test_auth_plain_continuation(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd("AUTH PLAIN")
    assert reply.startswith(b"+"), reply
    assert not reply.startswith(b"+OK")
    reply = c.cmd(plain_token("alice", "alicepw"))
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 3)
    c.quit()


def test_auth_login_continuations(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd("AUTH LOGIN")
    assert reply.startswith(b"+ "), reply
    reply = c.cmd(base64.b64encode(b"alice"))
    assert reply.startswith(b"+ "), reply
    reply = c.cmd(base64.b64encode(b"alicepw"))
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 3)
    c.quit()


def test_auth_abort(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("AUTH PLAIN").startswith(b"+ ")
    reply = c.cmd("*")
    assert reply.startswith(b"-ERR"), reply
    # Back in AUTHORIZATION: a normal login works on the same connection.
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()
    assert_log_clean(instance)


def test_auth_bad_base64_initial_response(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd("AUTH PLAIN !!!not-base64!!!")
    assert reply.startswith(b"-ERR"), reply
    assert b"base64" in reply.lower()
    # No continuation was started and the session is still usable.
    reply = c.cmd(b"AUTH PLAIN " + plain_token("alice", "alicepw"))
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 0)
    c.quit()


def test_auth_bad_base64_continuation(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("AUTH PLAIN").startswith(b"+ ")
    reply = c.cmd("@@@@")
    assert reply.startswith(b"-ERR"), reply
    assert b"base64" in reply.lower()
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()


def test_auth_plain_wrong_password(endpoint, instance, source_ip):
    c = from_source(endpoint.port, source_ip)
    reply = c.cmd(b"AUTH PLAIN " + plain_token("alice", "nope"))
    assert reply.startswith(b"-ERR [AUTH]"), reply
    assert c.cmd("STAT").startswith(b"-ERR")
    c.close()


def test_auth_unknown_mechanism(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.cmd("AUTH X-NO-SUCH-MECH")
    assert reply.startswith(b"-ERR"), reply
    # APOP is private: it cannot be started through AUTH.
    reply = c.cmd("AUTH APOP")
    assert reply.startswith(b"-ERR"), reply
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()


def test_bare_auth_lists_mechanisms(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    status, data = c.multi("AUTH")
    assert status.startswith(b"+OK"), status
    listed = [l.decode() for l in data.split(CRLF) if l]
    assert listed == advertised_mechs(instance)
    assert listed == sasl_of(capa_lines(c))
    c.quit()


# --------------------------------------------------------------------------
# APOP


def test_apop(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    ts = banner_timestamp(c.greeting)
    assert ts is not None, "no APOP timestamp in %r" % c.greeting
    reply = c.cmd("APOP alice %s" % apop_digest(ts, "alicepw"))
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 3)
    c.quit()
    instance.wait_log(r"%s-login: Info: %s: user=<alice>, method=APOP"
                      % (endpoint.name, harness.LOG_LOGGED_IN))


def test_apop_timestamps_differ(endpoint, instance):
    a = popclient.RawPop3(endpoint.port)
    b = popclient.RawPop3(endpoint.port)
    assert banner_timestamp(a.greeting) != banner_timestamp(b.greeting)
    a.close()
    b.close()


def test_apop_wrong_digest(endpoint, instance, source_ip):
    c = popclient.RawPop3(endpoint.port, source=source_ip)
    ts = banner_timestamp(c.greeting)
    reply = c.cmd("APOP alice %s" % apop_digest(ts, "wrong"))
    assert reply.startswith(b"-ERR [AUTH]"), reply
    assert c.cmd("STAT").startswith(b"-ERR")
    c.close()


def test_apop_digest_of_other_timestamp(endpoint, instance, source_ip):
    """A digest over another connection's timestamp must not log in."""
    other = popclient.RawPop3(endpoint.port)
    c = popclient.RawPop3(endpoint.port, source=source_ip)
    reply = c.cmd("APOP alice %s" % apop_digest(banner_timestamp(other.greeting),
                                                "alicepw"))
    assert reply.startswith(b"-ERR"), reply
    other.close()
    c.close()


@pytest.mark.dovecot(extra=harness.setting("auth_mechanisms", "plain login"))
def test_apop_not_configured(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert c.greeting.startswith(b"+OK")
    assert banner_timestamp(c.greeting) is None, c.greeting
    assert b"<" not in c.greeting
    reply = c.cmd("APOP alice %s" % apop_digest(b"<1.2@x>", "alicepw"))
    assert reply.startswith(b"-ERR"), reply
    assert sasl_of(capa_lines(c)) == ["PLAIN", "LOGIN"]
    # USER/PASS still works.
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# TLS


def test_stls_then_login(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    reply = c.starttls()
    assert reply.startswith(b"+OK")
    assert c.sock.version() is not None
    c.login("alice", "alicepw")
    assert_logged_in(c, 3)
    assert c.retr(3) == mailgen.expected_pop3_bytes(three[2])
    c.quit()
    instance.wait_log(r"%s-login: Info: %s: user=<alice>.*TLS"
                      % (endpoint.name, harness.LOG_LOGGED_IN))
    assert_log_clean(instance)


def test_implicit_tls_login(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.ssl_port, tls=True)
    assert c.greeting.startswith(b"+OK")
    assert c.sock.version() is not None
    reply = c.auth_plain("alice", "alicepw")
    assert reply.startswith(b"+OK"), reply
    assert_logged_in(c, 3)
    assert c.retr(1) == mailgen.expected_pop3_bytes(three[0])
    c.quit()
    assert_log_clean(instance)


def test_pop3s_refuses_plaintext_client(endpoint, instance):
    """A plaintext client on pop3s gets no POP3 greeting."""
    c = popclient.RawPop3(endpoint.ssl_port, greeting=False)
    c.send(b"CAPA\r\n")
    data, _ = read_until_closed(c.sock, 3)
    assert b"+OK" not in data
    c.close()
    assert_log_clean(instance)


# --------------------------------------------------------------------------
# disable_plaintext_auth on a non-secured path (servercheck.unsecured_client:
# 127.0.0.1 to itself counts as secured)


@pytest.mark.dovecot(extra=harness.setting("disable_plaintext_auth", "yes"))
def test_plaintext_disabled_without_tls(endpoint, three, instance):
    c, src = unsecured_client(endpoint)
    assert c.greeting.startswith(b"+OK")
    caps = capa_lines(c)
    names = names_of(caps)
    assert b"STLS" in names
    assert b"USER" not in names
    mechs = sasl_of(caps)
    assert "PLAIN" not in mechs and "LOGIN" not in mechs
    assert mechs == [m for m in advertised_mechs(instance)
                     if m not in ("PLAIN", "LOGIN")]

    reply = c.cmd("USER alice")
    assert reply.startswith(b"-ERR"), reply
    assert re.search(rb"(?i)plaintext|ssl|tls", reply), reply
    reply = c.cmd("PASS alicepw")
    assert reply.startswith(b"-ERR"), reply
    reply = c.cmd(b"AUTH PLAIN " + plain_token("alice", "alicepw"))
    assert reply.startswith(b"-ERR"), reply
    assert c.cmd("STAT").startswith(b"-ERR")

    # After STLS plaintext mechanisms are offered and work.
    c.starttls()
    caps = capa_lines(c)
    assert b"USER" in names_of(caps)
    assert "PLAIN" in sasl_of(caps)
    c.login("alice", "alicepw")
    assert_logged_in(c, 3)
    c.quit()
    # The login really came from that (PROXY header's) address.
    instance.wait_log(r"%s-login: Info: %s: user=<alice>.*rip=%s.*TLS"
                      % (endpoint.name, harness.LOG_LOGGED_IN, re.escape(src)))
    assert_log_clean(instance)


@pytest.mark.dovecot(extra=harness.setting("disable_plaintext_auth", "no"))
def test_plaintext_allowed_without_tls(endpoint, three, instance):
    c, src = unsecured_client(endpoint)
    caps = capa_lines(c)
    assert b"USER" in names_of(caps)
    assert b"STLS" in names_of(caps)
    assert "PLAIN" in sasl_of(caps)
    c.login("alice", "alicepw")
    assert_logged_in(c, 3)
    c.quit()
    instance.wait_log(r"%s-login: Info: %s: user=<alice>.*rip=%s"
                      % (endpoint.name, harness.LOG_LOGGED_IN, re.escape(src)))


# --------------------------------------------------------------------------
# bad commands


def test_bad_command_limit(endpoint, instance):
    """Three bad commands in a row before login end the connection."""
    c = popclient.RawPop3(endpoint.port)
    assert c.cmd("FOO").startswith(b"-ERR")
    assert c.cmd("BAR").startswith(b"-ERR")
    assert c.cmd("BAZ").startswith(b"-ERR")
    data, closed = read_until_closed(c.sock, 5)
    assert closed, "still connected after 3 bad commands (got %r)" % data
    assert b"+OK" not in data
    assert_log_clean(instance)


def test_good_command_resets_bad_counter(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    for _ in range(3):
        assert c.cmd("FOO").startswith(b"-ERR")
        assert c.cmd("BAR").startswith(b"-ERR")
        capa_lines(c)
    c.login("alice", "alicepw")
    assert_logged_in(c, 0)
    c.quit()


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_login_max_bad_commands", "5"))
def test_login_max_bad_commands_setting(instance):
    c = popclient.RawPop3(instance.port("altpop"))
    for i in range(4):
        assert c.cmd("FOO%d" % i).startswith(b"-ERR")
    # Four bad commands are fine with a limit of 5 ...
    assert b"USER" in names_of(capa_lines(c))
    for i in range(4):
        assert c.cmd("FOO%d" % i).startswith(b"-ERR")
    # ... the fifth in a row disconnects.
    c.send(b"FOO\r\n")
    data, closed = read_until_closed(c.sock, 5)
    assert closed
    assert data.startswith(b"-ERR"), data
    assert b"Too many" in data


@pytest.mark.altpop_only
def test_altpop_login_default_bad_command_limit(instance):
    """The default altpop_login_max_bad_commands is 3, with a clear reason."""
    c = popclient.RawPop3(instance.port("altpop"))
    c.send(b"A\r\nB\r\nC\r\nD\r\n")
    data, closed = read_until_closed(c.sock, 5)
    assert closed
    lines = data.split(CRLF)
    assert lines[:3] == [b"-ERR Unknown command."] * 3, data
    assert lines[3].startswith(b"-ERR") and b"Too many bad commands" in lines[3]
    assert lines[4:] == [b""]
    instance.wait_log(r"altpop-login: Info: %s: Too many bad commands"
                      % harness.LOG_LOGIN_ABORTED)


# --------------------------------------------------------------------------
# pipelining across the login


def test_pipelined_user_pass_stat_list(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    c.send(b"USER alice\r\nPASS alicepw\r\nSTAT\r\nLIST\r\n")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    sizes = [mailgen.expected_pop3_size(raw) for raw in three]
    assert c.readline() == b"+OK 3 %d" % sum(sizes)
    assert c.readline().startswith(b"+OK")
    data, _ = c.read_multiline()
    assert data == b"".join(b"%d %d\r\n" % (i, s) for i, s in enumerate(sizes, 1))
    c.quit()
    assert_log_clean(instance)


def test_pipelined_auth_plain_retr_quit(endpoint, three, instance):
    c = popclient.RawPop3(endpoint.port)
    c.send(b"AUTH PLAIN " + plain_token("alice", "alicepw") + b"\r\nRETR 2\r\nQUIT\r\n")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    data, _ = c.read_multiline()
    assert data == mailgen.expected_pop3_bytes(three[1])
    assert c.readline().startswith(b"+OK")
    assert is_closed(c.sock)


def test_pipelined_beyond_login_buffer(endpoint, three, instance):
    """More pipelined input behind the login than the login process reads
    at once: every command is answered, in order."""
    c = popclient.RawPop3(endpoint.port)
    n = 1000
    batch = b"USER alice\r\nPASS alicepw\r\n" + b"".join(
        b"LIST %d\r\n" % (1 + i % 3) for i in range(n)) + b"QUIT\r\n"
    assert len(batch) > 4096
    c.send(batch)
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    sizes = [mailgen.expected_pop3_size(raw) for raw in three]
    for i in range(n):
        num = 1 + i % 3
        assert c.readline() == b"+OK %d %d" % (num, sizes[num - 1]), i
    assert c.readline().startswith(b"+OK")
    assert is_closed(c.sock)
    assert_log_clean(instance)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_pipelined_login_inside_tls(endpoint, three, instance, tls):
    """Pipelined input behind a login inside TLS reaches the post-login
    process too."""
    if tls == "stls":
        c = popclient.RawPop3(endpoint.port)
        c.starttls()
    else:
        c = popclient.RawPop3(endpoint.ssl_port, tls=True)
    c.send(b"USER alice\r\nPASS alicepw\r\nSTAT\r\nRETR 3\r\nQUIT\r\n")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK 3 ")
    assert c.readline().startswith(b"+OK")
    assert c.read_multiline()[0] == mailgen.expected_pop3_bytes(three[2])
    assert c.readline().startswith(b"+OK")
    assert_log_clean(instance)


def test_commands_before_stls_in_one_packet(endpoint, three, instance):
    """Commands before STLS in the same packet are answered in plaintext,
    then the TLS handshake works."""
    c = popclient.RawPop3(endpoint.port)
    c.send(b"CAPA\r\nNOOP\r\nSTLS\r\n")
    assert c.readline().startswith(b"+OK")
    assert b"STLS" in c.read_multiline()[0]
    assert c.readline().startswith(b"-ERR")          # NOOP before login
    assert c.readline().startswith(b"+OK")           # STLS
    assert c.buf == b""
    c.sock = popclient.client_tls_context().wrap_socket(c.sock)
    c.login("alice", "alicepw")
    assert_logged_in(c, 3)
    c.quit()


def test_pipelined_failed_login_then_good(endpoint, three, instance, source_ip):
    c = from_source(endpoint.port, source_ip)
    c.send(b"USER alice\r\nPASS bad\r\nUSER alice\r\nPASS alicepw\r\nSTAT\r\n")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"-ERR [AUTH]")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK")
    assert c.readline().startswith(b"+OK 3 ")
    c.quit()


def test_session_without_login_handoff_refused(make_instance):
    """The altpop service takes sessions only with altpop-login's handoff
    (include/login-handoff.h). Stock pop3-login pointed at the altpop
    service's login socket sends none: the client gets -ERR [SYS/TEMP]
    instead of a session, and the log says what to check."""
    inst = make_instance(
        extra="service pop3-login {\n  executable = pop3-login -l altpop\n}\n")
    mark = len(inst.log_text())
    c = popclient.RawPop3(inst.port("pop3", "pop3"))
    assert c.cmd("USER alice").startswith(b"+OK")
    status = c.cmd("PASS alicepw")
    assert status.startswith(b"-ERR [SYS/TEMP]"), status
    inst.wait_log(r"altpop\(alice\).*Login without the altpop login handoff.*"
                  r"login/altpop socket", start=mark)
