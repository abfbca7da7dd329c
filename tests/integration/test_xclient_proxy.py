# SPDX-License-Identifier: LGPL-2.1-only
"""XCLIENT from trusted and untrusted networks, passdb proxying to a POP3
backend (plain and STLS, a refused backend login, a proxy_mech altpop
cannot forward), and altpop
settings that follow the TLS SNI name (local_name filters).

Every test runs against stock pop3 and altpop (the `endpoint` fixture)
where both should behave alike; the backend of the proxy tests is the
instance's own stock pop3 listener."""

import base64
import re

import pytest

import harness
import mailgen
import popclient

TRUSTED = harness.setting("login_trusted_networks", "127.0.0.0/8")


def _deliver(instance, n=2):
    for i in range(1, n + 1):
        instance.deliver("alice", mailgen.numbered(i))


def _built_features():
    """The ALTPOP_HAVE_* features configure found in this Dovecot's
    headers (README, Supported Dovecot versions)."""
    makefile = harness.REPO_ROOT / "Makefile"
    m = re.search(r"^ALTPOP_FEATURE_CPPFLAGS = (.*)$",
                  makefile.read_text(), re.M) if makefile.is_file() else None
    if m is None:
        pytest.fail("the tree is not configured (no ALTPOP_FEATURE_CPPFLAGS in Makefile)")
    return set(f[len("-D"):] for f in m.group(1).split())


def _proxy_user(instance, fields):
    instance.passdb_fields["px"] = fields
    instance.add_user("px", "pxpw")


def _login_rx(service, user, rest):
    # 2.3 logs "Login:", 2.4 "Logged in:"
    return r"%s-login: Info: Log(?:in|ged in): user=<%s>.*%s" % (service, user, rest)


@pytest.mark.core
@pytest.mark.dovecot(extra=TRUSTED)
def test_xclient_from_trusted_network(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    # a trusted proxy learns from the banner that XCLIENT is there
    assert c.greeting.startswith(b"+OK [XCLIENT] "), c.greeting
    fwd = base64.b64encode(b"k=v").decode()
    r = c.cmd("XCLIENT ADDR=192.0.2.77 PORT=4321 SESSION=xc%s TTL=3 FORWARD=%s"
              % (endpoint.name, fwd))
    assert r == b"+OK Updated", r
    r = c.cmd("XCLIENT ADDR=notanip")
    assert r == b"-ERR Invalid parameters", r
    c.login("alice", "alicepw")
    c.quit()
    # the login is logged with the address and session the proxy gave
    instance.wait_log(_login_rx(endpoint.name, "alice",
                                r"rip=192\.0\.2\.77.*session=<xc%s>" % endpoint.name))
    if endpoint.name != "altpop":
        return
    # FORWARD= needs login-common's safe decoding: without it altpop says
    # once that the fields are ignored (and still applied the rest above)
    if "ALTPOP_HAVE_CLIENT_FORWARD_DECODE" in _built_features():
        assert "XCLIENT FORWARD ignored" not in instance.log_text()
    else:
        instance.wait_log(r"altpop-login: Warning: XCLIENT FORWARD ignored: "
                          r".*client_forward_decode_base64 is missing")


def test_xclient_from_untrusted_network_is_ignored(endpoint, instance):
    c = popclient.RawPop3(endpoint.port)
    assert b"[XCLIENT]" not in c.greeting
    r = c.cmd("XCLIENT ADDR=192.0.2.78")
    assert r.startswith(b"+OK") and b"ignoring" in r, r
    c.login("alice", "alicepw")
    c.quit()
    # the real address is logged, not the one the client claimed
    instance.wait_log(_login_rx(endpoint.name, "alice", r"rip=127\.0\.0\.1"))
    assert "rip=192.0.2.78" not in instance.log_text()


@pytest.mark.dovecot(extra=TRUSTED)
@pytest.mark.parametrize("variant", ["plain", "starttls"])
def test_proxy_to_backend(endpoint, instance, variant):
    _deliver(instance)
    backend = instance.port("pop3", "pop3")
    fields = "proxy host=127.0.0.1 port=%d destuser=alice pass=alicepw" % backend
    if variant == "starttls":
        fields += " starttls=any-cert"
    _proxy_user(instance, fields)
    c = popclient.RawPop3(endpoint.port)
    c.ok("USER px")
    r = c.cmd("PASS pxpw")
    assert r.startswith(b"+OK"), r
    # the session is the backend's: alice's two messages
    assert c.stat()[0] == 2
    c.quit()
    # the backend logged alice in and saw the client's address (XCLIENT)
    instance.wait_log(_login_rx("pop3", "alice", r"rip=127\.0\.0\.1"))


@pytest.mark.dovecot(extra=TRUSTED)
def test_proxy_backend_refuses_login(endpoint, instance):
    backend = instance.port("pop3", "pop3")
    _proxy_user(instance, "proxy host=127.0.0.1 port=%d destuser=alice pass=wrong"
                % backend)
    c = popclient.RawPop3(endpoint.port, source=harness.next_source_ip())
    c.ok("USER px")
    r = c.cmd("PASS pxpw")
    # the backend's refusal reaches the client as a credentials failure
    assert r.startswith(b"-ERR [AUTH] "), r


@pytest.mark.dovecot(extra=TRUSTED)
def test_unforwardable_proxy_mech_is_refused_with_a_log_line(altpop_stage, instance):
    # PLAIN and LOGIN are forwarded (test_proxy_tier.py); a mechanism
    # that needs more than the password is not
    backend = instance.port("pop3", "pop3")
    _proxy_user(instance, "proxy host=127.0.0.1 port=%d destuser=alice "
                "pass=alicepw proxy_mech=oauthbearer" % backend)
    c = popclient.RawPop3(instance.port("altpop", "pop3"))
    c.ok("USER px")
    r = c.cmd("PASS pxpw")
    assert r.startswith(b"-ERR") and b"temporarily unavailable" in r, r
    # the admin is told what to change
    instance.wait_log(r"proxy_mech=plain or proxy_mech=login only: "
                      r"change proxy_mech=OAUTHBEARER in the passdb reply")


@pytest.mark.dovecot(
    extra="local_name sni.example.org {\n  altpop_login_max_bad_commands = 1\n}\n")
@pytest.mark.parametrize("sni", ["sni.example.org", "other.example.org"])
def test_altpop_settings_follow_the_sni_name(altpop_stage, instance, sni):
    import socket
    ctx = popclient.client_tls_context()
    s = socket.create_connection(("127.0.0.1", instance.port("altpop", "pop3s")),
                                 timeout=10)
    s = ctx.wrap_socket(s, server_hostname=sni)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    # NOOP is no command before login: two bad commands in a row
    s.sendall(b"FOO\r\nNOOP\r\n")
    assert f.readline() == b"-ERR Unknown command.\r\n"
    r2 = f.readline()
    if sni.startswith("sni"):
        # under this name one bad command is the limit
        assert r2 == b"-ERR Too many bad commands.\r\n", r2
        assert f.readline() == b""
    else:
        # elsewhere the global default (3) applies
        assert r2 == b"-ERR Unknown command.\r\n", r2
    s.close()
